//! Plain data shared by every part of baton: identifiers, conversation
//! messages and their parts, usage figures and the event stream.
//!
//! This crate does no I/O and knows nothing of tokio. Every front end (the
//! headless CLI, the HTTP API, the terminal UI) speaks in these types, so a
//! change here is a change to a public contract: extend, don't break.

pub mod api;
mod event;
mod ids;
mod message;
mod permission;
mod reasoning;
mod sandbox;
mod tool;
mod usage;

pub use event::{Event, EventKind, OUTPUT_CUT_NOTE, SessionStatus};
pub use ids::{CallId, MessageId, NoticeId, PermissionId, SessionId, ShellId, TaskId};
pub use message::{Compaction, ContextTopic, Image, Message, NoticeKind, Part, Role, ToolCall};
pub use permission::{PermissionAnswer, PermissionDecision, PermissionRequest};
pub use reasoning::ReasoningEffort;
pub use sandbox::SandboxMode;
pub use tool::ToolSpec;
pub use usage::Usage;

/// A point in time as baton stores and prints it (UTC).
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time, truncated to milliseconds so that what is stored and
/// what is printed agree exactly.
pub fn now() -> Timestamp {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}
