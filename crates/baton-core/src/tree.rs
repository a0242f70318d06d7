//! A session's whole tree in one answer: every session under it, every
//! task of the tree with status and usage, its shells, its pending
//! permission requests and the messages queued for it.

use crate::delegation::{ChildFigures, view_of};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::front::{session_view, shell_view, stored_shell_view};
use baton_protocol::api::{QueuedMessage, SessionTree};
use baton_protocol::{SessionId, Usage};
use baton_store::SessionRecord;
use std::collections::{HashMap, HashSet};

impl Engine {
    /// `root` and everything under it, as it stands now: the root first,
    /// then the sessions under it in the order they were created (spawn
    /// order, whatever order the store keeps), and the tasks in the order
    /// they were created; ties go by id.
    pub async fn tree(&self, root: &SessionId) -> Result<SessionTree, EngineError> {
        // Taken first: every event up to it is for a change already made,
        // so already in what is read next.
        let as_of = self.last_seq();
        let services = self.services();
        let mut records = services
            .store
            .tree(root)
            .await?
            .ok_or_else(|| EngineError::UnknownSession(root.to_string()))?;
        let totals = subtree_totals(&records.sessions);
        records.sessions.sort_by(|a, b| {
            (a.id != *root, a.created_at, &a.id).cmp(&(b.id != *root, b.created_at, &b.id))
        });
        records
            .tasks
            .sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let status: HashMap<&SessionId, _> =
            records.sessions.iter().map(|s| (&s.id, s.status)).collect();
        let tasks = records
            .tasks
            .into_iter()
            .map(|record| {
                let total = totals
                    .get(&record.child_session_id)
                    .cloned()
                    .unwrap_or_default();
                let child = ChildFigures {
                    usage: total.usage,
                    tool_calls: total.tool_calls,
                    status: status.get(&record.child_session_id).copied(),
                };
                let (record, figures) = self.core.tasks.current(record);
                view_of(record, figures, child)
            })
            .collect();
        let members: HashSet<SessionId> = records.sessions.iter().map(|s| s.id.clone()).collect();
        let shells = records
            .shells
            .into_iter()
            .map(|row| match services.shells.get(row.id.as_str()) {
                Some(live) => shell_view(&live),
                None => stored_shell_view(row),
            })
            .collect();
        let permissions = services
            .permissions
            .pending()
            .into_iter()
            .filter(|p| members.contains(&p.session_id))
            .collect();
        let queued = records.inputs.into_iter().map(queued_view).collect();
        let sessions = records
            .sessions
            .into_iter()
            .map(|s| {
                let total = totals.get(&s.id).cloned().unwrap_or_default();
                session_view(s, total.usage, total.tool_calls)
            })
            .collect();
        Ok(SessionTree {
            root: root.clone(),
            sessions,
            tasks,
            shells,
            permissions,
            queued,
            as_of,
        })
    }
}

/// A session's figures with its descendants'.
#[derive(Debug, Clone, Default)]
struct Totals {
    usage: Usage,
    tool_calls: u64,
}

/// Each session's figures with its descendants', from the tree's records
/// (children come after their parents).
fn subtree_totals(sessions: &[SessionRecord]) -> HashMap<SessionId, Totals> {
    let mut totals: HashMap<SessionId, Totals> = sessions
        .iter()
        .map(|s| {
            let own = Totals {
                usage: s.usage,
                tool_calls: s.tool_calls,
            };
            (s.id.clone(), own)
        })
        .collect();
    // Deepest first: add each session's total into its parent's.
    for s in sessions.iter().rev() {
        if let Some(parent) = &s.parent_id
            && let Some(own) = totals.get(&s.id).cloned()
            && let Some(up) = totals.get_mut(parent)
        {
            up.usage += own.usage;
            up.tool_calls += own.tool_calls;
        }
    }
    totals
}

/// A queued input's view.
pub(crate) fn queued_view(input: baton_store::InputRecord) -> QueuedMessage {
    QueuedMessage {
        message_id: input.id,
        session_id: input.session_id,
        text: input.text,
        created_at: input.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::SessionStatus;

    fn record(id: &str, parent: Option<&str>, tokens: u64) -> SessionRecord {
        SessionRecord {
            id: SessionId::from(id),
            parent_id: parent.map(SessionId::from),
            agent: "general".into(),
            model: "m/m".into(),
            title: String::new(),
            cwd: "/".into(),
            status: SessionStatus::Idle,
            created_at: baton_protocol::now(),
            updated_at: baton_protocol::now(),
            usage: Usage {
                input_tokens: tokens,
                ..Usage::default()
            },
            tool_calls: tokens,
            reasoning_effort: None,
            sandbox: None,
        }
    }

    #[test]
    fn totals_add_every_descendant_once() {
        let tree = [
            record("a", None, 1),
            record("b", Some("a"), 10),
            record("c", Some("b"), 100),
            record("d", Some("a"), 1000),
        ];
        let totals = subtree_totals(&tree);
        let tokens = |id: &str| totals[&SessionId::from(id)].usage.input_tokens;
        assert_eq!(tokens("a"), 1111);
        assert_eq!(tokens("b"), 110);
        assert_eq!(tokens("c"), 100);
        assert_eq!(tokens("d"), 1000);
        assert_eq!(totals[&SessionId::from("a")].tool_calls, 1111);
    }
}
