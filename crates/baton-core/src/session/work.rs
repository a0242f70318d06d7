//! A session's count of unfinished work, kept by guards.
//!
//! Every unit of work done on a session's behalf (a message or notice in
//! its mailbox, a turn, a running task, a background shell) holds a
//! [`WorkGuard`]. The session is quiet when no guard is left. A guard ends
//! its unit when it is dropped, whatever path the code takes (an early
//! return, an error, a panic), so begin and end can never be mismatched.

use crate::services::Services;
use baton_protocol::{EventKind, SessionId};
use std::sync::{Arc, Weak};
use tokio::sync::watch;

/// The count behind a session's guards.
pub(crate) struct Activity {
    count: watch::Sender<u64>,
    session: SessionId,
    /// For the `session.quiet` event; weak, so guards never keep the
    /// engine alive.
    services: Weak<Services>,
}

/// One unit of a session's work; ends it when dropped.
#[must_use = "the unit of work ends when the guard is dropped"]
pub(crate) struct WorkGuard {
    activity: Arc<Activity>,
}

impl std::fmt::Debug for WorkGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WorkGuard({})", self.activity.session)
    }
}

impl Activity {
    pub(crate) fn new(session: SessionId, services: Weak<Services>) -> Arc<Self> {
        Arc::new(Self {
            count: watch::channel(0).0,
            session,
            services,
        })
    }

    /// Begins a unit of work.
    pub(crate) fn begin(self: &Arc<Self>) -> WorkGuard {
        self.count.send_modify(|n| *n += 1);
        WorkGuard {
            activity: self.clone(),
        }
    }

    /// Units not yet ended.
    pub(crate) fn pending(&self) -> u64 {
        *self.count.borrow()
    }

    /// Follows the count (the session is quiet at zero).
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.count.subscribe()
    }

    /// Ends a unit. When none is left, `session.quiet` is emitted before
    /// anyone waiting for quiet wakes, so whoever sees the quiet finds
    /// the event already sent.
    fn end(&self) {
        self.count.send_modify(|n| {
            let had = *n;
            *n = n.saturating_sub(1);
            if had == 1
                && let Some(services) = self.services.upgrade()
            {
                services.emit(&self.session, EventKind::SessionQuiet {});
            }
        });
    }
}

impl Drop for WorkGuard {
    fn drop(&mut self) {
        self.activity.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_end_their_unit_on_every_path() {
        let activity = Activity::new(SessionId::from("ses_a"), Weak::new());
        let quiet = activity.watch();
        let failing = |activity: &Arc<Activity>| -> Result<(), &'static str> {
            let _unit = activity.begin();
            Err("half-way")?;
            Ok(())
        };
        assert!(failing(&activity).is_err());
        assert_eq!(*quiet.borrow(), 0);
        let a = activity.begin();
        let b = activity.begin();
        assert_eq!(activity.pending(), 2);
        drop(a);
        assert_eq!(activity.pending(), 1);
        drop(b);
        assert_eq!(*quiet.borrow(), 0);
    }
}
