//! The MCP servers of one engine process: started once, shared by every
//! session, restarted once after a crash, stopped at shutdown.

use super::config::{McpServerConfig, McpSource, StartMode};
use super::tool::{McpTool, render_result};
use baton_protocol::SessionId;
use baton_tools::ToolOutcome;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService, ServiceError, ServiceExt};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// A running connection to a server.
type Client = RunningService<RoleClient, ()>;

/// What a server is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// Configured, not started yet.
    NotStarted,
    /// Disabled in its settings (`enabled = false`).
    Disabled,
    /// Started; its tools are known.
    Running,
    /// It could not be started, or it crashed after its one restart.
    Failed(String),
}

impl std::fmt::Display for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerState::NotStarted => f.write_str("not started"),
            ServerState::Disabled => f.write_str("disabled"),
            ServerState::Running => f.write_str("running"),
            ServerState::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// One server as `baton mcp list` shows it.
#[derive(Debug, Clone)]
pub struct ServerReport {
    /// Its name.
    pub name: String,
    /// Where its settings came from.
    pub source: McpSource,
    /// What it is doing.
    pub state: ServerState,
    /// Its tools as the model sees them (`mcp__server__tool`), with their
    /// descriptions; empty unless it runs.
    pub tools: Vec<(String, String)>,
}

/// A live server: its connection and the tools it listed.
struct Live {
    client: Arc<Client>,
    tools: Vec<rmcp::model::Tool>,
}

/// What is known of one server.
enum Phase {
    NotStarted,
    Running(Live),
    Failed(String),
}

/// One server.
pub(super) struct Server {
    name: String,
    config: McpServerConfig,
    phase: Mutex<Phase>,
    /// Restarts after a crash so far (at most one).
    restarts: std::sync::atomic::AtomicU32,
}

/// Every MCP server of an engine.
pub struct McpHub {
    /// The configured servers, for every session.
    servers: BTreeMap<String, Arc<Server>>,
    /// The servers a client brought for one session tree (its root's id),
    /// for that tree only.
    trees: std::sync::Mutex<HashMap<SessionId, BTreeMap<String, Arc<Server>>>>,
    closing: CancellationToken,
}

impl std::fmt::Debug for McpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHub")
            .field("servers", &self.servers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The tools of the servers a session may use, and what went wrong with
/// the others.
pub struct SessionTools {
    /// One tool per server tool.
    pub tools: Vec<Arc<dyn baton_tools::Tool>>,
    /// One line per server that failed to start.
    pub notices: Vec<String>,
}

impl McpHub {
    /// A hub for these servers; nothing starts yet.
    pub fn new(servers: BTreeMap<String, McpServerConfig>) -> Arc<McpHub> {
        Arc::new(McpHub {
            servers: servers
                .into_iter()
                .map(|(name, config)| {
                    let server = Server::new(name.clone(), config);
                    (name, server)
                })
                .collect(),
            trees: std::sync::Mutex::new(HashMap::new()),
            closing: CancellationToken::new(),
        })
    }

    fn trees(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<SessionId, BTreeMap<String, Arc<Server>>>> {
        self.trees
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds the servers a client brought for the session tree under
    /// `root`: its sessions that start from now on are offered their
    /// tools, next to the configured ones. A server of the same name and
    /// settings as one added before is kept as it is (running or not);
    /// one with other settings replaces it. Returns a notice for each
    /// server left out because a configured server has its name.
    pub(crate) fn add_for_tree(
        &self,
        root: &SessionId,
        servers: BTreeMap<String, McpServerConfig>,
    ) -> Vec<String> {
        let mut notices = Vec::new();
        let mut replaced = Vec::new();
        {
            let mut trees = self.trees();
            let mine = trees.entry(root.clone()).or_default();
            for (name, config) in servers {
                if self.servers.contains_key(&name) {
                    notices.push(format!(
                        "MCP server `{name}` from the client is not used: baton's configuration \
                         has a server of that name, whose tools are offered instead"
                    ));
                    continue;
                }
                if mine.get(&name).is_some_and(|s| s.config == config) {
                    continue;
                }
                if let Some(old) = mine.insert(name.clone(), Server::new(name, config)) {
                    replaced.push(old);
                }
            }
        }
        for old in replaced {
            tokio::spawn(async move { old.close("replaced by the client").await });
        }
        notices
    }

    /// Starts, in the background, the enabled servers whose `start` is
    /// `session` (the engine calls this as it starts).
    pub fn start_eager(self: &Arc<Self>) {
        for server in self.servers.values() {
            if server.config.enabled && server.config.start == StartMode::Session {
                let server = server.clone();
                tokio::spawn(async move {
                    let _ = server.live().await;
                });
            }
        }
    }

    /// The tools of every enabled server `wants` accepts (by name),
    /// starting those not started yet. A server that cannot be started
    /// within its `startup_timeout_ms` gives a notice and no tools.
    ///
    /// The servers are the configured ones and those a client brought for
    /// the tree under `root`.
    pub async fn session_tools(
        self: &Arc<Self>,
        root: &SessionId,
        wants: impl Fn(&str) -> bool,
    ) -> SessionTools {
        let mut tools: Vec<Arc<dyn baton_tools::Tool>> = Vec::new();
        let mut notices = Vec::new();
        let brought: Vec<Arc<Server>> = self
            .trees()
            .get(root)
            .map(|mine| mine.values().cloned().collect())
            .unwrap_or_default();
        let wanted: Vec<&Arc<Server>> = self
            .servers
            .values()
            .chain(brought.iter())
            .filter(|s| s.config.enabled && wants(&s.name))
            .collect();
        let started = futures::future::join_all(wanted.iter().map(|s| s.live())).await;
        for (server, live) in wanted.into_iter().zip(started) {
            match live {
                Ok((_, listed)) => {
                    for tool in listed {
                        tools.push(Arc::new(McpTool::new(self, server, tool)));
                    }
                }
                Err(why) => notices.push(format!(
                    "MCP server `{}` is not available in this session ({why}); its tools are \
                     not offered",
                    server.name
                )),
            }
        }
        SessionTools { tools, notices }
    }

    /// Every server, its state and tools; starts the enabled ones that
    /// have not started (`baton mcp list`).
    pub async fn list(self: &Arc<Self>) -> Vec<ServerReport> {
        let reports = self.servers.values().map(|server| async move {
            let (state, tools) = if !server.config.enabled {
                (ServerState::Disabled, Vec::new())
            } else {
                match server.live().await {
                    Ok((_, tools)) => (
                        ServerState::Running,
                        tools
                            .iter()
                            .map(|t| {
                                (
                                    super::tool_name(&server.name, &t.name),
                                    t.description.as_deref().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect(),
                    ),
                    Err(why) => (ServerState::Failed(why), Vec::new()),
                }
            };
            ServerReport {
                name: server.name.clone(),
                source: server.config.source.clone(),
                state,
                tools,
            }
        });
        futures::future::join_all(reports).await
    }

    /// The state of each server, without starting any.
    pub async fn states(&self) -> Vec<(String, ServerState)> {
        let mut states = Vec::new();
        for server in self.servers.values() {
            let state = if !server.config.enabled {
                ServerState::Disabled
            } else {
                match &*server.phase.lock().await {
                    Phase::NotStarted => ServerState::NotStarted,
                    Phase::Running(_) => ServerState::Running,
                    Phase::Failed(why) => ServerState::Failed(why.clone()),
                }
            };
            states.push((server.name.clone(), state));
        }
        states
    }

    /// Calls `tool` of `server` with `arguments`: fails after the server's
    /// `tool_timeout_ms`, stops (dropping the request) when `cancel` fires,
    /// and restarts a crashed server once before it gives up on it.
    pub(super) async fn call(
        &self,
        server: &Server,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        cancel: &CancellationToken,
    ) -> ToolOutcome {
        let timeout = Duration::from_millis(server.config.tool_timeout_ms);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let client = match server.live().await {
                Ok((client, _)) => client,
                Err(why) => {
                    return ToolOutcome::error(format!(
                        "The MCP server `{}` is not running ({why}), so `{tool}` was not called.",
                        server.name
                    ));
                }
            };
            let params =
                CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments.clone());
            let result = tokio::select! {
                () = cancel.cancelled() => {
                    return ToolOutcome::error(format!(
                        "cancelled: the call of `{tool}` on MCP server `{}` was abandoned",
                        server.name
                    ));
                }
                () = self.closing.cancelled() => {
                    return ToolOutcome::error("baton is shutting down; the MCP call was abandoned");
                }
                result = tokio::time::timeout(timeout, client.call_tool(params)) => result,
            };
            match result {
                Ok(Ok(result)) => return render_result(&result),
                Err(_) => {
                    return ToolOutcome::error(format!(
                        "The MCP server `{}` did not answer the call of `{tool}` within {} ms \
                         (`tool_timeout_ms`); the call was abandoned. The server may be stuck; \
                         try something else.",
                        server.name, server.config.tool_timeout_ms
                    ));
                }
                Ok(Err(ServiceError::McpError(e))) => {
                    return ToolOutcome::error(format!(
                        "The MCP server `{}` refused the call of `{tool}`: {}",
                        server.name, e.message
                    ));
                }
                Ok(Err(e)) if crashed(&e, &client) => {
                    let why = format!("it stopped during a call of `{tool}` ({e})");
                    if attempt == 1 && server.restart_once(&client, &why).await {
                        tracing::warn!(server = %server.name, "MCP server crashed; restarting it once");
                        continue;
                    }
                    server.fail(&client, why.clone()).await;
                    return ToolOutcome::error(format!(
                        "The MCP server `{}` crashed: {why}. It was already restarted once, so \
                         its tools are unavailable until baton restarts.",
                        server.name
                    ));
                }
                Ok(Err(e)) => {
                    return ToolOutcome::error(format!(
                        "The call of `{tool}` on MCP server `{}` failed: {e}",
                        server.name
                    ));
                }
            }
        }
    }

    /// Stops every server (child processes are killed).
    pub async fn shutdown(&self) {
        self.closing.cancel();
        let brought: Vec<Arc<Server>> = self
            .trees()
            .values()
            .flat_map(|mine| mine.values().cloned())
            .collect();
        for server in self.servers.values().chain(brought.iter()) {
            server.close("baton shut down").await;
        }
    }
}

/// Whether an error means the connection is gone (the server crashed or
/// closed it), rather than one call failing.
fn crashed(error: &ServiceError, client: &Client) -> bool {
    matches!(
        error,
        ServiceError::TransportClosed | ServiceError::TransportSend(_)
    ) || client.is_closed()
}

impl Server {
    fn new(name: String, config: McpServerConfig) -> Arc<Server> {
        Arc::new(Server {
            name,
            config,
            phase: Mutex::new(Phase::NotStarted),
            restarts: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// Its name, as in `mcp__<name>__<tool>`.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Stops it for good (a child process is killed).
    async fn close(&self, why: &str) {
        let mut phase = self.phase.lock().await;
        if let Phase::Running(live) = std::mem::replace(&mut *phase, Phase::Failed(why.into())) {
            // Cancelling the service drops its transport, which kills the
            // child process.
            live.client.cancellation_token().cancel();
        }
    }

    /// The running connection and its tools, starting the server when it
    /// has not started; the reason when it cannot run.
    async fn live(&self) -> Result<(Arc<Client>, Vec<rmcp::model::Tool>), String> {
        let mut phase = self.phase.lock().await;
        match &*phase {
            Phase::Running(live) => return Ok((live.client.clone(), live.tools.clone())),
            Phase::Failed(why) => return Err(why.clone()),
            Phase::NotStarted => {}
        }
        match self.connect().await {
            Ok(live) => {
                let found = (live.client.clone(), live.tools.clone());
                *phase = Phase::Running(live);
                Ok(found)
            }
            Err(why) => {
                tracing::warn!(server = %self.name, "MCP server failed to start: {why}");
                *phase = Phase::Failed(why.clone());
                Err(why)
            }
        }
    }

    /// After `client` crashed: starts the server again when it has not
    /// been restarted yet (another call may have done it already).
    async fn restart_once(&self, client: &Arc<Client>, why: &str) -> bool {
        let mut phase = self.phase.lock().await;
        if let Phase::Running(live) = &*phase
            && !Arc::ptr_eq(&live.client, client)
        {
            return true;
        }
        if self
            .restarts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            > 0
        {
            return false;
        }
        client.cancellation_token().cancel();
        match self.connect().await {
            Ok(live) => {
                *phase = Phase::Running(live);
                true
            }
            Err(again) => {
                *phase = Phase::Failed(format!("{why}; restarting it failed: {again}"));
                false
            }
        }
    }

    /// Marks the server failed for good after `client` crashed.
    async fn fail(&self, client: &Arc<Client>, why: String) {
        let mut phase = self.phase.lock().await;
        if let Phase::Running(live) = &*phase
            && Arc::ptr_eq(&live.client, client)
        {
            client.cancellation_token().cancel();
            *phase = Phase::Failed(why);
        }
    }

    /// Starts the server and lists its tools, within `startup_timeout_ms`.
    async fn connect(&self) -> Result<Live, String> {
        let limit = Duration::from_millis(self.config.startup_timeout_ms);
        match tokio::time::timeout(limit, self.handshake()).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "it did not start and list its tools within {} ms (`startup_timeout_ms`)",
                self.config.startup_timeout_ms
            )),
        }
    }

    async fn handshake(&self) -> Result<Live, String> {
        let client = match (&self.config.command, &self.config.url) {
            (Some(command), _) => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(&self.config.args)
                    .envs(&self.config.env)
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true);
                if let Some(cwd) = &self.config.cwd {
                    cmd.current_dir(cwd);
                }
                let transport = TokioChildProcess::new(cmd)
                    .map_err(|e| format!("cannot run `{command}`: {e}"))?;
                ().serve(transport)
                    .await
                    .map_err(|e| format!("the MCP handshake failed: {e}"))?
            }
            (None, Some(url)) => {
                let mut headers = HashMap::new();
                for (key, value) in &self.config.headers {
                    let name = reqwest::header::HeaderName::try_from(key.as_str())
                        .map_err(|e| format!("header `{key}`: {e}"))?;
                    let value = reqwest::header::HeaderValue::try_from(value.as_str())
                        .map_err(|e| format!("header `{key}`: {e}"))?;
                    headers.insert(name, value);
                }
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                config.custom_headers = headers;
                let transport = StreamableHttpClientTransport::from_config(config);
                ().serve(transport)
                    .await
                    .map_err(|e| format!("the MCP handshake with {url} failed: {e}"))?
            }
            (None, None) => return Err("neither `command` nor `url` is set".into()),
        };
        let tools = client
            .list_all_tools()
            .await
            .map_err(|e| format!("listing its tools failed: {e}"))?;
        Ok(Live {
            client: Arc::new(client),
            tools,
        })
    }
}
