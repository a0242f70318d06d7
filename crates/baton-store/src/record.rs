//! Stored session rows and queries over them.

use baton_protocol::{SessionId, SessionStatus, Timestamp, Usage};
use serde_json::json;

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Its id.
    pub id: SessionId,
    /// The session that delegated to it, if any.
    pub parent_id: Option<SessionId>,
    /// The agent it runs.
    pub agent: String,
    /// Its model, `provider/model`.
    pub model: String,
    /// A short title (may be empty).
    pub title: String,
    /// Its working directory.
    pub cwd: String,
    /// Where it is in its life.
    pub status: SessionStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its own usage (not counting descendants).
    pub usage: Usage,
}

impl SessionRecord {
    /// The record as JSON, in the shape `baton sessions ... --format json`
    /// prints.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "parent_id": self.parent_id,
            "agent": self.agent,
            "model": self.model,
            "title": self.title,
            "cwd": self.cwd,
            "status": self.status,
            "created_at": self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "updated_at": self.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "usage": self.usage,
        })
    }
}

/// Which sessions to list.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// Only sessions in this working directory.
    pub cwd: Option<String>,
    /// Only top-level sessions (no parent).
    pub roots_only: bool,
    /// Only children of this session.
    pub parent: Option<SessionId>,
    /// At most this many (most recent first).
    pub limit: Option<usize>,
}
