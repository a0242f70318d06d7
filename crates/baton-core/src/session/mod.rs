//! A session is an actor: its own tokio task with a mailbox. Nothing one
//! session does blocks another.
//!
//! This module holds all of the actor: its handle ([`SessionHandle`],
//! what the rest of the engine may do to a live session), its mailbox and
//! run loop ([`actor`]), the agent loop ([`turn`]), permission gating
//! ([`gate`]), settings changes ([`settings`]), what its tools see
//! ([`tool_context`]), the sandbox of its commands ([`sandbox`]) and its
//! count of unfinished work ([`work`]).

mod actor;
mod compact;
mod context;
mod gate;
mod hooks;
mod live;
mod sandbox;
mod settings;
mod tool_context;
mod turn;
mod work;

pub(crate) use work::WorkGuard;

use crate::agents::AgentDef;
use crate::delegation::Delegation;
use crate::error::EngineError;
use crate::lineage::Lineage;
use crate::permissions::Policy;
use crate::services::Services;
use baton_llm::{ModelInfo, ModelRef, Provider};
use baton_protocol::{EventKind, Message, MessageId, SessionId};
use baton_store::{InputRecord, NoticeRecord, SessionRecord};
use baton_tools::{Todo, ToolRegistry};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use work::Activity;

/// What arrives in a session's mailbox. Each item holds a unit of the
/// session's work until the actor is done with it.
pub(crate) enum Inbound {
    /// A stored message from the person (or a parent steering a task),
    /// numbered in the order it was sent.
    Message {
        number: u64,
        input: InputRecord,
        work: WorkGuard,
    },
    /// A stored notice (a task or shell ended) to hand to the model.
    Notice {
        notice: NoticeRecord,
        work: WorkGuard,
    },
    /// Someone asked for the conversation to be compacted (at once when
    /// idle, else at the turn's next step boundary).
    Compact { work: WorkGuard },
}

/// What the rest of the engine may do to a live session. Cheap to clone.
#[derive(Clone)]
pub(crate) struct SessionHandle {
    link: Arc<Link>,
}

struct Link {
    id: SessionId,
    /// Its ancestors and the rules they pass down.
    lineage: Arc<Lineage>,
    tx: mpsc::UnboundedSender<Inbound>,
    control: Arc<Control>,
    /// Held from storing a message to putting it in the mailbox, so the
    /// mailbox order is the stored order.
    send_lock: tokio::sync::Mutex<()>,
    services: Weak<Services>,
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
    /// Work not yet finished; the session is quiet at zero.
    activity: Arc<Activity>,
    /// What the session is doing now, for task_status.
    doing: Mutex<String>,
    /// Calls waiting for a permission answer right now.
    asking: AtomicUsize,
    /// The session's model or title changed in the store since the actor
    /// last read them (set at start: it may have changed while the actor
    /// was being started).
    settings_changed: AtomicBool,
    /// Stops the actor (engine shutdown, unloading an idle session).
    stop: CancellationToken,
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

    /// Begins a unit of work (a turn, a task, a shell).
    pub(crate) fn work(&self) -> WorkGuard {
        self.activity.begin()
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
    pub(crate) fn lineage(&self) -> &Arc<Lineage> {
        &self.link.lineage
    }

    fn control(&self) -> &Control {
        &self.link.control
    }

    /// Stores a message from the person (queued), announces it and puts
    /// it in the mailbox; returns the `seq` of its `message.queued`
    /// event. Once this returns, the message is on disk: a crash before
    /// the session takes it leaves it queued, and the session takes it
    /// when it is next opened.
    ///
    /// `work` is the message's unit of work, begun by the caller when it
    /// got the handle, so the session cannot look quiet (nor be unloaded)
    /// while the message is on its way.
    pub(crate) async fn send(&self, text: String, work: WorkGuard) -> Result<u64, EngineError> {
        let services = self
            .link
            .services
            .upgrade()
            .ok_or(EngineError::ShuttingDown)?;
        let input = InputRecord {
            id: MessageId::generate(),
            session_id: self.link.id.clone(),
            text,
            created_at: baton_protocol::now(),
        };
        let _order = self.link.send_lock.lock().await;
        services.store.enqueue_input(&input).await?;
        self.control().hold.store(false, Ordering::SeqCst);
        // Announced while the message counts as work, so the
        // `session.quiet` that ends it can only come after.
        let queued = services.emit(
            &self.link.id,
            EventKind::MessageQueued {
                message_id: input.id.clone(),
                text: input.text.clone(),
            },
        );
        self.requeue(input, work);
        Ok(queued.seq)
    }

    /// Puts a stored, queued message in the mailbox (it was stored by
    /// [`SessionHandle::send`], or found queued when the session opened).
    pub(crate) fn requeue(&self, input: InputRecord, work: WorkGuard) {
        let number = self.control().sent.fetch_add(1, Ordering::SeqCst) + 1;
        // A closed mailbox means the actor stopped: the message stays
        // queued in the store and is taken when the session opens again.
        let _ = self.link.tx.send(Inbound::Message {
            number,
            input,
            work,
        });
    }

    /// Hands a stored notice to the actor (delivered at its next step
    /// boundary, or by waking it). If the actor is gone the notice stays
    /// stored and undelivered, and goes out when the session opens again.
    pub(crate) fn deliver(&self, notice: NoticeRecord) {
        let work = self.control().work();
        let _ = self.link.tx.send(Inbound::Notice { notice, work });
    }

    /// Asks the actor to compact its conversation (at once when idle, at
    /// its next step boundary when busy). The result is announced by
    /// `context.compacted` (or an error); notices and messages arriving
    /// meanwhile wait in the mailbox as usual.
    pub(crate) fn compact(&self) -> Result<(), EngineError> {
        let work = self.control().work();
        self.link
            .tx
            .send(Inbound::Compact { work })
            .map_err(|_| EngineError::ShuttingDown)
    }

    /// Tells the actor its model or title changed in the store; it takes
    /// them at its next step boundary.
    pub(crate) fn settings_changed(&self) {
        self.control().mark_settings_changed();
    }

    /// Stops the turn (and what was queued before now) without holding
    /// back the notices of work that goes on.
    pub(crate) fn interrupt(&self) {
        let control = self.control();
        let sent = control.sent.load(Ordering::SeqCst);
        control.cancelled_upto.fetch_max(sent, Ordering::SeqCst);
        control
            .turn_cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cancel();
    }

    /// Interrupts and holds back the notices of the work being cancelled
    /// (hold first, so no notice starts a turn in between).
    pub(crate) fn cancel(&self) {
        self.control().hold.store(true, Ordering::SeqCst);
        self.interrupt();
    }

    /// Interrupts (with `hold`: cancels) the turn and withdraws the
    /// messages queued for the session that it has not taken yet; returns
    /// them, oldest first, after announcing `message.withdrawn`.
    ///
    /// Done under the send lock, so every message numbered before the
    /// interrupt is either taken already or withdrawn (the store decides
    /// which, atomically), and every message sent after it is answered: no
    /// queued message is left behind to be glued to the next one. The turn
    /// is interrupted even when the store fails.
    pub(crate) async fn interrupt_withdrawing(
        &self,
        hold: bool,
    ) -> Result<Vec<InputRecord>, EngineError> {
        let services = self
            .link
            .services
            .upgrade()
            .ok_or(EngineError::ShuttingDown)?;
        let withdrawn = {
            let _order = self.link.send_lock.lock().await;
            if hold {
                self.control().hold.store(true, Ordering::SeqCst);
            }
            let withdrawn = services.store.withdraw_inputs(&self.link.id).await;
            self.interrupt();
            withdrawn?
        };
        if !withdrawn.is_empty() {
            services.emit(
                &self.link.id,
                EventKind::MessageWithdrawn {
                    message_ids: withdrawn.iter().map(|i| i.id.clone()).collect(),
                },
            );
        }
        Ok(withdrawn)
    }

    /// Counts work done on the session's behalf (a running task or a
    /// background shell) until the guard is dropped.
    pub(crate) fn work(&self) -> WorkGuard {
        self.control().work()
    }

    /// Units of work not yet ended.
    pub(crate) fn pending_work(&self) -> u64 {
        self.link.control.activity.pending()
    }

    /// Follows the session's count of unfinished work (quiet at zero).
    pub(crate) fn quiet(&self) -> watch::Receiver<u64> {
        self.link.control.activity.watch()
    }

    pub(crate) fn doing(&self) -> String {
        self.control()
            .doing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the actor to stop once its current item is handled.
    pub(crate) fn stop(&self) {
        self.control().stop.cancel();
    }
}

/// Everything a new actor needs.
pub(crate) struct SessionSetup {
    pub(crate) services: Arc<Services>,
    pub(crate) tasks: Arc<Delegation>,
    pub(crate) record: SessionRecord,
    pub(crate) agent: AgentDef,
    pub(crate) model: ModelRef,
    pub(crate) history: Vec<Message>,
    pub(crate) lineage: Arc<Lineage>,
}

/// The actor's own state.
pub(crate) struct SessionActor {
    pub(crate) services: Arc<Services>,
    pub(crate) tasks: Arc<Delegation>,
    pub(crate) record: SessionRecord,
    pub(crate) agent: AgentDef,
    pub(crate) model: ModelRef,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) model_info: Option<ModelInfo>,
    /// The conversation, shared with the model call in flight (pushing
    /// after the call copies nothing: the call has let go of it).
    pub(crate) history: Arc<Vec<Message>>,
    pub(crate) inbox: mpsc::UnboundedReceiver<Inbound>,
    pub(crate) control: Arc<Control>,
    pub(crate) todos: Arc<Mutex<Vec<Todo>>>,
    pub(crate) tools: Arc<ToolRegistry>,
    /// What the model is told of the tools: fixed for the session's life.
    pub(crate) tool_specs: Vec<baton_protocol::ToolSpec>,
    /// The system prompt: fixed for the session's life (stored at its
    /// start, so a reopened session keeps it too).
    pub(crate) system: String,
    /// Estimated tokens of the system prompt and tools (both fixed, so
    /// estimated once).
    pub(crate) prefix_tokens: u64,
    /// A compaction was asked for while a turn ran.
    pub(crate) compact_asked: bool,
    /// The session's permission rules (its ancestors' included).
    pub(crate) policy: Policy,
    /// The top session of its tree ("allow always" holds tree-wide).
    pub(crate) root: SessionId,
    /// Its ancestors and their agents.
    pub(crate) lineage: Arc<Lineage>,
}

/// Starts the actor of a stored session; returns its handle and its task.
pub(crate) async fn spawn_session(
    setup: SessionSetup,
) -> Result<(SessionHandle, JoinHandle<()>), EngineError> {
    let provider = setup
        .services
        .providers
        .get(&setup.model.provider)
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "provider `{}` is not configured",
                setup.model.provider
            ))
        })?;
    let model_info = setup.services.catalog.lookup(&setup.model).cloned();
    let id = setup.record.id.clone();
    let fresh = crate::prompt::system_prompt(
        &setup.agent,
        std::path::Path::new(&setup.record.cwd),
        chrono::Local::now().date_naive(),
    );
    let system = setup.services.store.fix_system_prompt(&id, &fresh).await?;
    setup
        .services
        .store
        .set_owner(&id, Some(std::process::id()))
        .await?;
    let (tx, inbox) = mpsc::unbounded_channel();
    let control = Arc::new(Control {
        sent: AtomicU64::new(0),
        cancelled_upto: AtomicU64::new(0),
        hold: AtomicBool::new(false),
        turn_cancel: Mutex::new(CancellationToken::new()),
        activity: Activity::new(id.clone(), Arc::downgrade(&setup.services)),
        doing: Mutex::new("idle".into()),
        asking: AtomicUsize::new(0),
        settings_changed: AtomicBool::new(true),
        stop: CancellationToken::new(),
    });
    // MCP tools are part of the fixed list: a lazy server starts here,
    // for the first session that may use it.
    let mcp = setup
        .services
        .mcp
        .session_tools(&setup.lineage.root(&id), |server| {
            setup
                .lineage
                .may_use_prefix(&crate::mcp::tool_prefix(server))
        })
        .await;
    for notice in mcp.notices {
        setup
            .services
            .emit(&id, baton_protocol::EventKind::Error { message: notice });
    }
    let tools = Arc::new(
        setup
            .tasks
            .registry_for(&setup.lineage, &setup.agent, mcp.tools),
    );
    let tool_specs = tools.specs();
    let prefix_tokens = crate::compaction::fixed_tokens(&system, &tool_specs);
    let handle = SessionHandle {
        link: Arc::new(Link {
            id: id.clone(),
            lineage: setup.lineage.clone(),
            tx,
            control: control.clone(),
            send_lock: tokio::sync::Mutex::new(()),
            services: Arc::downgrade(&setup.services),
        }),
    };
    let actor = SessionActor {
        services: setup.services,
        tasks: setup.tasks,
        record: setup.record,
        agent: setup.agent,
        model: setup.model,
        provider,
        model_info,
        history: Arc::new(setup.history),
        inbox,
        control,
        todos: Arc::new(Mutex::new(Vec::new())),
        tool_specs,
        system,
        prefix_tokens,
        compact_asked: false,
        tools,
        policy: setup.lineage.policy.clone(),
        root: setup.lineage.root(&id),
        lineage: setup.lineage,
    };
    let task = tokio::spawn(actor.run());
    Ok((handle, task))
}
