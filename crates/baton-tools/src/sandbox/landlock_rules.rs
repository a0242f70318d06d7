//! Landlock, the Linux security module that lets an unprivileged process
//! give up rights for itself and everything it starts.
//!
//! A command is confined like this:
//!
//! 1. Before the fork, in baton: [`Ruleset::new`] creates a ruleset that
//!    handles every write right of ABI 3 (and TCP bind and connect when
//!    the network is off), opens each place of the [`WritePlan`] and adds
//!    a rule granting writes beneath it. Reading and executing are not
//!    handled, so they stay allowed everywhere. The ruleset is one file
//!    descriptor (close-on-exec, as Landlock makes it).
//! 2. Between fork and exec, in the child: the `pre_exec` hook calls
//!    `RulesetCreated::restrict_self`, which makes two system calls,
//!    `prctl(PR_SET_NO_NEW_PRIVS)` and `landlock_restrict_self(fd)`, then
//!    closes the descriptor. Landlock confines the calling thread, and a
//!    forked child has only that one; exec and every process it starts
//!    inherit the confinement, which can never be lifted.
//!
//! Only async-signal-safe work may happen between fork and exec (another
//! thread of baton may have held the allocator's lock at the fork). The
//! hook allocates nothing: everything that allocates (the ruleset, the
//! rules, the paths) was done in step 1; `restrict_self` builds its status
//! and errors from plain values and `io::Error::last_os_error` (no heap),
//! and the hook turns an error into an errno. The crate's compatibility
//! level is `HardRequirement`, so a ruleset that could not be enforced in
//! full fails in step 1 (or, at worst, in step 2 with an errno that makes
//! the spawn fail) instead of running the command less confined.
//!
//! `no_new_privs` (which Landlock needs) also means that setuid programs
//! such as `sudo` run without gaining privileges.

use super::roots::WritePlan;
use super::support::Missing;
use crate::ToolError;
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, Errno, PathBeneath, PathFd,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus,
};
use std::path::Path;
use std::sync::OnceLock;

/// The rights a ruleset handles for files: every write right up to ABI 3
/// (writing, truncating, creating, removing, renaming and linking).
fn write_rights() -> landlock::BitFlags<AccessFs> {
    AccessFs::from_write(ABI::V3)
}

/// The rights granted on a device file: opening it for writing.
fn device_rights() -> landlock::BitFlags<AccessFs> {
    AccessFs::WriteFile | AccessFs::Truncate
}

/// A ruleset made before the fork, to be enforced in the child.
pub(crate) struct Ruleset(RulesetCreated);

impl Ruleset {
    /// A ruleset that lets writes happen only where `plan` says, and TCP
    /// connections only when `network` is true.
    pub(crate) fn new(plan: &WritePlan, network: bool) -> Result<Ruleset, ToolError> {
        let failed = |what: &str, err: &dyn std::fmt::Display| {
            ToolError::Failed(format!(
                "could not set up the sandbox for the command ({what}): {err}"
            ))
        };
        let mut ruleset = landlock::Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(write_rights())
            .map_err(|e| failed("file rights", &e))?;
        if !network {
            ruleset = ruleset
                .handle_access(AccessNet::from_all(ABI::V4))
                .map_err(|e| failed("network rights", &e))?;
        }
        let mut created = ruleset.create().map_err(|e| failed("ruleset", &e))?;
        let grants = plan
            .dirs
            .iter()
            .chain(&plan.git)
            .map(|dir| (dir, write_rights()))
            .chain(plan.devices.iter().map(|dev| (dev, device_rights())));
        for (path, rights) in grants {
            created = created
                .add_rule(PathBeneath::new(open(path)?, rights))
                .map_err(|e| failed(&path.display().to_string(), &e))?;
        }
        Ok(Ruleset(created))
    }

    /// Makes `command` enforce the ruleset on itself before it runs.
    #[allow(unsafe_code)]
    pub(crate) fn confine(self, command: &mut tokio::process::Command) {
        let mut ruleset = Some(self.0);
        let enforce = move || -> std::io::Result<()> {
            let Some(ruleset) = ruleset.take() else {
                // The hook runs once per spawn, and a command is spawned once.
                return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
            };
            match ruleset.restrict_self() {
                Ok(status) if status.ruleset == RulesetStatus::FullyEnforced => Ok(()),
                Ok(_) => Err(std::io::Error::from_raw_os_error(libc::EPERM)),
                Err(err) => Err(std::io::Error::from_raw_os_error(*Errno::from(err))),
            }
        };
        // SAFETY: the hook runs in the forked child before exec, where only
        // async-signal-safe work is allowed. It allocates nothing and takes
        // no lock: it moves the ruleset (a descriptor and plain values) out
        // of its Option, makes the two system calls of `restrict_self`
        // (prctl and landlock_restrict_self), closes the descriptor, and
        // builds its result from plain values and raw errnos (see the
        // module documentation).
        unsafe {
            command.pre_exec(enforce);
        }
    }
}

fn open(path: &Path) -> Result<PathFd, ToolError> {
    PathFd::new(path).map_err(|e| {
        ToolError::Failed(format!(
            "could not set up the sandbox for the command (opening {}): {e}",
            path.display()
        ))
    })
}

/// The kernel's Landlock ABI version, or why it has none (asked once).
pub(crate) fn kernel_abi() -> Result<i32, Missing> {
    static ABI_VERSION: OnceLock<Result<i32, Missing>> = OnceLock::new();
    *ABI_VERSION.get_or_init(ask_kernel)
}

/// `LANDLOCK_CREATE_RULESET_VERSION`: ask for the ABI version instead of
/// creating a ruleset.
const CREATE_RULESET_VERSION: libc::c_uint = 1;

#[allow(unsafe_code)]
fn ask_kernel() -> Result<i32, Missing> {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns the
    // ABI version (or -1 with errno); with a null attribute pointer and a
    // size of 0 the kernel reads and writes no memory of ours.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if version >= 1 {
        return Ok(i32::try_from(version).unwrap_or(i32::MAX));
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EOPNOTSUPP) => Err(Missing::NotEnabled),
        _ => Err(Missing::NotBuilt),
    }
}
