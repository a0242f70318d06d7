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

/// A whole answer to a permission request: the decision, and for a
/// denial the reason the person gave, which the model reads in the
/// denied call's result. Only a denial carries a reason, so an answer
/// that allows with a reason cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PermissionAnswer {
    /// Run this call.
    AllowOnce,
    /// Run this call, and allow what the request's pattern covers for the
    /// rest of the session tree's life.
    AllowAlways,
    /// Do not run it; the model is told it was denied, and why when a
    /// reason is given.
    Deny {
        /// Why, in the person's words.
        reason: Option<String>,
    },
}

impl PermissionAnswer {
    /// A denial with the person's reason (none when it is only white
    /// space).
    pub fn deny_because(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::Deny {
            reason: (!reason.trim().is_empty()).then_some(reason),
        }
    }

    /// The decision alone.
    pub fn decision(&self) -> PermissionDecision {
        match self {
            Self::AllowOnce => PermissionDecision::AllowOnce,
            Self::AllowAlways => PermissionDecision::AllowAlways,
            Self::Deny { .. } => PermissionDecision::Deny,
        }
    }

    /// The reason given with a denial.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Deny { reason } => reason.as_deref(),
            Self::AllowOnce | Self::AllowAlways => None,
        }
    }
}

impl From<PermissionDecision> for PermissionAnswer {
    /// The answer a bare decision gives (a denial without a reason).
    fn from(decision: PermissionDecision) -> Self {
        match decision {
            PermissionDecision::AllowOnce => Self::AllowOnce,
            PermissionDecision::AllowAlways => Self::AllowAlways,
            PermissionDecision::Deny => Self::Deny { reason: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_denial_carries_a_reason_and_blank_reasons_are_none() {
        let why = PermissionAnswer::deny_because("use the staging database");
        assert_eq!(why.decision(), PermissionDecision::Deny);
        assert_eq!(why.reason(), Some("use the staging database"));
        assert_eq!(
            PermissionAnswer::deny_because(" \n\t"),
            PermissionAnswer::Deny { reason: None }
        );
        assert_eq!(
            PermissionAnswer::from(PermissionDecision::AllowAlways).reason(),
            None
        );
        assert_eq!(
            PermissionAnswer::from(PermissionDecision::Deny),
            PermissionAnswer::Deny { reason: None }
        );
    }
}
