//! Shell commands that outlive a tool call.
//!
//! Every `bash` call runs as a shell of the [`ShellManager`]: its own
//! process group, its output kept in a bounded ring (and appended to a log
//! file), its end recorded. A shell starts either in the foreground (the
//! call waits for it; nobody else hears of it) or in the background (the
//! call returns its id at once). A foreground shell moves to the
//! background when it runs past its time limit or when someone asks; from
//! then on it is listed, the `shell_output` and `shell_kill` tools reach
//! it, and the engine hears of it through [`ShellEvents`].

mod capture;
mod manager;
mod process;
mod process_group;
mod ring;
mod shell;

pub(crate) use capture::HeadTail;
pub use manager::ShellManager;
pub(crate) use manager::{Foreground, ShellSpec};
pub(crate) use shell::Ending;
use shell::Shell;

use std::path::PathBuf;
use std::time::SystemTime;

/// How many bytes of output a shell keeps in memory unless told otherwise.
pub const DEFAULT_RING_CAPACITY: usize = 1024 * 1024;

/// At most this many lines of output go with [`ShellEvents::ended`].
pub const TAIL_LINES: usize = 20;

/// At most this many bytes of output go with [`ShellEvents::ended`].
pub const TAIL_BYTES: usize = 2048;

/// Where a shell stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShellStatus {
    /// Its main process is still running.
    Running,
    /// Its main process ended by itself (with an exit code, or by a signal
    /// nobody here sent).
    Exited,
    /// It was stopped: `shell_kill`, a cancelled session, a time limit
    /// (when timeouts kill), or engine shutdown.
    Killed,
}

/// What is known about one shell.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellInfo {
    /// Its id (`sh_…`).
    pub id: baton_protocol::ShellId,
    /// The session that started it.
    pub session_id: String,
    /// The command line.
    pub command: String,
    /// What the model said the command does.
    pub description: Option<String>,
    /// Where it stands.
    pub status: ShellStatus,
    /// The exit code once it exited; `None` while running, when it was
    /// killed, or when a signal ended it.
    pub exit_code: Option<i32>,
    /// The process id of the shell, which is also its process group id.
    pub pid: Option<u32>,
    /// The file that receives every byte of its output.
    pub log_path: PathBuf,
    /// When it started.
    pub started_at: SystemTime,
    /// When it ended (its output read to the end).
    pub ended_at: Option<SystemTime>,
    /// Whether it is a background shell (started there or moved there).
    pub background: bool,
}

/// What the engine hears about shells. Called from tokio tasks; must not
/// block.
pub trait ShellEvents: Send + Sync {
    /// A shell became a background shell: started with `background: true`,
    /// or a foreground one moved there (timeout or background request).
    /// Called before the `bash` call returns its shell id, and always
    /// before [`ShellEvents::ended`] for the same shell.
    fn backgrounded(&self, info: &ShellInfo);

    /// A background shell ended (exited by itself or killed). `tail`: its
    /// last lines of output (at most [`TAIL_LINES`] lines and
    /// [`TAIL_BYTES`] bytes). Called exactly once per background shell,
    /// after its output is fully read (the pipe at end-of-file, or the
    /// process group killed) and its log file flushed. `info` has the final
    /// status; the manager shows it (in [`ShellManager::get`],
    /// [`ShellManager::running_background`], ...) only once this returned.
    fn ended(&self, info: &ShellInfo, tail: &str);
}

/// Output read from a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellRead {
    /// The text (invalid UTF-8 shown as replacement characters).
    pub output: String,
    /// Output that fell out of the in-memory ring before it was read (it is
    /// still in the log file).
    pub dropped_bytes: u64,
    /// Where the shell stands.
    pub status: ShellStatus,
    /// Its exit code, once it exited by itself.
    pub exit_code: Option<i32>,
    /// When the shell runs in a sandbox and this output shows the sandbox
    /// refused a write: a note saying so, for the model.
    pub sandbox_note: Option<String>,
}

#[cfg(test)]
mod tests;
