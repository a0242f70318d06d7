//! The crate as the engine sees it: a context implemented outside the
//! crate, the built-in registry, and calls made the way a model makes them.

// The helpers below are test code too (clippy only recognises #[test] fns).
#![allow(clippy::unwrap_used)]

use baton_tools::{
    BashSettings, DEFAULT_RING_CAPACITY, PathPolicy, ShellEvents, ShellInfo, ShellManager,
    ShellStatus, Todo, TodoStatus, Tool, ToolContext, ToolError, ToolRegistry,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

struct Session {
    _dir: tempfile::TempDir,
    root: PathBuf,
    policy: PathPolicy,
    cancel: CancellationToken,
    bash: BashSettings,
    todos: Mutex<Vec<Todo>>,
    id: String,
    shells: Option<Arc<ShellManager>>,
}

impl Session {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        Session {
            _dir: dir,
            policy: PathPolicy::new(root.clone()),
            root,
            cancel: CancellationToken::new(),
            bash: BashSettings::default(),
            todos: Mutex::new(Vec::new()),
            id: "ses_1".to_owned(),
            shells: None,
        }
    }
}

impl ToolContext for Session {
    fn working_dir(&self) -> &Path {
        &self.root
    }
    fn path_policy(&self) -> &PathPolicy {
        &self.policy
    }
    fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }
    fn bash_settings(&self) -> &BashSettings {
        &self.bash
    }
    fn set_todos(&self, todos: Vec<Todo>) {
        *self.todos.lock().unwrap() = todos;
    }
    fn session_id(&self) -> &str {
        &self.id
    }
    fn shells(&self) -> Option<&ShellManager> {
        self.shells.as_deref()
    }
}

#[tokio::test]
async fn a_model_writes_edits_reads_and_searches_a_file() {
    let session = Session::new();
    let tools = ToolRegistry::builtin();
    let call = |name: &'static str, args: Value| {
        let tools = &tools;
        let session = &session;
        async move {
            let outcome = tools.dispatch(name, &args.to_string(), session).await;
            assert!(!outcome.is_error, "{name}: {}", outcome.output);
            outcome.output
        }
    };

    let wrote = call(
        "write",
        json!({"path": "src/lib.rs", "content": "pub fn one() -> u32 {\n    1\n}\n"}),
    )
    .await;
    assert_eq!(wrote, "Wrote 30 bytes (3 lines) to src/lib.rs (new file)");

    call(
        "edit",
        json!({"path": "src/lib.rs", "old_string": "    1\n", "new_string": "    2\n"}),
    )
    .await;
    let read = call("read", json!({"path": "src/lib.rs"})).await;
    assert_eq!(
        read,
        "     1\tpub fn one() -> u32 {\n     2\t    2\n     3\t}\n"
    );

    assert_eq!(
        call("glob", json!({"pattern": "**/*.rs"})).await,
        "src/lib.rs"
    );
    assert_eq!(
        call("grep", json!({"pattern": "fn \\w+"})).await,
        "src/lib.rs:1:pub fn one() -> u32 {"
    );
    assert_eq!(call("list", json!({})).await, "./\n  src/\n    lib.rs");
    assert!(
        call("bash", json!({"command": "wc -l < src/lib.rs"}))
            .await
            .starts_with("3\n")
    );
    call(
        "todo_write",
        json!({"todos": [{"content": "ship it", "status": "in_progress"}]}),
    )
    .await;
    assert_eq!(
        *session.todos.lock().unwrap(),
        vec![Todo {
            content: "ship it".to_owned(),
            status: TodoStatus::InProgress
        }]
    );
}

/// An engine-provided tool, registered beside the built-ins.
struct Echo;

#[async_trait::async_trait]
impl Tool for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }
    fn description(&self) -> String {
        "Echoes `text`.".to_owned()
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": false
        })
    }
    fn is_read_only(&self) -> bool {
        true
    }
    async fn call(&self, args: Value, _ctx: &dyn ToolContext) -> Result<String, ToolError> {
        args["text"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ToolError::invalid("`text` must be a string"))
    }
}

#[tokio::test]
async fn engine_tools_register_beside_the_builtins_and_get_the_same_checks() {
    let session = Session::new();
    let mut tools = ToolRegistry::builtin();
    tools.register(Arc::new(Echo));
    assert!(tools.specs().iter().any(|spec| spec.name == "echo"));
    assert!(tools.is_read_only("echo"));

    let ok = tools.dispatch("echo", r#"{"text": "hi"}"#, &session).await;
    assert_eq!((ok.output.as_str(), ok.is_error), ("hi", false));

    let bad = tools.dispatch("echo", r#"{"text": 5}"#, &session).await;
    assert!(bad.is_error);
    assert!(
        bad.output.contains("parameter `text` must be a string"),
        "{}",
        bad.output
    );
    assert!(
        bad.output.contains("  - text (string, required)"),
        "{}",
        bad.output
    );
}

#[tokio::test]
async fn extra_roots_extend_where_tools_may_write() {
    let mut session = Session::new();
    let extra = tempfile::tempdir().unwrap();
    let extra_root = extra.path().canonicalize().unwrap();
    let target = extra_root.join("notes.md");
    let args = json!({"path": target, "content": "x"}).to_string();
    let tools = ToolRegistry::builtin();

    let refused = tools.dispatch("write", &args, &session).await;
    assert!(refused.is_error);
    assert!(
        refused.output.contains("allow_outside_workdir"),
        "{}",
        refused.output
    );
    assert!(!target.exists());

    session.policy = PathPolicy::new(session.root.clone()).with_extra_roots(vec![extra_root]);
    let allowed = tools.dispatch("write", &args, &session).await;
    assert!(!allowed.is_error, "{}", allowed.output);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");
}

/// What an engine hears about shells.
#[derive(Default)]
struct Hub {
    heard: Mutex<Vec<String>>,
}

impl ShellEvents for Hub {
    fn backgrounded(&self, info: &ShellInfo) {
        self.heard
            .lock()
            .unwrap()
            .push(format!("backgrounded {}", info.id));
    }
    fn ended(&self, info: &ShellInfo, tail: &str) {
        self.heard.lock().unwrap().push(format!(
            "ended {} {:?} {:?} {tail}",
            info.id, info.status, info.exit_code
        ));
    }
}

#[tokio::test]
async fn an_engine_runs_background_shells_through_the_manager() {
    let logs = tempfile::tempdir().unwrap();
    let hub = Arc::new(Hub::default());
    let manager = Arc::new(ShellManager::new(
        logs.path().join("shells"),
        DEFAULT_RING_CAPACITY,
        hub.clone(),
    ));
    let mut session = Session::new();
    session.shells = Some(manager.clone());
    let tools = ToolRegistry::builtin();

    let started = tools
        .dispatch(
            "bash",
            &json!({"command": "echo ready; exit 7", "background": true}).to_string(),
            &session,
        )
        .await;
    assert!(!started.is_error, "{}", started.output);
    let shells = manager.list(Some("ses_1"));
    assert_eq!(shells.len(), 1);
    let id = shells[0].id.to_string();
    assert!(started.output.contains(&id), "{}", started.output);

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    while manager.get(&id).unwrap().status == ShellStatus::Running {
        assert!(Instant::now() < deadline, "the shell never ended");
        poll.tick().await;
    }
    let read = tools
        .dispatch(
            "shell_output",
            &json!({"shell_id": id}).to_string(),
            &session,
        )
        .await;
    assert_eq!(
        read.output,
        format!("Shell {id} (`echo ready; exit 7`): exited with code 7.\nready\n")
    );
    // The status shows the end only after `ended` was called.
    assert_eq!(
        *hub.heard.lock().unwrap(),
        [
            format!("backgrounded {id}"),
            format!("ended {id} Exited Some(7) ready")
        ]
    );
    assert_eq!(
        std::fs::read_to_string(logs.path().join("shells").join(format!("{id}.log"))).unwrap(),
        "ready\n"
    );
    assert_eq!(
        serde_json::to_value(ShellStatus::Killed).unwrap(),
        json!("killed")
    );
    assert_eq!(manager.kill_session("ses_1").await, 0);
}
