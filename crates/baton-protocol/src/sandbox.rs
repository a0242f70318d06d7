//! How far the commands a session runs are confined.

use serde::{Deserialize, Serialize};

/// Where the commands of a session (`bash`, background shells) may write.
///
/// Modes are ordered from the narrowest to the widest (`ReadOnly <
/// WorkspaceWrite < Off`), so the narrower of two is their `min`: a
/// sub-agent runs with the `min` of what it asks for and its parent's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Commands write only to the temp directories and devices such as
    /// `/dev/null`.
    ReadOnly,
    /// Commands also write in the session's working tree and the
    /// configured writable roots (the default).
    WorkspaceWrite,
    /// No sandbox: commands write wherever the user can.
    Off,
}

impl SandboxMode {
    /// The mode's name as written in config and agent files, stored, and
    /// shown to the model.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::WorkspaceWrite => "workspace-write",
            Self::Off => "off",
        }
    }

    /// Reads a name written by [`SandboxMode::as_str`]; `None` for
    /// anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "read-only" => Some(Self::ReadOnly),
            "workspace-write" => Some(Self::WorkspaceWrite),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

impl std::fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ALL: [SandboxMode; 3] = [
        SandboxMode::ReadOnly,
        SandboxMode::WorkspaceWrite,
        SandboxMode::Off,
    ];

    #[test]
    fn names_round_trip_and_match_serde() {
        for mode in ALL {
            assert_eq!(SandboxMode::parse(mode.as_str()), Some(mode));
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
        }
        assert_eq!(SandboxMode::parse("workspace_write"), None);
    }

    #[test]
    fn modes_are_ordered_from_narrowest_to_widest() {
        assert!(SandboxMode::ReadOnly < SandboxMode::WorkspaceWrite);
        assert!(SandboxMode::WorkspaceWrite < SandboxMode::Off);
    }
}
