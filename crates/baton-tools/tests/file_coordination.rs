//! Several sessions of one engine sharing one tree of files through one
//! `FileTracker`, calling the tools the way a model does.

// The helpers below are test code too (clippy only recognises #[test] fns).
#![allow(clippy::unwrap_used)]

use baton_tools::{
    BashSettings, FileTracker, PathPolicy, Todo, ToolContext, ToolOutcome, ToolRegistry,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What an engine shares between its sessions.
struct Engine {
    _dir: tempfile::TempDir,
    root: PathBuf,
    files: Arc<FileTracker>,
    /// Claimed path (as `FileTracker::key_of` gives it) → (claiming session, description).
    claims: Mutex<HashMap<PathBuf, (String, String)>>,
}

impl Engine {
    fn new() -> Arc<Engine> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        Arc::new(Engine {
            _dir: dir,
            root,
            files: Arc::new(FileTracker::new()),
            claims: Mutex::new(HashMap::new()),
        })
    }

    fn session(self: &Arc<Self>, id: &str) -> Session {
        Session {
            engine: self.clone(),
            policy: PathPolicy::new(self.root.clone()),
            cancel: CancellationToken::new(),
            bash: BashSettings::default(),
            id: id.to_owned(),
        }
    }

    fn claim(&self, relative: &str, session: &str, description: &str) {
        let key = FileTracker::key_of(&self.root.join(relative));
        self.claims
            .lock()
            .unwrap()
            .insert(key, (session.to_owned(), description.to_owned()));
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative)).unwrap()
    }
}

struct Session {
    engine: Arc<Engine>,
    policy: PathPolicy,
    cancel: CancellationToken,
    bash: BashSettings,
    id: String,
}

impl Session {
    async fn call(&self, tool: &str, args: Value) -> ToolOutcome {
        ToolRegistry::builtin()
            .dispatch(tool, &args.to_string(), self)
            .await
    }

    async fn ok(&self, tool: &str, args: Value) -> String {
        let outcome = self.call(tool, args).await;
        assert!(!outcome.is_error, "{}: {tool}: {}", self.id, outcome.output);
        outcome.output
    }
}

impl ToolContext for Session {
    fn working_dir(&self) -> &Path {
        &self.engine.root
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
    fn set_todos(&self, _todos: Vec<Todo>) {}
    fn session_id(&self) -> &str {
        &self.id
    }
    fn files(&self) -> Option<&FileTracker> {
        Some(&self.engine.files)
    }
    fn claimed_by(&self, path: &Path) -> Option<String> {
        let claims = self.engine.claims.lock().unwrap();
        match claims.get(path) {
            Some((holder, description)) if *holder != self.id => Some(description.clone()),
            _ => None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_sessions_editing_one_file_lose_no_update() {
    const SESSIONS: usize = 8;
    let engine = Engine::new();
    let initial: String = (0..SESSIONS).map(|i| format!("slot {i}: todo\n")).collect();
    std::fs::write(engine.root.join("shared.txt"), &initial).unwrap();

    let workers: Vec<_> = (0..SESSIONS)
        .map(|i| {
            let session = engine.session(&format!("ses_{i}"));
            tokio::spawn(async move {
                let edit = json!({
                    "path": "shared.txt",
                    "old_string": format!("slot {i}: todo"),
                    "new_string": format!("slot {i}: done by ses_{i}"),
                });
                let mut refused = 0;
                loop {
                    session.ok("read", json!({"path": "shared.txt"})).await;
                    let outcome = session.call("edit", edit.clone()).await;
                    if !outcome.is_error {
                        return refused;
                    }
                    // The only acceptable failure: someone else got there
                    // first, and the model is told to read again.
                    assert!(
                        outcome
                            .output
                            .starts_with("`shared.txt` changed since you last read it"),
                        "{}",
                        outcome.output
                    );
                    refused += 1;
                    // Each refusal follows another session's write, so
                    // there are fewer than SESSIONS of them.
                    assert!(refused < SESSIONS, "ses_{i} never got its turn");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }

    let expected: String = (0..SESSIONS)
        .map(|i| format!("slot {i}: done by ses_{i}\n"))
        .collect();
    assert_eq!(engine.read("shared.txt"), expected);
}

#[tokio::test]
async fn a_model_is_told_to_read_first_and_to_read_again() {
    let engine = Engine::new();
    let a = engine.session("ses_a");
    let b = engine.session("ses_b");
    std::fs::write(engine.root.join("lib.rs"), "fn one() {}\n").unwrap();
    let edit = json!({"path": "lib.rs", "old_string": "one", "new_string": "two"});

    let refused = a.call("edit", edit.clone()).await;
    assert!(refused.is_error);
    assert!(
        refused
            .output
            .starts_with("`lib.rs` has not been read in this session"),
        "{}",
        refused.output
    );

    a.ok("read", json!({"path": "lib.rs"})).await;
    b.ok(
        "write",
        json!({"path": "notes.md", "content": "b's own new file"}),
    )
    .await;
    b.ok(
        "bash",
        json!({"command": "echo '// by a command' >> lib.rs"}),
    )
    .await;
    let refused = a.call("edit", edit.clone()).await;
    assert!(
        refused
            .output
            .contains("changed since you last read it (another agent or a command changed it)"),
        "{}",
        refused.output
    );
    assert_eq!(engine.read("lib.rs"), "fn one() {}\n// by a command\n");

    a.ok("read", json!({"path": "lib.rs"})).await;
    a.ok("edit", edit).await;
    assert_eq!(engine.read("lib.rs"), "fn two() {}\n// by a command\n");

    // A session whose history is gone starts from scratch.
    engine.files.forget_session("ses_a");
    let refused = a
        .call(
            "edit",
            json!({"path": "lib.rs", "old_string": "two", "new_string": "three"}),
        )
        .await;
    assert!(
        refused.output.contains("has not been read in this session"),
        "{}",
        refused.output
    );
}

#[tokio::test]
async fn a_claimed_file_belongs_to_its_task_however_it_is_named() {
    let engine = Engine::new();
    std::fs::create_dir(engine.root.join("src")).unwrap();
    std::fs::write(engine.root.join("src/parser.rs"), "old\n").unwrap();
    std::os::unix::fs::symlink(
        engine.root.join("src/parser.rs"),
        engine.root.join("parser-link.rs"),
    )
    .unwrap();
    engine.claim(
        "src/parser.rs",
        "ses_child",
        r#"task task_0192 "refactor parser""#,
    );
    let parent = engine.session("ses_parent");
    let child = engine.session("ses_child");

    parent.ok("read", json!({"path": "src/parser.rs"})).await;
    for path in ["src/parser.rs", "src/../src/parser.rs", "parser-link.rs"] {
        let refused = parent
            .call("write", json!({"path": path, "content": "parent's\n"}))
            .await;
        assert!(refused.is_error);
        assert!(
            refused
                .output
                .contains(r#"is claimed by task task_0192 "refactor parser""#),
            "{path}: {}",
            refused.output
        );
    }
    assert_eq!(engine.read("src/parser.rs"), "old\n");

    // The claim's holder works on it as usual.
    child.ok("read", json!({"path": "src/parser.rs"})).await;
    child
        .ok(
            "edit",
            json!({"path": "src/parser.rs", "old_string": "old", "new_string": "new"}),
        )
        .await;
    assert_eq!(engine.read("src/parser.rs"), "new\n");
}
