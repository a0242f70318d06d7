//! Versioned schema migrations, tracked in SQLite's `user_version`.

use crate::StoreError;
use rusqlite::Connection;

/// Each entry moves the schema from version `i` to `i + 1`. Append only:
/// never edit a migration that has shipped.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY,
    parent_id          TEXT REFERENCES sessions(id),
    agent              TEXT NOT NULL,
    model              TEXT NOT NULL,
    title              TEXT NOT NULL DEFAULT '',
    cwd                TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    owner_pid          INTEGER,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL NOT NULL DEFAULT 0
);
CREATE INDEX sessions_parent ON sessions(parent_id);
CREATE INDEX sessions_cwd_updated ON sessions(cwd, updated_at);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    seq        INTEGER NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    model      TEXT,
    usage      TEXT,
    UNIQUE (session_id, seq)
);

CREATE TABLE parts (
    message_id TEXT NOT NULL REFERENCES messages(id),
    idx        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (message_id, idx)
);
"#,
    r#"
ALTER TABLE sessions ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;

CREATE TABLE tasks (
    id                TEXT PRIMARY KEY,
    parent_session_id TEXT NOT NULL REFERENCES sessions(id),
    child_session_id  TEXT NOT NULL REFERENCES sessions(id),
    description       TEXT NOT NULL,
    prompt            TEXT NOT NULL,
    agent             TEXT NOT NULL,
    model             TEXT NOT NULL,
    status            TEXT NOT NULL,
    background        INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    ended_at          TEXT,
    result            TEXT
);
CREATE INDEX tasks_parent ON tasks(parent_session_id);
CREATE INDEX tasks_child ON tasks(child_session_id);

CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions(id),
    kind         TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    delivered_at TEXT,
    delivered_in TEXT
);
CREATE INDEX notices_pending ON notices(session_id) WHERE delivered_at IS NULL;

CREATE TABLE shells (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    command     TEXT NOT NULL,
    description TEXT,
    status      TEXT NOT NULL,
    exit_code   INTEGER,
    pid         INTEGER,
    owner_pid   INTEGER,
    log_path    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);
CREATE INDEX shells_session ON shells(session_id);
"#,
    r#"
ALTER TABLE tasks ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN worktree TEXT;
"#,
    r#"
CREATE TABLE inputs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    taken_at   TEXT
);
CREATE INDEX inputs_queued ON inputs(session_id) WHERE taken_at IS NULL;

CREATE TABLE permission_requests (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    root_id     TEXT NOT NULL,
    agent       TEXT NOT NULL,
    tool        TEXT NOT NULL,
    call_id     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    pattern     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    decision    TEXT,
    answered_at TEXT
);
CREATE INDEX permission_requests_root ON permission_requests(root_id);
"#,
    r#"
ALTER TABLE sessions ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN system_prompt TEXT;
"#,
    r#"
ALTER TABLE sessions ADD COLUMN reasoning_effort TEXT;
"#,
    r#"
ALTER TABLE permission_requests ADD COLUMN reason TEXT;
CREATE INDEX permission_requests_session ON permission_requests(session_id);
"#,
    // The sandbox mode a task's session was started with.
    r#"
ALTER TABLE sessions ADD COLUMN sandbox TEXT;
"#,
    // A task's name and the tasks it comes after (a JSON array of ids).
    r#"
ALTER TABLE tasks ADD COLUMN name TEXT;
ALTER TABLE tasks ADD COLUMN after TEXT NOT NULL DEFAULT '[]';
"#,
    // What a task may spend (JSON: max_tokens, max_cost, max_steps).
    r#"
ALTER TABLE tasks ADD COLUMN budget TEXT NOT NULL DEFAULT '{}';
"#,
];

/// The schema version this build writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`LATEST`], each step in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(StoreError::TooNew {
            found: current,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
