//! What front ends (the HTTP API, the TUI, scripts) ask of the engine
//! beyond starting and driving sessions: views of sessions, tasks and
//! shells, control of tasks and shells, and the event stream with replay.

use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::{Replay, TreeFilter};
use crate::tasks;
use baton_protocol::api::{SessionView, ShellState, ShellView, TaskView};
use baton_protocol::{Message, SessionId, TaskId, Timestamp};
use baton_store::{SessionQuery, SessionRecord};
use baton_tools::{ShellInfo, ShellStatus};

impl Engine {
    /// Sessions matching `query`, most recent first.
    pub async fn sessions(&self, query: SessionQuery) -> Result<Vec<SessionView>, EngineError> {
        self.shared
            .db(move |s| {
                s.list_sessions(&query)?
                    .into_iter()
                    .map(|r| session_view(s, r))
                    .collect()
            })
            .await
            .map_err(|e| e.into())
    }

    /// One session, with usage totals that include its descendants.
    pub async fn session(&self, id: &SessionId) -> Result<SessionView, EngineError> {
        let id = id.clone();
        let shown = id.to_string();
        self.shared
            .db(move |s| match s.get_session(&id)? {
                Some(r) => session_view(s, r).map(Some),
                None => Ok(None),
            })
            .await?
            .ok_or(EngineError::UnknownSession(shown))
    }

    /// A session's stored conversation, oldest first.
    pub async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, EngineError> {
        self.session(id).await?;
        let id = id.clone();
        Ok(self.shared.db(move |s| s.messages(&id)).await?)
    }

    /// The tasks a session delegated, oldest first.
    pub async fn tasks_of(&self, session: &SessionId) -> Result<Vec<TaskView>, EngineError> {
        self.session(session).await?;
        let id = session.clone();
        let mut records = self.shared.db(move |s| s.list_tasks(&id)).await?;
        records.sort_by_key(|r| r.created_at);
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            records
                .into_iter()
                .map(|r| tasks::view(&shared, r))
                .collect()
        })
        .await
        .map_err(|e| EngineError::Invalid(format!("could not read the tasks: {e}")))
    }

    /// One task, with its result once it ended.
    pub async fn task(&self, id: &TaskId) -> Result<TaskView, EngineError> {
        let record = self.task_record(id).await?;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || tasks::view(&shared, record))
            .await
            .map_err(|e| EngineError::Invalid(format!("could not read the task: {e}")))
    }

    /// Steers a running task (its sub-agent reads the message before its
    /// next model call) or resumes an ended one with the message.
    pub async fn send_to_task(&self, id: &TaskId, text: &str) -> Result<String, EngineError> {
        let record = self.task_record(id).await?;
        // Its parent must be live to hear how the task ends.
        self.shared.ensure_live(&record.parent_session_id).await?;
        tasks::send(
            &self.shared,
            &record.parent_session_id,
            id.as_str(),
            text.to_owned(),
        )
        .await
    }

    /// Interrupts a stored session's turn (see [`Engine::interrupt`]) and
    /// says what happened; a session that is not live has nothing to stop.
    pub async fn interrupt_session(&self, id: &SessionId) -> Result<String, EngineError> {
        self.session(id).await?;
        match self.interrupt(id) {
            Ok(()) => Ok(format!(
                "interrupting the turn of session {id}; its tasks and shells go on"
            )),
            Err(EngineError::UnknownSession(_)) => {
                Ok(format!("session {id} is not running; nothing to interrupt"))
            }
            Err(e) => Err(e),
        }
    }

    /// Cancels a stored session's turn, tasks and shells (see
    /// [`Engine::cancel`]) and says what happened; a session that is not
    /// live has nothing to cancel.
    pub async fn cancel_session(&self, id: &SessionId) -> Result<String, EngineError> {
        self.session(id).await?;
        match self.cancel(id) {
            Ok(()) => Ok(format!("cancelling session {id}, its tasks and its shells")),
            Err(EngineError::UnknownSession(_)) => {
                Ok(format!("session {id} is not running; nothing to cancel"))
            }
            Err(e) => Err(e),
        }
    }

    /// Cancels a task and everything under it.
    pub async fn cancel_task(&self, id: &TaskId) -> Result<String, EngineError> {
        let record = self.task_record(id).await?;
        self.shared.ensure_live(&record.parent_session_id).await?;
        tasks::cancel(&self.shared, &record.parent_session_id, id.as_str())
    }

    async fn task_record(&self, id: &TaskId) -> Result<baton_store::TaskRecord, EngineError> {
        let lookup = id.clone();
        self.shared
            .db(move |s| s.get_task(&lookup))
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no task `{id}`")))
    }

    /// The background shells of this process (of one session, or all),
    /// oldest first.
    pub fn shells(&self, session: Option<&SessionId>) -> Vec<ShellView> {
        self.shared
            .shells
            .list(session.map(|s| s.as_str()))
            .iter()
            .map(shell_view)
            .collect()
    }

    /// One shell, with the output held in memory.
    pub fn shell(&self, id: &str) -> Result<ShellView, EngineError> {
        let info = self.shell_info(id)?;
        let read = self
            .shared
            .shells
            .snapshot(id)
            .map_err(|e| EngineError::NotFound(e.to_string()))?;
        Ok(ShellView {
            output: Some(read.output),
            dropped_bytes: Some(read.dropped_bytes),
            ..shell_view(&info)
        })
    }

    /// Kills a shell's process group; returns once it is dead. A shell
    /// that already ended is returned as it is.
    pub async fn kill_shell(&self, id: &str) -> Result<ShellView, EngineError> {
        self.shell_info(id)?;
        let info = self
            .shared
            .shells
            .kill(id)
            .await
            .map_err(|e| EngineError::NotFound(e.to_string()))?;
        Ok(shell_view(&info))
    }

    fn shell_info(&self, id: &str) -> Result<ShellInfo, EngineError> {
        self.shared
            .shells
            .get(id)
            .ok_or_else(|| EngineError::NotFound(format!("no shell `{id}`")))
    }

    /// The kept events after `seq`, then every later one, without gaps or
    /// repeats between the two (see [`Replay::gap`] for events no longer
    /// kept).
    pub fn events_after(&self, seq: u64) -> Replay {
        self.shared.bus.subscribe_after(seq)
    }

    /// The `seq` of the last event emitted.
    pub fn last_seq(&self) -> u64 {
        self.shared.bus.last_seq()
    }

    /// A filter for the events of `root` and every session under it.
    pub async fn tree_filter(&self, root: &SessionId) -> Result<TreeFilter, EngineError> {
        self.session(root).await?;
        let id = root.clone();
        let below = self.shared.db(move |s| s.descendants(&id)).await?;
        Ok(TreeFilter::new(root.clone(), below))
    }
}

fn session_view(
    store: &dyn baton_store::Store,
    r: SessionRecord,
) -> Result<SessionView, baton_store::StoreError> {
    let total_usage = store.usage_with_descendants(&r.id)?;
    Ok(SessionView {
        provider: r.model.split('/').next().unwrap_or_default().to_owned(),
        id: r.id,
        parent_id: r.parent_id,
        agent: r.agent,
        model: r.model,
        title: r.title,
        cwd: r.cwd,
        status: r.status,
        created_at: r.created_at,
        updated_at: r.updated_at,
        usage: r.usage,
        total_usage,
    })
}

fn shell_view(info: &ShellInfo) -> ShellView {
    ShellView {
        shell_id: info.id.clone(),
        session_id: SessionId::from(info.session_id.as_str()),
        command: info.command.clone(),
        description: info.description.clone(),
        status: match info.status {
            ShellStatus::Running => ShellState::Running,
            ShellStatus::Exited => ShellState::Exited,
            ShellStatus::Killed => ShellState::Killed,
        },
        exit_code: info.exit_code,
        started_at: timestamp(info.started_at),
        ended_at: info.ended_at.map(timestamp),
        output: None,
        dropped_bytes: None,
    }
}

fn timestamp(t: std::time::SystemTime) -> Timestamp {
    use chrono::SubsecRound;
    Timestamp::from(t).trunc_subsecs(3)
}
