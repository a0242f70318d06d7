//! The engine: front ends (CLI, HTTP API, TUI) drive it through [`Engine`]
//! only, and see protocol views, never store records.
//!
//! Inside, it is three parts with one-way arrows: the [`Services`] every
//! part shares (store, bus, providers, config, agents, files, shells); the
//! [`Registry`] of live sessions; and the [`Delegation`] part (tasks),
//! which reaches sessions only through the narrow, weakly held
//! [`Host`](crate::host::Host).

use crate::agents::AgentSet;
use crate::config::Config;
use crate::delegation::Delegation;
use crate::error::EngineError;
use crate::host::Host;
use crate::permissions::AskMode;
use crate::registry::Registry;
use crate::services::{ServiceParts, Services};
use crate::shell_hub::ShellHub;
use crate::tree::queued_view;
use baton_llm::{ModelRef, ProviderRegistry};
use baton_protocol::api::{MessageAccepted, QueuedMessage, Refusal, SessionView};
use baton_protocol::{
    Event, EventKind, PermissionAnswer, PermissionId, PermissionRequest, SessionId, SessionStatus,
    Usage,
};
use baton_store::{SessionRecord, SqliteStore, Store};
use baton_tools::ShellManager;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use tokio::sync::broadcast;

/// Looks up an environment variable by name.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

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

/// The engine. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Engine {
    pub(crate) core: Arc<Registry>,
}

impl Engine {
    /// Opens the store, builds the providers, and marks sessions, tasks and
    /// shells left running by a process that is gone as `interrupted`.
    /// Must be called inside a tokio runtime.
    pub async fn new(opts: EngineOptions) -> Result<Self, EngineError> {
        crate::private_dir(&opts.home).map_err(|e| {
            EngineError::Invalid(format!(
                "cannot create the data directory {}: {e}",
                opts.home.display()
            ))
        })?;
        let store: Arc<dyn Store> = match opts.store {
            Some(s) => s,
            None => Arc::new(SqliteStore::open(&opts.home.join("baton.db"))?),
        };
        mark_orphans(store.as_ref()).await?;
        let providers = ProviderRegistry::build(&*opts.env, &opts.config.providers)?;
        let default_model = (opts.env)("BATON_MODEL")
            .filter(|m| !m.trim().is_empty())
            .or_else(|| opts.config.model.clone());
        let unload_after = opts.config.sessions.unload_after();
        // Said once, at start, when commands cannot be sandboxed here.
        let sandbox = &opts.config.sandbox;
        baton_tools::warn_if_unsandboxable(&sandbox.settings(sandbox.mode));
        let home = opts.home;
        let core = Arc::new_cyclic(|me: &Weak<Registry>| {
            let host = Host::new(me.clone());
            let services = Arc::new_cyclic(|services: &Weak<Services>| {
                Services::new(ServiceParts {
                    store,
                    providers,
                    default_model,
                    agents: opts.agents,
                    shells: Arc::new(ShellManager::new(
                        home.join("shells"),
                        SHELL_RING_BYTES,
                        Arc::new(ShellHub::new(services.clone(), host.clone())),
                    )),
                    ask_mode: opts.ask_mode,
                    home: home.clone(),
                    config: opts.config,
                })
            });
            let tasks = Arc::new(Delegation::new(services.clone(), host));
            Registry::new(services, tasks, unload_after, me.clone())
        });
        core.services.mcp.start_eager();
        Ok(Self { core })
    }

    pub(crate) fn services(&self) -> &Arc<Services> {
        &self.core.services
    }

    /// The model new sessions use when none is given.
    pub fn default_model(&self) -> Option<&str> {
        self.services().default_model.as_deref()
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.services().bus.subscribe()
    }

    /// Checks that a model names a configured provider.
    pub fn check_model(&self, model: &str) -> Result<ModelRef, EngineError> {
        self.services().check_model(model)
    }

    /// Creates and starts a new top-level session.
    pub async fn create_session(&self, req: NewSession) -> Result<SessionView, EngineError> {
        let services = self.services();
        services.check_open()?;
        let agent_name = req.agent.unwrap_or_else(|| "build".to_owned());
        let agent = services.find_agent(&agent_name)?;
        if !agent.is_primary() {
            return Err(EngineError::Invalid(format!(
                "agent `{agent_name}` is a sub-agent; it runs only as a delegated task"
            )));
        }
        let model = req
            .model
            .map(|m| services.resolve_model(&m))
            .or_else(|| services.agent_model(&agent))
            .or_else(|| services.default_model.clone())
            .ok_or_else(|| {
                EngineError::Invalid(
                    "no model chosen: pass --model provider/model, set BATON_MODEL, or set \
                     `model` in the config file"
                        .into(),
                )
            })?;
        services.check_model(&model)?;
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
            tool_calls: 0,
            reasoning_effort: None,
            sandbox: None,
        };
        services.create_record(&record).await?;
        self.core.open(&record.id).await?;
        self.session(&record.id).await
    }

    /// Makes a stored session live again (its actor running), e.g. for
    /// `baton run --session ID`: it takes its undelivered notices and the
    /// messages queued for it. A live session is returned as it is.
    pub async fn open_session(&self, id: &SessionId) -> Result<SessionView, EngineError> {
        self.core.open(id).await?;
        self.session(id).await
    }

    /// Queues a message from the person, stored before this returns. A
    /// busy session takes it at its next step boundary; an idle one starts
    /// a turn; a stored session that is not live is opened. Never dropped.
    pub async fn send_message(
        &self,
        id: &SessionId,
        text: &str,
    ) -> Result<MessageAccepted, EngineError> {
        let (seq, _) = self.core.send(id, text.to_owned()).await?;
        Ok(MessageAccepted {
            session_id: id.clone(),
            seq,
        })
    }

    /// Interrupts a live session's turn and cancels its tasks (queued ones
    /// never start; running ones recursively) and shells. The messages
    /// queued for it that it has not taken yet are withdrawn (never
    /// answered nor sent later, announced by `message.withdrawn`) and
    /// returned, oldest first; notices arriving afterwards are delivered
    /// without starting a turn, until the next message.
    pub async fn cancel(&self, id: &SessionId) -> Result<Vec<QueuedMessage>, EngineError> {
        let withdrawn = self.live(id)?.interrupt_withdrawing(true).await;
        self.core.cancel_tree(id);
        Ok(withdrawn?.into_iter().map(queued_view).collect())
    }

    /// Interrupts a live session's turn only: the model call or tool
    /// running now stops (text it had streamed is kept, see
    /// docs/api.md), and the messages queued for it that it has not taken
    /// yet are withdrawn and returned, as with [`Engine::cancel`]. Its
    /// tasks and background shells go on, and their notices wake the
    /// session as usual.
    pub async fn interrupt(&self, id: &SessionId) -> Result<Vec<QueuedMessage>, EngineError> {
        let withdrawn = self.live(id)?.interrupt_withdrawing(false).await?;
        Ok(withdrawn.into_iter().map(queued_view).collect())
    }

    /// Compacts a session's conversation: its older part is summarized by
    /// the model and, in what the model is sent from then on, replaced by
    /// the summary (the latest turns stay verbatim). Opens a stored
    /// session if needed. Runs at once when the session is idle, else at
    /// its turn's next step boundary; `context.compacted` (or an `error`
    /// event) says how it went.
    pub async fn compact(&self, id: &SessionId) -> Result<(), EngineError> {
        let (_, handle) = self.core.open(id).await?;
        handle.compact()
    }

    fn live(&self, id: &SessionId) -> Result<crate::session::SessionHandle, EngineError> {
        self.core
            .handle(id)
            .ok_or_else(|| EngineError::UnknownSession(id.to_string()))
    }

    /// Moves a running tool call (a foreground `bash`, a `task` waiting for
    /// its child) to the background: the call returns at once with an id,
    /// and its completion arrives later as a notice. Errors when no such
    /// call is running or it cannot be moved.
    pub fn background_call(&self, call_id: &str) -> Result<(), EngineError> {
        if self.services().movable_calls.fire(call_id) {
            return Ok(());
        }
        Err(EngineError::NotFound(format!(
            "no running call `{call_id}` can be moved to the background (only a running bash \
             command or a task waiting for its sub-agent can)"
        )))
    }

    /// The agents sessions can run.
    pub fn agents(&self) -> &AgentSet {
        &self.services().agents
    }

    /// Permission requests waiting for an answer, oldest first.
    pub fn pending_permissions(&self) -> Vec<PermissionRequest> {
        self.services().permissions.pending()
    }

    /// Answers a permission request, storing the answer before this
    /// returns: the waiting call runs (allow once, allow always) or gets a
    /// denial the model reads (deny), with the person's reason when a
    /// denial gives one (a reason of only white space is refused, as the
    /// API refuses it). "Allow always" also allows what the request's
    /// pattern covers in the asking session's whole tree from now on,
    /// across restarts. A bare
    /// [`PermissionDecision`](baton_protocol::PermissionDecision) is an
    /// answer too (a denial without reason).
    pub async fn answer_permission(
        &self,
        id: &PermissionId,
        answer: impl Into<PermissionAnswer>,
    ) -> Result<(), EngineError> {
        let answer = answer.into();
        if answer.reason().is_some_and(|r| r.trim().is_empty()) {
            return Err(EngineError::Invalid(Refusal::EmptyReason.to_string()));
        }
        let decision = answer.decision();
        let services = self.services();
        let gone = || {
            EngineError::NotFound(format!(
                "no pending permission request `{id}` (it was answered already, or its session \
                 was cancelled)"
            ))
        };
        if !services.permissions.is_pending(id) {
            return Err(gone());
        }
        if !services
            .store
            .answer_permission_request(id, &answer)
            .await?
        {
            return Err(gone());
        }
        let request = services.permissions.answer(id, answer)?;
        services.emit(
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
    /// A stored session that is not live is quiet.
    pub async fn wait_quiet(&self, id: &SessionId) -> Result<(), EngineError> {
        let Some(handle) = self.core.handle(id) else {
            self.services().session_record(id).await?;
            return Ok(());
        };
        let mut quiet = handle.quiet();
        drop(handle);
        // Gone (unloaded, shut down) means quiet too.
        let _ = quiet.wait_for(|pending| *pending == 0).await;
        Ok(())
    }

    /// How many sessions have a live actor now (idle ones leave memory
    /// after `[sessions] unload_after_idle_s`).
    pub fn live_sessions(&self) -> usize {
        self.core.live_count()
    }

    /// How many tasks this process holds in memory (the live sessions'
    /// tasks; those of unloaded sessions are read from the store).
    pub fn tasks_in_memory(&self) -> usize {
        self.core.tasks.table.len()
    }

    /// Cancels every live session, kills every shell and waits for the
    /// actors to stop.
    pub async fn shutdown(&self) {
        self.core.shutdown().await;
    }
}

/// Marks sessions, tasks and shells stored as running by a process that
/// is gone as `interrupted` (never "running forever"), withdraws their
/// pending permission requests, and kills what is left of their
/// background shells (a process killed with SIGKILL cannot stop its
/// shells' process groups itself). The engine does it when it starts.
pub async fn mark_orphans(store: &dyn Store) -> Result<Vec<SessionId>, baton_store::StoreError> {
    let me = std::process::id();
    let orphans = store
        .mark_orphans_interrupted(Arc::new(move |pid| pid != me && process_alive(pid)))
        .await?;
    if !orphans.sessions.is_empty() {
        tracing::info!(
            count = orphans.sessions.len(),
            "marked sessions of a dead process interrupted"
        );
    }
    for group in orphans.shell_groups {
        if kill_group(group) {
            tracing::info!(
                pgid = group,
                "killed the process group of an orphaned shell"
            );
        }
    }
    Ok(orphans.sessions)
}

/// Kills a process group (an orphaned shell's, a hook's) that may be gone
/// already; returns whether it was there.
#[allow(unsafe_code)]
pub(crate) fn kill_group(pgid: u32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill with a negative pid signals a process group; no memory
    // is involved. An unknown group gives ESRCH, which is fine.
    unsafe { libc::kill(-pgid, libc::SIGKILL) == 0 }
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
