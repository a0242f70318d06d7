//! The engine: owns the store, the providers, the event bus, the shells
//! and every live session actor. Front ends (CLI, HTTP API, TUI) drive it
//! through [`Engine`] only.

use crate::agents::{AgentDef, AgentSet};
use crate::config::Config;
use crate::error::EngineError;
use crate::events::EventBus;
use crate::lineage::Lineage;
use crate::permissions::{AskMode, Broker};
use crate::session::{SessionHandle, SessionSetup, spawn_session};
use crate::shell_hub::ShellHub;
use crate::tasks::TaskTable;
use baton_llm::{Catalog, ModelRef, ProviderRegistry};
use baton_protocol::api::MessageAccepted;
use baton_protocol::{
    Event, EventKind, PermissionDecision, PermissionId, PermissionRequest, SessionId,
    SessionStatus, Usage,
};
use baton_store::{SessionRecord, SqliteStore, Store};
use baton_tools::{FileTracker, ShellManager};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;

/// Looks up an environment variable by name.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Events kept for clients that reconnect (`Last-Event-ID`).
const REPLAY_EVENTS: usize = 10_000;

/// Bytes of output kept in memory per background shell.
const SHELL_RING_BYTES: usize = 1024 * 1024;

/// How to build an [`Engine`].
pub struct EngineOptions {
    /// The data directory (`BATON_HOME`): database, shell logs.
    pub home: PathBuf,
    /// The merged configuration.
    pub config: Config,
    /// Looks up environment variables (provider keys and URLs,
    /// `BATON_MODEL`). Tests pass a map; the binary passes the real env.
    pub env: EnvLookup,
    /// Use this store instead of `$home/baton.db`.
    pub store: Option<Arc<dyn Store>>,
    /// The agents sessions can run (built-in plus agent files).
    pub agents: AgentSet,
    /// What happens when a rule says `ask`: wait for an answer through
    /// [`Engine::answer_permission`] (interactive front ends), or allow or
    /// deny at once (headless runs).
    pub ask_mode: AskMode,
}

/// What a new session should be.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// Its working directory (must exist).
    pub cwd: PathBuf,
    /// The agent (default `build`).
    pub agent: Option<String>,
    /// The model, `provider/model` (default: the configured default).
    pub model: Option<String>,
    /// A title (default: from the first message).
    pub title: Option<String>,
}

/// Everything the engine, its session actors and its tools share.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) bus: EventBus,
    pub(crate) providers: ProviderRegistry,
    pub(crate) catalog: Catalog,
    pub(crate) config: Config,
    pub(crate) default_model: Option<String>,
    /// Per-provider `max_concurrency`, as fair (FIFO) semaphores.
    pub(crate) provider_limits: HashMap<String, Arc<Semaphore>>,
    /// Live session actors.
    pub(crate) sessions: Mutex<HashMap<SessionId, SessionHandle>>,
    /// Delegated tasks known to this process.
    pub(crate) tasks: TaskTable,
    /// Every shell command of every session.
    pub(crate) shells: Arc<ShellManager>,
    /// Tool calls that can be moved to the background, by call id.
    pub(crate) movable_calls: Mutex<HashMap<String, CancellationToken>>,
    /// The agents sessions can run.
    pub(crate) agents: AgentSet,
    /// Pending permission requests and "allow always" grants.
    pub(crate) permissions: Broker,
    /// What an `ask` rule does.
    pub(crate) ask_mode: AskMode,
    /// What each session last saw of each file, and per-file write locks.
    pub(crate) files: Arc<FileTracker>,
    /// Where isolated tasks get their git worktrees.
    pub(crate) worktrees_dir: PathBuf,
    /// Held while a session's model or title is changed, so changes are
    /// stored and announced in the same order.
    pub(crate) settings_changes: tokio::sync::Mutex<()>,
    /// Set once shutdown begins: no new sessions, tasks or turns.
    pub(crate) closing: CancellationToken,
    /// This, weakly, for tools and hooks that must not keep it alive.
    pub(crate) me: Weak<Shared>,
}

impl Shared {
    /// Runs a store call on a blocking thread.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T, baton_store::StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, baton_store::StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(r) => r,
            Err(join) => Err(baton_store::StoreError::Corrupt(format!(
                "store task failed: {join}"
            ))),
        }
    }

    /// The limit on concurrent calls to a provider, if it has one.
    pub(crate) fn provider_limit(&self, provider: &str) -> Option<Arc<Semaphore>> {
        self.provider_limits.get(provider).cloned()
    }

    /// Stamps and broadcasts an event.
    pub(crate) fn emit(&self, session: &SessionId, kind: EventKind) -> Event {
        self.bus.emit(session, kind)
    }

    pub(crate) fn lock_sessions(&self) -> MutexGuard<'_, HashMap<SessionId, SessionHandle>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on a live session's handle.
    pub(crate) fn with_session<T>(
        &self,
        id: &SessionId,
        f: impl FnOnce(&SessionHandle) -> T,
    ) -> Result<T, EngineError> {
        let sessions = self.lock_sessions();
        let handle = sessions
            .get(id)
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?;
        Ok(f(handle))
    }

    /// Checks that a model names a configured provider.
    pub(crate) fn check_model(&self, model: &str) -> Result<ModelRef, EngineError> {
        let model_ref = ModelRef::parse(model)
            .map_err(|e| EngineError::Invalid(format!("bad model `{model}`: {e}")))?;
        if self.providers.get(&model_ref.provider).is_none() {
            let known = self.providers.names();
            return Err(EngineError::Invalid(format!(
                "model `{model}` names provider `{}`, which is not configured (configured: {}); \
                 set its API key or add [providers.{}] to the config",
                model_ref.provider,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                },
                model_ref.provider,
            )));
        }
        Ok(model_ref)
    }

    /// Stores a new session and announces it.
    pub(crate) async fn create_record(&self, record: SessionRecord) -> Result<(), EngineError> {
        let stored = record.clone();
        self.db(move |s| s.create_session(&stored)).await?;
        self.emit(
            &record.id,
            EventKind::SessionCreated {
                parent_id: record.parent_id.clone(),
                agent: record.agent.clone(),
                model: record.model.clone(),
                cwd: record.cwd.clone(),
            },
        );
        Ok(())
    }

    /// Makes sure a stored session has a live actor.
    pub(crate) async fn ensure_live(
        self: &Arc<Self>,
        id: &SessionId,
    ) -> Result<SessionRecord, EngineError> {
        let lookup = id.clone();
        let record = self
            .db(move |s| s.get_session(&lookup))
            .await?
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?;
        if self.lock_sessions().contains_key(id) {
            return Ok(record);
        }
        if self.closing.is_cancelled() {
            return Err(EngineError::ShuttingDown);
        }
        let model = self.check_model(&record.model)?;
        let agent = self.find_agent(&record.agent)?;
        let ancestors = self.ancestors_of(&record).await?;
        let lineage = Arc::new(Lineage::build(
            &self.config.permission,
            &self.agents,
            ancestors,
            &agent,
        ));
        let id = record.id.clone();
        let mut history = self.db(move |s| s.messages(&id)).await?;
        if let Some(results) = crate::conversation::results_for_interrupted_calls(&history) {
            // The process that ran these calls died before they returned:
            // record that, so the stored conversation is whole again.
            let stored = results.clone();
            self.db(move |s| s.append_message(&stored)).await?;
            history.push(results);
        }
        let id = record.id.clone();
        let pending = self.db(move |s| s.pending_notices(&id)).await?;
        let id = record.id.clone();
        let tasks = self.db(move |s| s.list_tasks(&id)).await?;
        self.tasks.adopt(tasks);
        let handle = spawn_session(SessionSetup {
            shared: self.clone(),
            record: record.clone(),
            agent,
            model,
            history,
            lineage,
        })
        .await?;
        let loser = {
            let mut sessions = self.lock_sessions();
            if sessions.contains_key(&record.id) {
                // Someone else started it meanwhile; theirs wins.
                Some(handle)
            } else {
                for notice in pending {
                    handle.deliver(notice);
                }
                sessions.insert(record.id.clone(), handle);
                None
            }
        };
        if let Some(handle) = loser {
            handle.stop().await;
        }
        Ok(record)
    }

    /// The ancestors of a session, parent first, with their agents.
    async fn ancestors_of(
        &self,
        record: &SessionRecord,
    ) -> Result<Vec<(SessionId, String)>, EngineError> {
        let mut chain = Vec::new();
        let mut parent = record.parent_id.clone();
        while let Some(p) = parent {
            if chain.iter().any(|(id, _)| *id == p) || p == record.id {
                return Err(EngineError::Invalid(format!(
                    "session `{}` is its own ancestor in the store",
                    record.id
                )));
            }
            let lookup = p.clone();
            let found = self
                .db(move |s| s.get_session(&lookup))
                .await?
                .ok_or_else(|| EngineError::UnknownSession(p.to_string()))?;
            parent = found.parent_id.clone();
            chain.push((found.id, found.agent));
        }
        Ok(chain)
    }

    /// The agent called `name`, or an error listing those that exist.
    pub(crate) fn find_agent(&self, name: &str) -> Result<AgentDef, EngineError> {
        self.agents.get(name).cloned().ok_or_else(|| {
            EngineError::Invalid(format!(
                "unknown agent `{name}`; available: {}",
                self.agents
                    .all()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// Resolves a model alias from `[aliases]`; anything else is returned
    /// as it is (and checked by [`Shared::check_model`]).
    pub(crate) fn resolve_model(&self, spec: &str) -> String {
        let spec = spec.trim();
        self.config
            .aliases
            .get(spec)
            .cloned()
            .unwrap_or_else(|| spec.to_owned())
    }

    /// The model an agent asks for, resolved; `None` when it inherits, or
    /// names an alias nobody defined (then it inherits, with a warning).
    pub(crate) fn agent_model(&self, agent: &AgentDef) -> Option<String> {
        let spec = agent.model.as_deref()?;
        let resolved = self.resolve_model(spec);
        if resolved.contains('/') {
            Some(resolved)
        } else {
            tracing::warn!(
                agent = %agent.name,
                model = %spec,
                "the agent's model is neither provider/model nor a configured alias; it inherits"
            );
            None
        }
    }

    /// Cancels a session's turn, its tasks (recursively) and its shells.
    pub(crate) fn cancel_tree(self: &Arc<Self>, id: &SessionId) {
        if let Some(handle) = self.lock_sessions().get(id) {
            handle.cancel();
        }
        for child in self.tasks.running_children(id) {
            self.cancel_tree(&child);
        }
        let shells = self.shells.clone();
        let session = id.to_string();
        tokio::spawn(async move {
            shells.kill_session(&session).await;
        });
    }
}

/// The engine. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
}

impl Engine {
    /// Opens the store, builds the providers, and marks sessions, tasks and
    /// shells left running by a process that is gone as `interrupted`.
    pub fn new(opts: EngineOptions) -> Result<Self, EngineError> {
        let store: Arc<dyn Store> = match opts.store {
            Some(s) => s,
            None => Arc::new(SqliteStore::open(&opts.home.join("baton.db"))?),
        };
        mark_orphans(store.as_ref())?;
        let providers = ProviderRegistry::build(&*opts.env, &opts.config.providers)?;
        let catalog = Catalog::builtin().with_overrides(opts.config.models.clone());
        let provider_limits = providers
            .names()
            .into_iter()
            .filter_map(|name| {
                let limit = providers.max_concurrency(&name)?;
                Some((name, Arc::new(Semaphore::new(limit))))
            })
            .collect();
        let default_model = (opts.env)("BATON_MODEL")
            .filter(|m| !m.trim().is_empty())
            .or_else(|| opts.config.model.clone());
        let max_running = opts.config.tasks.max_running.max(1);
        let shared = Arc::new_cyclic(|me: &Weak<Shared>| Shared {
            store,
            bus: EventBus::new(16_384, REPLAY_EVENTS),
            providers,
            catalog,
            default_model,
            provider_limits,
            sessions: Mutex::new(HashMap::new()),
            tasks: TaskTable::new(max_running),
            shells: Arc::new(ShellManager::new(
                opts.home.join("shells"),
                SHELL_RING_BYTES,
                Arc::new(ShellHub::new(me.clone())),
            )),
            movable_calls: Mutex::new(HashMap::new()),
            agents: opts.agents,
            permissions: Broker::default(),
            ask_mode: opts.ask_mode,
            files: Arc::new(FileTracker::new()),
            worktrees_dir: opts.home.join("worktrees"),
            settings_changes: tokio::sync::Mutex::new(()),
            closing: CancellationToken::new(),
            config: opts.config,
            me: me.clone(),
        });
        Ok(Self { shared })
    }

    /// The model new sessions use when none is given.
    pub fn default_model(&self) -> Option<&str> {
        self.shared.default_model.as_deref()
    }

    /// The store (read access for listings).
    pub fn store(&self) -> Arc<dyn Store> {
        self.shared.store.clone()
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.bus.subscribe()
    }

    /// Checks that a model names a configured provider.
    pub fn check_model(&self, model: &str) -> Result<ModelRef, EngineError> {
        self.shared.check_model(model)
    }

    /// Creates and starts a new top-level session.
    pub async fn create_session(&self, req: NewSession) -> Result<SessionRecord, EngineError> {
        let agent_name = req.agent.unwrap_or_else(|| "build".to_owned());
        let agent = self.shared.find_agent(&agent_name)?;
        if !agent.is_primary() {
            return Err(EngineError::Invalid(format!(
                "agent `{agent_name}` is a sub-agent; it runs only as a delegated task"
            )));
        }
        let model = req
            .model
            .map(|m| self.shared.resolve_model(&m))
            .or_else(|| self.shared.agent_model(&agent))
            .or_else(|| self.shared.default_model.clone())
            .ok_or_else(|| {
                EngineError::Invalid(
                    "no model chosen: pass --model provider/model, set BATON_MODEL, or set \
                     `model` in the config file"
                        .into(),
                )
            })?;
        self.shared.check_model(&model)?;
        let cwd = std::fs::canonicalize(&req.cwd).map_err(|e| {
            EngineError::Invalid(format!(
                "working directory {} is not usable: {e}",
                req.cwd.display()
            ))
        })?;
        let now = baton_protocol::now();
        let record = SessionRecord {
            id: SessionId::generate(),
            parent_id: None,
            agent: agent_name,
            model,
            title: req.title.unwrap_or_default(),
            cwd: cwd.to_string_lossy().into_owned(),
            status: SessionStatus::Idle,
            created_at: now,
            updated_at: now,
            usage: Usage::default(),
        };
        self.shared.create_record(record.clone()).await?;
        self.shared.ensure_live(&record.id).await?;
        Ok(record)
    }

    /// Makes a stored session live again (its actor running), e.g. for
    /// `baton run --session ID`. A live session is returned as it is.
    pub async fn open_session(&self, id: &SessionId) -> Result<SessionRecord, EngineError> {
        self.shared.ensure_live(id).await
    }

    /// Queues a message from the person. A busy session takes it at its
    /// next step boundary; an idle one starts a turn. Never dropped.
    pub fn send_message(&self, id: &SessionId, text: &str) -> Result<MessageAccepted, EngineError> {
        let seq = self
            .shared
            .with_session(id, |h| h.send(text.to_owned()))??;
        Ok(MessageAccepted {
            session_id: id.clone(),
            seq,
        })
    }

    /// Interrupts the session's turn and cancels its tasks (recursively)
    /// and shells. Messages queued before the cancel are kept in the
    /// conversation but not answered; notices arriving afterwards are
    /// delivered without starting a turn, until the next message.
    pub fn cancel(&self, id: &SessionId) -> Result<(), EngineError> {
        self.shared.with_session(id, |_| ())?;
        self.shared.cancel_tree(id);
        Ok(())
    }

    /// Interrupts the session's turn only: the model call or tool running
    /// now stops, and messages queued before the interrupt are kept but
    /// not answered. Its tasks and background shells go on, and their
    /// notices wake the session as usual.
    pub fn interrupt(&self, id: &SessionId) -> Result<(), EngineError> {
        self.shared.with_session(id, |h| h.interrupt())
    }

    /// Moves a running tool call (a foreground `bash`, a `task` waiting for
    /// its child) to the background: the call returns at once with an id,
    /// and its completion arrives later as a notice. Errors when no such
    /// call is running or it cannot be moved.
    pub fn background_call(&self, call_id: &str) -> Result<(), EngineError> {
        let calls = self
            .shared
            .movable_calls
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match calls.get(call_id) {
            Some(token) => {
                token.cancel();
                Ok(())
            }
            None => Err(EngineError::NotFound(format!(
                "no running call `{call_id}` can be moved to the background (only a running \
                 bash command or a task waiting for its sub-agent can)"
            ))),
        }
    }

    /// The agents sessions can run.
    pub fn agents(&self) -> &AgentSet {
        &self.shared.agents
    }

    /// Permission requests waiting for an answer, oldest first.
    pub fn pending_permissions(&self) -> Vec<PermissionRequest> {
        self.shared.permissions.pending()
    }

    /// Answers a permission request: the waiting call runs (allow once,
    /// allow always) or gets a denial the model reads (deny). "Allow
    /// always" also allows what the request's pattern covers in the
    /// asking session's whole tree from now on.
    pub fn answer_permission(
        &self,
        id: &PermissionId,
        decision: PermissionDecision,
    ) -> Result<(), EngineError> {
        let request = self.shared.permissions.answer(id, decision)?;
        self.shared.emit(
            &request.session_id,
            EventKind::PermissionResolved {
                request_id: request.id,
                decision,
            },
        );
        Ok(())
    }

    /// Waits until the session has nothing left to do: no turn running, no
    /// message or notice waiting, no task or background shell running.
    pub async fn wait_quiet(&self, id: &SessionId) -> Result<(), EngineError> {
        let mut quiet = self.shared.with_session(id, |h| h.quiet())?;
        // The actor holding the sender is gone only at shutdown.
        let _ = quiet.wait_for(|pending| *pending == 0).await;
        Ok(())
    }

    /// Cancels every live session, kills every shell and waits for the
    /// actors to stop.
    pub async fn shutdown(&self) {
        self.shared.closing.cancel();
        let ids: Vec<SessionId> = self.shared.lock_sessions().keys().cloned().collect();
        for id in &ids {
            self.shared.cancel_tree(id);
        }
        self.shared.shells.kill_all().await;
        self.shared.tasks.wait_watchers().await;
        let handles: Vec<SessionHandle> = self
            .shared
            .lock_sessions()
            .drain()
            .map(|(_, h)| h)
            .collect();
        for h in handles {
            h.stop().await;
        }
    }
}

/// Marks sessions, tasks and shells stored as running by a process that
/// is gone as `interrupted` (never "running forever"). The engine does it
/// when it starts; read-only tools (`baton sessions`) do it before they
/// show anything.
pub fn mark_orphans(store: &dyn Store) -> Result<Vec<SessionId>, baton_store::StoreError> {
    let me = std::process::id();
    let orphans = store.mark_orphans_interrupted(&|pid| pid != me && process_alive(pid))?;
    if !orphans.is_empty() {
        tracing::info!(
            count = orphans.len(),
            "marked sessions of a dead process interrupted"
        );
    }
    Ok(orphans)
}

/// Whether a process with this id exists.
#[allow(unsafe_code)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the
    // process exists and may be signalled. No memory is involved.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
