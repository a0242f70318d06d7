//! The event bus: one ordered stream of everything that happens, with the
//! most recent events kept so a client that reconnects gets what it
//! missed.

use baton_protocol::{Event, EventKind, SessionId};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Hands out strictly increasing sequence numbers, broadcasts events in
/// that order and keeps the last ones for replay. Slow subscribers lag
/// (and are told so by `broadcast`); they never slow the engine down.
pub struct EventBus {
    state: Mutex<BusState>,
    tx: broadcast::Sender<Event>,
}

struct BusState {
    /// The last `seq` handed out.
    seq: u64,
    /// The most recent events, oldest first.
    recent: VecDeque<Event>,
    /// How many events `recent` keeps.
    keep: usize,
}

/// A subscription that starts right after a given event.
pub struct Replay {
    /// Events after the one asked for that were already sent, in order.
    pub missed: Vec<Event>,
    /// Every event after those.
    pub live: broadcast::Receiver<Event>,
    /// Set when some of the events asked for are no longer kept: the
    /// oldest `seq` that still is (the client must resync its state).
    pub gap: Option<u64>,
}

impl EventBus {
    /// A bus whose subscribers may fall `capacity` events behind, and that
    /// keeps the last `keep` events for replay.
    pub fn new(capacity: usize, keep: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self {
            state: Mutex::new(BusState {
                seq: 0,
                recent: VecDeque::with_capacity(keep.min(4096)),
                keep,
            }),
            tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BusState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stamps and broadcasts an event; returns it.
    pub fn emit(&self, session_id: &SessionId, kind: EventKind) -> Event {
        // Numbering, keeping and sending under one lock keeps the
        // broadcast order equal to the `seq` order, and a replay exact.
        let mut state = self.lock();
        state.seq += 1;
        let event = Event {
            seq: state.seq,
            ts: baton_protocol::now(),
            session_id: session_id.clone(),
            kind,
        };
        if state.keep > 0 {
            if state.recent.len() == state.keep {
                state.recent.pop_front();
            }
            state.recent.push_back(event.clone());
        }
        // No subscribers is fine.
        let _ = self.tx.send(event.clone());
        event
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// The kept events after `after` (a `seq`), then every later one: no
    /// event is missed or repeated between the two.
    pub fn subscribe_after(&self, after: u64) -> Replay {
        let state = self.lock();
        let live = self.tx.subscribe();
        let missed: Vec<Event> = state
            .recent
            .iter()
            .filter(|e| e.seq > after)
            .cloned()
            .collect();
        let oldest_kept = state.recent.front().map_or(state.seq + 1, |e| e.seq);
        // Events after `after` and before the oldest kept were dropped.
        let gap = (after < state.seq && after + 1 < oldest_kept).then_some(oldest_kept);
        Replay { missed, live, gap }
    }

    /// The `seq` of the last event emitted.
    pub fn last_seq(&self) -> u64 {
        self.lock().seq
    }
}

/// Keeps the events of one session and of every session under it,
/// learning of new sub-agent sessions from their `session.created`.
#[derive(Debug, Clone)]
pub struct TreeFilter {
    members: HashSet<SessionId>,
}

impl TreeFilter {
    /// A filter for `root` and the `descendants` it already has.
    pub fn new(root: SessionId, descendants: impl IntoIterator<Item = SessionId>) -> Self {
        let mut members: HashSet<SessionId> = descendants.into_iter().collect();
        members.insert(root);
        Self { members }
    }

    /// Whether the event belongs to the tree (a new child joins it).
    pub fn admits(&mut self, event: &Event) -> bool {
        if self.members.contains(&event.session_id) {
            return true;
        }
        if let EventKind::SessionCreated {
            parent_id: Some(parent),
            ..
        } = &event.kind
            && self.members.contains(parent)
        {
            self.members.insert(event.session_id.clone());
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(bus: &EventBus, s: &str) -> Event {
        bus.emit(&SessionId::from(s), EventKind::SessionIdle {})
    }

    #[tokio::test]
    async fn events_arrive_in_seq_order_across_threads() {
        let bus = std::sync::Arc::new(EventBus::new(10_000, 0));
        let mut rx = bus.subscribe();
        let mut handles = Vec::new();
        for t in 0..4 {
            let bus = bus.clone();
            handles.push(std::thread::spawn(move || {
                for _ in 0..500 {
                    idle(&bus, &format!("s{t}"));
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        let mut last = 0;
        for _ in 0..2000 {
            let ev = rx.recv().await.unwrap();
            assert_eq!(ev.seq, last + 1);
            last = ev.seq;
        }
    }

    #[tokio::test]
    async fn a_replay_joins_the_kept_events_to_the_live_ones_without_gaps_or_repeats() {
        // Everything stays kept (the writer may finish before the replay
        // is asked for): what is tested is the join, not the gap.
        let bus = std::sync::Arc::new(EventBus::new(10_000, 1_000));
        for _ in 0..10 {
            idle(&bus, "a");
        }
        let writer = {
            let bus = bus.clone();
            std::thread::spawn(move || {
                for _ in 0..500 {
                    idle(&bus, "a");
                }
            })
        };
        let mut replay = bus.subscribe_after(4);
        assert_eq!(replay.gap, None);
        writer.join().unwrap();
        let mut seen: Vec<u64> = replay.missed.iter().map(|e| e.seq).collect();
        while let Ok(ev) = replay.live.try_recv() {
            seen.push(ev.seq);
        }
        assert_eq!(seen, (5..=510).collect::<Vec<u64>>());
    }

    #[test]
    fn asking_for_events_no_longer_kept_reports_the_gap() {
        let bus = EventBus::new(100, 3);
        for _ in 0..10 {
            idle(&bus, "a");
        }
        let replay = bus.subscribe_after(2);
        assert_eq!(replay.gap, Some(8));
        assert_eq!(
            replay.missed.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [8, 9, 10]
        );
        // Right at the edge of what is kept: nothing is missing.
        assert_eq!(bus.subscribe_after(7).gap, None);
        // Up to date, or from the future: nothing to replay, no gap.
        assert_eq!(bus.subscribe_after(10).gap, None);
        assert!(bus.subscribe_after(10).missed.is_empty());
        assert_eq!(bus.subscribe_after(99).gap, None);
    }

    #[test]
    fn a_tree_filter_follows_new_children_and_skips_strangers() {
        let root = SessionId::from("root");
        let mut filter = TreeFilter::new(root.clone(), [SessionId::from("old")]);
        let created = |id: &str, parent: Option<&str>| Event {
            seq: 1,
            ts: baton_protocol::now(),
            session_id: SessionId::from(id),
            kind: EventKind::SessionCreated {
                parent_id: parent.map(SessionId::from),
                agent: "general".into(),
                model: "m/m".into(),
                cwd: "/".into(),
            },
        };
        let bus = EventBus::new(10, 0);
        assert!(filter.admits(&idle(&bus, "root")));
        assert!(filter.admits(&idle(&bus, "old")));
        assert!(!filter.admits(&idle(&bus, "other")));
        assert!(filter.admits(&created("kid", Some("old"))));
        assert!(filter.admits(&created("grandkid", Some("kid"))));
        assert!(filter.admits(&idle(&bus, "grandkid")));
        assert!(!filter.admits(&created("stranger", Some("other"))));
        assert!(!filter.admits(&created("top", None)));
    }
}
