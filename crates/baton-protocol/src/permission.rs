//! Permission requests: a tool call waiting for someone's approval.

use crate::{CallId, PermissionId, SessionId, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A tool call that waits for approval. Its session is
/// `awaiting_permission` until someone answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PermissionRequest {
    /// The request.
    pub id: PermissionId,
    /// The asking session.
    pub session_id: SessionId,
    /// The asking session's agent.
    pub agent: String,
    /// The tool.
    pub tool: String,
    /// The waiting call.
    pub call_id: CallId,
    /// Exactly what is asked: the command line, the path, the agent.
    pub detail: String,
    /// What "allow always" would allow in this session tree.
    pub pattern: String,
    /// When it was asked.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An answer to a permission request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermissionDecision {
    /// Run this call.
    AllowOnce,
    /// Run this call, and allow what the request's pattern covers for the
    /// rest of the session tree's life.
    AllowAlways,
    /// Do not run it; the model is told it was denied.
    Deny,
}

impl PermissionDecision {
    /// The wire name (`allow_once`, `allow_always`, `deny`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowOnce => "allow_once",
            Self::AllowAlways => "allow_always",
            Self::Deny => "deny",
        }
    }
}

impl fmt::Display for PermissionDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
