//! The handles every part of the engine shares: the store, the event bus,
//! the providers and their limits, the model catalog, the configuration,
//! the agents, the file tracker and the shells. Nothing here knows of
//! sessions or tasks; those parts take what they need from here.

use crate::agents::AgentDef;
use crate::agents::AgentSet;
use crate::config::Config;
use crate::error::EngineError;
use crate::events::EventBus;
use crate::permissions::{AskMode, Broker};
use baton_llm::{Catalog, ModelRef, ProviderRegistry};
use baton_protocol::{Event, EventKind, SessionId};
use baton_store::{SessionRecord, Store};
use baton_tools::{FileTracker, ShellManager};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The shared handles of one engine.
pub(crate) struct Services {
    /// Durable state. Every call is async: SQLite hops to blocking
    /// threads, so no store call runs on a tokio worker.
    pub(crate) store: Arc<dyn Store>,
    /// Every event, numbered, with replay.
    pub(crate) bus: EventBus,
    /// The configured providers.
    pub(crate) providers: ProviderRegistry,
    /// Per-provider `max_concurrency`, as fair (FIFO) semaphores.
    provider_limits: HashMap<String, Arc<Semaphore>>,
    /// Context windows and prices.
    pub(crate) catalog: Catalog,
    /// The merged configuration.
    pub(crate) config: Config,
    /// The model new sessions use when none is given.
    pub(crate) default_model: Option<String>,
    /// The agents sessions can run.
    pub(crate) agents: AgentSet,
    /// What each session last saw of each file, and per-file write locks.
    pub(crate) files: Arc<FileTracker>,
    /// Every shell command of every session.
    pub(crate) shells: Arc<ShellManager>,
    /// Pending permission requests and "allow always" grants.
    pub(crate) permissions: Broker,
    /// What an `ask` rule does.
    pub(crate) ask_mode: AskMode,
    /// Where isolated tasks get their git worktrees.
    pub(crate) worktrees_dir: PathBuf,
    /// Tool calls that can be moved to the background, by call id.
    pub(crate) movable_calls: MovableCalls,
    /// Set once shutdown begins: no new sessions, tasks or turns.
    pub(crate) closing: CancellationToken,
    /// The MCP servers every session shares.
    pub(crate) mcp: Arc<crate::mcp::McpHub>,
    /// The configured hooks.
    pub(crate) hooks: crate::hooks::Hooks,
    /// Tools a unit test adds to every session's registry (the built-ins
    /// cannot be made to fail the ways a test needs).
    #[cfg(test)]
    pub(crate) test_tools: Mutex<Vec<Arc<dyn baton_tools::Tool>>>,
}

/// What [`Services::new`] is built from.
pub(crate) struct ServiceParts {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) providers: ProviderRegistry,
    pub(crate) config: Config,
    pub(crate) default_model: Option<String>,
    pub(crate) agents: AgentSet,
    pub(crate) shells: Arc<ShellManager>,
    pub(crate) ask_mode: AskMode,
    pub(crate) home: PathBuf,
}

/// Events kept for clients that reconnect (`Last-Event-ID`).
const REPLAY_EVENTS: usize = 10_000;

impl Services {
    pub(crate) fn new(parts: ServiceParts) -> Self {
        let provider_limits = parts
            .providers
            .names()
            .into_iter()
            .filter_map(|name| {
                let limit = parts.providers.max_concurrency(&name)?;
                Some((name, Arc::new(Semaphore::new(limit))))
            })
            .collect();
        Self {
            store: parts.store,
            bus: EventBus::new(16_384, REPLAY_EVENTS),
            catalog: Catalog::builtin().with_overrides(parts.config.models.clone()),
            providers: parts.providers,
            provider_limits,
            default_model: parts.default_model,
            agents: parts.agents,
            files: Arc::new(FileTracker::new()),
            shells: parts.shells,
            permissions: Broker::default(),
            ask_mode: parts.ask_mode,
            worktrees_dir: parts.home.join("worktrees"),
            movable_calls: MovableCalls::default(),
            closing: CancellationToken::new(),
            mcp: crate::mcp::McpHub::new(parts.config.mcp_servers.clone()),
            hooks: crate::hooks::Hooks::new(&parts.config.hooks),
            config: parts.config,
            #[cfg(test)]
            test_tools: Mutex::new(Vec::new()),
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

    /// Fails once shutdown has begun.
    pub(crate) fn check_open(&self) -> Result<(), EngineError> {
        if self.closing.is_cancelled() {
            return Err(EngineError::ShuttingDown);
        }
        Ok(())
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
    /// as it is (and checked by [`Services::check_model`]).
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

    /// Stores a new session and announces it.
    pub(crate) async fn create_record(&self, record: &SessionRecord) -> Result<(), EngineError> {
        self.store.create_session(record).await?;
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

    /// A stored session, or [`EngineError::UnknownSession`].
    pub(crate) async fn session_record(
        &self,
        id: &SessionId,
    ) -> Result<SessionRecord, EngineError> {
        self.store
            .get_session(id)
            .await?
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))
    }
}

/// Running tool calls that can be moved to the background (a foreground
/// `bash`, a `task` waiting for its child), by call id.
#[derive(Default)]
pub(crate) struct MovableCalls {
    calls: Mutex<HashMap<String, CancellationToken>>,
}

impl MovableCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a call; its token fires when someone moves it.
    pub(crate) fn register(&self, call_id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        self.lock().insert(call_id.to_owned(), token.clone());
        token
    }

    /// Forgets calls that returned.
    pub(crate) fn forget<'a>(&self, call_ids: impl IntoIterator<Item = &'a str>) {
        let mut calls = self.lock();
        for id in call_ids {
            calls.remove(id);
        }
    }

    /// Moves a call to the background; false when no such call runs.
    pub(crate) fn fire(&self, call_id: &str) -> bool {
        match self.lock().get(call_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}
