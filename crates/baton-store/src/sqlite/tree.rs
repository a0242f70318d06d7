//! Reads over a whole session tree, and a session's last answer, without
//! loading whole conversations.

use super::delegation::{query_shells, query_tasks};
use super::queued::queued_inputs;
use super::{SESSION_COLUMNS, SqliteDb, role_from_str, session_from_row};
use crate::{StoreError, TreeRecords};
use baton_protocol::{Message, MessageId, Part, SessionId};

/// The ids of the session `?1` and every session under it.
const SUBTREE: &str = "WITH RECURSIVE tree(id) AS ( \
     SELECT id FROM sessions WHERE id = ?1 \
     UNION ALL \
     SELECT s.id FROM sessions s JOIN tree t ON s.parent_id = t.id \
 ) SELECT id FROM tree";

impl SqliteDb {
    pub(crate) fn tree(&self, root: &SessionId) -> Result<Option<TreeRecords>, StoreError> {
        let conn = self.conn();
        let sessions = {
            let mut stmt = conn.prepare(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id IN ({SUBTREE}) \
                 ORDER BY id <> ?1, rowid"
            ))?;
            let rows = stmt.query_map([root.as_str()], session_from_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row??);
            }
            out
        };
        if sessions.is_empty() {
            return Ok(None);
        }
        let within = format!("IN ({SUBTREE})");
        Ok(Some(TreeRecords {
            sessions,
            tasks: query_tasks(&conn, &format!("parent_session_id {within}"), root.as_str())?,
            shells: query_shells(&conn, &format!("session_id {within}"), root.as_str())?,
            inputs: queued_inputs(
                &conn,
                &format!("WHERE taken_at IS NULL AND session_id {within}"),
                &[root.as_str()],
            )?,
        }))
    }

    pub(crate) fn last_answer(&self, id: &SessionId) -> Result<Option<String>, StoreError> {
        let conn = self.conn();
        let mut newest_first = conn.prepare(
            "SELECT id, role FROM messages WHERE session_id = ?1 AND role = 'assistant' \
             ORDER BY seq DESC",
        )?;
        let mut parts_of =
            conn.prepare("SELECT data FROM parts WHERE message_id = ?1 ORDER BY idx")?;
        let mut rows = newest_first.query([id.as_str()])?;
        while let Some(row) = rows.next()? {
            let message_id: String = row.get(0)?;
            let role: String = row.get(1)?;
            let parts = parts_of
                .query_map([message_id.as_str()], |r| r.get::<_, String>(0))?
                .map(|data| {
                    let data = data?;
                    serde_json::from_str::<Part>(&data).map_err(super::json_err)
                })
                .collect::<Result<Vec<Part>, StoreError>>()?;
            let mut message = Message::new(id.clone(), role_from_str(&role)?, parts);
            message.id = MessageId(message_id);
            let text = message.text();
            if !text.trim().is_empty() {
                return Ok(Some(text));
            }
        }
        Ok(None)
    }
}
