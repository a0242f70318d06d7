//! How a task ends: read what its child did, decide the end, store it and
//! tell the parent, exactly once.

use super::Delegation;
use super::spawn::worktree_of;
use super::table::{Figures, TaskEntry};
use baton_protocol::{EventKind, NoticeId, NoticeKind, SessionStatus, TaskId, Usage};
use baton_store::{NoticeRecord, TaskRecord};
use std::sync::Arc;

/// What the child session's tree did, read from the store.
struct ChildSummary {
    status: Option<SessionStatus>,
    answer: Option<String>,
    usage: Usage,
    tool_calls: u64,
}

impl Delegation {
    /// Records how a task's run ended and tells its parent, exactly once.
    /// `forced`: the end status when the child never ran (cancelled while
    /// queued, failed to start); otherwise it is read from the child.
    ///
    /// The end is one atomic step under the entry's end gate: the status
    /// and whether a waiting call takes the notice are decided, the end is
    /// stored (task, notice, its consumption: one transaction), the
    /// waiters are woken, and the notice goes to the parent unless a
    /// waiter took it. A wait gives up only under the same gate.
    pub(super) async fn finish(
        self: &Arc<Self>,
        entry: &Arc<TaskEntry>,
        forced: Option<SessionStatus>,
    ) {
        let (child, started, task_id, worktree, description) = {
            let s = entry.lock();
            (
                s.record.child_session_id.clone(),
                s.started,
                s.record.id.clone(),
                s.record.worktree.clone(),
                s.record.description.clone(),
            )
        };
        if let Some(status) = forced
            && let Err(e) = self.services.store.set_status(&child, status).await
        {
            tracing::warn!(task = %task_id, "cannot store the child's status: {e}");
        }
        let summary = match self.child_summary(&child).await {
            Ok(summary) => summary,
            Err(e) => {
                tracing::error!(task = %task_id, "cannot read the finished task: {e}");
                ChildSummary {
                    status: Some(SessionStatus::Failed),
                    answer: None,
                    usage: Usage::default(),
                    tool_calls: 0,
                }
            }
        };
        let worktree_note = match worktree {
            Some(w) => {
                let _git = self.git_gate.lock().await;
                Some(finish_worktree(&w, &task_id, &description).await)
            }
            None => None,
        };
        let figures = Figures {
            usage: summary.usage,
            tool_calls: summary.tool_calls,
            seconds: started.elapsed().as_secs_f64(),
            worktree_note,
            reason: entry.lock().reason.take(),
        };
        let _gate = entry.end_gate.lock().await;
        let (record, consumed, parent_work) = {
            let mut s = entry.lock();
            let status = forced.unwrap_or(match summary.status {
                _ if s.over_budget => SessionStatus::Failed,
                _ if s.cancel_requested => SessionStatus::Cancelled,
                Some(SessionStatus::Failed) => SessionStatus::Failed,
                Some(SessionStatus::Cancelled) => SessionStatus::Cancelled,
                _ => SessionStatus::Completed,
            });
            s.record.status = status;
            s.record.ended_at = Some(baton_protocol::now());
            s.record.result = summary.answer;
            s.figures = figures.clone();
            (s.record.clone(), s.waiters > 0, s.parent_work.take())
        };
        let parent = record.parent_session_id.clone();
        if record.status == SessionStatus::Cancelled
            && summary.status != Some(SessionStatus::Cancelled)
            && let Err(e) = self
                .services
                .store
                .set_status(&child, SessionStatus::Cancelled)
                .await
        {
            tracing::warn!("cannot store the cancelled child's status: {e}");
        }
        let notice = NoticeRecord {
            id: NoticeId::generate(),
            session_id: parent.clone(),
            kind: NoticeKind::Task,
            source_id: record.id.to_string(),
            text: notice_text(
                &record,
                &figures,
                self.services.config.tasks.notice_result_chars,
            ),
            created_at: baton_protocol::now(),
        };
        let via = format!("tool:{}", record.id);
        if let Err(e) = self
            .services
            .store
            .finish_task(&record, &notice, consumed.then_some(via.as_str()))
            .await
        {
            tracing::error!(task = %record.id, "cannot store the task's end: {e}");
        }
        // A waiting call takes the notice; otherwise the parent gets it.
        if !consumed {
            self.host.deliver(&parent, notice).await;
        }
        self.services.emit(
            &parent,
            EventKind::TaskCompleted {
                task_id: record.id.to_string(),
                status: record.status,
            },
        );
        // Waiters (calls, and tasks that come after this one) are woken once
        // the end is announced, so what they start comes after it.
        entry.ends.send_modify(|n| *n += 1);
        // The notice holds its own unit of the parent's work now, so the
        // parent cannot look quiet in between.
        drop(parent_work);
    }

    async fn child_summary(
        &self,
        child: &baton_protocol::SessionId,
    ) -> Result<ChildSummary, baton_store::StoreError> {
        let store = &self.services.store;
        Ok(ChildSummary {
            status: store.get_session(child).await?.map(|r| r.status),
            answer: store.last_answer(child).await?,
            usage: store.usage_with_descendants(child).await?,
            tool_calls: store.tool_calls_with_descendants(child).await?,
        })
    }
}

/// Commits what a worktree task changed on its branch and describes it;
/// removes the worktree when nothing changed.
async fn finish_worktree(
    record: &baton_store::WorktreeRecord,
    task: &TaskId,
    description: &str,
) -> String {
    let wt = worktree_of(record);
    match crate::worktree::finish(&wt, &format!("baton {task}: {description}")).await {
        Ok(outcome) if outcome.changed => format!(
            "Its changes are on branch `{}` (worktree {}), not in your tree:\n{}\nMerge them \
             with `git merge {}` when you want them.",
            wt.branch,
            wt.path.display(),
            outcome.diff_stat,
            wt.branch
        ),
        Ok(_) => format!(
            "It changed no files; its worktree and branch `{}` were removed.",
            wt.branch
        ),
        Err(e) => {
            tracing::warn!(task = %task, "cannot finish the task's worktree: {e}");
            format!(
                "Its worktree {} (branch `{}`) could not be finished: {e}",
                wt.path.display(),
                wt.branch
            )
        }
    }
}

/// A task's result cut at `cap` characters, saying where the rest is.
pub(super) fn capped(result: &str, cap: usize, id: &TaskId) -> String {
    let chars = result.chars().count();
    if chars <= cap {
        return result.to_owned();
    }
    let mut text: String = result.chars().take(cap).collect();
    text.push_str(&format!(
        "\n[Result cut at {cap} of {chars} characters: task_output with task_id={id} gives all \
         of it.]"
    ));
    text
}

/// The notice a parent reads when a task ends.
pub(super) fn notice_text(record: &TaskRecord, f: &Figures, cap: usize) -> String {
    let mut text = format!(
        "Task {} \"{}\" ({} on {}) {} after {:.1} s: {} tokens in, {} out, ${:.4}, {} tool call{}.",
        record.id,
        record.description,
        record.agent,
        record.model,
        record.status,
        f.seconds,
        f.usage.input_tokens,
        f.usage.output_tokens,
        f.usage.cost_usd,
        f.tool_calls,
        if f.tool_calls == 1 { "" } else { "s" }
    );
    if let Some(reason) = &f.reason {
        text.push_str(&format!("\nWhy: {reason}."));
    }
    match &record.result {
        Some(result) => {
            text.push_str("\nResult:\n");
            text.push_str(&capped(result, cap, &record.id));
        }
        None => text.push_str("\nIt gave no answer."),
    }
    if let Some(note) = &f.worktree_note {
        text.push('\n');
        text.push_str(note);
    }
    text
}
