//! How hard a reasoning model is asked to think.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How much reasoning to ask a reasoning model for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    /// Little reasoning, fast answers.
    Low,
    /// The usual balance.
    Medium,
    /// Think hard.
    High,
}

impl ReasoningEffort {
    /// The effort's name as written in config, stored, and sent on the
    /// OpenAI wires.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// Reads a name written by [`ReasoningEffort::as_str`]; `None` for
    /// anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in [
            ReasoningEffort::Low,
            ReasoningEffort::Medium,
            ReasoningEffort::High,
        ] {
            assert_eq!(ReasoningEffort::parse(e.as_str()), Some(e));
        }
        assert_eq!(ReasoningEffort::parse("max"), None);
    }
}
