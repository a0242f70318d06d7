//! The event bus: one ordered stream of everything that happens.

use baton_protocol::{Event, EventKind, SessionId};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Hands out strictly increasing sequence numbers and broadcasts events in
/// that order. Slow subscribers lag (and are told so by `broadcast`);
/// they never slow the engine down.
pub struct EventBus {
    state: Mutex<u64>,
    tx: broadcast::Sender<Event>,
}

impl EventBus {
    /// A bus whose subscribers may fall `capacity` events behind.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self {
            state: Mutex::new(0),
            tx,
        }
    }

    /// Stamps and broadcasts an event; returns it.
    pub fn emit(&self, session_id: &SessionId, kind: EventKind) -> Event {
        // Numbering and sending under one lock keeps the broadcast order
        // equal to the `seq` order.
        let mut seq = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *seq += 1;
        let event = Event {
            seq: *seq,
            ts: baton_protocol::now(),
            session_id: session_id.clone(),
            kind,
        };
        // No subscribers is fine.
        let _ = self.tx.send(event.clone());
        event
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_arrive_in_seq_order_across_threads() {
        let bus = std::sync::Arc::new(EventBus::new(10_000));
        let mut rx = bus.subscribe();
        let mut handles = Vec::new();
        for t in 0..4 {
            let bus = bus.clone();
            handles.push(std::thread::spawn(move || {
                for _ in 0..500 {
                    bus.emit(&SessionId::from(format!("s{t}")), EventKind::SessionIdle {});
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
}
