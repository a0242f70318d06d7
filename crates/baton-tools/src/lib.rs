//! baton's built-in tools: `read`, `write`, `edit`, `glob`, `grep`, `list`,
//! `bash`, `shell_output`, `shell_kill` and `todo_write`, and the
//! [`ShellManager`] that runs shell commands in the foreground and the
//! background.
//!
//! Tools are written against the narrow [`ToolContext`] trait (working
//! directory, path policy, cancellation, bash settings, todos, shells, file
//! tracking and claims) and know nothing of the engine, which implements that
//! trait and hears about background shells through [`ShellEvents`].
//! [`ToolRegistry`] holds the tools a session offers and runs the model's
//! calls through [`ToolRegistry::dispatch`], which never fails: every problem
//! becomes an error result the model can read and act on.
//!
//! Sessions that share one tree of files coordinate through a
//! [`FileTracker`] the engine shares between them
//! ([`ToolContext::files`]): `read` records what a session saw of a file,
//! and `write` and `edit` refuse to change an existing file the session
//! has not read, or that changed since it last read or wrote it (so
//! parallel agents never silently overwrite each other's edits), and change
//! one path at a time under a [`FileLease`]. A task may claim paths
//! ([`ToolContext::claimed_by`]); `write` and `edit` then leave them alone.
//!
//! Every command (`bash`, in the foreground or the background) runs in a
//! sandbox ([`SandboxSettings`], part of [`BashSettings`]): on Linux,
//! Landlock rules confine its writes to the session's working tree, the
//! temp directories and the configured roots (`workspace-write`), or to
//! the temp directories only (`read-only`), and its result says so when
//! the sandbox refused a write.
//!
//! Tool names and parameters are a public contract: extend them, never
//! rename them.

mod context;
mod error;
mod files;
mod fs_util;
mod panics;
mod path_policy;
mod registry;
mod sandbox;
mod schema;
mod shells;
#[cfg(test)]
mod test_support;
mod text;
mod tool;
mod tools;
mod walk;

pub use context::{BashSettings, LiveOutput, Todo, TodoStatus, ToolContext};
pub use error::{StaleReason, ToolError};
pub use files::{FileLease, FileTracker};
pub use path_policy::PathPolicy;
pub use registry::{ToolOutcome, ToolRegistry};
pub use sandbox::{
    CappedMode, SandboxSettings, SandboxUnavailable, Unsupported, cap_mode, sandbox_availability,
    warn_if_unsandboxable,
};
pub use schema::{parse_args, schema_for};
pub use shells::{
    DEFAULT_RING_CAPACITY, ShellEvents, ShellInfo, ShellManager, ShellRead, ShellStatus,
    TAIL_BYTES, TAIL_LINES,
};
pub use tool::{Tool, ToolOutput};
