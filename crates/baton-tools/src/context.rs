//! What a tool may see of the session it runs in.
//!
//! The engine implements [`ToolContext`]; tools use nothing else. New
//! capabilities (shells, tasks, locks, permissions) arrive as new methods,
//! each with a default body where one makes sense, so adding one does not
//! break existing implementations.

use crate::PathPolicy;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The session-side services a tool call can use.
pub trait ToolContext: Send + Sync {
    /// The session's working directory (absolute). Relative paths from the
    /// model are resolved against it and results are shown relative to it.
    fn working_dir(&self) -> &Path;

    /// Which paths the session may read and write.
    fn path_policy(&self) -> &PathPolicy;

    /// Fires when the session is cancelled (Ctrl+C, parent cancelled, ...).
    /// Long-running tools stop promptly when it does.
    fn cancel(&self) -> &CancellationToken;

    /// Limits and shell used by the `bash` tool.
    fn bash_settings(&self) -> &BashSettings;

    /// Replaces the session's todo list (the `todo_write` tool).
    fn set_todos(&self, todos: Vec<Todo>);

    /// The id of the session the call runs in.
    fn session_id(&self) -> &str {
        ""
    }

    /// The id of this tool call.
    fn call_id(&self) -> &str {
        ""
    }

    /// Fires when someone asks to move this running call to the background
    /// (Ctrl+B in the TUI, `POST /v1/calls/{id}/background`). A tool that
    /// can go on in the background (a foreground `bash`, a waiting `task`)
    /// returns at once with an id when it fires; the completion comes later
    /// as a notice. `None`: this context cannot move calls.
    fn background_requested(&self) -> Option<&CancellationToken> {
        None
    }

    /// The engine's shells, for `bash` (background, or moved there) and the
    /// `shell_output` / `shell_kill` tools. `None`: no background shells in
    /// this context; `bash` then runs in the foreground only.
    fn shells(&self) -> Option<&crate::ShellManager> {
        None
    }

    /// What the sessions sharing this tree saw of its files, and the
    /// per-path leases for writing them (one tracker for all sessions of an
    /// engine). With one, `read` records what the session saw, and `write`
    /// and `edit` refuse to change an existing file the session has not
    /// read, or that changed since, and serialize their writes per path.
    /// `None`: no such checks and no locking.
    fn files(&self) -> Option<&crate::FileTracker> {
        None
    }

    /// Who holds a claim on `path`, when another task has claimed it: a
    /// short description the model reads, e.g.
    /// `task task_0192 "refactor parser"`. `write` and `edit` then refuse at
    /// once to change the path. `path` is in the form of
    /// [`FileTracker::key_of`](crate::FileTracker::key_of) (absolute, links
    /// followed). `None`: the path is free for this session.
    fn claimed_by(&self, path: &Path) -> Option<String> {
        let _ = path;
        None
    }

    /// Where this call's live output goes while it runs (for `bash`: what
    /// the foreground command prints, as it prints it), for user
    /// interfaces; the result the model reads is unchanged. `None`: nobody
    /// watches.
    fn live_output(&self) -> Option<Arc<dyn LiveOutput>> {
        None
    }
}

/// Hears a running call's output as it is produced. Called synchronously
/// from the task reading a command's pipes: it must return at once (buffer
/// and wake someone, never wait).
pub trait LiveOutput: Send + Sync {
    /// More output (stdout and stderr interleaved, as captured; not
    /// necessarily whole lines or whole characters).
    fn output(&self, bytes: &[u8]);
}

/// How the `bash` tool runs commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BashSettings {
    /// Time limit when the call gives none.
    pub default_timeout: Duration,
    /// The largest time limit a call may ask for; larger ones are lowered to it.
    pub max_timeout: Duration,
    /// Output beyond this many bytes is cut from the middle (head and tail kept).
    pub max_output_bytes: usize,
    /// The shell program, run as `{shell} -c command`.
    pub shell: String,
    /// What happens to a foreground command still running at its time
    /// limit when the context offers shells: `true` moves it to the
    /// background (the model gets its shell id), `false` kills it (with
    /// every process it started). Without shells it is always killed.
    pub timeout_to_background: bool,
    /// The sandbox commands run in.
    pub sandbox: crate::SandboxSettings,
}

impl Default for BashSettings {
    /// 120 s default, 600 s at most, 30 000 bytes of output, `bash` if it is
    /// on `PATH`, else `sh`; timeouts move commands to the background;
    /// the default sandbox (`workspace-write`).
    fn default() -> Self {
        BashSettings {
            default_timeout: Duration::from_secs(120),
            max_timeout: Duration::from_secs(600),
            max_output_bytes: 30_000,
            shell: if program_on_path("bash").is_some() {
                "bash".to_owned()
            } else {
                "sh".to_owned()
            },
            timeout_to_background: true,
            sandbox: crate::SandboxSettings::default(),
        }
    }
}

/// The first executable file called `name` in the directories of `PATH`.
fn program_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// One entry of a session's todo list.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Todo {
    /// What is to be done, as a short imperative sentence.
    pub content: String,
    /// Where the item stands.
    pub status: TodoStatus,
}

/// Where a todo item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    /// Not started.
    Pending,
    /// Being worked on now (at most one item at a time).
    InProgress,
    /// Done.
    Completed,
}

impl schemars::JsonSchema for TodoStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TodoStatus".into()
    }

    /// A plain string enum (models read it more easily than `oneOf`).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "enum": ["pending", "in_progress", "completed"],
            "description": "pending (not started), in_progress (being worked on now; at most one item) or completed (done)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bash_settings_match_the_documented_limits() {
        let s = BashSettings::default();
        assert_eq!(s.default_timeout, Duration::from_secs(120));
        assert_eq!(s.max_timeout, Duration::from_secs(600));
        assert_eq!(s.max_output_bytes, 30_000);
        assert!(s.shell == "bash" || s.shell == "sh");
        assert!(s.timeout_to_background);
        assert_eq!(s.sandbox.mode, baton_protocol::SandboxMode::WorkspaceWrite);
    }

    #[test]
    fn todo_status_uses_snake_case_on_the_wire() {
        let todo: Todo = serde_json::from_str(r#"{"content":"x","status":"in_progress"}"#).unwrap();
        assert_eq!(todo.status, TodoStatus::InProgress);
        assert_eq!(
            serde_json::to_value(&todo).unwrap()["status"],
            serde_json::json!("in_progress")
        );
    }

    #[test]
    fn todo_status_schema_lists_exactly_the_wire_names() {
        let schema = schemars::schema_for!(TodoStatus);
        let names: Vec<String> = [
            TodoStatus::Pending,
            TodoStatus::InProgress,
            TodoStatus::Completed,
        ]
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
        assert_eq!(schema.as_value()["enum"], serde_json::json!(names));
    }
}
