//! Durable storage for baton.
//!
//! [`Store`] is what the engine needs from storage, as an async trait, so
//! that a server database fits behind it as well as the embedded default,
//! [`SqliteStore`] (SQLite in WAL mode, versioned migrations), which runs
//! every call on a blocking thread: no store call ever runs on an async
//! worker. Every call commits before it returns, so the engine can announce
//! a change as soon as the call comes back: what was announced is on disk.
//! Operations that must happen together (taking a queued message into the
//! conversation, a task's end with its notice) are one call and one
//! transaction.
//!
//! This crate knows the shape of sessions and messages (from
//! `baton-protocol`) and nothing of the engine or the network.

mod error;
mod migrations;
mod record;
mod sqlite;

pub use error::StoreError;
pub use record::{
    InputRecord, NoticeRecord, Orphans, SessionQuery, SessionRecord, SettingsChange, ShellRecord,
    TaskRecord, TreeRecords, WorktreeRecord,
};
pub use sqlite::SqliteStore;

use baton_protocol::{
    CallId, Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, SessionStatus,
    TaskId, Usage,
};
use std::sync::Arc;

/// Says whether a process id still runs (for [`Store::mark_orphans_interrupted`]).
pub type IsAlive = Arc<dyn Fn(u32) -> bool + Send + Sync>;

/// What the engine needs from durable storage. Every call commits before
/// it returns.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Stores a new session.
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// One session by id.
    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;
    /// Turns a full id or a unique prefix of one into the full id.
    async fn resolve_session_id(&self, prefix: &str) -> Result<SessionId, StoreError>;
    /// Sessions matching a query, most recently updated first.
    async fn list_sessions(&self, query: &SessionQuery) -> Result<Vec<SessionRecord>, StoreError>;
    /// Sets a session's status (and its update time).
    async fn set_status(&self, id: &SessionId, status: SessionStatus) -> Result<(), StoreError>;
    /// Sets a session's title unless it already has one (and then its
    /// update time); returns whether it did. A title someone chose is never
    /// replaced by one made up from a message.
    async fn set_title_if_empty(&self, id: &SessionId, title: &str) -> Result<bool, StoreError>;
    /// Changes a session's model, title and agent (any of them) in one
    /// transaction (and its update time); returns the session as it is
    /// now. A new agent also clears the stored system prompt (see
    /// [`Store::fix_system_prompt`]). Fails with [`StoreError::NotFound`]
    /// for an unknown session, changing nothing.
    async fn update_settings(
        &self,
        id: &SessionId,
        change: &SettingsChange,
    ) -> Result<SessionRecord, StoreError>;
    /// Fixes a session's system prompt for its life: stores `prompt` unless
    /// one is stored already, and returns the stored one (so a session
    /// reopened later keeps the prompt its first call was sent, and the
    /// provider's prompt cache with it). Fails with
    /// [`StoreError::NotFound`] for an unknown session.
    async fn fix_system_prompt(&self, id: &SessionId, prompt: &str) -> Result<String, StoreError>;
    /// Records which process runs a session (`None` when none does).
    async fn set_owner(&self, id: &SessionId, pid: Option<u32>) -> Result<(), StoreError>;
    /// Adds to a session's own usage totals (for usage no stored message
    /// carries, such as an empty answer).
    async fn add_usage(&self, id: &SessionId, usage: &Usage) -> Result<(), StoreError>;
    /// A session's usage including all its descendants.
    async fn usage_with_descendants(&self, id: &SessionId) -> Result<Usage, StoreError>;
    /// Every session under `id` (children, their children...), oldest
    /// first; not `id` itself.
    async fn descendants(&self, id: &SessionId) -> Result<Vec<SessionId>, StoreError>;
    /// Appends a message with all its parts, atomically. In the same
    /// transaction, an assistant message's usage is added to the session's
    /// totals and a tool message's results to its tool calls.
    async fn append_message(&self, message: &Message) -> Result<(), StoreError>;
    /// A session's messages in order.
    async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, StoreError>;
    /// The text of a session's last assistant message that has any, without
    /// reading the whole conversation.
    async fn last_answer(&self, id: &SessionId) -> Result<Option<String>, StoreError>;
    /// Marks sessions stored as active (running, queued, awaiting
    /// permission) whose owning process is gone as `interrupted`, with
    /// their tasks and shells, withdraws their pending permission requests,
    /// and returns what it marked. `is_alive` says whether a process id
    /// still runs.
    async fn mark_orphans_interrupted(&self, is_alive: IsAlive) -> Result<Orphans, StoreError>;
    /// A session's tool calls, including all its descendants'.
    async fn tool_calls_with_descendants(&self, id: &SessionId) -> Result<u64, StoreError>;
    /// A session and everything under it (sessions, tasks, shells, queued
    /// inputs); `None` for an unknown session.
    async fn tree(&self, root: &SessionId) -> Result<Option<TreeRecords>, StoreError>;

    /// Stores a message for a session as queued (not yet in its
    /// conversation).
    async fn enqueue_input(&self, input: &InputRecord) -> Result<(), StoreError>;
    /// A session's queued inputs, in the order they were sent.
    async fn pending_inputs(&self, session: &SessionId) -> Result<Vec<InputRecord>, StoreError>;
    /// Takes a queued input into the conversation: if the input with id
    /// `message.id` is still queued, marks it taken and appends `message`,
    /// in one transaction, and returns true; otherwise writes nothing and
    /// returns false.
    async fn take_input(&self, message: &Message) -> Result<bool, StoreError>;
    /// Withdraws a session's queued inputs that were not taken yet and
    /// returns them, in the order they were sent, in one atomic step: an
    /// input is either taken ([`Store::take_input`] returns true) or
    /// withdrawn (returned here, and taking it later writes nothing), never
    /// both, never neither.
    async fn withdraw_inputs(&self, session: &SessionId) -> Result<Vec<InputRecord>, StoreError>;

    /// Stores a new task.
    async fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError>;
    /// Stores a task's changed status, times and result.
    async fn update_task(&self, task: &TaskRecord) -> Result<(), StoreError>;
    /// Stores a task's end and the notice that tells its parent, in one
    /// transaction; with `consumed_via`, the notice is stored as delivered
    /// that way (a waiting call took it).
    async fn finish_task(
        &self,
        task: &TaskRecord,
        notice: &NoticeRecord,
        consumed_via: Option<&str>,
    ) -> Result<(), StoreError>;
    /// One task by id.
    async fn get_task(&self, id: &TaskId) -> Result<Option<TaskRecord>, StoreError>;
    /// The tasks a session delegated, oldest first.
    async fn list_tasks(&self, parent: &SessionId) -> Result<Vec<TaskRecord>, StoreError>;

    /// Stores a notice on its own (a message from another agent), to be
    /// delivered exactly once like the others.
    async fn add_notice(&self, notice: &NoticeRecord) -> Result<(), StoreError>;
    /// A session's undelivered notices, oldest first.
    async fn pending_notices(&self, session: &SessionId) -> Result<Vec<NoticeRecord>, StoreError>;
    /// Delivers notices: marks those not yet delivered and appends one user
    /// message carrying them (a notice part each), in one transaction.
    /// Returns that message, or `None` when every one was already
    /// delivered (then nothing is written).
    async fn deliver_notices(
        &self,
        session: &SessionId,
        notices: &[NoticeRecord],
    ) -> Result<Option<Message>, StoreError>;

    /// Stores a new background shell.
    async fn create_shell(&self, shell: &ShellRecord) -> Result<(), StoreError>;
    /// Stores a shell's end (status, exit code, end time) and the notice
    /// that tells its session, in one transaction.
    async fn end_shell(&self, shell: &ShellRecord, notice: &NoticeRecord)
    -> Result<(), StoreError>;
    /// A session's background shells, oldest first.
    async fn list_shells(&self, session: &SessionId) -> Result<Vec<ShellRecord>, StoreError>;

    /// Stores a permission request (pending) of a session whose tree's top
    /// session is `root`.
    async fn add_permission_request(
        &self,
        request: &PermissionRequest,
        root: &SessionId,
    ) -> Result<(), StoreError>;
    /// Stores the answer to a pending request (its decision, and a
    /// denial's reason); false (nothing written) when it was answered or
    /// withdrawn already.
    async fn answer_permission_request(
        &self,
        id: &PermissionId,
        answer: &PermissionAnswer,
    ) -> Result<bool, StoreError>;
    /// Withdraws a pending request (nobody needs its answer any more);
    /// false when it was not pending.
    async fn withdraw_permission_request(&self, id: &PermissionId) -> Result<bool, StoreError>;
    /// The (tool, pattern) of every "allow always" answer given in the tree
    /// under `root`, oldest first.
    async fn permission_grants(
        &self,
        root: &SessionId,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// The calls of a session whose permission request was answered
    /// `deny`, each with the reason given (if any), oldest first.
    async fn permission_denials(
        &self,
        session: &SessionId,
    ) -> Result<Vec<(CallId, Option<String>)>, StoreError>;
}
