//! The sandbox every command runs in: on Linux, Landlock rules that let a
//! command, and everything it starts, write only where its session's
//! [`SandboxMode`] allows, while reading stays open everywhere.
//!
//! | mode | a command may write in |
//! |---|---|
//! | `workspace-write` (default) | the working tree (with its git metadata), `[sandbox] writable_roots`, the temp directories, devices such as `/dev/null` |
//! | `read-only` | the temp directories and those devices |
//! | `off` | wherever the user can (no sandbox) |
//!
//! [`prepare`] turns a session's [`SandboxSettings`] and a working
//! directory into what the spawn needs before it forks (the rules and the
//! ruleset, see `landlock_rules.rs`), and a [`Refusals`] that explains, after the
//! command ran, a write the sandbox refused. A sub-agent's mode is capped
//! by its parent's ([`cap_mode`]). Where the system cannot sandbox
//! commands, [`SandboxSettings::unsupported`] decides between failing the
//! command and running it unsandboxed (with one warning).

mod capping;
#[cfg_attr(not(target_os = "linux"), path = "no_landlock.rs")]
mod landlock_rules;
mod refusal;
mod roots;
mod settings;
mod support;

pub use capping::{CappedMode, cap_mode};
pub(crate) use refusal::Refusals;
pub use settings::{SandboxSettings, Unsupported};
pub use support::{SandboxUnavailable, sandbox_availability, warn_if_unsandboxable};

use crate::ToolError;
use baton_protocol::SandboxMode;
use roots::WritePlan;
use std::path::Path;
use std::sync::Arc;

/// What a spawn does about the sandbox.
pub(crate) enum Prepared {
    /// Run the command as it is: mode `off`, or no sandbox to be had and
    /// `unsupported = "run-unsandboxed"`.
    Unconfined,
    /// Enforce `ruleset` in the child; `refusals` explains what it refused.
    Confined {
        ruleset: landlock_rules::Ruleset,
        refusals: Arc<Refusals>,
    },
}

/// Prepares the sandbox of a command that runs in `working_dir` for a
/// session with `settings`. Fails when the command must not run: the
/// system cannot sandbox it and `unsupported` is `refuse`, or the ruleset
/// could not be made.
pub(crate) fn prepare(
    settings: &SandboxSettings,
    working_dir: &Path,
) -> Result<Prepared, ToolError> {
    if settings.mode == SandboxMode::Off {
        return Ok(Prepared::Unconfined);
    }
    if let Err(unavailable) = sandbox_availability(settings) {
        warn_if_unsandboxable(settings);
        return unsandboxable(settings, &unavailable);
    }
    let plan = WritePlan::new(settings, working_dir);
    let ruleset = landlock_rules::Ruleset::new(&plan, settings.network)?;
    Ok(Prepared::Confined {
        ruleset,
        refusals: Arc::new(Refusals {
            mode: settings.mode,
            network: settings.network,
            working_dir: working_dir.to_path_buf(),
            plan,
        }),
    })
}

/// A command this system cannot sandbox: refused, or (`unsupported =
/// "run-unsandboxed"`) run as it is.
fn unsandboxable(
    settings: &SandboxSettings,
    unavailable: &SandboxUnavailable,
) -> Result<Prepared, ToolError> {
    match settings.unsupported {
        Unsupported::Refuse => Err(ToolError::SandboxUnavailable {
            mode: settings.mode,
            reason: unavailable.reason().to_owned(),
        }),
        Unsupported::RunUnsandboxed => Ok(Prepared::Unconfined),
    }
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests;
