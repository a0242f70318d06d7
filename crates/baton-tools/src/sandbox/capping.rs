//! The one rule for a sub-agent's mode: never wider than its parent's.

use baton_protocol::SandboxMode;

/// The mode a sub-agent runs with, and what it asked for when that was
/// wider than it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CappedMode {
    /// The mode it runs with.
    pub mode: SandboxMode,
    /// What it asked for, when that was wider than its parent's (and so
    /// was not granted).
    pub refused: Option<SandboxMode>,
}

/// The mode of a sub-agent that asks for `asked` (`None`: nothing in
/// particular) under a parent running with `parent`: what it asked for
/// when that is as narrow as the parent's or narrower, else the parent's.
/// Asking for nothing inherits the parent's.
pub fn cap_mode(asked: Option<SandboxMode>, parent: SandboxMode) -> CappedMode {
    match asked {
        Some(asked) if asked > parent => CappedMode {
            mode: parent,
            refused: Some(asked),
        },
        Some(asked) => CappedMode {
            mode: asked,
            refused: None,
        },
        None => CappedMode {
            mode: parent,
            refused: None,
        },
    }
}

impl CappedMode {
    /// A sentence for the model when its request was not granted.
    pub fn explanation(&self) -> Option<String> {
        self.refused.map(|asked| {
            format!(
                "It asked for sandbox `{asked}`, which is wider than yours (`{}`), so it runs \
                 with yours at most: a task never gets a wider sandbox than the session that \
                 starts it.",
                self.mode
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SandboxMode::{Off, ReadOnly, WorkspaceWrite};

    const ALL: [SandboxMode; 3] = [ReadOnly, WorkspaceWrite, Off];

    #[test]
    fn a_child_never_gets_a_wider_mode_than_its_parent() {
        for parent in ALL {
            for asked in ALL {
                let capped = cap_mode(Some(asked), parent);
                assert!(capped.mode <= parent, "{asked} under {parent}");
                assert_eq!(capped.mode, asked.min(parent), "{asked} under {parent}");
                assert_eq!(capped.refused.is_some(), asked > parent);
            }
        }
    }

    #[test]
    fn asking_for_nothing_inherits_the_parents() {
        for parent in ALL {
            assert_eq!(
                cap_mode(None, parent),
                CappedMode {
                    mode: parent,
                    refused: None
                }
            );
        }
    }

    #[test]
    fn a_refused_request_is_explained_and_a_granted_one_is_not() {
        let capped = cap_mode(Some(Off), WorkspaceWrite);
        let text = capped.explanation().unwrap_or_default();
        assert!(
            text.contains("asked for sandbox `off`") && text.contains("`workspace-write`"),
            "{text}"
        );
        assert_eq!(cap_mode(Some(ReadOnly), WorkspaceWrite).explanation(), None);
    }
}
