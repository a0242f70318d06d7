//! The event feed every front end reads (the HTTP API's `GET /v1/events`,
//! the in-process client): a replay of kept events joined to the live
//! ones, narrowed to one session tree if asked, with a [`Resync`]
//! wherever events were lost.

use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::{Replay, TreeFilter};
use baton_protocol::api::{Resync, StreamItem as Outgoing};
use baton_protocol::{Event, SessionId};
use futures::Stream;
use std::collections::VecDeque;
use tokio::sync::broadcast::error::RecvError;

impl Engine {
    /// The events after `after` (`None`: from the next one on), of every
    /// session or of one session and everything under it; see [`feed`].
    /// A `seq` this engine never reached comes from before a restart
    /// (numbering starts again with each process): a resync, then the
    /// live events.
    pub async fn feed(
        &self,
        after: Option<u64>,
        session: Option<&SessionId>,
    ) -> Result<impl Stream<Item = Outgoing> + Send + 'static + use<>, EngineError> {
        let newest = self.last_seq();
        let (after, unknown) = match after {
            Some(seq) if seq > newest => (newest, Some(seq)),
            Some(seq) => (seq, None),
            None => (newest, None),
        };
        // The filter comes from the store before the replay starts, so a
        // child created in between shows up in the replay itself.
        let scope = match session {
            Some(root) => Scope::Tree {
                filter: self.tree_filter(root).await?,
                refresh: Some((self.clone(), root.clone())),
            },
            None => Scope::All,
        };
        let replay = self.events_after(after);
        tracing::debug!(after, gap = ?replay.gap, "event feed opened");
        let restarted = unknown.map(|seq| Outgoing::Resync(Resync::new(seq, after + 1)));
        Ok(futures::StreamExt::chain(
            futures::stream::iter(restarted),
            feed(replay, after, scope),
        ))
    }
}

/// Which events a feed keeps.
enum Scope {
    /// Every event.
    All,
    /// The events of one session and its descendants. After a lag (when
    /// a `session.created` may have been lost) the filter is rebuilt from
    /// the store through `engine`, when one is given.
    Tree {
        /// The filter.
        filter: TreeFilter,
        /// The root, and the engine to rebuild the filter with.
        refresh: Option<(Engine, SessionId)>,
    },
}

impl Scope {
    fn admits(&mut self, event: &Event) -> bool {
        match self {
            Self::All => true,
            Self::Tree { filter, .. } => filter.admits(event),
        }
    }

    /// Rebuilds a tree filter from the store (it may have missed children).
    async fn refresh(&mut self) {
        if let Self::Tree {
            filter,
            refresh: Some((engine, root)),
        } = self
        {
            match engine.tree_filter(root).await {
                Ok(fresh) => *filter = fresh,
                Err(e) => tracing::warn!(error = %e, "could not rebuild the session filter"),
            }
        }
    }
}

struct Feed {
    /// Items to send before reading the live receiver.
    queue: VecDeque<Outgoing>,
    replay: Replay,
    /// The last `seq` taken from the bus (sent or filtered out).
    last: u64,
    scope: Scope,
}

/// The feed of events after `after`: first a [`Resync`] if some of them
/// are no longer kept, then the kept ones, then every live one. A reader
/// that falls too far behind gets a [`Resync`] and goes on from the
/// oldest event still buffered. Ends when the engine's bus closes.
fn feed(
    mut replay: Replay,
    after: u64,
    mut scope: Scope,
) -> impl Stream<Item = Outgoing> + Send + 'static {
    let mut queue = VecDeque::new();
    if let Some(oldest) = replay.gap {
        queue.push_back(Outgoing::Resync(Resync::new(after, oldest)));
    }
    let missed = std::mem::take(&mut replay.missed);
    let last = missed.last().map_or(after, |e| e.seq.max(after));
    queue.extend(
        missed
            .into_iter()
            .filter(|e| scope.admits(e))
            .map(Outgoing::Event),
    );
    let feed = Feed {
        queue,
        replay,
        last,
        scope,
    };
    futures::stream::unfold(feed, |mut feed| async move {
        let next = feed.next().await?;
        Some((next, feed))
    })
}

impl Feed {
    async fn next(&mut self) -> Option<Outgoing> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            match self.replay.live.recv().await {
                Ok(event) => {
                    if event.seq <= self.last {
                        // Already replayed.
                        continue;
                    }
                    self.last = event.seq;
                    if self.scope.admits(&event) {
                        return Some(Outgoing::Event(event));
                    }
                }
                Err(RecvError::Lagged(skipped)) => {
                    let after = self.last;
                    self.last += skipped;
                    tracing::debug!(after, skipped, "an event stream reader fell behind");
                    self.scope.refresh().await;
                    return Some(Outgoing::Resync(Resync::new(after, self.last + 1)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::EventKind;
    use futures::StreamExt;
    use tokio::sync::broadcast;

    fn event(seq: u64, session: &str) -> Event {
        Event {
            seq,
            ts: baton_protocol::now(),
            session_id: SessionId::from(session),
            kind: EventKind::SessionIdle {},
        }
    }

    fn created(seq: u64, session: &str, parent: &str) -> Event {
        Event {
            kind: EventKind::SessionCreated {
                parent_id: Some(SessionId::from(parent)),
                agent: "general".into(),
                model: "mock/m".into(),
                cwd: "/".into(),
            },
            ..event(seq, session)
        }
    }

    fn seqs(items: &[Outgoing]) -> Vec<String> {
        items
            .iter()
            .map(|o| match o {
                Outgoing::Event(e) => e.seq.to_string(),
                Outgoing::Resync(r) => format!("resync {}..{}", r.after, r.next),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_gap_is_announced_first_then_the_kept_and_the_live_events_follow() {
        let (tx, rx) = broadcast::channel(16);
        let replay = Replay {
            missed: vec![event(8, "a"), event(9, "a")],
            live: rx,
            gap: Some(8),
        };
        // The live receiver may hold an event the replay already had.
        tx.send(event(9, "a")).unwrap();
        tx.send(event(10, "a")).unwrap();
        drop(tx);
        let items: Vec<Outgoing> = feed(replay, 2, Scope::All).collect().await;
        assert_eq!(seqs(&items), ["resync 2..8", "8", "9", "10"]);
        let Outgoing::Resync(r) = &items[0] else {
            unreachable!()
        };
        assert_eq!(r.kind, "resync");
    }

    #[tokio::test]
    async fn a_reader_that_lags_is_told_what_it_lost_and_goes_on() {
        let (tx, rx) = broadcast::channel(2);
        let replay = Replay {
            missed: vec![event(5, "a")],
            live: rx,
            gap: None,
        };
        for seq in 6..=10 {
            tx.send(event(seq, "a")).unwrap();
        }
        drop(tx);
        let items: Vec<Outgoing> = feed(replay, 4, Scope::All).collect().await;
        // The channel kept 9 and 10; 6, 7 and 8 were lost.
        assert_eq!(seqs(&items), ["5", "resync 5..9", "9", "10"]);
    }

    #[tokio::test]
    async fn a_tree_scope_keeps_the_root_and_children_born_during_the_stream() {
        let (tx, rx) = broadcast::channel(16);
        let replay = Replay {
            missed: vec![event(1, "other"), event(2, "root")],
            live: rx,
            gap: None,
        };
        for e in [
            created(3, "kid", "root"),
            event(4, "other"),
            event(5, "kid"),
            created(6, "stranger", "other"),
            event(7, "root"),
        ] {
            tx.send(e).unwrap();
        }
        drop(tx);
        let scope = Scope::Tree {
            filter: TreeFilter::new(SessionId::from("root"), []),
            refresh: None,
        };
        let items: Vec<Outgoing> = feed(replay, 0, scope).collect().await;
        assert_eq!(seqs(&items), ["2", "3", "5", "7"]);
    }
}
