//! The client for an engine in this process.

use crate::{Client, ClientError, EventStream, EventsFrom, SessionFilter, StreamItem};
use async_trait::async_trait;
use baton_core::{Engine, EngineError, NewSession, Replay, TreeFilter};
use baton_protocol::api::{
    Accepted, CreateSession, MessageAccepted, Resync, SessionView, ShellView, TaskView,
};
use baton_protocol::{
    Event, Message, PermissionDecision, PermissionId, PermissionRequest, SessionId, TaskId,
};
use baton_store::SessionQuery;
use std::path::PathBuf;
use tokio::sync::broadcast::error::RecvError;

/// Drives an [`Engine`] in this process.
#[derive(Clone)]
pub struct LocalClient {
    engine: Engine,
    default_cwd: PathBuf,
}

impl LocalClient {
    /// A client of `engine`; new sessions without a working directory get
    /// `default_cwd`.
    pub fn new(engine: Engine, default_cwd: PathBuf) -> Self {
        Self {
            engine,
            default_cwd,
        }
    }

    /// The engine this client drives.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

#[async_trait]
impl Client for LocalClient {
    async fn create_session(&self, req: CreateSession) -> Result<SessionView, ClientError> {
        let record = self
            .engine
            .create_session(NewSession {
                cwd: req
                    .cwd
                    .map(PathBuf::from)
                    .unwrap_or_else(|| self.default_cwd.clone()),
                agent: req.agent,
                model: req.model,
                title: req.title,
            })
            .await?;
        Ok(self.engine.session(&record.id).await?)
    }

    async fn sessions(&self, filter: SessionFilter) -> Result<Vec<SessionView>, ClientError> {
        Ok(self
            .engine
            .sessions(SessionQuery {
                cwd: filter.cwd,
                roots_only: filter.roots_only,
                parent: filter.parent,
                limit: filter.limit,
            })
            .await?)
    }

    async fn session(&self, id: &SessionId) -> Result<SessionView, ClientError> {
        Ok(self.engine.session(id).await?)
    }

    async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, ClientError> {
        Ok(self.engine.messages(id).await?)
    }

    async fn send_message(
        &self,
        id: &SessionId,
        text: &str,
    ) -> Result<MessageAccepted, ClientError> {
        if text.trim().is_empty() {
            return Err(ClientError::Invalid("the message is empty".into()));
        }
        self.engine.open_session(id).await?;
        Ok(self.engine.send_message(id, text)?)
    }

    async fn cancel(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        self.engine.session(id).await?;
        match self.engine.cancel(id) {
            Ok(()) => Ok(accepted(format!(
                "Cancelling session {id}, its tasks and its shells."
            ))),
            // Stored but not live: nothing of it runs.
            Err(EngineError::UnknownSession(_)) => Ok(accepted(format!(
                "Session {id} is not running; nothing to cancel."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn tasks(&self, session: &SessionId) -> Result<Vec<TaskView>, ClientError> {
        Ok(self.engine.tasks_of(session).await?)
    }

    async fn task(&self, id: &TaskId) -> Result<TaskView, ClientError> {
        Ok(self.engine.task(id).await?)
    }

    async fn send_to_task(&self, id: &TaskId, text: &str) -> Result<Accepted, ClientError> {
        if text.trim().is_empty() {
            return Err(ClientError::Invalid("the message is empty".into()));
        }
        Ok(accepted(self.engine.send_to_task(id, text).await?))
    }

    async fn cancel_task(&self, id: &TaskId) -> Result<Accepted, ClientError> {
        Ok(accepted(self.engine.cancel_task(id).await?))
    }

    async fn background_call(&self, call_id: &str) -> Result<Accepted, ClientError> {
        self.engine.background_call(call_id)?;
        Ok(accepted(format!("Call {call_id} moves to the background.")))
    }

    async fn shells(&self, session: Option<&SessionId>) -> Result<Vec<ShellView>, ClientError> {
        Ok(self.engine.shells(session))
    }

    async fn shell(&self, id: &str) -> Result<ShellView, ClientError> {
        Ok(self.engine.shell(id)?)
    }

    async fn kill_shell(&self, id: &str) -> Result<ShellView, ClientError> {
        Ok(self.engine.kill_shell(id).await?)
    }

    async fn permissions(&self) -> Result<Vec<PermissionRequest>, ClientError> {
        Ok(self.engine.pending_permissions())
    }

    async fn answer_permission(
        &self,
        id: &PermissionId,
        decision: PermissionDecision,
    ) -> Result<Accepted, ClientError> {
        self.engine.answer_permission(id, decision)?;
        Ok(accepted(format!("Permission request {id}: {decision}.")))
    }

    async fn events(&self, from: EventsFrom) -> Result<EventStream, ClientError> {
        let filter = match &from.session {
            Some(root) => Some(self.engine.tree_filter(root).await?),
            None => None,
        };
        let after = from.after.unwrap_or_else(|| self.engine.last_seq());
        let replay = self.engine.events_after(after);
        let tree = from.session.map(|root| (self.engine.clone(), root));
        Ok(Box::pin(replay_stream(replay, after, filter, tree)))
    }

    async fn close(&self) {
        self.engine.shutdown().await;
    }
}

fn accepted(message: impl Into<String>) -> Accepted {
    Accepted {
        message: message.into(),
    }
}

/// What the stream still has to hand out.
struct Pump {
    backlog: std::vec::IntoIter<Event>,
    replay: Replay,
    filter: Option<TreeFilter>,
    /// Where the filter can be built again after a lag (which may have
    /// skipped the birth of a sub-agent session).
    tree: Option<(Engine, SessionId)>,
    /// The last `seq` handed out (or skipped by the filter).
    last: u64,
    /// A resync to hand out before anything else.
    resync: Option<Resync>,
}

impl Pump {
    fn keeps(&mut self, event: &Event) -> bool {
        self.last = event.seq;
        self.filter.as_mut().is_none_or(|f| f.admits(event))
    }
}

/// The replayed events, then the live ones, kept by the filter; a lag
/// becomes a [`StreamItem::Resync`].
fn replay_stream(
    mut replay: Replay,
    after: u64,
    filter: Option<TreeFilter>,
    tree: Option<(Engine, SessionId)>,
) -> impl futures::Stream<Item = Result<StreamItem, ClientError>> + Send {
    let backlog = std::mem::take(&mut replay.missed).into_iter();
    let resync = replay.gap.map(|oldest| Resync::new(after, oldest));
    let pump = Pump {
        backlog,
        replay,
        filter,
        tree,
        last: after,
        resync,
    };
    futures::stream::unfold(pump, |mut pump| async move {
        if let Some(resync) = pump.resync.take() {
            return Some((Ok(StreamItem::Resync(resync)), pump));
        }
        while let Some(event) = pump.backlog.next() {
            if pump.keeps(&event) {
                return Some((Ok(StreamItem::Event(event)), pump));
            }
        }
        loop {
            match pump.replay.live.recv().await {
                Ok(event) => {
                    if pump.keeps(&event) {
                        return Some((Ok(StreamItem::Event(event)), pump));
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    let resync = Resync::new(pump.last, pump.last + n + 1);
                    pump.last += n;
                    if let Some((engine, root)) = &pump.tree
                        && let Ok(filter) = engine.tree_filter(root).await
                    {
                        pump.filter = Some(filter);
                    }
                    return Some((Ok(StreamItem::Resync(resync)), pump));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
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

    async fn take(
        stream: impl futures::Stream<Item = Result<StreamItem, ClientError>>,
        n: usize,
    ) -> Vec<StreamItem> {
        stream
            .take(n)
            .map(|item| item.unwrap())
            .collect::<Vec<_>>()
            .await
    }

    #[tokio::test]
    async fn a_gap_is_announced_first_then_backlog_then_live_events_in_order() {
        let (tx, live) = broadcast::channel(16);
        let replay = Replay {
            missed: vec![event(8, "a"), event(9, "b"), event(10, "a")],
            live,
            gap: Some(8),
        };
        tx.send(event(11, "a")).unwrap();
        let filter = TreeFilter::new(SessionId::from("a"), []);
        let items = take(replay_stream(replay, 3, Some(filter), None), 4).await;
        assert_eq!(items[0], StreamItem::Resync(Resync::new(3, 8)));
        let seqs: Vec<u64> = items[1..]
            .iter()
            .map(|i| match i {
                StreamItem::Event(e) => e.seq,
                StreamItem::Resync(r) => panic!("unexpected {r:?}"),
            })
            .collect();
        assert_eq!(seqs, [8, 10, 11]);
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_gets_a_resync_naming_what_it_lost() {
        let (tx, live) = broadcast::channel(2);
        let replay = Replay {
            missed: Vec::new(),
            live,
            gap: None,
        };
        for seq in 1..=5 {
            tx.send(event(seq, "a")).unwrap();
        }
        let items = take(replay_stream(replay, 0, None, None), 3).await;
        // Capacity 2: events 1 to 3 were overwritten before the first read.
        assert_eq!(items[0], StreamItem::Resync(Resync::new(0, 4)));
        assert!(matches!(&items[1], StreamItem::Event(e) if e.seq == 4));
        assert!(matches!(&items[2], StreamItem::Event(e) if e.seq == 5));
    }
}
