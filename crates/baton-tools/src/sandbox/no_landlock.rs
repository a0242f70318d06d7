//! Where there is no Landlock (not Linux): no ruleset can be made, and
//! [`super::sandbox_availability`] says so before one is asked for.

use super::roots::WritePlan;
use super::support::Missing;
use crate::ToolError;

/// Never made on this platform.
pub(crate) struct Ruleset(());

impl Ruleset {
    /// Always an error: this platform cannot confine commands.
    pub(crate) fn new(_plan: &WritePlan, _network: bool) -> Result<Ruleset, ToolError> {
        Err(ToolError::Failed(
            "commands cannot be sandboxed on this platform".to_owned(),
        ))
    }

    /// Nothing to do (no ruleset exists).
    pub(crate) fn confine(self, _command: &mut tokio::process::Command) {}
}

/// This platform has no Landlock.
pub(crate) fn kernel_abi() -> Result<i32, Missing> {
    Err(Missing::OtherPlatform)
}
