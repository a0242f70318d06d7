//! The in-process and the remote client drive the same scenario against
//! the mock model and give the same answers and the same events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_client::ClientError;
use baton_client::{Client, EventsFrom, LocalClient, RemoteClient, SessionFilter, StreamItem};
use baton_core::{AgentSet, AskMode, Config, Engine, EngineOptions};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::api::{AgentView, CreateSession, ModelView, SessionView, UpdateSession};
use baton_protocol::{Event, EventKind, Role, SessionId, SessionStatus};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;

/// The parent delegates one child, which waits for a `gate` file; the
/// parent acknowledges, then integrates the child's result.
const SCRIPT: &str = r#"
[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released"
[rules.reply]
text = "kid result"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "kid", prompt = "as kid" } }]
"#;

struct World {
    _mock: MockServer,
    _home: tempfile::TempDir,
    project: tempfile::TempDir,
    engine: Engine,
}

async fn world() -> World {
    world_with(SCRIPT, |_| {}).await
}

async fn world_with(script: &str, tweak: impl FnOnce(&mut Config)) -> World {
    let mock = MockServer::start(Script::from_toml(script).unwrap())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let mut config = Config::single_openai_provider("mock", mock.openai_base_url(), "m");
    tweak(&mut config);
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: AgentSet::builtin(),
        ask_mode: AskMode::Wait,
    })
    .await
    .unwrap();
    World {
        _mock: mock,
        _home: home,
        project,
        engine,
    }
}

/// The first event, already seen or read now (with a deadline), that
/// satisfies `pred`, keeping every event read on the way.
async fn until(
    stream: &mut baton_client::EventStream,
    seen: &mut Vec<Event>,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    if let Some(found) = seen.iter().find(|e| pred(e)) {
        return found.clone();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let item = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; saw {seen:?}"))
            .expect("the stream ended")
            .expect("the stream failed");
        match item {
            StreamItem::Event(e) => {
                seen.push(e.clone());
                if pred(&e) {
                    return e;
                }
            }
            StreamItem::Resync(r) => panic!("unexpected resync {r:?}"),
        }
    }
}

/// What a scenario observed, with ids, times and sequence numbers left
/// out so two runs can be compared.
#[derive(Debug, PartialEq)]
struct Observed {
    /// Event types per session, the root first.
    types: BTreeMap<String, Vec<String>>,
    task_status_while_running: SessionStatus,
    task_status_at_end: SessionStatus,
    task_result: Option<String>,
    last_parent_text: String,
    children: usize,
    root_total_at_least_own: bool,
    steer_reply: String,
    tree_while_running: TreeShape,
    tree_at_end: TreeShape,
}

/// A session tree as `tree` gives it, without ids and times.
#[derive(Debug, PartialEq)]
struct TreeShape {
    /// (is the root, agent) of each session, in the order given (their
    /// statuses move on their own while the tree is read).
    sessions: Vec<(bool, String)>,
    /// (description, status) of each task.
    tasks: Vec<(String, SessionStatus)>,
    queued: usize,
    permissions: usize,
}

async fn tree_shape(client: &dyn Client, root: &SessionId) -> TreeShape {
    let tree = client.tree(root).await.unwrap();
    assert_eq!(&tree.root, root);
    TreeShape {
        sessions: tree
            .sessions
            .iter()
            .map(|s| (&s.id == root, s.agent.clone()))
            .collect(),
        tasks: tree
            .tasks
            .iter()
            .map(|t| (t.description.clone(), t.status))
            .collect(),
        queued: tree.queued.len(),
        permissions: tree.permissions.len(),
    }
}

async fn scenario(client: &dyn Client, project: &std::path::Path) -> Observed {
    let session = client
        .create_session(CreateSession {
            cwd: Some(project.to_string_lossy().into_owned()),
            ..CreateSession::default()
        })
        .await
        .unwrap();
    let mut stream = client
        .events(EventsFrom {
            session: Some(session.id.clone()),
            after: Some(0),
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    let accepted = client.send_message(&session.id, "go").await.unwrap();
    let spawned = until(&mut stream, &mut seen, "task.spawned", |e| {
        matches!(e.kind, EventKind::TaskSpawned { .. })
    })
    .await;
    let EventKind::TaskSpawned { task_id, .. } = &spawned.kind else {
        unreachable!()
    };
    let task_id = baton_protocol::TaskId::from(task_id.as_str());
    // The child runs (waiting for the gate) while the parent is idle.
    until(&mut stream, &mut seen, "the parent's ack", |e| {
        e.session_id == session.id
            && matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "delegated")
    })
    .await;
    // Steered while its command waits, so the message lands at a known
    // point: before its next model call.
    until(&mut stream, &mut seen, "the child's command", |e| {
        e.session_id != session.id && matches!(e.kind, EventKind::ToolStarted { .. })
    })
    .await;
    let running = client.task(&task_id).await.unwrap();
    let tree_while_running = tree_shape(client, &session.id).await;
    let listed = client.tasks(&session.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].task_id, task_id);
    let steer = client.send_to_task(&task_id, "hurry").await.unwrap();
    std::fs::write(project.join("gate"), "").unwrap();
    until(&mut stream, &mut seen, "the parent's quiet", |e| {
        e.session_id == session.id
            && e.seq > accepted.seq
            && matches!(e.kind, EventKind::SessionQuiet {})
    })
    .await;
    let ended = client.task(&task_id).await.unwrap();
    let tree_at_end = tree_shape(client, &session.id).await;
    let messages = client.messages(&session.id).await.unwrap();
    let children = client
        .sessions(SessionFilter {
            parent: Some(session.id.clone()),
            ..SessionFilter::default()
        })
        .await
        .unwrap();
    let root = client.session(&session.id).await.unwrap();
    let mut types: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &seen {
        let key = if e.session_id == session.id {
            "0-root".to_owned()
        } else {
            "1-child".to_owned()
        };
        types.entry(key).or_default().push(e.type_name().to_owned());
    }
    Observed {
        types,
        task_status_while_running: running.status,
        task_status_at_end: ended.status,
        task_result: ended.result,
        last_parent_text: messages.last().unwrap().text(),
        children: children.len(),
        root_total_at_least_own: root.total_usage.input_tokens >= root.usage.input_tokens
            && root.total_usage.input_tokens > 0,
        steer_reply: steer.message.replace(task_id.as_str(), "TASK"),
        tree_while_running,
        tree_at_end,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_and_the_remote_client_see_the_same_run() {
    let local_world = world().await;
    let local = LocalClient::new(
        local_world.engine.clone(),
        local_world.project.path().into(),
    );
    let by_local = scenario(&local, local_world.project.path()).await;
    local.close().await;

    let remote_world = world().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(baton_server::serve(
        listener,
        remote_world.engine.clone(),
        baton_server::ServerConfig::new("secret".into(), remote_world.project.path().into()),
        async move {
            let _ = stopped.await;
        },
    ));
    let remote = RemoteClient::new(&url, "secret").unwrap();
    let by_remote = scenario(&remote, remote_world.project.path()).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    remote_world.engine.shutdown().await;

    assert_eq!(by_local, by_remote);
    assert_eq!(by_local.task_status_while_running, SessionStatus::Running);
    assert_eq!(by_local.task_status_at_end, SessionStatus::Completed);
    assert_eq!(by_local.task_result.as_deref(), Some("kid result"));
    assert_eq!(by_local.last_parent_text, "integrated");
    assert_eq!(by_local.children, 1);
    assert!(by_local.root_total_at_least_own);
    let root = &by_local.types["0-root"];
    assert_eq!(root.first().map(String::as_str), Some("session.created"));
    assert_eq!(root.last().map(String::as_str), Some("session.quiet"));
    assert!(by_local.types["1-child"].contains(&"message.queued".to_owned()));
    // One request gives the whole tree, the root first.
    let running = &by_local.tree_while_running;
    assert_eq!(running.sessions.len(), 2);
    assert!(running.sessions[0].0 && !running.sessions[1].0);
    assert_eq!(running.tasks, [("kid".to_owned(), SessionStatus::Running)]);
    assert_eq!(
        by_local.tree_at_end.tasks,
        [("kid".to_owned(), SessionStatus::Completed)]
    );
    assert_eq!(by_local.tree_at_end.queued, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_errors_keep_their_kind() {
    let w = world().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(baton_server::serve(
        listener,
        w.engine.clone(),
        baton_server::ServerConfig::new("secret".into(), w.project.path().into()),
        std::future::pending::<()>(),
    ));
    let good = RemoteClient::new(&url, "secret").unwrap();
    let bad = RemoteClient::new(&url, "wrong").unwrap();
    let nobody = SessionId::from("ses_nobody");
    assert!(matches!(
        good.session(&nobody).await,
        Err(baton_client::ClientError::NotFound(_))
    ));
    let local = LocalClient::new(w.engine.clone(), w.project.path().into());
    let (by_remote, by_local) = (
        good.tree(&nobody).await.unwrap_err(),
        local.tree(&nobody).await.unwrap_err(),
    );
    assert!(
        matches!(by_remote, ClientError::NotFound(_)),
        "{by_remote:?}"
    );
    assert_eq!(by_remote, by_local, "the same words through both clients");
    assert!(matches!(
        bad.sessions(SessionFilter::default()).await,
        Err(baton_client::ClientError::Unauthorized(_))
    ));
    assert!(matches!(
        bad.events(EventsFrom::default()).await,
        Err(baton_client::ClientError::Unauthorized(_))
    ));
    assert!(matches!(
        good.create_session(CreateSession {
            agent: Some("nope".into()),
            ..CreateSession::default()
        })
        .await,
        Err(baton_client::ClientError::Invalid(_))
    ));
    server.abort();
    let gone = RemoteClient::new("http://127.0.0.1:1", "x").unwrap();
    assert!(matches!(
        gone.sessions(SessionFilter::default()).await,
        Err(baton_client::ClientError::Unavailable(_))
    ));
    assert!(RemoteClient::new("not a url", "x").is_err());
    w.engine.shutdown().await;
}

/// Each model says who it is.
const WHO_ANSWERS: &str = r#"
[[rules]]
name = "on-m2"
[rules.when]
model = "^m2$"
[rules.reply]
text = "answered by m2"

[[rules]]
name = "on-m"
[rules.when]
model = "^m$"
[rules.reply]
text = "answered by m"
"#;

/// What choosing and changing observed, with ids, times and directories
/// left out so two runs can be compared.
#[derive(Debug, PartialEq)]
struct Chosen {
    agents: Vec<AgentView>,
    models: Vec<ModelView>,
    views: Vec<SessionView>,
    refusals: Vec<ClientError>,
    updates: Vec<EventKind>,
    answered_by: Vec<Option<String>>,
}

/// A session view without what differs from run to run.
fn comparable(mut view: SessionView) -> SessionView {
    view.id = SessionId::from("ses_any");
    view.cwd = String::new();
    view.created_at = Default::default();
    view.updated_at = Default::default();
    view
}

async fn choose_and_change(client: &dyn Client, project: &std::path::Path) -> Chosen {
    let agents = client.agents().await.unwrap();
    let models = client.models().await.unwrap();
    let session = client
        .create_session(CreateSession {
            cwd: Some(project.to_string_lossy().into_owned()),
            ..CreateSession::default()
        })
        .await
        .unwrap();
    let id = session.id.clone();
    let mut stream = client
        .events(EventsFrom {
            session: Some(id.clone()),
            after: Some(0),
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    let change = |model: Option<&str>, title: Option<&str>| UpdateSession {
        model: model.map(str::to_owned),
        title: title.map(str::to_owned),
        agent: None,
    };
    let mut views = vec![comparable(session)];
    let first = client.send_message(&id, "first").await.unwrap();
    until(&mut stream, &mut seen, "the first quiet", |e| {
        e.seq > first.seq && matches!(e.kind, EventKind::SessionQuiet {})
    })
    .await;
    views.push(comparable(
        client
            .update_session(&id, change(Some("big"), None))
            .await
            .unwrap(),
    ));
    let second = client.send_message(&id, "second").await.unwrap();
    until(&mut stream, &mut seen, "the second quiet", |e| {
        e.seq > second.seq && matches!(e.kind, EventKind::SessionQuiet {})
    })
    .await;
    views.push(comparable(
        client
            .update_session(&id, change(None, Some("Renamed")))
            .await
            .unwrap(),
    ));
    until(
        &mut stream,
        &mut seen,
        "the title's update",
        |e| matches!(&e.kind, EventKind::SessionUpdated { title: Some(t), .. } if t == "Renamed"),
    )
    .await;
    let mut refusals = Vec::new();
    for bad in [
        change(None, None),
        change(Some("nowhere/x"), None),
        change(Some("m2"), None),
        change(None, Some(" ")),
        change(Some("big"), Some("")),
    ] {
        refusals.push(client.update_session(&id, bad).await.unwrap_err());
    }
    refusals.push(
        client
            .update_session(&SessionId::from("ses_nobody"), change(Some("big"), None))
            .await
            .unwrap_err(),
    );
    views.push(comparable(client.session(&id).await.unwrap()));
    let answered_by = client
        .messages(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| m.model)
        .collect();
    Chosen {
        agents,
        models,
        views,
        refusals,
        updates: seen
            .into_iter()
            .filter(|e| e.type_name() == "session.updated")
            .map(|e| e.kind)
            .collect(),
        answered_by,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_clients_list_agents_and_models_and_change_sessions_alike() {
    let tweak = |c: &mut Config| {
        c.aliases.insert("big".into(), "mock/m2".into());
        c.aliases.insert("gone".into(), "nowhere/x".into());
    };
    let local_world = world_with(WHO_ANSWERS, tweak).await;
    let local = LocalClient::new(
        local_world.engine.clone(),
        local_world.project.path().into(),
    );
    let by_local = choose_and_change(&local, local_world.project.path()).await;
    local.close().await;

    let remote_world = world_with(WHO_ANSWERS, tweak).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(baton_server::serve(
        listener,
        remote_world.engine.clone(),
        baton_server::ServerConfig::new("secret".into(), remote_world.project.path().into()),
        async move {
            let _ = stopped.await;
        },
    ));
    let remote = RemoteClient::new(&url, "secret").unwrap();
    let by_remote = choose_and_change(&remote, remote_world.project.path()).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    remote_world.engine.shutdown().await;

    assert_eq!(by_local, by_remote);
    assert!(by_local.agents.iter().any(|a| a.name == "build"));
    let ids: Vec<&str> = by_local.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["mock/m", "mock/m2"]);
    let models: Vec<&str> = by_local.views.iter().map(|v| v.model.as_str()).collect();
    assert_eq!(models, ["mock/m", "mock/m2", "mock/m2", "mock/m2"]);
    let titles: Vec<&str> = by_local.views.iter().map(|v| v.title.as_str()).collect();
    assert_eq!(titles, ["", "first", "Renamed", "Renamed"]);
    assert_eq!(
        by_local.answered_by,
        [Some("mock/m".to_owned()), Some("mock/m2".to_owned())]
    );
    assert_eq!(
        by_local.updates,
        [
            EventKind::SessionUpdated {
                agent: "build".into(),
                model: "mock/m2".into(),
                title: Some("first".into()),
            },
            EventKind::SessionUpdated {
                agent: "build".into(),
                model: "mock/m2".into(),
                title: Some("Renamed".into()),
            },
        ]
    );
    let kinds: Vec<&str> = by_local
        .refusals
        .iter()
        .map(|e| match e {
            ClientError::Invalid(_) => "invalid",
            ClientError::NotFound(_) => "not found",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "not found"
        ]
    );
}

/// The failures a client can meet, each once, in a fixed order: what it
/// was asked and what it answered.
async fn failures(
    client: &dyn Client,
    project: &std::path::Path,
) -> Vec<(&'static str, ClientError)> {
    use baton_protocol::{PermissionAnswer, PermissionDecision, PermissionId, TaskId};
    let session = client
        .create_session(CreateSession {
            cwd: Some(project.to_string_lossy().into_owned()),
            ..CreateSession::default()
        })
        .await
        .unwrap();
    let id = &session.id;
    let nobody = SessionId::from("ses_nobody");
    let no_task = TaskId::from("task_nobody");
    let create = |agent: Option<&str>, model: Option<&str>, cwd: Option<&str>| CreateSession {
        agent: agent.map(str::to_owned),
        model: model.map(str::to_owned),
        cwd: cwd.map(str::to_owned),
        title: None,
    };
    let change = |model: Option<&str>, title: Option<&str>| UpdateSession {
        model: model.map(str::to_owned),
        title: title.map(str::to_owned),
        agent: None,
    };
    let mut seen = Vec::new();
    macro_rules! refused {
        ($what:literal, $call:expr) => {
            seen.push((
                $what,
                $call
                    .await
                    .map(|_| ())
                    .expect_err(concat!($what, " is refused")),
            ))
        };
    }
    // Unknown session.
    refused!("show an unknown session", client.session(&nobody));
    refused!("read an unknown session", client.messages(&nobody));
    refused!(
        "talk to an unknown session",
        client.send_message(&nobody, "hi")
    );
    refused!(
        "change an unknown session",
        client.update_session(&nobody, change(None, Some("t")))
    );
    refused!("interrupt an unknown session", client.interrupt(&nobody));
    refused!("cancel an unknown session", client.cancel(&nobody));
    refused!("tasks of an unknown session", client.tasks(&nobody));
    refused!("shells of an unknown session", client.shells(Some(&nobody)));
    refused!(
        "events of an unknown session",
        client.events(EventsFrom {
            session: Some(nobody.clone()),
            after: None,
        })
    );
    // Unknown task, shell, call, permission request.
    refused!("show an unknown task", client.task(&no_task));
    refused!(
        "steer an unknown task",
        client.send_to_task(&no_task, "hurry")
    );
    refused!("cancel an unknown task", client.cancel_task(&no_task));
    refused!("show an unknown shell", client.shell("sh_nobody"));
    refused!("kill an unknown shell", client.kill_shell("sh_nobody"));
    refused!(
        "move an unknown call",
        client.background_call("call_nobody")
    );
    refused!(
        "answer an unknown request",
        client.answer_permission(
            &PermissionId::from("perm_nobody"),
            PermissionDecision::Deny.into()
        )
    );
    // Bad model, agent, directory.
    refused!(
        "create with an unconfigured provider",
        client.create_session(create(None, Some("nowhere/x"), None))
    );
    refused!(
        "create with a malformed model",
        client.create_session(create(None, Some("m"), None))
    );
    refused!(
        "create with an empty model",
        client.create_session(create(None, Some(""), None))
    );
    refused!(
        "create with an agent not installed",
        client.create_session(create(Some("nobody"), None, None))
    );
    refused!(
        "create with a sub-agent",
        client.create_session(create(Some("general"), None, None))
    );
    refused!(
        "create in a missing directory",
        client.create_session(create(None, None, Some("/no/such/dir/anywhere")))
    );
    refused!(
        "change to an unconfigured provider",
        client.update_session(id, change(Some("nowhere/x"), None))
    );
    // Bad request.
    refused!("an empty message", client.send_message(id, " \n"));
    refused!("an empty steer", client.send_to_task(&no_task, ""));
    refused!(
        "a change of nothing",
        client.update_session(id, change(None, None))
    );
    refused!(
        "an empty title",
        client.update_session(id, change(None, Some(" ")))
    );
    refused!(
        "deny with a blank reason",
        client.answer_permission(
            &PermissionId::from("perm_nobody"),
            PermissionAnswer::Deny {
                reason: Some(" \n".into())
            }
        )
    );
    refused!(
        "a limit past the store",
        client.sessions(SessionFilter {
            limit: Some(i64::MAX as usize + 1),
            ..SessionFilter::default()
        })
    );
    seen
}

/// What a client answers once its engine is shutting down.
async fn after_shutdown(client: &dyn Client, id: &SessionId) -> Vec<(&'static str, ClientError)> {
    vec![
        (
            "create",
            client
                .create_session(CreateSession::default())
                .await
                .unwrap_err(),
        ),
        (
            "talk",
            client.send_message(id, "still there?").await.unwrap_err(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_failure_reads_the_same_through_both_clients() {
    let local_world = world().await;
    let local = LocalClient::new(
        local_world.engine.clone(),
        local_world.project.path().into(),
    );
    let by_local = failures(&local, local_world.project.path()).await;
    let local_session = local.sessions(SessionFilter::default()).await.unwrap()[0]
        .id
        .clone();
    local.close().await;
    let local_closed = after_shutdown(&local, &local_session).await;

    let remote_world = world().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(baton_server::serve(
        listener,
        remote_world.engine.clone(),
        baton_server::ServerConfig::new("secret".into(), remote_world.project.path().into()),
        async move {
            let _ = stopped.await;
        },
    ));
    let remote = RemoteClient::new(&url, "secret").unwrap();
    let by_remote = failures(&remote, remote_world.project.path()).await;
    let remote_session = remote.sessions(SessionFilter::default()).await.unwrap()[0]
        .id
        .clone();
    // The server goes on answering while its engine shuts down.
    remote_world.engine.shutdown().await;
    let remote_closed = after_shutdown(&remote, &remote_session).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    // Word for word, failure by failure.
    assert_eq!(by_local.len(), by_remote.len());
    for (local, remote) in by_local.iter().zip(&by_remote) {
        assert_eq!(local, remote, "{}", local.0);
    }
    assert_eq!(local_closed, remote_closed);

    // And each is the kind of failure it should be, with a clear text.
    let kind = |e: &ClientError| match e {
        ClientError::Invalid(_) => "invalid",
        ClientError::NotFound(_) => "not found",
        ClientError::Unauthorized(_) => "unauthorized",
        ClientError::Unavailable(_) => "unavailable",
        ClientError::Failed(_) => "failed",
    };
    let text = |what: &str| {
        by_local
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, e)| e.to_string())
            .unwrap()
    };
    for (what, error) in &by_local {
        let expected = if what.contains("unknown") {
            "not found"
        } else {
            "invalid"
        };
        assert_eq!(kind(error), expected, "{what}: {error}");
    }
    assert_eq!(text("show an unknown session"), "no session `ses_nobody`");
    assert_eq!(
        text("shells of an unknown session"),
        "no session `ses_nobody`"
    );
    assert_eq!(text("show an unknown task"), "no task `task_nobody`");
    assert_eq!(text("kill an unknown shell"), "no shell `sh_nobody`");
    assert_eq!(
        text("an empty message"),
        "`text` is empty; send something for the session to read"
    );
    assert_eq!(
        text("an empty steer"),
        "`text` is empty; send something for the task to read"
    );
    assert_eq!(
        text("deny with a blank reason"),
        "`reason` is empty; leave it out, or say why the call is denied"
    );
    assert_eq!(
        text("a limit past the store"),
        "`limit` must be a whole number from 0 to 9223372036854775807, not `9223372036854775808`"
    );
    assert!(text("create in a missing directory").contains("/no/such/dir/anywhere"));
    assert!(
        local_closed
            .iter()
            .all(|(_, e)| *e == ClientError::Unavailable("the engine is shutting down".into())),
        "{local_closed:?}"
    );
}

/// The model runs `echo deploying now` (which the config asks about) and
/// quotes what came back.
const ASKS: &str = r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "(?s)(?P<out>.+)"
[rules.reply]
text = "saw: ${out}"

[[rules]]
name = "go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo deploying now" } }]
"#;

/// Asks, answers with a denial and its reason, and returns what the model
/// said it saw.
async fn deny_with_a_reason(client: &dyn Client, project: &std::path::Path) -> String {
    use baton_protocol::PermissionAnswer;
    let session = client
        .create_session(CreateSession {
            cwd: Some(project.to_string_lossy().into_owned()),
            ..CreateSession::default()
        })
        .await
        .unwrap();
    let mut stream = client
        .events(EventsFrom {
            session: Some(session.id.clone()),
            after: None,
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    client.send_message(&session.id, "go").await.unwrap();
    let asked = until(&mut stream, &mut seen, "permission.requested", |e| {
        matches!(e.kind, EventKind::PermissionRequested { .. })
    })
    .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind else {
        unreachable!()
    };
    let accepted = client
        .answer_permission(
            &request_id,
            PermissionAnswer::deny_because("deploys go through CI"),
        )
        .await
        .unwrap();
    assert_eq!(accepted.message, format!("{request_id} answered: deny"));
    let answer = until(
        &mut stream,
        &mut seen,
        "the model's answer",
        |e| matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text.starts_with("saw:")),
    )
    .await;
    let EventKind::MessageCompleted { text, .. } = answer.kind else {
        unreachable!()
    };
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denials_reason_reaches_the_model_through_both_clients() {
    let ask = |c: &mut Config| {
        c.permission =
            serde_json::from_value(serde_json::json!({"bash": {"echo deploying": "ask"}})).unwrap();
    };
    let local_world = world_with(ASKS, ask).await;
    let local = LocalClient::new(
        local_world.engine.clone(),
        local_world.project.path().into(),
    );
    let by_local = deny_with_a_reason(&local, local_world.project.path()).await;
    local.close().await;

    let remote_world = world_with(ASKS, ask).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(baton_server::serve(
        listener,
        remote_world.engine.clone(),
        baton_server::ServerConfig::new("secret".into(), remote_world.project.path().into()),
        async move {
            let _ = stopped.await;
        },
    ));
    let remote = RemoteClient::new(&url, "secret").unwrap();
    let by_remote = deny_with_a_reason(&remote, remote_world.project.path()).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    remote_world.engine.shutdown().await;

    assert_eq!(by_local, by_remote);
    assert!(
        by_local.starts_with("saw: Permission denied: the user refused `bash` command")
            && by_local.ends_with("The user denied this call: deploys go through CI"),
        "{by_local}"
    );
}
