//! Messages between the agents of a tree: a sub-agent tells its parent
//! something before it ends (progress, a question), or tells a sibling (a
//! task of the same parent, by name or id). Each message is a stored
//! notice, delivered exactly once like a task's end: into a running
//! session before its next model call, waking an idle one, and to a
//! sibling that has not started yet with its first prompt.

use super::{Delegation, is_active};
use crate::error::EngineError;
use baton_protocol::{NoticeId, NoticeKind, SessionId, SessionStatus};
use baton_store::NoticeRecord;

/// Who a message goes to: `parent`, or a sibling's name or task id.
pub(crate) const PARENT: &str = "parent";

impl Delegation {
    /// Sends `text` from the sub-agent session `from` to its parent or to
    /// a sibling; returns what the tool answers.
    pub(crate) async fn message(
        &self,
        from: &SessionId,
        to: &str,
        text: &str,
    ) -> Result<String, EngineError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EngineError::Invalid("the message is empty".into()));
        }
        let own = self.table.of_child(from).ok_or_else(|| {
            EngineError::Invalid(
                "only a sub-agent can send messages (to its parent or its siblings); a \
                 delegating agent steers its tasks with task_send"
                    .into(),
            )
        })?;
        let me = own.record();
        let sender = match &me.name {
            Some(name) => format!("task {} ({name})", me.id),
            None => format!("task {}", me.id),
        };
        let to = to.trim();
        let (target, started, who) = if to == PARENT {
            (me.parent_session_id.clone(), true, "your parent".to_owned())
        } else {
            let siblings: Vec<_> = self
                .table
                .all_of(&me.parent_session_id)
                .iter()
                .map(|e| e.record())
                .filter(|r| r.id != me.id)
                .collect();
            let record = siblings
                .iter()
                .find(|r| r.id.as_str() == to || r.name.as_deref() == Some(to))
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<String> = siblings
                        .iter()
                        .map(|r| r.name.clone().unwrap_or_else(|| r.id.to_string()))
                        .collect();
                    EngineError::Invalid(format!(
                        "`to` is `{PARENT}` or a sibling task's name or id; there is no `{to}` \
                         (your siblings: {})",
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ))
                })?;
            if !is_active(record.status) {
                return Err(EngineError::Invalid(format!(
                    "task {} has ended ({}); it reads no more messages. Tell your parent \
                     instead (to = \"{PARENT}\")",
                    record.id, record.status
                )));
            }
            let started = !matches!(
                record.status,
                SessionStatus::Queued | SessionStatus::Waiting
            );
            (
                record.child_session_id,
                started,
                format!("task {}", record.id),
            )
        };
        let notice = NoticeRecord {
            id: NoticeId::generate(),
            session_id: target.clone(),
            kind: NoticeKind::Message,
            source_id: format!("message:{}", me.id),
            text: format!("Message from {sender}:\n{text}"),
            created_at: baton_protocol::now(),
        };
        self.services.store.add_notice(&notice).await?;
        // A sibling that has not started reads it with its first prompt,
        // when its session opens.
        if started {
            self.host.deliver(&target, notice).await;
        }
        Ok(format!(
            "Sent to {who}; it reads it before its next model call{}. Go on with your work.",
            if started { "" } else { " (once it starts)" }
        ))
    }
}
