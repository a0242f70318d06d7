//! Dependencies between tasks: a task named in another's `after` must end
//! before that one starts. The waiting task is `waiting` until then; it
//! starts (or queues for a slot) with the results of what it came after
//! when they all completed, and ends `cancelled`, never started, with the
//! reason when one of them did not.
//!
//! `after` names tasks that exist already (made earlier, or earlier in the
//! same reply: a reply's `task` calls run one at a time, in order), so the
//! graph cannot have a cycle; naming the task itself is refused as one.

use super::table::TaskEntry;
use super::{Delegation, is_active};
use crate::error::EngineError;
use baton_protocol::{EventKind, SessionId, SessionStatus};
use std::sync::Arc;

/// The longest task name.
const MAX_NAME: usize = 64;

impl Delegation {
    /// Checks a new task's `name` and resolves its `after` (names or ids of
    /// `parent`'s tasks) to their entries, each once, in the order given.
    pub(super) fn dependencies(
        &self,
        parent: &SessionId,
        name: Option<&str>,
        after: &[String],
    ) -> Result<Vec<Arc<TaskEntry>>, EngineError> {
        let tasks = self.table.all_of(parent);
        let known = || {
            let names: Vec<String> = tasks.iter().map(|e| label(&e.record())).collect();
            if names.is_empty() {
                "none yet".to_owned()
            } else {
                names.join(", ")
            }
        };
        if let Some(name) = name {
            check_name(name)?;
            if tasks
                .iter()
                .any(|e| e.lock().record.name.as_deref() == Some(name))
            {
                return Err(EngineError::Invalid(format!(
                    "you already have a task named `{name}`; names are unique among your tasks \
                     (yours: {})",
                    known()
                )));
            }
        }
        let mut found: Vec<Arc<TaskEntry>> = Vec::new();
        for wanted in after {
            let wanted = wanted.trim();
            if name == Some(wanted) {
                return Err(EngineError::Invalid(format!(
                    "task `{wanted}` cannot come after itself: that is a cycle, and it would \
                     never start"
                )));
            }
            let entry = tasks.iter().find(|e| {
                let s = e.lock();
                s.record.id.as_str() == wanted || s.record.name.as_deref() == Some(wanted)
            });
            let Some(entry) = entry else {
                return Err(EngineError::Invalid(format!(
                    "`after` names no task of yours: `{wanted}`. Name tasks that exist already \
                     (start a task before the ones that come after it, in the same reply or \
                     earlier), so dependencies cannot form a cycle. Your tasks: {}",
                    known()
                )));
            };
            if !found.iter().any(|f| Arc::ptr_eq(f, entry)) {
                found.push(entry.clone());
            }
        }
        Ok(found)
    }

    /// Waits, in the background, for `after` to end; then starts the task
    /// with their results, or ends it `cancelled` (never started) when one
    /// did not complete, when it is cancelled, or when the engine closes.
    pub(super) fn wait_then_start(
        self: &Arc<Self>,
        entry: &Arc<TaskEntry>,
        after: Vec<Arc<TaskEntry>>,
        prompt: String,
    ) {
        let cancel = entry.new_queue_cancel();
        let closing = self.services.closing.clone();
        let me = Arc::downgrade(self);
        let entry = entry.clone();
        self.watchers.spawn(async move {
            for dep in &after {
                // Subscribed before the status is read: an end between the
                // two still wakes this wait.
                let mut ends = dep.ends.subscribe();
                while is_active(dep.record().status) {
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = closing.cancelled() => break,
                        changed = ends.changed() => if changed.is_err() { break },
                    }
                }
            }
            let Some(me) = me.upgrade() else { return };
            if cancel.is_cancelled() || closing.is_cancelled() {
                me.finish(&entry, Some(SessionStatus::Cancelled)).await;
                return;
            }
            let records: Vec<_> = after.iter().map(|dep| dep.record()).collect();
            if let Some(blocker) = records
                .iter()
                .find(|r| r.status != SessionStatus::Completed)
            {
                entry.lock().reason = Some(format!(
                    "it was not started: task {}{} it comes after ended {}",
                    blocker.id,
                    blocker
                        .name
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default(),
                    blocker.status
                ));
                me.finish(&entry, Some(SessionStatus::Cancelled)).await;
                return;
            }
            let cap = me.services.config.tasks.notice_result_chars;
            let message = first_message(&records, &prompt, cap);
            if let Err(e) = me.leave_waiting(&entry).await {
                tracing::error!("a task could not leave `waiting`: {e}");
                me.finish(&entry, Some(SessionStatus::Failed)).await;
                return;
            }
            if let Err(e) = me.start_or_queue(&entry, message).await {
                tracing::error!("a task whose dependencies ended could not start: {e}");
                me.finish(&entry, Some(SessionStatus::Failed)).await;
            }
        });
    }

    /// Stores that a task no longer waits for its dependencies (it is
    /// queued for a slot, which it may get at once).
    async fn leave_waiting(&self, entry: &TaskEntry) -> Result<(), EngineError> {
        let record = {
            let mut s = entry.lock();
            s.record.status = SessionStatus::Queued;
            s.record.clone()
        };
        self.services.store.update_task(&record).await?;
        self.services
            .store
            .set_status(&record.child_session_id, SessionStatus::Queued)
            .await?;
        self.services.emit(
            &record.child_session_id,
            EventKind::SessionStatus {
                status: SessionStatus::Queued,
            },
        );
        Ok(())
    }
}

/// A task name: 1 to 64 letters, digits, `-`, `_` or `.`.
fn check_name(name: &str) -> Result<(), EngineError> {
    let fits = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.chars().count() > MAX_NAME || !name.chars().all(fits) {
        return Err(EngineError::Invalid(format!(
            "task name `{name}` is not valid: use 1 to {MAX_NAME} letters, digits, `-`, `_` or `.`"
        )));
    }
    Ok(())
}

/// A task as its parent knows it: `name (id)`, or its id.
fn label(record: &baton_store::TaskRecord) -> String {
    match &record.name {
        Some(name) => format!("{name} ({})", record.id),
        None => record.id.to_string(),
    }
}

/// The first message of a task whose dependencies completed: their
/// results (each cut at `cap` characters), then its own prompt.
fn first_message(after: &[baton_store::TaskRecord], prompt: &str, cap: usize) -> String {
    let mut text = String::from("This task comes after these tasks, which have completed:\n");
    for record in after {
        text.push_str(&format!("\n## {}: {}\n", label(record), record.description));
        match &record.result {
            Some(result) => text.push_str(&super::end::capped(result, cap, &record.id)),
            None => text.push_str("It gave no answer."),
        }
        text.push('\n');
    }
    text.push_str("\n## Your task\n");
    text.push_str(prompt);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_words() {
        assert!(check_name("dev-1").is_ok());
        assert!(check_name("qa_after.all").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("two words").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
