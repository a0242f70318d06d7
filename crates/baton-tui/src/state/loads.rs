//! Events that come while a tree is loading. The event stream is followed
//! before the tree is asked for, so nothing after the load is missed; but
//! an event can arrive before the tree it comes after, and applied then it
//! would be overwritten by the older picture. So events are held while a
//! load is out, and applied on top of the tree when it comes: the ones it
//! already shows (up to its `as_of`) are dropped, the others applied once.

use baton_protocol::Event;

/// Tree loads that have not come back, and the events held meanwhile.
#[derive(Debug, Clone, Default)]
pub struct TreeLoads {
    /// Loads asked for and not answered.
    pending: usize,
    /// Events that came since the first of them was asked for.
    held: Vec<Event>,
}

impl TreeLoads {
    /// A load was asked for.
    pub fn start(&mut self) {
        self.pending += 1;
    }

    /// Keeps `event` for the tree to come, if one is loading; says whether
    /// it did (else the event is applied now).
    pub fn hold(&mut self, event: &Event) -> bool {
        if self.pending == 0 {
            return false;
        }
        self.held.push(event.clone());
        true
    }

    /// A tree read after event `as_of` came (`None`: a tree that was not
    /// loaded, such as a session just created, which follows no load):
    /// the held events to apply on top of it. While another load is out
    /// they stay held too, for the tree it brings.
    pub fn arrived(&mut self, as_of: Option<u64>) -> Vec<Event> {
        let Some(as_of) = as_of else {
            return Vec::new();
        };
        self.pending = self.pending.saturating_sub(1);
        let after: Vec<Event> = self
            .held
            .iter()
            .filter(|e| e.seq > as_of)
            .cloned()
            .collect();
        if self.pending == 0 {
            self.held.clear();
        } else {
            self.held = after.clone();
        }
        after
    }

    /// A load failed: with no newer tree to come, every held event is
    /// applied to what is shown.
    pub fn failed(&mut self) -> Vec<Event> {
        self.pending = self.pending.saturating_sub(1);
        if self.pending == 0 {
            std::mem::take(&mut self.held)
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::{EventKind, SessionId, SessionStatus};

    fn event(seq: u64) -> Event {
        Event {
            seq,
            ts: chrono::Utc::now(),
            session_id: SessionId::from("ses_a"),
            kind: EventKind::SessionStatus {
                status: SessionStatus::Idle,
            },
        }
    }

    fn seqs(events: &[Event]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn nothing_is_held_without_a_load() {
        let mut loads = TreeLoads::default();
        assert!(!loads.hold(&event(1)));
        assert!(loads.arrived(None).is_empty());
    }

    #[test]
    fn events_after_the_trees_mark_are_applied_and_the_others_dropped() {
        let mut loads = TreeLoads::default();
        loads.start();
        for seq in 4..=7 {
            assert!(loads.hold(&event(seq)));
        }
        assert_eq!(seqs(&loads.arrived(Some(5))), [6, 7]);
        // Done: later events apply at once.
        assert!(!loads.hold(&event(8)));
    }

    #[test]
    fn a_second_load_gets_what_came_after_its_own_mark() {
        let mut loads = TreeLoads::default();
        loads.start();
        loads.hold(&event(1));
        loads.start();
        loads.hold(&event(2));
        loads.hold(&event(3));
        assert_eq!(seqs(&loads.arrived(Some(1))), [2, 3]);
        // Still held for the second tree, which was read later.
        assert!(loads.hold(&event(4)));
        assert_eq!(seqs(&loads.arrived(Some(3))), [4]);
        assert!(!loads.hold(&event(5)));
    }

    #[test]
    fn a_failed_load_lets_every_held_event_through() {
        let mut loads = TreeLoads::default();
        loads.start();
        loads.hold(&event(1));
        loads.hold(&event(2));
        assert_eq!(seqs(&loads.failed()), [1, 2]);
        assert!(!loads.hold(&event(3)));
    }
}
