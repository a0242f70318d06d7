//! Durable storage for baton.
//!
//! [`Store`] is what the engine needs from storage; [`SqliteStore`] is the
//! embedded default (SQLite in WAL mode, versioned migrations). Every call
//! commits before it returns, so the engine can announce a change as soon as
//! the call comes back: what was announced is on disk.
//!
//! This crate knows the shape of sessions and messages (from
//! `baton-protocol`) and nothing of the engine, tokio or the network.

mod error;
mod migrations;
mod record;
mod sqlite;

pub use error::StoreError;
pub use record::{
    NoticeRecord, SessionQuery, SessionRecord, ShellRecord, TaskRecord, WorktreeRecord,
};
pub use sqlite::SqliteStore;

use baton_protocol::{Message, NoticeId, SessionId, SessionStatus, TaskId, Usage};

/// What the engine needs from durable storage. Calls are synchronous and
/// short; async callers run them on a blocking thread.
pub trait Store: Send + Sync {
    /// Stores a new session.
    fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// One session by id.
    fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;
    /// Turns a full id or a unique prefix of one into the full id.
    fn resolve_session_id(&self, prefix: &str) -> Result<SessionId, StoreError>;
    /// Sessions matching a query, most recently updated first.
    fn list_sessions(&self, query: &SessionQuery) -> Result<Vec<SessionRecord>, StoreError>;
    /// Sets a session's status (and its update time).
    fn set_status(&self, id: &SessionId, status: SessionStatus) -> Result<(), StoreError>;
    /// Sets a session's title.
    fn set_title(&self, id: &SessionId, title: &str) -> Result<(), StoreError>;
    /// Sets a session's title unless it already has one (and then its
    /// update time); returns whether it did. A title someone chose is never
    /// replaced by one made up from a message.
    fn set_title_if_empty(&self, id: &SessionId, title: &str) -> Result<bool, StoreError>;
    /// Changes a session's model, its title, or both, in one transaction
    /// (and its update time); returns the session as it is now. `None`
    /// leaves a field as it is. Fails with [`StoreError::NotFound`] for an
    /// unknown session, changing nothing.
    fn update_settings(
        &self,
        id: &SessionId,
        model: Option<&str>,
        title: Option<&str>,
    ) -> Result<SessionRecord, StoreError>;
    /// Records which process runs a session (`None` when none does).
    fn set_owner(&self, id: &SessionId, pid: Option<u32>) -> Result<(), StoreError>;
    /// Adds to a session's own usage totals.
    fn add_usage(&self, id: &SessionId, usage: &Usage) -> Result<(), StoreError>;
    /// A session's usage including all its descendants.
    fn usage_with_descendants(&self, id: &SessionId) -> Result<Usage, StoreError>;
    /// Every session under `id` (children, their children...), oldest
    /// first; not `id` itself.
    fn descendants(&self, id: &SessionId) -> Result<Vec<SessionId>, StoreError>;
    /// Appends a message with all its parts, atomically.
    fn append_message(&self, message: &Message) -> Result<(), StoreError>;
    /// A session's messages in order.
    fn messages(&self, id: &SessionId) -> Result<Vec<Message>, StoreError>;
    /// Marks sessions stored as active (running, queued, awaiting
    /// permission) whose owning process is gone as `interrupted`, and
    /// returns them. `is_alive` says whether a process id still runs.
    fn mark_orphans_interrupted(
        &self,
        is_alive: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<SessionId>, StoreError>;
    /// Adds to a session's count of tool calls.
    fn add_tool_calls(&self, id: &SessionId, count: u64) -> Result<(), StoreError>;
    /// A session's tool calls, including all its descendants'.
    fn tool_calls_with_descendants(&self, id: &SessionId) -> Result<u64, StoreError>;

    /// Stores a new task.
    fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError>;
    /// Stores a task's changed status, times and result.
    fn update_task(&self, task: &TaskRecord) -> Result<(), StoreError>;
    /// One task by id.
    fn get_task(&self, id: &TaskId) -> Result<Option<TaskRecord>, StoreError>;
    /// The task a child session runs, if it is one.
    fn task_for_child(&self, child: &SessionId) -> Result<Option<TaskRecord>, StoreError>;
    /// The tasks a session delegated, oldest first.
    fn list_tasks(&self, parent: &SessionId) -> Result<Vec<TaskRecord>, StoreError>;

    /// Stores a notice (undelivered).
    fn add_notice(&self, notice: &NoticeRecord) -> Result<(), StoreError>;
    /// A session's undelivered notices, oldest first.
    fn pending_notices(&self, session: &SessionId) -> Result<Vec<NoticeRecord>, StoreError>;
    /// Delivers notices: marks those not yet delivered and appends one user
    /// message carrying them (a notice part each), in one transaction.
    /// Returns that message, or `None` when every one was already
    /// delivered (then nothing is written).
    fn deliver_notices(
        &self,
        session: &SessionId,
        notices: &[NoticeRecord],
    ) -> Result<Option<Message>, StoreError>;
    /// Marks a notice delivered without a message (its content reached the
    /// model as a tool result, e.g. through `task_wait`). Returns whether
    /// it was still undelivered.
    fn consume_notice(&self, id: &NoticeId, via: &str) -> Result<bool, StoreError>;

    /// Stores a new background shell.
    fn create_shell(&self, shell: &ShellRecord) -> Result<(), StoreError>;
    /// Stores a shell's changed status, exit code and end time.
    fn update_shell(&self, shell: &ShellRecord) -> Result<(), StoreError>;
    /// A session's background shells, oldest first.
    fn list_shells(&self, session: &SessionId) -> Result<Vec<ShellRecord>, StoreError>;
}
