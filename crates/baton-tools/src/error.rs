//! The one error type every tool returns. Its `Display` text is what the
//! model reads, so each message says what went wrong and what to do next.

use std::path::PathBuf;

/// Why a tool call failed.
#[derive(thiserror::Error, Debug)]
pub enum ToolError {
    /// The arguments do not fit the tool's parameters (or are inconsistent).
    #[error("invalid arguments: {message}")]
    InvalidArguments {
        /// What is wrong with them.
        message: String,
    },

    /// The path lies outside the directories the session may touch.
    #[error(
        "access to `{path}` refused: {reason}. Stay inside the working directory; if the user \
         wants this path allowed, they can set `allow_outside_workdir = true` in the config or \
         add its directory to the extra allowed roots."
    )]
    PathOutsideRoot {
        /// The path as the model gave it.
        path: String,
        /// Where it leads and why that is not allowed.
        reason: String,
    },

    /// The file or directory does not exist.
    #[error(
        "`{path}` does not exist.{hint} Use `glob` or `list` to find the right path (`write` \
         creates new files)."
    )]
    NotFound {
        /// The path as the model gave it.
        path: String,
        /// Extra help (similar names nearby), starting with a space, or empty.
        hint: String,
    },

    /// The operating system refused an operation.
    #[error("could not {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "create directory", ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The session was cancelled before the tool finished.
    #[error("cancelled: the session was cancelled before the tool finished")]
    Cancelled,

    /// A shell command ran longer than its time limit and was killed.
    #[error(
        "command timed out after {timeout_ms} ms and was killed (with every process it \
         started). Output so far:\n{output}\nIf it needs longer, raise `timeout_ms` (up to \
         the configured maximum); do not run servers or watchers that never exit"
    )]
    TimedOut {
        /// The limit that was exceeded.
        timeout_ms: u64,
        /// What the command printed before it was killed.
        output: String,
    },

    /// A shell command was killed because the session was cancelled.
    #[error(
        "command cancelled after {elapsed_ms} ms: the session was cancelled, and the command \
         was killed (with every process it started). Output so far:\n{output}"
    )]
    CommandCancelled {
        /// How long it had been running.
        elapsed_ms: u64,
        /// What the command printed before it was killed.
        output: String,
    },

    /// `write` or `edit` was refused because the session would change an
    /// existing file without knowing its current content.
    #[error("`{path}` {reason}")]
    StaleFile {
        /// The path as shown to the model.
        path: String,
        /// Whether the session never read the file or it changed since.
        reason: StaleReason,
    },

    /// `write` or `edit` was refused because another task claimed the path.
    #[error(
        "`{path}` is claimed by {holder}: it belongs to that task while the task runs, so it \
         was not changed. Leave it alone, or ask your parent agent or the user to make this \
         change (or to wait until that task is done)"
    )]
    Claimed {
        /// The path as shown to the model.
        path: String,
        /// Who claimed it, e.g. `task task_0192 "refactor parser"`.
        holder: String,
    },

    /// A command was not run: it must be sandboxed, and this system cannot
    /// sandbox it (`[sandbox] unsupported = "refuse"`).
    #[error(
        "the command was not run: commands run in a sandbox here (`{mode}`), and {reason}. Tell          the user: setting `[sandbox] unsupported = \"run-unsandboxed\"` in baton's config runs          commands without a sandbox on this system (so does `[sandbox] mode = \"off\"`)"
    )]
    SandboxUnavailable {
        /// The session's mode.
        mode: baton_protocol::SandboxMode,
        /// Why the system cannot sandbox the command.
        reason: String,
    },

    /// Anything else, with a message the model can act on.
    #[error("{0}")]
    Failed(String),
}

/// Why a session may not change an existing file yet
/// (see [`ToolError::StaleFile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// The session has not read the file.
    NotRead,
    /// The file changed since the session last read or wrote it.
    Changed,
}

impl std::fmt::Display for StaleReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StaleReason::NotRead => {
                "has not been read in this session, so it was not changed. Use `read` on it \
                 first, then make your change to the content it has now (only a file that does \
                 not exist yet can be written without reading it)"
            }
            StaleReason::Changed => {
                "changed since you last read it (another agent or a command changed it), so it \
                 was not changed. `read` it again and redo your change on its new content"
            }
        })
    }
}

impl ToolError {
    /// Shorthand for [`ToolError::InvalidArguments`].
    pub fn invalid(message: impl Into<String>) -> Self {
        ToolError::InvalidArguments {
            message: message.into(),
        }
    }

    /// Shorthand for [`ToolError::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ToolError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
