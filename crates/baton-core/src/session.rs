//! A session is an actor: its own tokio task with a mailbox. Nothing one
//! session does blocks another.

use crate::agent::AgentDef;
use crate::engine::Shared;
use crate::error::EngineError;
use baton_llm::{ModelInfo, ModelRef, Provider};
use baton_protocol::{EventKind, Message, Part, Role, SessionId, SessionStatus};
use baton_store::SessionRecord;
use baton_tools::Todo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A message from the person, numbered in the order it was sent.
pub(crate) struct Inbound {
    pub(crate) number: u64,
    pub(crate) text: String,
}

/// What the engine keeps of a live session.
pub(crate) struct SessionHandle {
    id: SessionId,
    tx: mpsc::UnboundedSender<Inbound>,
    control: Arc<Control>,
    pending: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

/// State shared between a session's handle and its actor.
pub(crate) struct Control {
    /// Messages sent so far (numbers are 1-based).
    sent: AtomicU64,
    /// Messages numbered up to this were cancelled before they ran.
    cancelled_upto: AtomicU64,
    /// The current turn's cancellation.
    turn_cancel: Mutex<CancellationToken>,
    /// Messages sent but not yet fully handled.
    pending: watch::Sender<u64>,
}

impl Control {
    pub(crate) fn is_cancelled(&self, number: u64) -> bool {
        number <= self.cancelled_upto.load(Ordering::SeqCst)
    }

    /// A fresh token for a turn answering messages up to `number`; already
    /// cancelled if a cancel covering them raced in.
    pub(crate) fn new_turn_token(&self, number: u64) -> CancellationToken {
        let token = CancellationToken::new();
        *self.turn_cancel.lock().unwrap_or_else(|p| p.into_inner()) = token.clone();
        if self.is_cancelled(number) {
            token.cancel();
        }
        token
    }

    pub(crate) fn done(&self, handled: u64) {
        self.pending.send_modify(|n| *n = n.saturating_sub(handled));
    }
}

impl SessionHandle {
    pub(crate) fn send(&self, text: String) -> Result<(), EngineError> {
        let number = self.control.sent.fetch_add(1, Ordering::SeqCst) + 1;
        self.control.pending.send_modify(|n| *n += 1);
        self.tx.send(Inbound { number, text }).map_err(|_| {
            self.control.done(1);
            EngineError::ShuttingDown
        })
    }

    pub(crate) fn cancel(&self) {
        let sent = self.control.sent.load(Ordering::SeqCst);
        self.control
            .cancelled_upto
            .fetch_max(sent, Ordering::SeqCst);
        self.control
            .turn_cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cancel();
    }

    pub(crate) fn quiet(&self) -> watch::Receiver<u64> {
        self.pending.clone()
    }

    /// Closes the mailbox and waits for the actor to finish.
    pub(crate) async fn stop(self) {
        drop(self.tx);
        if let Err(e) = self.task.await {
            tracing::warn!(session = %self.id, "session actor ended badly: {e}");
        }
    }
}

/// Everything a new actor needs.
pub(crate) struct SessionSetup {
    pub(crate) shared: Arc<Shared>,
    pub(crate) record: SessionRecord,
    pub(crate) agent: AgentDef,
    pub(crate) model: ModelRef,
    pub(crate) history: Vec<Message>,
}

/// The actor's own state.
pub(crate) struct SessionActor {
    pub(crate) shared: Arc<Shared>,
    pub(crate) record: SessionRecord,
    pub(crate) agent: AgentDef,
    pub(crate) model: ModelRef,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) model_info: Option<ModelInfo>,
    pub(crate) history: Vec<Message>,
    pub(crate) inbox: mpsc::UnboundedReceiver<Inbound>,
    pub(crate) control: Arc<Control>,
    pub(crate) todos: Arc<Mutex<Vec<Todo>>>,
}

/// Starts the actor of a stored session.
pub(crate) async fn spawn_session(setup: SessionSetup) -> Result<SessionHandle, EngineError> {
    let provider = setup
        .shared
        .providers
        .get(&setup.model.provider)
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "provider `{}` is not configured",
                setup.model.provider
            ))
        })?;
    let model_info = setup.shared.catalog.lookup(&setup.model).cloned();
    let id = setup.record.id.clone();
    let owner = id.clone();
    setup
        .shared
        .db(move |s| s.set_owner(&owner, Some(std::process::id())))
        .await?;
    let (tx, inbox) = mpsc::unbounded_channel();
    let (pending_tx, pending_rx) = watch::channel(0u64);
    let control = Arc::new(Control {
        sent: AtomicU64::new(0),
        cancelled_upto: AtomicU64::new(0),
        turn_cancel: Mutex::new(CancellationToken::new()),
        pending: pending_tx,
    });
    let actor = SessionActor {
        shared: setup.shared,
        record: setup.record,
        agent: setup.agent,
        model: setup.model,
        provider,
        model_info,
        history: setup.history,
        inbox,
        control: control.clone(),
        todos: Arc::new(Mutex::new(Vec::new())),
    };
    let task = tokio::spawn(actor.run());
    Ok(SessionHandle {
        id,
        tx,
        control,
        pending: pending_rx,
        task,
    })
}

impl SessionActor {
    async fn run(mut self) {
        while let Some(first) = self.inbox.recv().await {
            let mut batch = vec![first];
            while let Ok(more) = self.inbox.try_recv() {
                batch.push(more);
            }
            let mut handled = batch.len() as u64;
            let (cancelled, live): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .partition(|m| self.control.is_cancelled(m.number));
            for m in cancelled {
                // Kept, so nothing the person typed is lost, but not run.
                if let Err(e) = self.store_user_message(m.text).await {
                    self.report_error(&format!("could not store a message: {e}"));
                }
            }
            if !live.is_empty() {
                handled += self.run_turn(live).await;
            }
            // Announced before the count drops, so whoever waits for quiet
            // finds this event already sent.
            self.shared.emit(&self.record.id, EventKind::SessionIdle {});
            self.control.done(handled);
        }
        let id = self.record.id.clone();
        if let Err(e) = self.shared.db(move |s| s.set_owner(&id, None)).await {
            tracing::warn!("could not release session ownership: {e}");
        }
    }

    /// Stores a message from the person and adds it to the conversation.
    pub(crate) async fn store_user_message(&mut self, text: String) -> Result<(), EngineError> {
        if self.record.title.is_empty() {
            let title = crate::title::title_from(&text);
            let id = self.record.id.clone();
            let t = title.clone();
            self.shared.db(move |s| s.set_title(&id, &t)).await?;
            self.record.title = title;
        }
        let message = Message::new(
            self.record.id.clone(),
            Role::User,
            vec![Part::Text { text: text.clone() }],
        );
        self.store_message(message).await
    }

    /// Stores a message, then announces it and adds it to the history.
    pub(crate) async fn store_message(&mut self, message: Message) -> Result<(), EngineError> {
        let stored = message.clone();
        self.shared.db(move |s| s.append_message(&stored)).await?;
        self.shared.emit(
            &self.record.id,
            EventKind::MessageCompleted {
                message_id: message.id.clone(),
                role: message.role,
                text: message.text(),
            },
        );
        self.history.push(message);
        Ok(())
    }

    /// Stores and announces a status change.
    pub(crate) async fn set_status(&mut self, status: SessionStatus) {
        if self.record.status == status {
            return;
        }
        let id = self.record.id.clone();
        match self.shared.db(move |s| s.set_status(&id, status)).await {
            Ok(()) => {
                self.record.status = status;
                self.shared
                    .emit(&self.record.id, EventKind::SessionStatus { status });
            }
            Err(e) => self.report_error(&format!("could not store session status: {e}")),
        }
    }

    pub(crate) fn report_error(&self, message: &str) {
        tracing::error!(session = %self.record.id, "{message}");
        self.shared.emit(
            &self.record.id,
            EventKind::Error {
                message: message.to_owned(),
            },
        );
    }
}
