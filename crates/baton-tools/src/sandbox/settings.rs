//! What the sandbox is told: the session's mode and the `[sandbox]`
//! section of the config.

use baton_protocol::SandboxMode;
use std::path::PathBuf;

/// How the commands of one session are sandboxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    /// The session's mode: the narrowest of the config's, its agent's and
    /// (for a task) its parent's and the one the task asked for.
    pub mode: SandboxMode,
    /// More directories commands may write in, in `workspace-write` mode
    /// (absolute; a relative one is taken from the working directory).
    pub writable_roots: Vec<PathBuf>,
    /// Whether commands may connect to and listen on TCP ports. `false`
    /// needs Landlock ABI 4 (Linux 6.7).
    pub network: bool,
    /// What happens where the system cannot sandbox commands.
    pub unsupported: Unsupported,
}

impl Default for SandboxSettings {
    /// `workspace-write`, no extra roots, network allowed, and commands
    /// refused where they cannot be sandboxed.
    fn default() -> Self {
        SandboxSettings {
            mode: SandboxMode::WorkspaceWrite,
            writable_roots: Vec::new(),
            network: true,
            unsupported: Unsupported::Refuse,
        }
    }
}

/// What to do with a command the system cannot sandbox (no Landlock, or
/// one too old for what the settings ask).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unsupported {
    /// Do not run it: the call fails, naming the config key that changes
    /// this.
    #[default]
    Refuse,
    /// Run it without a sandbox (baton warns once).
    RunUnsandboxed,
}
