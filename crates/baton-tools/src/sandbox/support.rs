//! Whether this system can sandbox commands, and the one warning baton
//! gives when it cannot.

use super::{SandboxSettings, Unsupported, landlock_rules};
use baton_protocol::SandboxMode;
use std::sync::Once;

/// Why Landlock cannot be used at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Missing {
    /// Not Linux.
    #[cfg(not(target_os = "linux"))]
    OtherPlatform,
    /// The kernel was built without Landlock (`ENOSYS`).
    NotBuilt,
    /// The kernel has Landlock but it is off (`EOPNOTSUPP`).
    NotEnabled,
}

/// The Landlock ABI that confines writes fully: version 3 (Linux 6.2) is
/// the first to control truncation, without which a command could empty
/// any file the user owns.
const FILES_ABI: i32 = 3;
/// The Landlock ABI that controls TCP (Linux 6.7), for `network = false`.
const NETWORK_ABI: i32 = 4;

/// Why commands cannot be sandboxed here as the settings ask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SandboxUnavailable {
    pub(crate) reason: String,
}

/// Whether commands can be sandboxed on this system as `settings` ask.
/// Always fine for mode `off`, which needs no sandbox.
pub fn sandbox_availability(settings: &SandboxSettings) -> Result<(), SandboxUnavailable> {
    if settings.mode == SandboxMode::Off {
        return Ok(());
    }
    judge(landlock_rules::kernel_abi(), settings.network)
}

/// Logs, once per process, that commands cannot be sandboxed here and
/// what happens to them (per `[sandbox] unsupported`); nothing when they
/// can, or when the mode is `off`. The engine calls this when it starts;
/// the first command that finds no sandbox calls it too.
pub fn warn_if_unsandboxable(settings: &SandboxSettings) {
    if let Err(unavailable) = sandbox_availability(settings) {
        static WARNED: Once = Once::new();
        WARNED.call_once(|| tracing::warn!("{}", warning(&unavailable, settings.unsupported)));
    }
}

/// Judges a kernel's Landlock ABI (or why it has none) against what the
/// settings need.
fn judge(abi: Result<i32, Missing>, network: bool) -> Result<(), SandboxUnavailable> {
    let reason = match abi {
        #[cfg(not(target_os = "linux"))]
        Err(Missing::OtherPlatform) => {
            "this system has no Landlock (baton sandboxes commands on Linux only)".to_owned()
        }
        Err(Missing::NotBuilt) => "this Linux kernel is built without Landlock".to_owned(),
        Err(Missing::NotEnabled) => "Landlock is not enabled in this Linux kernel (it needs \
                                     `landlock` in the `lsm=` boot parameter)"
            .to_owned(),
        Ok(abi) if abi < FILES_ABI => format!(
            "this kernel's Landlock is version {abi}; confining writes needs version \
             {FILES_ABI} (Linux 6.2 or later)"
        ),
        Ok(abi) if !network && abi < NETWORK_ABI => format!(
            "this kernel's Landlock is version {abi}; keeping commands off the network \
             (`[sandbox] network = false`) needs version {NETWORK_ABI} (Linux 6.7 or later)"
        ),
        Ok(_) => return Ok(()),
    };
    Err(SandboxUnavailable { reason })
}

/// What baton says, once, when commands cannot be sandboxed.
fn warning(unavailable: &SandboxUnavailable, unsupported: Unsupported) -> String {
    match unsupported {
        Unsupported::Refuse => format!(
            "commands cannot be sandboxed: {unavailable}. Every command fails while \
             `[sandbox] unsupported = \"refuse\"` (the default); set `[sandbox] unsupported = \
             \"run-unsandboxed\"` to run them without a sandbox, or `[sandbox] mode = \"off\"`"
        ),
        Unsupported::RunUnsandboxed => format!(
            "commands cannot be sandboxed: {unavailable}; they run without a sandbox (`[sandbox] \
             unsupported = \"run-unsandboxed\"`)"
        ),
    }
}

impl SandboxUnavailable {
    /// The reason, for messages.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_3_confines_files_and_abi_4_the_network() {
        assert!(judge(Ok(3), true).is_ok());
        assert!(judge(Ok(7), false).is_ok());
        let old = judge(Ok(2), true).unwrap_err();
        assert!(
            old.reason().contains("version 2") && old.reason().contains("6.2"),
            "{old}"
        );
        let no_net = judge(Ok(3), false).unwrap_err();
        assert!(no_net.reason().contains("network = false"), "{no_net}");
    }

    #[test]
    fn a_missing_landlock_says_why() {
        let off = judge(Err(Missing::NotEnabled), true).unwrap_err();
        assert!(off.reason().contains("lsm="), "{off}");
        let none = judge(Err(Missing::NotBuilt), true).unwrap_err();
        assert!(none.reason().contains("without Landlock"), "{none}");
    }

    #[test]
    fn the_warning_names_the_config_key_that_changes_it() {
        let unavailable = judge(Err(Missing::NotBuilt), true).unwrap_err();
        let refuse = warning(&unavailable, Unsupported::Refuse);
        assert!(
            refuse.contains("unsupported = \"run-unsandboxed\"") && refuse.contains("fails"),
            "{refuse}"
        );
        let run = warning(&unavailable, Unsupported::RunUnsandboxed);
        assert!(run.contains("without a sandbox"), "{run}");
    }

    #[test]
    fn mode_off_needs_no_sandbox() {
        let settings = SandboxSettings {
            mode: SandboxMode::Off,
            network: false,
            ..SandboxSettings::default()
        };
        assert!(sandbox_availability(&settings).is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_kernel_can_sandbox_commands() {
        // The development and CI machines run a kernel with Landlock; a
        // failure here means the sandbox tests below cannot mean anything.
        assert!(
            sandbox_availability(&SandboxSettings::default()).is_ok(),
            "{:?}",
            landlock_rules::kernel_abi()
        );
    }
}
