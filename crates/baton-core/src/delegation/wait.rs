//! Waiting for tasks (`task_wait`, `task` with `background: false`): the
//! wait takes the notices of the tasks that end while it waits.

use super::end::notice_text;
use super::table::TaskEntry;
use super::{Delegation, is_active};
use crate::error::EngineError;
use baton_protocol::SessionId;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a wait ended.
pub(crate) struct WaitOutcome {
    /// Results of tasks that ended while waited for (their notices were
    /// consumed: this is how the parent learns of them).
    pub(crate) ended: Vec<String>,
    /// Tasks that had ended before the wait began (their results came or
    /// come as notices).
    pub(crate) already: Vec<String>,
    /// Tasks still running when the wait stopped.
    pub(crate) still_running: Vec<String>,
    /// Why the wait stopped early, if it did.
    pub(crate) interrupted: Option<&'static str>,
}

impl Delegation {
    /// Waits for all (or, with `any`, one) of the tasks to end, at most
    /// `timeout`, stopping early on `cancel` or `to_background`.
    pub(crate) async fn wait(
        &self,
        parent: &SessionId,
        ids: Option<&[String]>,
        any: bool,
        timeout: Option<Duration>,
        cancel: &CancellationToken,
        to_background: Option<&CancellationToken>,
    ) -> Result<WaitOutcome, EngineError> {
        let entries = self.entries_of(parent, ids)?;
        let mut outcome = WaitOutcome {
            ended: Vec::new(),
            already: Vec::new(),
            still_running: Vec::new(),
            interrupted: None,
        };
        let mut waiting: Vec<(Arc<TaskEntry>, u64)> = Vec::new();
        for entry in entries {
            // Registered under the end gate: a task ending now either counts
            // this wait (and its notice is taken by it) or has ended before.
            let gate = entry.end_gate.lock().await;
            let mut s = entry.lock();
            if is_active(s.record.status) {
                s.waiters += 1;
                let generation = *entry.ends.borrow();
                drop(s);
                drop(gate);
                waiting.push((entry, generation));
            } else {
                outcome.already.push(format!(
                    "Task {} already {}; its result came as a notice (task_output shows it again).",
                    s.record.id, s.record.status
                ));
            }
        }
        if !waiting.is_empty() {
            let ends = waiting.iter().map(|(e, generation)| {
                let mut rx = e.ends.subscribe();
                let generation = *generation;
                Box::pin(async move {
                    let _ = rx.wait_for(|n| *n > generation).await;
                })
            });
            let ends: Vec<_> = ends.collect();
            let all_or_any = async {
                if any {
                    futures::future::select_all(ends).await;
                } else {
                    futures::future::join_all(ends).await;
                }
            };
            let never = CancellationToken::new();
            let background = to_background.unwrap_or(&never);
            let limit = timeout.unwrap_or(Duration::MAX);
            tokio::select! {
                () = all_or_any => {}
                () = tokio::time::sleep(limit) => outcome.interrupted = Some("timed out"),
                () = cancel.cancelled() => outcome.interrupted = Some("cancelled"),
                () = background.cancelled() => outcome.interrupted = Some("moved to the background"),
            }
        }
        for (entry, generation) in waiting {
            // Given up under the end gate: a task whose end was decided while
            // this wait counted is seen ended here, with its notice.
            let _gate = entry.end_gate.lock().await;
            let mut s = entry.lock();
            s.waiters = s.waiters.saturating_sub(1);
            if *entry.ends.borrow() > generation {
                // Ended while we waited: its notice was consumed for us.
                outcome.ended.push(notice_text(
                    &s.record,
                    &s.figures,
                    self.services.config.tasks.notice_result_chars,
                ));
            } else {
                outcome.still_running.push(s.record.id.to_string());
            }
        }
        Ok(outcome)
    }
}
