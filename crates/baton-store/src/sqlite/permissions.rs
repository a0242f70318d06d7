//! Permission requests and their answers, so that an answer given is kept,
//! "allow always" holds across restarts and a denial's reason reaches the
//! model even when the process died before the call's result was stored.

use super::{SqliteDb, fmt_ts};
use crate::StoreError;
use baton_protocol::{CallId, PermissionAnswer, PermissionId, PermissionRequest, SessionId};
use rusqlite::params;

impl SqliteDb {
    pub(crate) fn add_permission_request(
        &self,
        r: &PermissionRequest,
        root: &SessionId,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO permission_requests (id, session_id, root_id, agent, tool, call_id, \
             detail, pattern, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.id.as_str(),
                r.session_id.as_str(),
                root.as_str(),
                r.agent,
                r.tool,
                r.call_id.as_str(),
                r.detail,
                r.pattern,
                fmt_ts(&r.created_at),
            ],
        )?;
        Ok(())
    }

    pub(crate) fn answer_permission_request(
        &self,
        id: &PermissionId,
        answer: &PermissionAnswer,
    ) -> Result<bool, StoreError> {
        self.decide(id, answer.decision().as_str(), answer.reason())
    }

    pub(crate) fn withdraw_permission_request(
        &self,
        id: &PermissionId,
    ) -> Result<bool, StoreError> {
        self.decide(id, "withdrawn", None)
    }

    /// Records a pending request's outcome; false when it had one.
    fn decide(
        &self,
        id: &PermissionId,
        outcome: &str,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE permission_requests SET decision = ?2, reason = ?3, answered_at = ?4 \
             WHERE id = ?1 AND decision IS NULL",
            params![id.as_str(), outcome, reason, fmt_ts(&baton_protocol::now())],
        )?;
        Ok(n == 1)
    }

    pub(crate) fn permission_denials(
        &self,
        session: &SessionId,
    ) -> Result<Vec<(CallId, Option<String>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT call_id, reason FROM permission_requests \
             WHERE session_id = ?1 AND decision = 'deny' ORDER BY seq",
        )?;
        let rows = stmt.query_map([session.as_str()], |r| {
            Ok((CallId::from(r.get::<_, String>(0)?), r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn permission_grants(
        &self,
        root: &SessionId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT tool, pattern FROM permission_requests \
             WHERE root_id = ?1 AND decision = 'allow_always' ORDER BY seq",
        )?;
        let rows = stmt.query_map([root.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
