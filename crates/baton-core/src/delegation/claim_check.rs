//! File claims: a task may claim paths while it runs; no other agent may
//! write or edit them until it ends.

use super::{Delegation, TaskRequest, is_active};
use crate::claims::Claim;
use crate::error::EngineError;
use crate::lineage::Lineage;
use baton_protocol::SessionId;
use baton_store::TaskRecord;
use std::sync::Arc;

impl Delegation {
    /// Compiles a task's `files` and refuses them when a running task claims
    /// any of the same paths.
    pub(super) async fn claim_for(
        &self,
        cwd: &std::path::Path,
        req: &TaskRequest,
    ) -> Result<Option<Arc<Claim>>, EngineError> {
        if req.files.is_empty() {
            return Ok(None);
        }
        if req.worktree {
            return Err(EngineError::Invalid(
            "`files` cannot be combined with isolation \"worktree\": a worktree task has its own \
             copy of every file, so it needs no claims"
                .into(),
        ));
        }
        let claim = Arc::new(Claim::new(cwd, &req.files).map_err(EngineError::Invalid)?);
        let held = self.active_claims();
        let mine = claim.clone();
        let conflict = tokio::task::spawn_blocking(move || {
            held.into_iter()
                .find(|(_, other)| other.overlaps(&mine))
                .map(|(holder, _)| holder)
        })
        .await
        .map_err(|e| EngineError::Invalid(format!("claim check failed: {e}")))?;
        match conflict {
            Some(holder) => Err(EngineError::Invalid(format!(
                "`files` overlaps the files claimed by {holder}, which is still running; wait for \
             it to end (task_wait), narrow `files`, or leave `files` out"
            ))),
            None => Ok(Some(claim)),
        }
    }

    /// Claims of active tasks, with a description of their holder.
    fn active_claims(&self) -> Vec<(String, Arc<Claim>)> {
        self.table
            .lock()
            .values()
            .filter_map(|e| {
                let s = e.lock();
                let claim = s.claim.clone().filter(|_| is_active(s.record.status))?;
                Some((holder_text(&s.record), claim))
            })
            .collect()
    }

    /// The active task, other than `session`'s own and its ancestors', whose
    /// claim covers `path`.
    pub(crate) fn claim_holder(
        &self,
        lineage: &Lineage,
        session: &SessionId,
        path: &std::path::Path,
    ) -> Option<String> {
        self.table.lock().values().find_map(|e| {
            let s = e.lock();
            let claim = s.claim.as_ref()?;
            let mine = lineage.includes(session, &s.record.child_session_id);
            (is_active(s.record.status) && !mine && claim.covers(path))
                .then(|| holder_text(&s.record))
        })
    }
}

/// `task task_x "description" (files: a, b)`.
fn holder_text(record: &TaskRecord) -> String {
    format!(
        "task {} \"{}\" (files: {})",
        record.id,
        record.description,
        record.files.join(", ")
    )
}
