//! The ACP connection: the requests a client sends and how baton answers
//! them. Each handler is short (the dispatch loop waits for it); a prompt
//! turn is handed to its tree's task and answered from there.

use crate::options;
use crate::prompt::text_of;
use crate::tree::{Command, TreeTask};
use crate::updates::{TaskInfo, Translator, acp_id};
use crate::{AcpError, history};
use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    AgentCapabilities, CancelNotification, Implementation, InitializeRequest, InitializeResponse,
    LoadSessionRequest, LoadSessionResponse, McpCapabilities, NewSessionRequest,
    NewSessionResponse, PromptCapabilities, PromptRequest, SessionConfigOption, SessionModeState,
    SetSessionConfigOptionRequest, SetSessionConfigOptionResponse, SetSessionModeRequest,
    SetSessionModeResponse,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{
    Agent, Client as AcpClient, Error as RpcError, ErrorCode, Stdio, on_receive_notification,
    on_receive_request,
};
use baton_client::{Client, ClientError, EventsFrom};
use baton_protocol::SessionId;
use baton_protocol::api::{CreateSession, SessionView, UpdateSession};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What the connection's handlers share.
struct Shared {
    client: Arc<dyn Client>,
    /// The client advertised `clientCapabilities.subagents`.
    subagents: AtomicBool,
    /// The task of each open tree, by its root.
    trees: Mutex<HashMap<SessionId, mpsc::UnboundedSender<Command>>>,
}

impl Shared {
    fn subagents(&self) -> bool {
        self.subagents.load(Ordering::SeqCst)
    }

    fn tree(&self, root: &SessionId) -> Option<mpsc::UnboundedSender<Command>> {
        self.trees.lock().ok()?.get(root).cloned()
    }

    fn all_trees(&self) -> Vec<mpsc::UnboundedSender<Command>> {
        self.trees
            .lock()
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Serves ACP on this process's stdin and stdout until the client closes
/// them. Sessions are the engine's that `client` drives.
pub async fn serve(client: Arc<dyn Client>) -> Result<(), AcpError> {
    let shared = Arc::new(Shared {
        client,
        subagents: AtomicBool::new(false),
        trees: Mutex::new(HashMap::new()),
    });
    let (s1, s2, s3, s4, s5, s6, s7) = (
        shared.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
    );
    let ended = Agent
        .v1()
        .name("baton")
        .on_receive_request(
            async move |req: InitializeRequest, responder: Responder<InitializeResponse>, _cx| {
                let subagents = req.client_capabilities.subagents.is_some();
                s1.subagents.store(subagents, Ordering::SeqCst);
                tracing::debug!(subagents, "acp: a client connected");
                responder.respond(
                    InitializeResponse::new(ProtocolVersion::V1)
                        .agent_capabilities(
                            AgentCapabilities::new()
                                .load_session(true)
                                .mcp_capabilities(McpCapabilities::new().http(true))
                                .prompt_capabilities(
                                    PromptCapabilities::new().embedded_context(true),
                                ),
                        )
                        .agent_info(Implementation::new("baton", env!("CARGO_PKG_VERSION"))),
                )
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async move |req: NewSessionRequest, responder: Responder<NewSessionResponse>, cx| {
                match new_session(&s2, req, &cx).await {
                    Ok(response) => responder.respond(response),
                    Err(e) => responder.respond_with_error(e),
                }
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async move |req: LoadSessionRequest, responder: Responder<LoadSessionResponse>, cx| {
                match load_session(&s3, req, &cx).await {
                    Ok(response) => responder.respond(response),
                    Err(e) => responder.respond_with_error(e),
                }
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async move |req: PromptRequest, responder, _cx| {
                let root = SessionId::from(req.session_id.0.as_ref());
                let Some(tree) = s4.tree(&root) else {
                    return responder.respond_with_error(unknown(&root));
                };
                let text = match text_of(&req.prompt) {
                    Ok(text) => text,
                    Err(why) => {
                        return responder
                            .respond_with_error(RpcError::new(ErrorCode::INVALID_PARAMS, why));
                    }
                };
                let prompt = Command::Prompt {
                    text,
                    responder: Box::new(responder),
                };
                if let Err(mpsc::error::SendError(Command::Prompt { responder, .. })) =
                    tree.send(prompt)
                {
                    return responder.respond_with_error(unknown(&root));
                }
                Ok(())
            },
            on_receive_request!(),
        )
        .on_receive_notification(
            async move |req: CancelNotification, _cx| {
                let session = SessionId::from(req.session_id.0.as_ref());
                // The root's tree, or the tree that has it as a sub-agent.
                for tree in s5.all_trees() {
                    let _ = tree.send(Command::Cancel(session.clone()));
                }
                Ok(())
            },
            on_receive_notification!(),
        )
        .on_receive_request(
            async move |req: SetSessionModeRequest,
                        responder: Responder<SetSessionModeResponse>,
                        _cx| {
                match set_mode(&s6, req).await {
                    Ok(()) => responder.respond(SetSessionModeResponse::new()),
                    Err(e) => responder.respond_with_error(e),
                }
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async move |req: SetSessionConfigOptionRequest,
                        responder: Responder<SetSessionConfigOptionResponse>,
                        _cx| {
                match set_config(&s7, req).await {
                    Ok(options) => responder.respond(SetSessionConfigOptionResponse::new(options)),
                    Err(e) => responder.respond_with_error(e),
                }
            },
            on_receive_request!(),
        )
        .connect_to(Stdio::new())
        .await;
    shared.client.close().await;
    match ended {
        Ok(()) => Ok(()),
        // The editor closed its end while updates were still going out.
        Err(e) if client_gone(&e) => {
            tracing::debug!("acp: the client went away");
            Ok(())
        }
        Err(e) => Err(AcpError::Connection(format!("{e:?}"))),
    }
}

/// Whether a connection error says the client's end of stdout is closed
/// (EPIPE: the editor quit or dropped the connection).
fn client_gone(e: &RpcError) -> bool {
    e.data
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .is_some_and(|d| d.contains("os error 32"))
}

/// `session/new`: a new top-level session in the client's directory.
async fn new_session(
    shared: &Shared,
    req: NewSessionRequest,
    cx: &ConnectionTo<AcpClient>,
) -> Result<NewSessionResponse, RpcError> {
    if !req.cwd.is_absolute() {
        return Err(RpcError::new(
            ErrorCode::INVALID_PARAMS,
            format!(
                "`cwd` must be an absolute path, not `{}`",
                req.cwd.display()
            ),
        ));
    }
    let client = &shared.client;
    let session = client
        .create_session(CreateSession {
            cwd: Some(req.cwd.to_string_lossy().into_owned()),
            ..CreateSession::default()
        })
        .await
        .map_err(rpc)?;
    crate::mcp::bring(client.as_ref(), &session.id, req.mcp_servers).await;
    // From its very first event, so nothing of the session is missed.
    let events = client
        .events(EventsFrom {
            session: Some(session.id.clone()),
            after: Some(0),
        })
        .await
        .map_err(rpc)?;
    let (modes, config) = settings(shared, &session).await?;
    open_tree(
        shared,
        cx,
        &session.id,
        Translator::new(session.id.clone(), shared.subagents()),
        events,
    )?;
    Ok(NewSessionResponse::new(acp_id(&session.id))
        .modes(modes)
        .config_options(config))
}

/// `session/load`: a stored session, its conversation replayed, then live.
async fn load_session(
    shared: &Shared,
    req: LoadSessionRequest,
    cx: &ConnectionTo<AcpClient>,
) -> Result<LoadSessionResponse, RpcError> {
    let id = SessionId::from(req.session_id.0.as_ref());
    let client = &shared.client;
    let session = match client.session(&id).await {
        Ok(s) => s,
        Err(ClientError::NotFound(_)) => return Err(unknown(&id)),
        Err(e) => return Err(rpc(e)),
    };
    if shared.tree(&id).is_some() {
        return Err(RpcError::new(
            ErrorCode::INVALID_REQUEST,
            format!("session {id} is already open on this connection"),
        ));
    }
    crate::mcp::bring(client.as_ref(), &id, req.mcp_servers).await;
    // Subscribed first: whatever happens during the replay follows it.
    let events = client
        .events(EventsFrom {
            session: Some(id.clone()),
            after: None,
        })
        .await
        .map_err(rpc)?;
    for n in history::replay(&id, &client.messages(&id).await.map_err(rpc)?) {
        cx.send_notification(n)?;
    }
    let mut translator = Translator::new(id.clone(), shared.subagents());
    let tree = client.tree(&id).await.map_err(rpc)?;
    for task in &tree.tasks {
        let info = TaskInfo {
            parent: task.parent_session_id.clone(),
            child: task.child_session_id.clone(),
        };
        for n in translator.known_task(task.task_id.as_str(), info, &task.description, task.status)
        {
            cx.send_notification(n)?;
        }
    }
    let (modes, config) = settings(shared, &session).await?;
    open_tree(shared, cx, &id, translator, events)?;
    Ok(LoadSessionResponse::new()
        .modes(modes)
        .config_options(config))
}

/// Starts the task that serves a tree.
fn open_tree(
    shared: &Shared,
    cx: &ConnectionTo<AcpClient>,
    root: &SessionId,
    translator: Translator,
    events: baton_client::EventStream,
) -> Result<(), RpcError> {
    let (tx, rx) = mpsc::unbounded_channel();
    if let Ok(mut trees) = shared.trees.lock() {
        trees.insert(root.clone(), tx);
    }
    let task = TreeTask::new(shared.client.clone(), cx.clone(), root.clone(), translator);
    cx.spawn(task.run(rx, events))
}

/// The session's modes and configuration options.
async fn settings(
    shared: &Shared,
    session: &SessionView,
) -> Result<(SessionModeState, Vec<SessionConfigOption>), RpcError> {
    let agents = shared.client.agents().await.map_err(rpc)?;
    let models = shared.client.models().await.map_err(rpc)?;
    Ok((
        options::modes(session, &agents),
        options::config(&session.model, &models),
    ))
}

/// `session/set_mode`: the session runs another agent from its next turn
/// on (the engine refuses while it has work under way, and says so).
async fn set_mode(shared: &Shared, req: SetSessionModeRequest) -> Result<(), RpcError> {
    let id = SessionId::from(req.session_id.0.as_ref());
    shared
        .client
        .update_session(
            &id,
            UpdateSession {
                agent: Some(req.mode_id.0.to_string()),
                ..UpdateSession::default()
            },
        )
        .await
        .map_err(rpc)?;
    Ok(())
}

/// `session/set_config_option`: the model.
async fn set_config(
    shared: &Shared,
    req: SetSessionConfigOptionRequest,
) -> Result<Vec<SessionConfigOption>, RpcError> {
    let id = SessionId::from(req.session_id.0.as_ref());
    if *req.config_id.0 != *options::MODEL {
        return Err(RpcError::new(
            ErrorCode::INVALID_PARAMS,
            format!("unknown option `{}`; baton has `model`", req.config_id.0),
        ));
    }
    let Some(model) = req.value.as_value_id() else {
        return Err(RpcError::new(
            ErrorCode::INVALID_PARAMS,
            "`model` takes one of the listed models",
        ));
    };
    let session = shared
        .client
        .update_session(
            &id,
            UpdateSession {
                model: Some(model.0.to_string()),
                title: None,
                agent: None,
            },
        )
        .await
        .map_err(rpc)?;
    let models = shared.client.models().await.map_err(rpc)?;
    Ok(options::config(&session.model, &models))
}

fn unknown(id: &SessionId) -> RpcError {
    RpcError::new(
        ErrorCode::RESOURCE_NOT_FOUND,
        format!("no session {id} on this connection (open it with session/new or session/load)"),
    )
}

/// An engine error as a JSON-RPC one, in the engine's words.
fn rpc(e: ClientError) -> RpcError {
    let code = match &e {
        ClientError::NotFound(_) => ErrorCode::RESOURCE_NOT_FOUND,
        ClientError::Invalid(_) => ErrorCode::INVALID_PARAMS,
        _ => ErrorCode::INTERNAL_ERROR,
    };
    RpcError::new(code, e.to_string())
}
