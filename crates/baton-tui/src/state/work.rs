//! Background work of the tree: delegated tasks and shells, kept current
//! from events.

use baton_protocol::api::{ShellState, ShellView, TaskView};
use baton_protocol::{SessionId, SessionStatus, TaskId, Timestamp};

/// A delegated task as the tasks panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// The task.
    pub task_id: TaskId,
    /// The session that delegated it.
    pub parent: SessionId,
    /// The sub-agent session running it.
    pub child: SessionId,
    /// What the parent asked for, in short.
    pub description: String,
    /// The sub-agent.
    pub agent: String,
    /// Its model (`provider/model`).
    pub model: String,
    /// How it stands.
    pub status: SessionStatus,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub ended: Option<Timestamp>,
}

impl TaskRow {
    /// A row from the engine's view of a task.
    pub fn from_view(view: &TaskView) -> Self {
        let ended = (!is_running(view.status)).then(|| {
            view.created_at + chrono::Duration::milliseconds((view.elapsed_s * 1000.0) as i64)
        });
        Self {
            task_id: view.task_id.clone(),
            parent: view.parent_session_id.clone(),
            child: view.child_session_id.clone(),
            description: view.description.clone(),
            agent: view.agent.clone(),
            model: view.model.clone(),
            status: view.status,
            started: view.created_at,
            ended,
        }
    }

    /// Whether it is still going.
    pub fn running(&self) -> bool {
        is_running(self.status)
    }

    /// Seconds it has run, up to `now` or its end.
    pub fn elapsed_s(&self, now: Timestamp) -> f64 {
        let end = self.ended.unwrap_or(now);
        ((end - self.started).num_milliseconds().max(0)) as f64 / 1000.0
    }
}

/// What a session (a tab, a task's sub-agent) is doing, from the truth
/// the events tell: its own status, its task's and its background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// A task waiting for a slot (`task.spawned`, no `task.started` yet).
    Queued,
    /// A task waiting for the tasks it comes after to end.
    Waiting,
    /// Taking a turn.
    Running,
    /// A call waits for someone's answer.
    Asking,
    /// Between turns, with a background shell of its own still running.
    Shell,
    /// Between turns, with tasks of its own still running.
    Tasks,
    /// Nothing to do for now.
    Idle,
    /// Its task ended (or the session ended) this way.
    Ended(SessionStatus),
}

impl Activity {
    /// A few words for it, as the task line says it.
    pub fn words(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Waiting => "waiting on earlier tasks",
            Self::Running => "running",
            Self::Asking => "asking permission",
            Self::Shell => "waiting on a shell",
            Self::Tasks => "waiting on its tasks",
            Self::Idle => "idle",
            Self::Ended(SessionStatus::Completed) => "done",
            Self::Ended(SessionStatus::Failed) => "failed",
            Self::Ended(SessionStatus::Cancelled) => "cancelled",
            Self::Ended(SessionStatus::Interrupted) => "interrupted",
            Self::Ended(_) => "ended",
        }
    }

    /// Whether the work still goes on.
    pub fn ongoing(self) -> bool {
        !matches!(self, Self::Idle | Self::Ended(_))
    }
}

/// Whether a status means the work goes on.
pub fn is_running(status: SessionStatus) -> bool {
    matches!(
        status,
        SessionStatus::Running
            | SessionStatus::Queued
            | SessionStatus::Waiting
            | SessionStatus::AwaitingPermission
            | SessionStatus::Idle
    )
}

/// A background shell as the shells panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellRow {
    /// The shell.
    pub shell_id: String,
    /// The session that started it.
    pub session: SessionId,
    /// The command line.
    pub command: String,
    /// Running, exited or killed.
    pub state: ShellState,
    /// Its exit code, once it exited.
    pub exit_code: Option<i32>,
    /// The end of its output, as last fetched.
    pub tail: Option<String>,
    /// When it started.
    pub started: Timestamp,
    /// When it exited or was killed.
    pub ended: Option<Timestamp>,
}

impl ShellRow {
    /// A row from the engine's view of a shell.
    pub fn from_view(view: &ShellView) -> Self {
        Self {
            shell_id: view.shell_id.to_string(),
            session: view.session_id.clone(),
            command: view.command.clone(),
            state: view.status,
            exit_code: view.exit_code,
            tail: view.output.clone(),
            started: view.started_at,
            ended: view.ended_at,
        }
    }

    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.state == ShellState::Running
    }

    /// A short word for its state.
    pub fn state_label(&self) -> String {
        match (self.state, self.exit_code) {
            (ShellState::Running, _) => "running".into(),
            (ShellState::Killed, _) => "killed".into(),
            (ShellState::Exited, Some(code)) => format!("exit {code}"),
            (ShellState::Exited, None) => "ended".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_counts_to_the_end_or_now() {
        let start = baton_protocol::now();
        let mut row = TaskRow {
            task_id: TaskId::from("task_1"),
            parent: SessionId::from("p"),
            child: SessionId::from("c"),
            description: "d".into(),
            agent: "general".into(),
            model: "m/m".into(),
            status: SessionStatus::Running,
            started: start,
            ended: None,
        };
        let later = start + chrono::Duration::seconds(3);
        assert!((row.elapsed_s(later) - 3.0).abs() < 1e-9);
        row.ended = Some(start + chrono::Duration::seconds(1));
        row.status = SessionStatus::Completed;
        assert!((row.elapsed_s(later) - 1.0).abs() < 1e-9);
        assert!(!row.running());
    }
}
