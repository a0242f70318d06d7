//! The engine: owns the store, the providers, the event bus and every live
//! session actor. Front ends (CLI, HTTP API, TUI) drive it through this
//! type only.

use crate::agent::find_agent;
use crate::config::Config;
use crate::error::EngineError;
use crate::events::EventBus;
use crate::session::{SessionHandle, SessionSetup, spawn_session};
use baton_llm::{Catalog, ModelRef, ProviderRegistry};
use baton_protocol::{Event, EventKind, SessionId, SessionStatus, Usage};
use baton_store::{SessionRecord, SqliteStore, Store};
use baton_tools::ToolRegistry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, broadcast};

/// Looks up an environment variable by name.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How to build an [`Engine`].
pub struct EngineOptions {
    /// The data directory (`BATON_HOME`): database, logs.
    pub home: PathBuf,
    /// The merged configuration.
    pub config: Config,
    /// Looks up environment variables (provider keys and URLs,
    /// `BATON_MODEL`). Tests pass a map; the binary passes the real env.
    pub env: EnvLookup,
    /// Use this store instead of `$home/baton.db`.
    pub store: Option<Arc<dyn Store>>,
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

/// Shared by the engine and its session actors.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) bus: EventBus,
    pub(crate) providers: ProviderRegistry,
    pub(crate) catalog: Catalog,
    pub(crate) config: Config,
    pub(crate) tools: Arc<ToolRegistry>,
    /// Per-provider `max_concurrency`, as fair (FIFO) semaphores.
    pub(crate) provider_limits: HashMap<String, Arc<Semaphore>>,
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
}

/// The engine. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    sessions: Arc<Mutex<HashMap<SessionId, SessionHandle>>>,
    default_model: Option<String>,
}

impl Engine {
    /// Opens the store, builds the providers, and marks sessions left
    /// running by a process that is gone as `interrupted`.
    pub fn new(opts: EngineOptions) -> Result<Self, EngineError> {
        let store: Arc<dyn Store> = match opts.store {
            Some(s) => s,
            None => Arc::new(SqliteStore::open(&opts.home.join("baton.db"))?),
        };
        let me = std::process::id();
        let orphans = store.mark_orphans_interrupted(&|pid| pid != me && process_alive(pid))?;
        if !orphans.is_empty() {
            tracing::info!(
                count = orphans.len(),
                "marked sessions of a dead process interrupted"
            );
        }
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
        Ok(Self {
            shared: Arc::new(Shared {
                store,
                bus: EventBus::new(16_384),
                providers,
                catalog,
                config: opts.config,
                tools: Arc::new(ToolRegistry::builtin()),
                provider_limits,
            }),
            sessions: Arc::new(Mutex::new(HashMap::new())),
            default_model,
        })
    }

    /// The model new sessions use when none is given.
    pub fn default_model(&self) -> Option<&str> {
        self.default_model.as_deref()
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
        let model_ref = ModelRef::parse(model)
            .map_err(|e| EngineError::Invalid(format!("bad model `{model}`: {e}")))?;
        if self.shared.providers.get(&model_ref.provider).is_none() {
            let known = self.shared.providers.names();
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

    /// Creates and starts a new top-level session.
    pub async fn create_session(&self, req: NewSession) -> Result<SessionRecord, EngineError> {
        let agent_name = req.agent.unwrap_or_else(|| "build".to_owned());
        find_agent(&agent_name).map_err(EngineError::Invalid)?;
        let model = req
            .model
            .or_else(|| self.default_model.clone())
            .ok_or_else(|| {
                EngineError::Invalid(
                "no model chosen: pass --model provider/model, set BATON_MODEL, or set `model` \
                 in the config file"
                    .into(),
            )
            })?;
        self.check_model(&model)?;
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
        let stored = record.clone();
        self.shared.db(move |s| s.create_session(&stored)).await?;
        self.shared.emit(
            &record.id,
            EventKind::SessionCreated {
                parent_id: None,
                agent: record.agent.clone(),
                model: record.model.clone(),
                cwd: record.cwd.clone(),
            },
        );
        self.start_actor(&record).await?;
        Ok(record)
    }

    /// Makes a stored session live again (its actor running), e.g. for
    /// `baton run --session ID`. A live session is returned as it is.
    pub async fn open_session(&self, id: &SessionId) -> Result<SessionRecord, EngineError> {
        let lookup = id.clone();
        let record = self
            .shared
            .db(move |s| s.get_session(&lookup))
            .await?
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?;
        if !self.lock_sessions().contains_key(id) {
            self.check_model(&record.model)?;
            self.start_actor(&record).await?;
        }
        Ok(record)
    }

    async fn start_actor(&self, record: &SessionRecord) -> Result<(), EngineError> {
        let model = self.check_model(&record.model)?;
        let agent = find_agent(&record.agent).map_err(EngineError::Invalid)?;
        let id = record.id.clone();
        let history = self.shared.db(move |s| s.messages(&id)).await?;
        let handle = spawn_session(SessionSetup {
            shared: self.shared.clone(),
            record: record.clone(),
            agent,
            model,
            history,
        })
        .await?;
        self.lock_sessions().insert(record.id.clone(), handle);
        Ok(())
    }

    /// Queues a message from the person. A busy session takes it at its
    /// next step boundary; an idle one starts a turn. Never dropped.
    pub fn send_message(&self, id: &SessionId, text: &str) -> Result<(), EngineError> {
        let sessions = self.lock_sessions();
        let handle = sessions
            .get(id)
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?;
        handle.send(text.to_owned())
    }

    /// Interrupts the session's turn. Messages queued before the cancel are
    /// kept in the conversation but not answered.
    pub fn cancel(&self, id: &SessionId) -> Result<(), EngineError> {
        let sessions = self.lock_sessions();
        let handle = sessions
            .get(id)
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?;
        handle.cancel();
        Ok(())
    }

    /// Waits until the session has nothing left to do: no turn running and
    /// no message waiting.
    pub async fn wait_quiet(&self, id: &SessionId) -> Result<(), EngineError> {
        let mut quiet = {
            let sessions = self.lock_sessions();
            sessions
                .get(id)
                .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?
                .quiet()
        };
        // The actor holding the sender is gone only at shutdown.
        let _ = quiet.wait_for(|pending| *pending == 0).await;
        Ok(())
    }

    /// Cancels every live session and waits for their actors to stop.
    pub async fn shutdown(&self) {
        let handles: Vec<SessionHandle> = self.lock_sessions().drain().map(|(_, h)| h).collect();
        for h in &handles {
            h.cancel();
        }
        for h in handles {
            h.stop().await;
        }
    }

    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, SessionHandle>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
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
