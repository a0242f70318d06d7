//! Signals to a whole process group: the command, its children and their
//! children, however deep, as long as they did not start a group of their own.

/// Which signal to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GroupSignal {
    /// SIGTERM: ask to stop.
    Terminate,
    /// SIGKILL: stop now.
    Kill,
}

/// Sends `signal` to every process in group `pgid`. Returns whether the
/// signal was delivered to at least one process. Ids 0 and 1 are refused:
/// they would mean our own group or (for -1) every process we may signal.
pub(super) fn signal_group(pgid: u32, signal: GroupSignal) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    let signal = match signal {
        GroupSignal::Terminate => libc::SIGTERM,
        GroupSignal::Kill => libc::SIGKILL,
    };
    killpg(pgid, signal)
}

#[allow(unsafe_code)]
fn killpg(pgid: libc::pid_t, signal: libc::c_int) -> bool {
    // SAFETY: killpg(2) takes two plain integers, reads and writes no memory
    // of ours and has no preconditions beyond valid values; `pgid` is > 1 (a
    // real group, never our own via 0) and `signal` is SIGTERM or SIGKILL.
    unsafe { libc::killpg(pgid, signal) == 0 }
}

/// Kills the group with SIGKILL when dropped, unless disarmed: if the task
/// watching the command is dropped mid-run (the runtime shuts down),
/// nothing it started is left behind.
pub(super) struct GroupGuard {
    pgid: Option<u32>,
}

impl GroupGuard {
    pub(super) fn new(pgid: Option<u32>) -> Self {
        GroupGuard { pgid }
    }

    /// The group has been dealt with; do nothing on drop.
    pub(super) fn disarm(mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            tracing::debug!(pgid, "killing an abandoned command's process group");
            signal_group(pgid, GroupSignal::Kill);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_our_own_group_and_init() {
        assert!(!signal_group(0, GroupSignal::Terminate));
        assert!(!signal_group(1, GroupSignal::Terminate));
        assert!(!signal_group(u32::MAX, GroupSignal::Kill));
    }
}
