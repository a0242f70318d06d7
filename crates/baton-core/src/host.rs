//! The narrow handle through which tasks, their tools and shells reach
//! sessions: open one, send it a message, deliver it a notice, count work
//! on its behalf, cancel its tree. Held weakly: it never keeps the engine
//! alive, and it offers nothing else of it.

use crate::error::EngineError;
use crate::registry::Registry;
use crate::session::{SessionHandle, WorkGuard};
use baton_protocol::SessionId;
use baton_store::NoticeRecord;
use std::sync::{Arc, Weak};
use tokio::sync::watch;

/// Sessions, as tasks and shells see them.
#[derive(Clone)]
pub(crate) struct Host {
    registry: Weak<Registry>,
}

impl Host {
    pub(crate) fn new(registry: Weak<Registry>) -> Self {
        Self { registry }
    }

    fn get(&self) -> Result<Arc<Registry>, EngineError> {
        self.registry.upgrade().ok_or(EngineError::ShuttingDown)
    }

    /// A live session's handle.
    pub(crate) fn live(&self, id: &SessionId) -> Result<SessionHandle, EngineError> {
        self.get()?
            .handle(id)
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))
    }

    /// Makes a stored session live (if it is not) and returns its handle.
    pub(crate) async fn open(&self, id: &SessionId) -> Result<SessionHandle, EngineError> {
        Ok(self.get()?.open(id).await?.1)
    }

    /// Stores a message for a session and puts it in its mailbox (opening
    /// the session if needed); returns the `seq` of `message.queued` and a
    /// follower of the session's work, taken while the message counted.
    pub(crate) async fn send(
        &self,
        id: &SessionId,
        text: String,
    ) -> Result<(u64, watch::Receiver<u64>), EngineError> {
        self.get()?.send(id, text).await
    }

    /// Hands a stored notice to a session: to its mailbox when it is live,
    /// else by opening it (which delivers what is pending in the store).
    pub(crate) async fn deliver(&self, id: &SessionId, notice: NoticeRecord) {
        let Ok(registry) = self.get() else { return };
        if registry.deliver(id, notice) {
            return;
        }
        if let Err(e) = registry.open(id).await {
            // Stored and undelivered: it goes out when the session opens.
            tracing::warn!(session = %id, "cannot open the session to deliver a notice: {e}");
        }
    }

    /// Begins a unit of work on a live session's behalf.
    pub(crate) fn work(&self, id: &SessionId) -> Option<WorkGuard> {
        self.get().ok()?.work(id)
    }

    /// What a live session is doing now.
    pub(crate) fn doing(&self, id: &SessionId) -> Option<String> {
        Some(self.get().ok()?.handle(id)?.doing())
    }

    /// Cancels a session's turn, its tasks (queued ones included,
    /// recursively) and its shells.
    pub(crate) fn cancel_tree(&self, id: &SessionId) {
        if let Ok(registry) = self.get() {
            registry.cancel_tree(id);
        }
    }
}
