//! Stored session rows and queries over them.

use baton_protocol::{ReasoningEffort, SandboxMode, SessionId, SessionStatus, Timestamp, Usage};

/// A change to a session's settings, made in one transaction; `None`
/// leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsChange {
    /// The model (`provider/model`).
    pub model: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// The agent. Its stored system prompt goes with the old agent, so the
    /// session's next actor fixes the new agent's.
    pub agent: Option<String>,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Its id.
    pub id: SessionId,
    /// The session that delegated to it, if any.
    pub parent_id: Option<SessionId>,
    /// The agent it runs.
    pub agent: String,
    /// Its model, `provider/model`.
    pub model: String,
    /// A short title (may be empty).
    pub title: String,
    /// Its working directory.
    pub cwd: String,
    /// Where it is in its life.
    pub status: SessionStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its own usage (not counting descendants).
    pub usage: Usage,
    /// Tool calls it made (not counting descendants).
    pub tool_calls: u64,
    /// The reasoning effort it was started with (a task's
    /// `reasoning_effort`); `None` leaves its agent's or the config's.
    pub reasoning_effort: Option<ReasoningEffort>,
    /// The sandbox mode it was started with (a task's: what it asked for,
    /// capped by its parent's); `None` leaves the config's and its agent's.
    pub sandbox: Option<SandboxMode>,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// Only sessions in this working directory.
    pub cwd: Option<String>,
    /// Only top-level sessions (no parent).
    pub roots_only: bool,
    /// Only children of this session.
    pub parent: Option<SessionId>,
    /// At most this many (most recent first).
    pub limit: Option<usize>,
}

/// A delegated task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// Its id.
    pub id: baton_protocol::TaskId,
    /// The session that delegated it.
    pub parent_session_id: SessionId,
    /// The sub-agent session running it.
    pub child_session_id: SessionId,
    /// The short description the parent gave.
    pub description: String,
    /// The prompt the child was given.
    pub prompt: String,
    /// The sub-agent.
    pub agent: String,
    /// The child's model.
    pub model: String,
    /// `waiting`, `queued`, `running`, `completed`, `failed`, `cancelled`,
    /// `interrupted`.
    pub status: SessionStatus,
    /// Whether the parent went on without waiting.
    pub background: bool,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// When it last started running.
    pub started_at: Option<Timestamp>,
    /// When it last ended.
    pub ended_at: Option<Timestamp>,
    /// The child's final answer, once it ended.
    pub result: Option<String>,
    /// Globs of the paths the task claims while it runs (relative to the
    /// parent's working directory).
    pub files: Vec<String>,
    /// The git worktree the task runs in, when it is isolated.
    pub worktree: Option<WorktreeRecord>,
    /// The name its parent gave it (unique among the parent's tasks).
    pub name: Option<String>,
    /// The tasks it comes after: it starts once they all completed.
    pub after: Vec<baton_protocol::TaskId>,
    /// What it may spend (unlimited when no limit is set).
    pub budget: baton_protocol::api::Budget,
}

/// Where an isolated task works: a git worktree on a branch of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeRecord {
    /// The repository's top directory (the parent's tree).
    pub repo_root: String,
    /// The worktree's directory.
    pub path: String,
    /// Its branch, `baton/task-<id>`.
    pub branch: String,
    /// The commit the branch started from.
    pub base: String,
}

/// A notice for a session: stored when it is raised, marked when it is
/// delivered, so it is delivered exactly once.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeRecord {
    /// Its id.
    pub id: baton_protocol::NoticeId,
    /// The session it is for.
    pub session_id: SessionId,
    /// What it reports.
    pub kind: baton_protocol::NoticeKind,
    /// The task or shell id it is about.
    pub source_id: String,
    /// What the model reads.
    pub text: String,
    /// When it was raised.
    pub created_at: Timestamp,
}

/// A shell command that ran in the background, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellRecord {
    /// Its id.
    pub id: baton_protocol::ShellId,
    /// The session that started it.
    pub session_id: SessionId,
    /// The command line.
    pub command: String,
    /// What the model said it is for.
    pub description: Option<String>,
    /// `running`, `exited`, `killed` or `interrupted`.
    pub status: String,
    /// Its exit code, once exited normally.
    pub exit_code: Option<i32>,
    /// Its process id while it ran.
    pub pid: Option<u32>,
    /// Where all its output is.
    pub log_path: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
}

/// A message stored for a session and not yet taken into its
/// conversation (the session was busy, or the process stopped first).
#[derive(Debug, Clone, PartialEq)]
pub struct InputRecord {
    /// Its id; the message keeps it once taken.
    pub id: baton_protocol::MessageId,
    /// The session it was sent to.
    pub session_id: SessionId,
    /// What it says.
    pub text: String,
    /// When it was sent.
    pub created_at: Timestamp,
}

/// A session and everything under it, as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TreeRecords {
    /// The root first, then every session under it, oldest first.
    pub sessions: Vec<SessionRecord>,
    /// Every task delegated by a session of the tree, oldest first.
    pub tasks: Vec<TaskRecord>,
    /// The background shells of the tree's sessions, oldest first.
    pub shells: Vec<ShellRecord>,
    /// The queued (not yet taken) inputs of the tree's sessions, in the
    /// order they were sent.
    pub inputs: Vec<InputRecord>,
}

/// What [`crate::Store::mark_orphans_interrupted`] marked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Orphans {
    /// Sessions that were active in a process that is gone.
    pub sessions: Vec<SessionId>,
    /// Process groups of the background shells marked interrupted (their
    /// owner is gone, so they may still run with nobody to stop them).
    pub shell_groups: Vec<u32>,
}
