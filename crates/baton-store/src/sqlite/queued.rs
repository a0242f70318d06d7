//! Queued inputs: messages stored for a session before it takes them into
//! its conversation.

use super::{SqliteDb, fmt_ts, insert_message, parse_ts};
use crate::{InputRecord, StoreError};
use baton_protocol::{Message, MessageId, SessionId};
use rusqlite::{Connection, params};

impl SqliteDb {
    pub(crate) fn enqueue_input(&self, input: &InputRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO inputs (id, session_id, text, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                input.id.as_str(),
                input.session_id.as_str(),
                input.text,
                fmt_ts(&input.created_at),
            ],
        )?;
        Ok(())
    }

    pub(crate) fn pending_inputs(
        &self,
        session: &SessionId,
    ) -> Result<Vec<InputRecord>, StoreError> {
        queued_inputs(
            &self.conn(),
            "WHERE session_id = ?1 AND taken_at IS NULL",
            &[session.as_str()],
        )
    }

    pub(crate) fn take_input(&self, message: &Message) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let taken = tx.execute(
            "UPDATE inputs SET taken_at = ?2 WHERE id = ?1 AND taken_at IS NULL",
            params![message.id.as_str(), fmt_ts(&baton_protocol::now())],
        )?;
        if taken == 0 {
            return Ok(false);
        }
        insert_message(&tx, message)?;
        tx.commit()?;
        Ok(true)
    }

    pub(crate) fn withdraw_inputs(
        &self,
        session: &SessionId,
    ) -> Result<Vec<InputRecord>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inputs = queued_inputs(
            &tx,
            "WHERE session_id = ?1 AND taken_at IS NULL",
            &[session.as_str()],
        )?;
        tx.execute(
            "DELETE FROM inputs WHERE session_id = ?1 AND taken_at IS NULL",
            params![session.as_str()],
        )?;
        tx.commit()?;
        Ok(inputs)
    }
}

/// Queued inputs matching `filter` (a `WHERE` clause over `inputs`), in
/// the order they were sent.
pub(super) fn queued_inputs(
    conn: &Connection,
    filter: &str,
    args: &[&str],
) -> Result<Vec<InputRecord>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, session_id, text, created_at FROM inputs {filter} ORDER BY seq"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, session_id, text, created) = row?;
        out.push(InputRecord {
            id: MessageId(id),
            session_id: SessionId(session_id),
            text,
            created_at: parse_ts(&created)?,
        });
    }
    Ok(out)
}
