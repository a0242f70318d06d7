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
pub use record::{SessionQuery, SessionRecord};
pub use sqlite::SqliteStore;

use baton_protocol::{Message, SessionId, SessionStatus, Usage};

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
    /// Records which process runs a session (`None` when none does).
    fn set_owner(&self, id: &SessionId, pid: Option<u32>) -> Result<(), StoreError>;
    /// Adds to a session's own usage totals.
    fn add_usage(&self, id: &SessionId, usage: &Usage) -> Result<(), StoreError>;
    /// A session's usage including all its descendants.
    fn usage_with_descendants(&self, id: &SessionId) -> Result<Usage, StoreError>;
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
}
