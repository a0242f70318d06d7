//! The SQLite implementation of [`Store`]: [`SqliteDb`] does the work
//! synchronously, on one connection; [`SqliteStore`] is the async face
//! the engine holds, which runs every call on a blocking thread.

use crate::migrations::migrate;
use crate::{
    NoticeRecord, SessionQuery, SessionRecord, SettingsChange, ShellRecord, StoreError, TaskRecord,
};
use baton_protocol::{
    Message, MessageId, Part, ReasoningEffort, Role, SandboxMode, SessionId, SessionStatus, TaskId,
    Timestamp, Usage,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

pub use facade::SqliteStore;

/// One SQLite file (WAL mode) and its synchronous operations, safe to
/// share between threads. Every call commits before it returns.
pub(crate) struct SqliteDb {
    conn: Mutex<Connection>,
}

const SESSION_COLUMNS: &str = "id, parent_id, agent, model, title, cwd, status, created_at, \
     updated_at, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, \
     tool_calls, reasoning_tokens, reasoning_effort, sandbox";

/// Creates the database file readable and writable by its owner only (SQLite
/// gives its `-wal` and `-shm` files the database's mode), and tightens
/// files an older baton left readable by others.
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let name = path.as_os_str().to_owned();
        for suffix in ["", "-wal", "-shm"] {
            let mut file = name.clone();
            file.push(suffix);
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl SqliteDb {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            // A missing directory shows up as an open error right below.
            let _ = std::fs::create_dir_all(dir);
        }
        make_private(path).map_err(|source| StoreError::Private {
            path: path.to_path_buf(),
            source,
        })?;
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Self::setup(conn)
    }

    /// A private in-memory database (tests, throwaway runs).
    pub(crate) fn in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back on drop), so a poisoned lock is usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn touch(conn: &Connection, id: &SessionId) -> Result<(), StoreError> {
        let n = conn.execute(
            "UPDATE sessions SET updated_at = ?2 WHERE id = ?1",
            params![id.as_str(), fmt_ts(&baton_protocol::now())],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(())
    }
}

fn fmt_ts(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> Result<Timestamp, StoreError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp `{s}`: {e}")))
}

fn tokens(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<Result<SessionRecord, StoreError>> {
    let status: String = row.get(6)?;
    let created: String = row.get(7)?;
    let updated: String = row.get(8)?;
    let base = (
        row.get::<_, String>(0)?,
        row.get::<_, Option<String>>(1)?,
        row.get::<_, String>(2)?,
        row.get::<_, String>(3)?,
        row.get::<_, String>(4)?,
        row.get::<_, String>(5)?,
    );
    let usage = Usage {
        input_tokens: tokens(row.get(9)?),
        output_tokens: tokens(row.get(10)?),
        cache_read_tokens: tokens(row.get(11)?),
        cache_write_tokens: tokens(row.get(12)?),
        cost_usd: row.get(13)?,
        reasoning_tokens: tokens(row.get(15)?),
    };
    let tool_calls = tokens(row.get(14)?);
    let effort: Option<String> = row.get(16)?;
    let sandbox: Option<String> = row.get(17)?;
    Ok((|| {
        let sandbox = sandbox
            .map(|name| {
                SandboxMode::parse(&name)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown sandbox mode `{name}`")))
            })
            .transpose()?;
        let reasoning_effort = effort
            .map(|name| {
                ReasoningEffort::parse(&name).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown reasoning effort `{name}`"))
                })
            })
            .transpose()?;
        let status = SessionStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown session status `{status}`")))?;
        Ok(SessionRecord {
            id: SessionId(base.0),
            parent_id: base.1.map(SessionId),
            agent: base.2,
            model: base.3,
            title: base.4,
            cwd: base.5,
            status,
            created_at: parse_ts(&created)?,
            updated_at: parse_ts(&updated)?,
            usage,
            tool_calls,
            reasoning_effort,
            sandbox,
        })
    })())
}

fn role_from_str(s: &str) -> Result<Role, StoreError> {
    match s {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        "tool" => Ok(Role::Tool),
        other => Err(StoreError::Corrupt(format!("unknown role `{other}`"))),
    }
}

fn part_kind(part: &Part) -> &'static str {
    match part {
        Part::Text { .. } => "text",
        Part::ToolCall(_) => "tool_call",
        Part::ToolResult { .. } => "tool_result",
        Part::Notice { .. } => "notice",
        Part::Context { .. } => "context",
        Part::Reasoning { .. } => "reasoning",
        Part::Compaction(_) => "compaction",
    }
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl SqliteDb {
    pub(crate) fn create_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO sessions (id, parent_id, agent, model, title, cwd, status, created_at, \
             updated_at, owner_pid, input_tokens, output_tokens, cache_read_tokens, \
             cache_write_tokens, cost_usd, tool_calls, reasoning_tokens, reasoning_effort, \
             sandbox) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18)",
            params![
                s.id.as_str(),
                s.parent_id.as_ref().map(|p| p.as_str()),
                s.agent,
                s.model,
                s.title,
                s.cwd,
                s.status.as_str(),
                fmt_ts(&s.created_at),
                fmt_ts(&s.updated_at),
                s.usage.input_tokens as i64,
                s.usage.output_tokens as i64,
                s.usage.cache_read_tokens as i64,
                s.usage.cache_write_tokens as i64,
                s.usage.cost_usd,
                s.tool_calls as i64,
                s.usage.reasoning_tokens as i64,
                s.reasoning_effort.map(ReasoningEffort::as_str),
                s.sandbox.map(SandboxMode::as_str),
            ],
        )?;
        Ok(())
    }

    pub(crate) fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        conn.query_row(&sql, [id.as_str()], session_from_row)
            .optional()?
            .transpose()
    }

    pub(crate) fn resolve_session_id(&self, prefix: &str) -> Result<SessionId, StoreError> {
        if prefix.is_empty() {
            return Err(StoreError::NotFound(String::new()));
        }
        let conn = self.conn();
        let exact: Option<String> = conn
            .query_row("SELECT id FROM sessions WHERE id = ?1", [prefix], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(id) = exact {
            return Ok(SessionId(id));
        }
        let len = prefix.chars().count() as i64;
        let mut stmt =
            conn.prepare("SELECT id FROM sessions WHERE substr(id, 1, ?2) = ?1 LIMIT 2")?;
        let ids: Vec<String> = stmt
            .query_map(params![prefix, len], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [one] => Ok(SessionId(one.clone())),
            [] => Err(StoreError::NotFound(prefix.to_owned())),
            _ => {
                let count: i64 = conn.query_row(
                    "SELECT COUNT(*) FROM sessions WHERE substr(id, 1, ?2) = ?1",
                    params![prefix, len],
                    |r| r.get(0),
                )?;
                Err(StoreError::Ambiguous {
                    prefix: prefix.to_owned(),
                    count: usize::try_from(count).unwrap_or(usize::MAX),
                })
            }
        }
    }

    pub(crate) fn list_sessions(&self, q: &SessionQuery) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE 1=1");
        let mut args: Vec<String> = Vec::new();
        if let Some(cwd) = &q.cwd {
            args.push(cwd.clone());
            sql.push_str(&format!(" AND cwd = ?{}", args.len()));
        }
        if let Some(parent) = &q.parent {
            args.push(parent.to_string());
            sql.push_str(&format!(" AND parent_id = ?{}", args.len()));
        }
        if q.roots_only {
            sql.push_str(" AND parent_id IS NULL");
        }
        sql.push_str(" ORDER BY updated_at DESC, id DESC");
        if let Some(limit) = q.limit {
            // SQLite's integers are i64; more than that is no limit at all.
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), session_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    pub(crate) fn set_status(
        &self,
        id: &SessionId,
        status: SessionStatus,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE sessions SET status = ?2 WHERE id = ?1",
            params![id.as_str(), status.as_str()],
        )?;
        Self::touch(&conn, id)
    }

    pub(crate) fn fix_system_prompt(
        &self,
        id: &SessionId,
        prompt: &str,
    ) -> Result<String, StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE sessions SET system_prompt = ?2 WHERE id = ?1 AND system_prompt IS NULL",
            params![id.as_str(), prompt],
        )?;
        conn.query_row(
            "SELECT system_prompt FROM sessions WHERE id = ?1",
            [id.as_str()],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten()
        .ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    pub(crate) fn set_title_if_empty(
        &self,
        id: &SessionId,
        title: &str,
    ) -> Result<bool, StoreError> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE sessions SET title = ?2 WHERE id = ?1 AND title = ''",
            params![id.as_str(), title],
        )?;
        if n == 0 {
            return Ok(false);
        }
        Self::touch(&conn, id)?;
        Ok(true)
    }

    pub(crate) fn update_settings(
        &self,
        id: &SessionId,
        change: &SettingsChange,
    ) -> Result<SessionRecord, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Some(model) = &change.model {
            tx.execute(
                "UPDATE sessions SET model = ?2 WHERE id = ?1",
                params![id.as_str(), model],
            )?;
        }
        if let Some(title) = &change.title {
            tx.execute(
                "UPDATE sessions SET title = ?2 WHERE id = ?1",
                params![id.as_str(), title],
            )?;
        }
        if let Some(agent) = &change.agent {
            tx.execute(
                "UPDATE sessions SET agent = ?2, system_prompt = NULL WHERE id = ?1",
                params![id.as_str(), agent],
            )?;
        }
        Self::touch(&tx, id)?;
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        let record = tx.query_row(&sql, [id.as_str()], session_from_row)??;
        tx.commit()?;
        Ok(record)
    }

    pub(crate) fn set_owner(&self, id: &SessionId, pid: Option<u32>) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE sessions SET owner_pid = ?2 WHERE id = ?1",
            params![id.as_str(), pid],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(())
    }

    pub(crate) fn add_usage(&self, id: &SessionId, u: &Usage) -> Result<(), StoreError> {
        let conn = self.conn();
        add_usage_in(&conn, id, u)?;
        Self::touch(&conn, id)
    }

    pub(crate) fn usage_with_descendants(&self, id: &SessionId) -> Result<Usage, StoreError> {
        let conn = self.conn();
        let usage = conn
            .query_row(
                "WITH RECURSIVE tree(id) AS (
                     SELECT id FROM sessions WHERE id = ?1
                     UNION ALL
                     SELECT s.id FROM sessions s JOIN tree t ON s.parent_id = t.id
                 )
                 SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                        COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cache_write_tokens), 0),
                        COALESCE(SUM(cost_usd), 0.0), COUNT(*),
                        COALESCE(SUM(reasoning_tokens), 0)
                 FROM sessions WHERE id IN (SELECT id FROM tree)",
                [id.as_str()],
                |r| {
                    Ok((
                        Usage {
                            input_tokens: tokens(r.get(0)?),
                            output_tokens: tokens(r.get(1)?),
                            cache_read_tokens: tokens(r.get(2)?),
                            cache_write_tokens: tokens(r.get(3)?),
                            cost_usd: r.get(4)?,
                            reasoning_tokens: tokens(r.get(6)?),
                        },
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .map_err(StoreError::from)?;
        if usage.1 == 0 {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(usage.0)
    }

    pub(crate) fn descendants(&self, id: &SessionId) -> Result<Vec<SessionId>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "WITH RECURSIVE tree(id) AS (
                 SELECT id FROM sessions WHERE parent_id = ?1
                 UNION ALL
                 SELECT s.id FROM sessions s JOIN tree t ON s.parent_id = t.id
             )
             SELECT id FROM tree ORDER BY id",
        )?;
        let ids = stmt
            .query_map([id.as_str()], |r| r.get::<_, String>(0))?
            .map(|r| r.map(SessionId))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    pub(crate) fn append_message(&self, m: &Message) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_message(&tx, m)?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn messages(&self, id: &SessionId) -> Result<Vec<Message>, StoreError> {
        read_messages(&self.conn(), id)
    }

    pub(crate) fn tool_calls_with_descendants(&self, id: &SessionId) -> Result<u64, StoreError> {
        let n: i64 = self.conn().query_row(
            "WITH RECURSIVE tree(id) AS (
                 SELECT id FROM sessions WHERE id = ?1
                 UNION ALL
                 SELECT s.id FROM sessions s JOIN tree t ON s.parent_id = t.id
             )
             SELECT COALESCE(SUM(tool_calls), 0) FROM sessions WHERE id IN (SELECT id FROM tree)",
            [id.as_str()],
            |r| r.get(0),
        )?;
        Ok(tokens(n))
    }

    pub(crate) fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        delegation::insert_task(&self.conn(), task)
    }

    pub(crate) fn update_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        delegation::update_task(&self.conn(), task)
    }

    pub(crate) fn finish_task(
        &self,
        task: &TaskRecord,
        notice: &NoticeRecord,
        consumed_via: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        delegation::update_task(&tx, task)?;
        delegation::insert_notice(&tx, notice)?;
        if let Some(via) = consumed_via {
            delegation::mark_delivered(&tx, &notice.id, via)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn get_task(&self, id: &TaskId) -> Result<Option<TaskRecord>, StoreError> {
        delegation::get_task(&self.conn(), id)
    }

    pub(crate) fn list_tasks(&self, parent: &SessionId) -> Result<Vec<TaskRecord>, StoreError> {
        delegation::query_tasks(&self.conn(), "parent_session_id = ?1", parent.as_str())
    }

    pub(crate) fn pending_notices(
        &self,
        session: &SessionId,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        delegation::pending_notices(&self.conn(), session)
    }

    pub(crate) fn deliver_notices(
        &self,
        session: &SessionId,
        notices: &[NoticeRecord],
    ) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut message = Message::new(session.clone(), Role::User, Vec::new());
        for notice in notices {
            if delegation::mark_delivered(&tx, &notice.id, message.id.as_str())? {
                message.parts.push(Part::Notice {
                    kind: notice.kind,
                    source_id: notice.source_id.clone(),
                    text: notice.text.clone(),
                });
            }
        }
        if message.parts.is_empty() {
            return Ok(None);
        }
        insert_message(&tx, &message)?;
        tx.commit()?;
        Ok(Some(message))
    }

    pub(crate) fn create_shell(&self, shell: &ShellRecord) -> Result<(), StoreError> {
        delegation::insert_shell(&self.conn(), shell)
    }

    pub(crate) fn add_notice(&self, notice: &NoticeRecord) -> Result<(), StoreError> {
        delegation::insert_notice(&self.conn(), notice)
    }

    pub(crate) fn end_shell(
        &self,
        shell: &ShellRecord,
        notice: &NoticeRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        delegation::update_shell(&tx, shell)?;
        delegation::insert_notice(&tx, notice)?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn list_shells(&self, session: &SessionId) -> Result<Vec<ShellRecord>, StoreError> {
        delegation::list_shells(&self.conn(), session)
    }

    pub(crate) fn mark_orphans_interrupted(
        &self,
        is_alive: &dyn Fn(u32) -> bool,
    ) -> Result<crate::Orphans, StoreError> {
        self.mark_orphans(is_alive)
    }
}

/// Adds to a session's own usage totals.
fn add_usage_in(conn: &Connection, id: &SessionId, u: &Usage) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET input_tokens = input_tokens + ?2, \
         output_tokens = output_tokens + ?3, cache_read_tokens = cache_read_tokens + ?4, \
         cache_write_tokens = cache_write_tokens + ?5, cost_usd = cost_usd + ?6, \
         reasoning_tokens = reasoning_tokens + ?7 WHERE id = ?1",
        params![
            id.as_str(),
            u.input_tokens as i64,
            u.output_tokens as i64,
            u.cache_read_tokens as i64,
            u.cache_write_tokens as i64,
            u.cost_usd,
            u.reasoning_tokens as i64,
        ],
    )?;
    Ok(())
}

/// Inserts a message and its parts inside the caller's transaction.
fn insert_message(tx: &rusqlite::Transaction<'_>, m: &Message) -> Result<(), StoreError> {
    let seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = ?1",
        [m.session_id.as_str()],
        |r| r.get(0),
    )?;
    let usage = m
        .usage
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(json_err)?;
    tx.execute(
        "INSERT INTO messages (id, session_id, seq, role, created_at, model, usage) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            m.id.as_str(),
            m.session_id.as_str(),
            seq,
            m.role.as_str(),
            fmt_ts(&m.created_at),
            m.model,
            usage,
        ],
    )?;
    for (idx, part) in m.parts.iter().enumerate() {
        let data = serde_json::to_string(part).map_err(json_err)?;
        tx.execute(
            "INSERT INTO parts (message_id, idx, kind, data) VALUES (?1, ?2, ?3, ?4)",
            params![m.id.as_str(), idx as i64, part_kind(part), data],
        )?;
    }
    // The session's totals follow its messages: an answer's usage, a tool
    // message's results.
    if let Some(u) = &m.usage {
        add_usage_in(tx, &m.session_id, u)?;
    }
    let calls = m
        .parts
        .iter()
        .filter(|p| matches!(p, Part::ToolResult { .. }))
        .count();
    if calls > 0 {
        tx.execute(
            "UPDATE sessions SET tool_calls = tool_calls + ?2 WHERE id = ?1",
            params![m.session_id.as_str(), calls as i64],
        )?;
    }
    SqliteDb::touch(tx, &m.session_id)
}

/// A session's messages with their parts, in order.
fn read_messages(conn: &Connection, id: &SessionId) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT m.id, m.role, m.created_at, m.model, m.usage, p.data
             FROM messages m LEFT JOIN parts p ON p.message_id = m.id
             WHERE m.session_id = ?1 ORDER BY m.seq, p.idx",
    )?;
    let mut rows = stmt.query([id.as_str()])?;
    let mut out: Vec<Message> = Vec::new();
    while let Some(row) = rows.next()? {
        let msg_id: String = row.get(0)?;
        if out.last().is_none_or(|m| m.id.as_str() != msg_id) {
            let role: String = row.get(1)?;
            let created: String = row.get(2)?;
            let usage: Option<String> = row.get(4)?;
            out.push(Message {
                id: MessageId(msg_id),
                session_id: id.clone(),
                role: role_from_str(&role)?,
                parts: Vec::new(),
                created_at: parse_ts(&created)?,
                model: row.get(3)?,
                usage: usage
                    .map(|u| serde_json::from_str(&u))
                    .transpose()
                    .map_err(json_err)?,
            });
        }
        if let Some(data) = row.get::<_, Option<String>>(5)? {
            let part: Part = serde_json::from_str(&data).map_err(json_err)?;
            if let Some(last) = out.last_mut() {
                last.parts.push(part);
            }
        }
    }
    Ok(out)
}

impl SqliteDb {
    fn mark_orphans(&self, is_alive: &dyn Fn(u32) -> bool) -> Result<crate::Orphans, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let candidates: Vec<(String, Option<i64>)> = {
            let mut stmt = tx.prepare(
                "SELECT id, owner_pid FROM sessions \
                 WHERE status IN ('running', 'queued', 'waiting', 'awaiting_permission')",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let now = fmt_ts(&baton_protocol::now());
        let mut marked = Vec::new();
        for (id, pid) in candidates {
            let alive = pid
                .and_then(|p| u32::try_from(p).ok())
                .is_some_and(is_alive);
            if !alive {
                tx.execute(
                    "UPDATE sessions SET status = 'interrupted', owner_pid = NULL, \
                     updated_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                marked.push(SessionId(id));
            }
        }
        let shell_groups = delegation::mark_orphans(&tx, is_alive, &now)?;
        tx.commit()?;
        Ok(crate::Orphans {
            sessions: marked,
            shell_groups,
        })
    }
}

mod delegation;
mod facade;
mod permissions;
mod queued;
mod tree;

#[cfg(test)]
mod tests;
