//! Which sandbox a session's commands run in.

use super::SessionActor;
use baton_protocol::SandboxMode;
use baton_tools::SandboxSettings;

impl SessionActor {
    /// The sandbox of this session's commands (see [`session_mode`]).
    pub(super) fn sandbox_settings(&self) -> SandboxSettings {
        let config = &self.services.config.sandbox;
        let mode = session_mode(config.mode, self.record.sandbox, self.agent.sandbox);
        config.settings(mode)
    }
}

/// A session's mode: the one it was started with (`stored`: a task's, its
/// request capped by its parent's), else the config's; never wider than
/// the config's (so narrowing the config narrows sessions started before)
/// nor than its agent's.
pub(crate) fn session_mode(
    config: SandboxMode,
    stored: Option<SandboxMode>,
    agent: Option<SandboxMode>,
) -> SandboxMode {
    let own = stored.map_or(config, |stored| stored.min(config));
    agent.map_or(own, |agent| agent.min(own))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SandboxMode::{Off, ReadOnly, WorkspaceWrite};

    #[test]
    fn a_top_level_session_has_the_configs_mode_narrowed_by_its_agent() {
        assert_eq!(session_mode(WorkspaceWrite, None, None), WorkspaceWrite);
        assert_eq!(session_mode(Off, None, None), Off);
        assert_eq!(session_mode(WorkspaceWrite, None, Some(ReadOnly)), ReadOnly);
        assert_eq!(
            session_mode(WorkspaceWrite, None, Some(Off)),
            WorkspaceWrite,
            "an agent file cannot widen the config's sandbox"
        );
    }

    #[test]
    fn a_tasks_stored_mode_holds_but_never_past_the_config() {
        assert_eq!(session_mode(WorkspaceWrite, Some(ReadOnly), None), ReadOnly);
        assert_eq!(
            session_mode(Off, Some(WorkspaceWrite), None),
            WorkspaceWrite
        );
        assert_eq!(session_mode(ReadOnly, Some(WorkspaceWrite), None), ReadOnly);
        assert_eq!(
            session_mode(Off, Some(WorkspaceWrite), Some(ReadOnly)),
            ReadOnly
        );
    }
}
