//! What the model and the front ends see of tasks: status views, a task's
//! output so far, and the running tasks a parent's prompt mentions.

use super::table::TaskEntry;
use super::{Delegation, is_active};
use crate::error::EngineError;
use baton_protocol::api::TaskView;
use baton_protocol::{SessionId, SessionStatus, Usage};
use baton_store::TaskRecord;
use std::sync::Arc;

/// What a task's child session tree did, as stored.
pub(crate) struct ChildFigures {
    /// Usage of the child and everything under it.
    pub(crate) usage: Usage,
    /// Tool calls of the child and everything under it.
    pub(crate) tool_calls: u64,
    /// The child session's own status.
    pub(crate) status: Option<SessionStatus>,
}

/// What a task's live state adds to its stored record.
pub(crate) struct LiveFigures {
    /// Seconds it has run (or ran).
    pub(crate) elapsed: f64,
    /// What its sub-agent is doing now.
    pub(crate) doing: String,
    /// A call of the parent waits for it now.
    pub(crate) waited_on: bool,
}

impl Delegation {
    /// The record and live figures of a task this process holds.
    fn live_figures(&self, entry: &TaskEntry) -> (TaskRecord, LiveFigures) {
        // Read the entry, then let go of it before asking anyone else.
        let (record, elapsed, waited_on) = {
            let s = entry.lock();
            let elapsed = if is_active(s.record.status) {
                s.started.elapsed().as_secs_f64()
            } else {
                s.figures.seconds
            };
            (s.record.clone(), elapsed, s.waiters > 0)
        };
        let doing = if record.status == SessionStatus::Waiting {
            format!("waiting for {} to end", after_list(&record))
        } else if is_active(record.status) {
            self.host
                .doing(&record.child_session_id)
                .unwrap_or_else(|| "starting".into())
        } else {
            "finished".into()
        };
        (
            record,
            LiveFigures {
                elapsed,
                doing,
                waited_on,
            },
        )
    }

    /// A task's record as this process knows it (live when it holds the
    /// task, else as stored), with its live figures.
    pub(crate) fn current(&self, record: TaskRecord) -> (TaskRecord, LiveFigures) {
        match self.table.get(&record.id) {
            Some(entry) => self.live_figures(&entry),
            None => {
                let figures = stored_figures(&record);
                (record, figures)
            }
        }
    }

    /// One task as the API shows it (usage and the child's status read
    /// from the store).
    pub(crate) async fn view(&self, record: TaskRecord) -> Result<TaskView, EngineError> {
        let (record, figures) = self.current(record);
        let store = &self.services.store;
        let child = &record.child_session_id;
        let stored = ChildFigures {
            usage: store.usage_with_descendants(child).await?,
            tool_calls: store.tool_calls_with_descendants(child).await?,
            status: store.get_session(child).await?.map(|c| c.status),
        };
        Ok(view_of(record, figures, stored))
    }

    /// `task_status`: the session's tasks (or the named ones). Results are
    /// left out: they reach the model as notices.
    pub(crate) async fn status(
        &self,
        parent: &SessionId,
        ids: Option<&[String]>,
    ) -> Result<Vec<TaskView>, EngineError> {
        let mut views = Vec::new();
        for entry in self.entries_of(parent, ids)? {
            let record = entry.record();
            views.push(TaskView {
                result: None,
                ..self.view(record).await?
            });
        }
        Ok(views)
    }

    /// The tasks of `parent`, or the named ones, in the order they were
    /// made.
    pub(super) fn entries_of(
        &self,
        parent: &SessionId,
        ids: Option<&[String]>,
    ) -> Result<Vec<Arc<TaskEntry>>, EngineError> {
        match ids {
            Some(ids) if !ids.is_empty() => {
                ids.iter().map(|id| self.owned_entry(parent, id)).collect()
            }
            _ => Ok(self.table.all_of(parent)),
        }
    }

    /// `task_output`: the final answer, or the progress so far.
    pub(crate) async fn output(&self, parent: &SessionId, id: &str) -> Result<String, EngineError> {
        let (record, reason) = {
            let entry = self.owned_entry(parent, id)?;
            let s = entry.lock();
            (s.record.clone(), s.figures.reason.clone())
        };
        if !is_active(record.status) {
            let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
            return Ok(format!(
                "Task {} {}{why}.\n{}",
                record.id,
                record.status,
                record.result.as_deref().unwrap_or("It gave no answer.")
            ));
        }
        let last = self
            .services
            .store
            .last_answer(&record.child_session_id)
            .await?;
        let doing = self
            .host
            .doing(&record.child_session_id)
            .unwrap_or_default();
        Ok(format!(
            "Task {} is {} (now: {doing}).\nLatest from the sub-agent:\n{}",
            record.id,
            record.status,
            last.as_deref().unwrap_or("(nothing yet)")
        ))
    }

    /// What the session is told of its delegated tasks that have not
    /// ended: one line per task, oldest first, without figures that move on
    /// their own (elapsed time), so the same tasks give the same text.
    /// Empty when none is active.
    pub(crate) fn active_tasks_lines(&self, session: &SessionId) -> Vec<String> {
        let mut active = self.table.active_of(session);
        active.sort_by_key(|e| {
            let s = e.lock();
            (s.record.created_at, s.order)
        });
        active
            .iter()
            .map(|e| {
                let s = e.lock();
                let mut line = format!("- {}", s.record.id);
                if let Some(name) = &s.record.name {
                    line.push_str(&format!(" {name}"));
                }
                line.push_str(&format!(
                    " \"{}\" ({}, {})",
                    s.record.description, s.record.agent, s.record.status,
                ));
                if !s.record.after.is_empty() {
                    line.push_str(&format!(", after {}", after_list(&s.record)));
                }
                if !s.record.files.is_empty() {
                    line.push_str(&format!(", claims {}", s.record.files.join(", ")));
                }
                if let Some(worktree) = &s.record.worktree {
                    line.push_str(&format!(", on branch {}", worktree.branch));
                }
                line
            })
            .collect()
    }
}

/// The ids of the tasks a task comes after, comma-separated.
fn after_list(record: &TaskRecord) -> String {
    let ids: Vec<&str> = record.after.iter().map(|id| id.as_str()).collect();
    ids.join(", ")
}

/// Figures of a task this process does not hold (its parent is not live),
/// from what the store says.
fn stored_figures(record: &TaskRecord) -> LiveFigures {
    let elapsed = match (record.started_at, record.ended_at) {
        (Some(start), Some(end)) => (end - start).num_milliseconds().max(0) as f64 / 1000.0,
        _ => 0.0,
    };
    let doing = if is_active(record.status) {
        "starting"
    } else {
        "finished"
    };
    LiveFigures {
        elapsed,
        doing: doing.to_owned(),
        waited_on: false,
    }
}

/// A task's view from its record, its live figures and what its child
/// tree did.
pub(crate) fn view_of(record: TaskRecord, figures: LiveFigures, child: ChildFigures) -> TaskView {
    // A running task whose sub-agent waits for a person shows that.
    let status = match child.status {
        Some(SessionStatus::AwaitingPermission) if record.status == SessionStatus::Running => {
            SessionStatus::AwaitingPermission
        }
        _ => record.status,
    };
    let active = is_active(record.status);
    TaskView {
        provider: record
            .model
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
        isolation: if record.worktree.is_some() {
            "worktree"
        } else {
            "shared"
        }
        .to_owned(),
        branch: record.worktree.as_ref().map(|w| w.branch.clone()),
        // Claims hold only while the task is active.
        claims: if active { record.files } else { Vec::new() },
        elapsed_s: (figures.elapsed * 10.0).round() / 10.0,
        tokens_in: child.usage.input_tokens,
        tokens_out: child.usage.output_tokens,
        cost_usd: child.usage.cost_usd,
        tool_calls: child.tool_calls,
        doing: figures.doing,
        waited_on: figures.waited_on,
        result: record.result,
        name: record.name,
        after: record.after,
        budget: (!record.budget.is_unlimited()).then_some(record.budget),
        task_id: record.id,
        parent_session_id: record.parent_session_id,
        child_session_id: record.child_session_id,
        description: record.description,
        status,
        agent: record.agent,
        model: record.model,
        created_at: record.created_at,
    }
}
