//! A session is an actor: its own tokio task with a mailbox. Nothing one
//! session does blocks another.

use crate::agents::AgentDef;
use crate::engine::Shared;
use crate::error::EngineError;
use crate::lineage::Lineage;
use crate::permissions::Policy;
use baton_llm::{ModelInfo, ModelRef, Provider};
use baton_protocol::{EventKind, Message, Part, Role, SessionId, SessionStatus};
use baton_store::{NoticeRecord, SessionRecord};
use baton_tools::{Todo, ToolRegistry};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What arrives in a session's mailbox.
pub(crate) enum Inbound {
    /// A message from the person (or a parent steering a task), numbered
    /// in the order it was sent.
    Message { number: u64, text: String },
    /// A stored notice (a task or shell ended) to hand to the model.
    Notice(NoticeRecord),
}

/// What the engine keeps of a live session.
pub(crate) struct SessionHandle {
    id: SessionId,
    /// Its ancestors and the rules they pass down.
    pub(crate) lineage: Arc<Lineage>,
    tx: mpsc::UnboundedSender<Inbound>,
    control: Arc<Control>,
    activity: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

/// State shared between a session's handle and its actor.
pub(crate) struct Control {
    /// Messages sent so far (numbers are 1-based).
    sent: AtomicU64,
    /// Messages numbered up to this were cancelled before they ran.
    cancelled_upto: AtomicU64,
    /// Set by a cancel, cleared by the next message: notices are then
    /// delivered without starting a turn.
    hold: AtomicBool,
    /// The current turn's cancellation.
    turn_cancel: Mutex<CancellationToken>,
    /// Work not yet finished: mailbox items, running tasks and background
    /// shells. The session is quiet when it is zero.
    activity: watch::Sender<u64>,
    /// What the session is doing now, for task_status.
    doing: Mutex<String>,
    /// Calls waiting for a permission answer right now.
    asking: AtomicUsize,
    /// The session's model or title changed in the store since the actor
    /// last read them (set at start: it may have changed while the actor
    /// was being started).
    settings_changed: AtomicBool,
    /// The session, for the events its work counter raises.
    session: SessionId,
    /// The engine, weakly: the counter must not keep it alive.
    shared: Weak<Shared>,
}

impl Control {
    pub(crate) fn is_cancelled(&self, number: u64) -> bool {
        number <= self.cancelled_upto.load(Ordering::SeqCst)
    }

    pub(crate) fn held(&self) -> bool {
        self.hold.load(Ordering::SeqCst)
    }

    /// A fresh token for a turn answering messages up to `number`; already
    /// cancelled if a cancel covering them raced in.
    pub(crate) fn new_turn_token(&self, number: u64) -> CancellationToken {
        let token = CancellationToken::new();
        *self.turn_cancel.lock().unwrap_or_else(|p| p.into_inner()) = token.clone();
        if number > 0 && self.is_cancelled(number) {
            token.cancel();
        }
        token
    }

    pub(crate) fn begin(&self, units: u64) {
        self.activity.send_modify(|n| *n += units);
    }

    /// Ends `units` of work. When none is left, `session.quiet` is
    /// emitted before anyone waiting for quiet wakes, so whoever sees the
    /// quiet finds the event already sent.
    pub(crate) fn end(&self, units: u64) {
        self.activity.send_modify(|n| {
            let had = *n;
            *n = n.saturating_sub(units);
            if had > 0
                && *n == 0
                && let Some(shared) = self.shared.upgrade()
            {
                shared.emit(&self.session, EventKind::SessionQuiet {});
            }
        });
    }

    /// One more call waits for permission; returns how many do.
    pub(crate) fn asking_begin(&self) -> usize {
        self.asking.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// One call got its answer; returns how many still wait.
    pub(crate) fn asking_end(&self) -> usize {
        self.asking.fetch_sub(1, Ordering::SeqCst).saturating_sub(1)
    }

    /// Whether the settings changed since the last call; clears the mark.
    pub(crate) fn take_settings_changed(&self) -> bool {
        self.settings_changed.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn mark_settings_changed(&self) {
        self.settings_changed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn set_doing(&self, what: impl Into<String>) {
        *self.doing.lock().unwrap_or_else(|p| p.into_inner()) = what.into();
    }
}

impl SessionHandle {
    /// Queues a message from the person; returns the `seq` of its
    /// `message.queued` event.
    pub(crate) fn send(&self, text: String) -> Result<u64, EngineError> {
        let shared = self
            .control
            .shared
            .upgrade()
            .ok_or(EngineError::ShuttingDown)?;
        self.control.hold.store(false, Ordering::SeqCst);
        let number = self.control.sent.fetch_add(1, Ordering::SeqCst) + 1;
        self.control.begin(1);
        // Announced while the message counts as work, so the
        // `session.quiet` that ends it can only come after.
        let queued = shared.emit(&self.id, EventKind::MessageQueued { text: text.clone() });
        self.tx
            .send(Inbound::Message { number, text })
            .map_err(|_| {
                self.control.end(1);
                EngineError::ShuttingDown
            })?;
        Ok(queued.seq)
    }

    /// Hands a stored notice to the actor (delivered at its next step
    /// boundary, or by waking it).
    pub(crate) fn deliver(&self, notice: NoticeRecord) {
        self.control.begin(1);
        if self.tx.send(Inbound::Notice(notice)).is_err() {
            // Stored and undelivered: it goes out when the session is
            // opened again.
            self.control.end(1);
        }
    }

    /// Tells the actor its model or title changed in the store; it takes
    /// them at its next step boundary.
    pub(crate) fn settings_changed(&self) {
        self.control.mark_settings_changed();
    }

    /// Stops the turn (and what was queued before now) without holding
    /// back the notices of work that goes on.
    pub(crate) fn interrupt(&self) {
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

    /// Interrupts and holds back the notices of the work being cancelled
    /// (hold first, so no notice starts a turn in between).
    pub(crate) fn cancel(&self) {
        self.control.hold.store(true, Ordering::SeqCst);
        self.interrupt();
    }

    /// Counts work done on the session's behalf (a running task or shell)
    /// until the matching [`SessionHandle::end_work`].
    pub(crate) fn begin_work(&self) {
        self.control.begin(1);
    }

    pub(crate) fn end_work(&self) {
        self.control.end(1);
    }

    /// Whether the session was cancelled and has had no message since.
    pub(crate) fn was_cancelled(&self) -> bool {
        self.control.held()
    }

    pub(crate) fn quiet(&self) -> watch::Receiver<u64> {
        self.activity.clone()
    }

    pub(crate) fn doing(&self) -> String {
        self.control
            .doing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
    pub(crate) lineage: Arc<Lineage>,
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
    pub(crate) tools: Arc<ToolRegistry>,
    /// The session's permission rules (its ancestors' included).
    pub(crate) policy: Policy,
    /// The top session of its tree ("allow always" holds tree-wide).
    pub(crate) root: SessionId,
    /// Its ancestors and their agents.
    pub(crate) lineage: Arc<Lineage>,
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
    let (activity_tx, activity_rx) = watch::channel(0u64);
    let control = Arc::new(Control {
        sent: AtomicU64::new(0),
        cancelled_upto: AtomicU64::new(0),
        hold: AtomicBool::new(false),
        turn_cancel: Mutex::new(CancellationToken::new()),
        activity: activity_tx,
        doing: Mutex::new("idle".into()),
        asking: AtomicUsize::new(0),
        settings_changed: AtomicBool::new(true),
        session: setup.record.id.clone(),
        shared: Arc::downgrade(&setup.shared),
    });
    let tools = Arc::new(crate::task_tools::registry_for(
        &setup.shared,
        &setup.lineage,
        &setup.agent,
    ));
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
        tools,
        policy: setup.lineage.policy.clone(),
        root: setup.lineage.root(&id),
        lineage: setup.lineage.clone(),
    };
    let task = tokio::spawn(actor.run());
    Ok(SessionHandle {
        id,
        lineage: setup.lineage,
        tx,
        control,
        activity: activity_rx,
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
            let mut live = Vec::new();
            let mut notices = Vec::new();
            for item in batch {
                match item {
                    Inbound::Message { number, text } if self.control.is_cancelled(number) => {
                        // Kept, so nothing the person typed is lost, but
                        // not answered.
                        if let Err(e) = self.store_user_message(text).await {
                            self.report_error(&format!("could not store a message: {e}"));
                        }
                    }
                    Inbound::Message { number, text } => live.push((number, text)),
                    Inbound::Notice(n) => notices.push(n),
                }
            }
            if !live.is_empty() || (!notices.is_empty() && !self.control.held()) {
                handled += self.run_turn(live, notices).await;
            } else if !notices.is_empty() {
                // Cancelled: the notices join the conversation for the next
                // turn, but wake nobody.
                if let Err(e) = self.deliver_notices(notices).await {
                    self.report_error(&format!("could not deliver notices: {e}"));
                }
            }
            // Announced before the count drops, so whoever waits for quiet
            // finds this event already sent.
            self.shared.emit(&self.record.id, EventKind::SessionIdle {});
            self.control.end(handled);
        }
        self.shared.files.forget_session(self.record.id.as_str());
        let id = self.record.id.clone();
        if let Err(e) = self.shared.db(move |s| s.set_owner(&id, None)).await {
            tracing::warn!("could not release session ownership: {e}");
        }
    }

    /// Stores a message from the person and adds it to the conversation.
    pub(crate) async fn store_user_message(&mut self, text: String) -> Result<(), EngineError> {
        if self.record.title.is_empty() {
            let title = crate::conversation::title_from(&text);
            let id = self.record.id.clone();
            let t = title.clone();
            // A title someone chose meanwhile stays; the actor reads it at
            // its next step boundary.
            if self
                .shared
                .db(move |s| s.set_title_if_empty(&id, &t))
                .await?
            {
                self.record.title = title;
            }
        }
        let message = Message::new(
            self.record.id.clone(),
            Role::User,
            vec![Part::Text { text: text.clone() }],
        );
        self.store_message(message).await
    }

    /// Delivers notices: one message carrying all that were not delivered
    /// yet, stored together with their delivery marks, then announced.
    pub(crate) async fn deliver_notices(
        &mut self,
        notices: Vec<NoticeRecord>,
    ) -> Result<(), EngineError> {
        if notices.is_empty() {
            return Ok(());
        }
        let id = self.record.id.clone();
        let sources: Vec<String> = notices.iter().map(|n| n.source_id.clone()).collect();
        let Some(message) = self
            .shared
            .db(move |s| s.deliver_notices(&id, &notices))
            .await?
        else {
            return Ok(());
        };
        for part in &message.parts {
            if let Part::Notice { source_id, .. } = part {
                self.shared.emit(
                    &self.record.id,
                    EventKind::NotificationDelivered {
                        source_id: source_id.clone(),
                    },
                );
            }
        }
        tracing::debug!(session = %self.record.id, ?sources, "notices delivered");
        self.announce(&message);
        self.history.push(message);
        Ok(())
    }

    /// Stores a message, then announces it and adds it to the history.
    pub(crate) async fn store_message(&mut self, message: Message) -> Result<(), EngineError> {
        let stored = message.clone();
        self.shared.db(move |s| s.append_message(&stored)).await?;
        self.announce(&message);
        self.history.push(message);
        Ok(())
    }

    fn announce(&self, message: &Message) {
        self.shared.emit(
            &self.record.id,
            EventKind::MessageCompleted {
                message_id: message.id.clone(),
                role: message.role,
                text: message.text(),
            },
        );
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
