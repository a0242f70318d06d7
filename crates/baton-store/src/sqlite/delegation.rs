//! Rows for tasks, notices and shells.

use super::{fmt_ts, parse_ts};
use crate::{NoticeRecord, ShellRecord, StoreError, TaskRecord, WorktreeRecord};
use baton_protocol::{NoticeKind, SessionId, SessionStatus, ShellId, TaskId};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(super) const TASK_COLUMNS: &str = "id, parent_session_id, child_session_id, description, \
     prompt, agent, model, status, background, created_at, started_at, ended_at, result, files, \
     worktree, name, after, budget";

pub(super) const SHELL_COLUMNS: &str = "id, session_id, command, description, status, exit_code, \
     pid, log_path, started_at, ended_at";

fn opt_ts(s: Option<String>) -> Result<Option<baton_protocol::Timestamp>, StoreError> {
    s.map(|s| parse_ts(&s)).transpose()
}

pub(super) fn task_from_row(row: &Row<'_>) -> rusqlite::Result<Result<TaskRecord, StoreError>> {
    let status: String = row.get(7)?;
    let created: String = row.get(9)?;
    let started: Option<String> = row.get(10)?;
    let ended: Option<String> = row.get(11)?;
    let files: String = row.get(13)?;
    let worktree: Option<String> = row.get(14)?;
    let after: String = row.get(16)?;
    let budget: String = row.get(17)?;
    let base = TaskRecord {
        id: TaskId(row.get(0)?),
        parent_session_id: SessionId(row.get(1)?),
        child_session_id: SessionId(row.get(2)?),
        description: row.get(3)?,
        prompt: row.get(4)?,
        agent: row.get(5)?,
        model: row.get(6)?,
        status: SessionStatus::Queued,
        background: row.get::<_, i64>(8)? != 0,
        created_at: baton_protocol::now(),
        started_at: None,
        ended_at: None,
        result: row.get(12)?,
        files: Vec::new(),
        worktree: None,
        name: row.get(15)?,
        after: Vec::new(),
        budget: Default::default(),
    };
    Ok((|| {
        Ok(TaskRecord {
            status: SessionStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown task status `{status}`")))?,
            created_at: parse_ts(&created)?,
            started_at: opt_ts(started)?,
            ended_at: opt_ts(ended)?,
            files: serde_json::from_str(&files)
                .map_err(|e| StoreError::Corrupt(format!("task files `{files}`: {e}")))?,
            worktree: worktree.as_deref().map(worktree_from_json).transpose()?,
            after: serde_json::from_str::<Vec<String>>(&after)
                .map_err(|e| StoreError::Corrupt(format!("task after `{after}`: {e}")))?
                .into_iter()
                .map(TaskId)
                .collect(),
            budget: serde_json::from_str(&budget)
                .map_err(|e| StoreError::Corrupt(format!("task budget `{budget}`: {e}")))?,
            ..base
        })
    })())
}

pub(super) fn insert_task(conn: &Connection, t: &TaskRecord) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        ),
        params![
            t.id.as_str(),
            t.parent_session_id.as_str(),
            t.child_session_id.as_str(),
            t.description,
            t.prompt,
            t.agent,
            t.model,
            t.status.as_str(),
            i64::from(t.background),
            fmt_ts(&t.created_at),
            t.started_at.as_ref().map(fmt_ts),
            t.ended_at.as_ref().map(fmt_ts),
            t.result,
            files_json(&t.files),
            t.worktree.as_ref().map(worktree_json),
            t.name,
            serde_json::Value::from(
                t.after.iter().map(|id| id.as_str()).collect::<Vec<_>>()
            )
            .to_string(),
            serde_json::to_string(&t.budget)
                .map_err(|e| StoreError::Corrupt(format!("task budget: {e}")))?,
        ],
    )?;
    Ok(())
}

fn files_json(files: &[String]) -> String {
    serde_json::Value::from(files.to_vec()).to_string()
}

fn worktree_json(w: &WorktreeRecord) -> String {
    serde_json::json!({
        "repo_root": w.repo_root,
        "path": w.path,
        "branch": w.branch,
        "base": w.base,
    })
    .to_string()
}

fn worktree_from_json(text: &str) -> Result<WorktreeRecord, StoreError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("task worktree `{text}`: {e}")))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Corrupt(format!("task worktree without `{name}`: {text}")))
    };
    Ok(WorktreeRecord {
        repo_root: field("repo_root")?,
        path: field("path")?,
        branch: field("branch")?,
        base: field("base")?,
    })
}

pub(super) fn update_task(conn: &Connection, t: &TaskRecord) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE tasks SET status = ?2, background = ?3, started_at = ?4, ended_at = ?5, \
         result = ?6, files = ?7, worktree = ?8 WHERE id = ?1",
        params![
            t.id.as_str(),
            t.status.as_str(),
            i64::from(t.background),
            t.started_at.as_ref().map(fmt_ts),
            t.ended_at.as_ref().map(fmt_ts),
            t.result,
            files_json(&t.files),
            t.worktree.as_ref().map(worktree_json),
        ],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(t.id.to_string()));
    }
    Ok(())
}

pub(super) fn query_tasks(
    conn: &Connection,
    where_clause: &str,
    arg: &str,
) -> Result<Vec<TaskRecord>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE {where_clause} ORDER BY created_at, rowid"
    ))?;
    let rows = stmt.query_map([arg], task_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

fn kind_str(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Task => "task",
        NoticeKind::Shell => "shell",
        NoticeKind::System => "system",
        NoticeKind::Message => "message",
    }
}

fn kind_from(s: &str) -> Result<NoticeKind, StoreError> {
    Ok(match s {
        "task" => NoticeKind::Task,
        "shell" => NoticeKind::Shell,
        "system" => NoticeKind::System,
        "message" => NoticeKind::Message,
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown notice kind `{other}`"
            )));
        }
    })
}

pub(super) fn insert_notice(conn: &Connection, n: &NoticeRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO notices (id, session_id, kind, source_id, text, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            n.id.as_str(),
            n.session_id.as_str(),
            kind_str(n.kind),
            n.source_id,
            n.text,
            fmt_ts(&n.created_at),
        ],
    )?;
    Ok(())
}

pub(super) fn pending_notices(
    conn: &Connection,
    session: &SessionId,
) -> Result<Vec<NoticeRecord>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, session_id, kind, source_id, text, created_at FROM notices \
         WHERE session_id = ?1 AND delivered_at IS NULL ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([session.as_str()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, session_id, kind, source_id, text, created) = row?;
        out.push(NoticeRecord {
            id: baton_protocol::NoticeId(id),
            session_id: SessionId(session_id),
            kind: kind_from(&kind)?,
            source_id,
            text,
            created_at: parse_ts(&created)?,
        });
    }
    Ok(out)
}

pub(super) fn mark_delivered(
    conn: &Connection,
    id: &baton_protocol::NoticeId,
    via: &str,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE notices SET delivered_at = ?2, delivered_in = ?3 \
         WHERE id = ?1 AND delivered_at IS NULL",
        params![id.as_str(), fmt_ts(&baton_protocol::now()), via],
    )?;
    Ok(n == 1)
}

pub(super) fn insert_shell(conn: &Connection, s: &ShellRecord) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO shells ({SHELL_COLUMNS}, owner_pid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            s.id.as_str(),
            s.session_id.as_str(),
            s.command,
            s.description,
            s.status,
            s.exit_code,
            s.pid,
            s.log_path,
            fmt_ts(&s.started_at),
            s.ended_at.as_ref().map(fmt_ts),
            std::process::id(),
        ],
    )?;
    Ok(())
}

pub(super) fn update_shell(conn: &Connection, s: &ShellRecord) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE shells SET status = ?2, exit_code = ?3, ended_at = ?4 WHERE id = ?1",
        params![
            s.id.as_str(),
            s.status,
            s.exit_code,
            s.ended_at.as_ref().map(fmt_ts)
        ],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(s.id.to_string()));
    }
    Ok(())
}

pub(super) fn list_shells(
    conn: &Connection,
    session: &SessionId,
) -> Result<Vec<ShellRecord>, StoreError> {
    query_shells(conn, "session_id = ?1", session.as_str())
}

/// Shells matching `where_clause` (over `shells`, one argument `?1`),
/// oldest first.
pub(super) fn query_shells(
    conn: &Connection,
    where_clause: &str,
    arg: &str,
) -> Result<Vec<ShellRecord>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SHELL_COLUMNS} FROM shells WHERE {where_clause} ORDER BY started_at, rowid"
    ))?;
    let rows = stmt.query_map([arg], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<i32>>(5)?,
            r.get::<_, Option<u32>>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, Option<String>>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            id,
            session_id,
            command,
            description,
            status,
            exit_code,
            pid,
            log_path,
            started,
            ended,
        ) = row?;
        out.push(ShellRecord {
            id: ShellId(id),
            session_id: SessionId(session_id),
            command,
            description,
            status,
            exit_code,
            pid,
            log_path,
            started_at: parse_ts(&started)?,
            ended_at: opt_ts(ended)?,
        });
    }
    Ok(out)
}

/// Marks tasks whose child session was interrupted, and shells whose
/// owning process is gone, as `interrupted`; returns those shells' process
/// groups.
pub(super) fn mark_orphans(
    conn: &Connection,
    is_alive: &dyn Fn(u32) -> bool,
    now: &str,
) -> Result<Vec<u32>, StoreError> {
    // A task is active only while the process running its child lives
    // (the child may be idle, its answer given, with the end not yet
    // recorded when the process died).
    let active: Vec<(String, String, Option<i64>)> = {
        let mut stmt = conn.prepare(
            "SELECT t.id, s.status, s.owner_pid FROM tasks t \
             JOIN sessions s ON s.id = t.child_session_id \
             WHERE t.status IN ('running', 'queued', 'waiting', 'awaiting_permission')",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, child_status, owner) in active {
        let alive = owner
            .and_then(|p| u32::try_from(p).ok())
            .is_some_and(is_alive);
        if child_status == "interrupted" || !alive {
            conn.execute(
                "UPDATE tasks SET status = 'interrupted', ended_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
        }
    }
    let running: Vec<(String, Option<i64>, Option<u32>)> = {
        let mut stmt =
            conn.prepare("SELECT id, owner_pid, pid FROM shells WHERE status = 'running'")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut groups = Vec::new();
    for (id, owner, pid) in running {
        let alive = owner
            .and_then(|p| u32::try_from(p).ok())
            .is_some_and(is_alive);
        if !alive {
            conn.execute(
                "UPDATE shells SET status = 'interrupted', ended_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            groups.extend(pid);
        }
    }
    // Nobody will hear the answer to a request of an interrupted session.
    conn.execute(
        "UPDATE permission_requests SET decision = 'withdrawn', answered_at = ?1 \
         WHERE decision IS NULL \
         AND session_id IN (SELECT id FROM sessions WHERE status = 'interrupted')",
        [now],
    )?;
    Ok(groups)
}

pub(super) fn get_task(conn: &Connection, id: &TaskId) -> Result<Option<TaskRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"),
        [id.as_str()],
        task_from_row,
    )
    .optional()?
    .transpose()
}
