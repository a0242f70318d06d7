//! What front ends (the HTTP API, the TUI, scripts) ask of the engine
//! beyond starting and driving sessions: views of sessions, tasks and
//! shells, control of tasks and shells, and the event stream with replay.

use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::{Replay, TreeFilter};
use baton_protocol::api::{Accepted, SessionFilter, SessionView, ShellState, ShellView, TaskView};
use baton_protocol::{EventKind, Message, Part, Role, SessionId, TaskId, Timestamp, Usage};
use baton_store::{SessionQuery, SessionRecord, ShellRecord};
use baton_tools::{ShellInfo, ShellStatus};

impl Engine {
    /// Sessions matching `filter`, most recent first.
    pub async fn sessions(&self, filter: SessionFilter) -> Result<Vec<SessionView>, EngineError> {
        let store = &self.services().store;
        let records = store
            .list_sessions(&SessionQuery {
                cwd: filter.cwd,
                roots_only: filter.roots_only,
                parent: filter.parent,
                limit: filter.limit,
            })
            .await?;
        let mut views = Vec::with_capacity(records.len());
        for record in records {
            let total = store.usage_with_descendants(&record.id).await?;
            let calls = store.tool_calls_with_descendants(&record.id).await?;
            views.push(session_view(record, total, calls));
        }
        Ok(views)
    }

    /// One session, with usage totals that include its descendants.
    pub async fn session(&self, id: &SessionId) -> Result<SessionView, EngineError> {
        let services = self.services();
        let record = services.session_record(id).await?;
        let total = services.store.usage_with_descendants(id).await?;
        let calls = services.store.tool_calls_with_descendants(id).await?;
        Ok(session_view(record, total, calls))
    }

    /// Turns a full session id or a unique prefix of one into the id.
    pub async fn resolve_session(&self, prefix: &str) -> Result<SessionId, EngineError> {
        Ok(self.services().store.resolve_session_id(prefix).await?)
    }

    /// A session's stored conversation, oldest first.
    pub async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, EngineError> {
        self.services().session_record(id).await?;
        Ok(self.services().store.messages(id).await?)
    }

    /// The tasks a session delegated, oldest first.
    pub async fn tasks_of(&self, session: &SessionId) -> Result<Vec<TaskView>, EngineError> {
        self.services().session_record(session).await?;
        let mut records = self.services().store.list_tasks(session).await?;
        // Stable: tasks made in the same millisecond keep the store's
        // order, which is the order they were made in.
        records.sort_by_key(|r| r.created_at);
        let mut views = Vec::with_capacity(records.len());
        for record in records {
            views.push(self.core.tasks.view(record).await?);
        }
        Ok(views)
    }

    /// One task, with its result once it ended.
    pub async fn task(&self, id: &TaskId) -> Result<TaskView, EngineError> {
        let record = self.task_record(id).await?;
        self.core.tasks.view(record).await
    }

    /// Steers a running task (its sub-agent reads the message before its
    /// next model call) or resumes an ended one with the message. The
    /// message is stored before this returns.
    pub async fn send_to_task(&self, id: &TaskId, text: &str) -> Result<String, EngineError> {
        let record = self.task_record(id).await?;
        // Its parent must be live to hear how the task ends.
        self.core.open(&record.parent_session_id).await?;
        self.core
            .tasks
            .send(&record.parent_session_id, id.as_str(), text.to_owned())
            .await
    }

    /// Interrupts a stored session's turn (see [`Engine::interrupt`]) and
    /// says what happened, handing back the queued messages it withdrew; a
    /// session that is not live has nothing to stop.
    pub async fn interrupt_session(&self, id: &SessionId) -> Result<Accepted, EngineError> {
        self.services().session_record(id).await?;
        if self.core.handle(id).is_none() {
            return Ok(Accepted::new(format!(
                "session {id} is not running; nothing to interrupt"
            )));
        }
        let withdrawn = self.interrupt(id).await?;
        Ok(Accepted {
            message: format!(
                "interrupting the turn of session {id}; its tasks and shells go on{}",
                withdrawn_note(withdrawn.len())
            ),
            withdrawn,
        })
    }

    /// Asks a stored session to compact its conversation (see
    /// [`Engine::compact`]) and says so.
    pub async fn compact_session(&self, id: &SessionId) -> Result<String, EngineError> {
        self.compact(id).await?;
        Ok(format!(
            "compacting the conversation of session {id}; `context.compacted` says when it is done"
        ))
    }

    /// Cancels a stored session's turn, tasks and shells, and those of
    /// every session under it that is live (see [`Engine::cancel`]), and
    /// says what happened. A live session hands back the queued messages
    /// it withdrew; one that is not live keeps the messages queued for it
    /// in its conversation, unanswered, so that opening it later does not
    /// answer them.
    pub async fn cancel_session(&self, id: &SessionId) -> Result<Accepted, EngineError> {
        let services = self.services();
        services.session_record(id).await?;
        let withdrawn = match self.core.handle(id) {
            Some(_) => Some(self.cancel(id).await),
            None => {
                self.core.cancel_tree(id);
                None
            }
        };
        for below in services.store.descendants(id).await? {
            if self.core.handle(&below).is_some() {
                self.core.cancel_tree(&below);
            }
        }
        if let Some(withdrawn) = withdrawn {
            let withdrawn = withdrawn?;
            return Ok(Accepted {
                message: format!(
                    "cancelling session {id}, its tasks and its shells{}",
                    withdrawn_note(withdrawn.len())
                ),
                withdrawn,
            });
        }
        let kept = self.keep_queued_unanswered(id).await?;
        Ok(Accepted::new(match kept {
            0 => format!("session {id} is not running; nothing to cancel"),
            1 => format!("session {id} is not running; its queued message was kept unanswered"),
            n => {
                format!("session {id} is not running; its {n} queued messages were kept unanswered")
            }
        }))
    }

    /// Takes a session's queued messages into its conversation without
    /// answering them; returns how many it took.
    async fn keep_queued_unanswered(&self, id: &SessionId) -> Result<usize, EngineError> {
        let services = self.services();
        let mut kept = 0;
        for input in services.store.pending_inputs(id).await? {
            let mut message = Message::new(
                id.clone(),
                Role::User,
                vec![Part::Text { text: input.text }],
            );
            message.id = input.id;
            if services.store.take_input(&message).await? {
                kept += 1;
                services.emit(
                    id,
                    EventKind::MessageCompleted {
                        message_id: message.id.clone(),
                        role: message.role,
                        text: message.text(),
                    },
                );
            }
        }
        Ok(kept)
    }

    /// Cancels a task and everything under it; a queued task never starts.
    pub async fn cancel_task(&self, id: &TaskId) -> Result<String, EngineError> {
        let record = self.task_record(id).await?;
        self.core.open(&record.parent_session_id).await?;
        self.core
            .tasks
            .cancel(&record.parent_session_id, id.as_str())
    }

    async fn task_record(&self, id: &TaskId) -> Result<baton_store::TaskRecord, EngineError> {
        self.services()
            .store
            .get_task(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no task `{id}`")))
    }

    /// The background shells of this process (of one session, or all),
    /// oldest first.
    pub fn shells(&self, session: Option<&SessionId>) -> Vec<ShellView> {
        self.services()
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
            .services()
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
            .services()
            .shells
            .kill(id)
            .await
            .map_err(|e| EngineError::NotFound(e.to_string()))?;
        Ok(shell_view(&info))
    }

    fn shell_info(&self, id: &str) -> Result<ShellInfo, EngineError> {
        self.services()
            .shells
            .get(id)
            .ok_or_else(|| EngineError::NotFound(format!("no shell `{id}`")))
    }

    /// The kept events after `seq`, then every later one, without gaps or
    /// repeats between the two (see [`Replay::gap`] for events no longer
    /// kept).
    pub fn events_after(&self, seq: u64) -> Replay {
        self.services().bus.subscribe_after(seq)
    }

    /// The `seq` of the last event emitted.
    pub fn last_seq(&self) -> u64 {
        self.services().bus.last_seq()
    }

    /// A filter for the events of `root` and every session under it.
    pub async fn tree_filter(&self, root: &SessionId) -> Result<TreeFilter, EngineError> {
        self.services().session_record(root).await?;
        let below = self.services().store.descendants(root).await?;
        Ok(TreeFilter::new(root.clone(), below))
    }
}

/// Says how many queued messages were handed back, after what was done.
fn withdrawn_note(count: usize) -> String {
    match count {
        0 => String::new(),
        1 => "; its queued message was handed back unsent".into(),
        n => format!("; its {n} queued messages were handed back unsent"),
    }
}

/// A session's view, given its tree's usage and tool calls.
pub(crate) fn session_view(
    r: SessionRecord,
    total_usage: Usage,
    total_tool_calls: u64,
) -> SessionView {
    SessionView {
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
        tool_calls: r.tool_calls,
        total_tool_calls,
    }
}

/// A live shell's view.
pub(crate) fn shell_view(info: &ShellInfo) -> ShellView {
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

/// A stored shell's view (one this process may not run).
pub(crate) fn stored_shell_view(row: ShellRecord) -> ShellView {
    ShellView {
        shell_id: row.id,
        session_id: row.session_id,
        command: row.command,
        description: row.description,
        status: match row.status.as_str() {
            "running" => ShellState::Running,
            "exited" => ShellState::Exited,
            _ => ShellState::Killed,
        },
        exit_code: row.exit_code,
        started_at: row.started_at,
        ended_at: row.ended_at,
        output: None,
        dropped_bytes: None,
    }
}

fn timestamp(t: std::time::SystemTime) -> Timestamp {
    use chrono::SubsecRound;
    Timestamp::from(t).trunc_subsecs(3)
}
