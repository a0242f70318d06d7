//! Shared harness: an engine on a temp home, a mock model over real HTTP,
//! and helpers to follow the event stream.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod hooked;

use baton_core::{AgentDirs, AgentSet, AskMode, Config, Engine, EngineOptions, NewSession};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::{Event, EventKind, SessionId};
use baton_store::{SqliteStore, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub struct Harness {
    pub mock: MockServer,
    pub engine: Engine,
    /// The engine's store, for checking what it wrote.
    pub store: Arc<dyn Store>,
    pub project: tempfile::TempDir,
    pub home: tempfile::TempDir,
}

pub async fn harness(script: &str, tweak: impl FnOnce(&mut Config)) -> Harness {
    harness_with(script, tweak, |_| {}).await
}

/// What else a harness can be given: agent files and how `ask` behaves.
pub struct Extras {
    /// Agent files, as (path under the project, content).
    pub agent_files: Vec<(String, String)>,
    pub ask_mode: AskMode,
    /// Pause or fail store calls through these.
    pub hooks: Option<Arc<hooked::Hooks>>,
}

/// A harness with agent files in its project and a chosen `ask` mode.
pub async fn harness_with(
    script: &str,
    tweak: impl FnOnce(&mut Config),
    extras: impl FnOnce(&mut Extras),
) -> Harness {
    let mut more = Extras {
        agent_files: Vec::new(),
        ask_mode: AskMode::Wait,
        hooks: None,
    };
    extras(&mut more);
    let mock = MockServer::start(Script::from_toml(script).unwrap())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let mut config = Config::single_openai_provider("mock", mock.openai_base_url(), "m");
    tweak(&mut config);
    for (path, text) in &more.agent_files {
        let file = project.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let agents = AgentSet::load(&AgentDirs {
        user_config: None,
        home: None,
        project: project.path().to_path_buf(),
    });
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&home.path().join("baton.db")).unwrap());
    let engine_store: Arc<dyn Store> = match more.hooks.clone() {
        Some(hooks) => Arc::new(hooked::Hooked {
            inner: store.clone(),
            hooks,
        }),
        None => store.clone(),
    };
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: Some(engine_store),
        agents,
        ask_mode: more.ask_mode,
    })
    .await
    .unwrap();
    Harness {
        mock,
        engine,
        store,
        project,
        home,
    }
}

impl Harness {
    pub async fn session(&self) -> SessionId {
        self.engine
            .create_session(NewSession {
                cwd: self.project.path().to_path_buf(),
                ..NewSession::default()
            })
            .await
            .unwrap()
            .id
    }

    /// Creates a file in the project (the scripts' commands wait on them).
    pub fn touch(&self, name: &str) {
        std::fs::write(self.project.path().join(name), "").unwrap();
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.project.path().join(name)
    }

    /// The text of a session's last stored message.
    pub async fn last_text(&self, session: &SessionId) -> String {
        self.store
            .messages(session)
            .await
            .unwrap()
            .last()
            .unwrap()
            .text()
    }
}

/// Follows the event stream, keeping everything seen.
pub struct Follower {
    pub rx: broadcast::Receiver<Event>,
    pub seen: Vec<Event>,
}

impl Follower {
    pub fn new(engine: &Engine) -> Self {
        Self {
            rx: engine.subscribe(),
            seen: Vec::new(),
        }
    }

    /// Reads events until `until` holds for one (30 s deadline); returns it.
    pub async fn until(&mut self, what: &str, until: impl Fn(&Event) -> bool) -> Event {
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let ev = self.rx.recv().await.unwrap();
                self.seen.push(ev.clone());
                if until(&ev) {
                    return ev;
                }
            }
        })
        .await;
        match found {
            Ok(ev) => ev,
            Err(_) => panic!("no `{what}` within 30 s; saw {:#?}", self.seen),
        }
    }

    /// Reads until `count` events satisfy `pred` in total.
    pub async fn until_count(&mut self, what: &str, count: usize, pred: impl Fn(&Event) -> bool) {
        while self.seen.iter().filter(|e| pred(e)).count() < count {
            self.until(what, &pred).await;
        }
    }

    /// Takes whatever is buffered now.
    pub fn drain(&mut self) {
        while let Ok(ev) = self.rx.try_recv() {
            self.seen.push(ev);
        }
    }

    pub fn of(&self, pred: impl Fn(&Event) -> bool) -> Vec<&Event> {
        self.seen.iter().filter(|e| pred(e)).collect()
    }

    /// The outputs of every completed call of `tool` seen, in order.
    pub fn outputs(&self, tool: &str) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ToolCompleted { name, output, .. } if name == tool => {
                    Some(output.clone())
                }
                _ => None,
            })
            .collect()
    }
}

/// Mock rules for the usual delegating parent, to append after a script's
/// child rules: on the message `go` it makes `calls` (a TOML array of tool
/// calls), answers "delegated" once a tool result matches `ack_when`, and
/// answers "integrated" to every task notice.
pub fn delegating_parent(ack_when: &str, calls: &str) -> String {
    format!(
        r#"
[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "{ack_when}"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = {calls}
"#
    )
}

pub fn is_type(ev: &Event, name: &str) -> bool {
    ev.type_name() == name
}

/// The task id and child session of every `task.spawned` seen.
pub fn spawned(seen: &[Event]) -> Vec<(String, SessionId)> {
    seen.iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskSpawned {
                task_id,
                child_session_id,
                ..
            } => Some((task_id.clone(), child_session_id.clone())),
            _ => None,
        })
        .collect()
}

/// Whether a process is alive (signal 0 through `kill`).
pub fn alive(pid: &str) -> bool {
    std::process::Command::new("kill")
        .args(["-0", pid.trim()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// Waits (polling, 20 s deadline) until a file has content.
pub async fn wait_for_file(path: &Path) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        poll.tick().await;
    }
}

/// Waits (polling, 20 s deadline) until a process is gone.
pub async fn wait_dead(pid: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    while alive(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "process {pid} still alive"
        );
        poll.tick().await;
    }
}
