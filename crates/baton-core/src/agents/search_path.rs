//! Where agent files are looked for, and in which order.

use super::definition::{Format, Scope};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The directories agent files are looked for under.
///
/// Folders are read in this order, each later definition of a name
/// replacing an earlier one (after the built-in agents):
///
/// 1. user scope: `<home>/.claude/agents/`, `<home>/.config/opencode/agent/`,
///    `<home>/.config/opencode/agents/`, `<user_config>/agents/`;
/// 2. project scope: `<project>/.claude/agents/`, `<project>/.opencode/agent/`,
///    `<project>/.opencode/agents/`, `<project>/.baton/agents/`.
///
/// So a project's file wins over a user's file of the same name, and
/// baton's own files win over Claude Code's and opencode's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentDirs {
    /// baton's user config directory (such as `~/.config/baton`), whose
    /// `agents/` folder holds the user's baton agents. `None`: none.
    pub user_config: Option<PathBuf>,
    /// The home directory, for Claude Code's (`~/.claude/agents`) and
    /// opencode's (`~/.config/opencode/agent(s)`) user agents. `None`: none.
    pub home: Option<PathBuf>,
    /// The project directory.
    pub project: PathBuf,
}

/// One folder of agent files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentDir {
    /// The folder.
    pub path: PathBuf,
    /// The dialect of its files.
    pub format: Format,
    /// Whose files they are.
    pub scope: Scope,
}

impl AgentDirs {
    /// The directories for `project`, from the environment: the home
    /// directory from [`std::env::home_dir`], the user config directory
    /// `$XDG_CONFIG_HOME/baton` (when that is set to an absolute path) or
    /// else `~/.config/baton`.
    ///
    /// A caller that keeps its config elsewhere (the platform config
    /// directory, the folder of an explicit config file) sets it instead:
    /// `AgentDirs { user_config: Some(dir), ..AgentDirs::for_project(p) }`.
    pub fn for_project(project: &Path) -> AgentDirs {
        AgentDirs::from_environment(
            project,
            std::env::home_dir(),
            std::env::var_os("XDG_CONFIG_HOME"),
        )
    }

    /// [`AgentDirs::for_project`] with the environment given.
    fn from_environment(
        project: &Path,
        home: Option<PathBuf>,
        xdg_config_home: Option<OsString>,
    ) -> AgentDirs {
        let config_home = xdg_config_home
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        AgentDirs {
            user_config: config_home.map(|dir| dir.join("baton")),
            home,
            project: project.to_path_buf(),
        }
    }

    /// The folders to read, lowest precedence first.
    pub fn search_path(&self) -> Vec<AgentDir> {
        let mut dirs = Vec::new();
        let mut add = |path: PathBuf, format, scope| {
            dirs.push(AgentDir {
                path,
                format,
                scope,
            })
        };
        if let Some(home) = &self.home {
            add(home.join(".claude/agents"), Format::ClaudeCode, Scope::User);
            let opencode = home.join(".config/opencode");
            add(opencode.join("agent"), Format::OpenCode, Scope::User);
            add(opencode.join("agents"), Format::OpenCode, Scope::User);
        }
        if let Some(config) = &self.user_config {
            add(config.join("agents"), Format::Baton, Scope::User);
        }
        let project = &self.project;
        add(
            project.join(".claude/agents"),
            Format::ClaudeCode,
            Scope::Project,
        );
        add(
            project.join(".opencode/agent"),
            Format::OpenCode,
            Scope::Project,
        );
        add(
            project.join(".opencode/agents"),
            Format::OpenCode,
            Scope::Project,
        );
        add(project.join(".baton/agents"), Format::Baton, Scope::Project);
        dirs
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn xdg_config_home_wins_when_absolute() {
        let dirs = AgentDirs::from_environment(
            Path::new("/p"),
            Some("/home/me".into()),
            Some("/xdg".into()),
        );
        assert_eq!(dirs.user_config, Some(PathBuf::from("/xdg/baton")));
        assert_eq!(dirs.home, Some(PathBuf::from("/home/me")));
        let dirs = AgentDirs::from_environment(
            Path::new("/p"),
            Some("/home/me".into()),
            Some("relative".into()),
        );
        assert_eq!(
            dirs.user_config,
            Some(PathBuf::from("/home/me/.config/baton"))
        );
        let dirs = AgentDirs::from_environment(Path::new("/p"), None, Some("".into()));
        assert_eq!(dirs.user_config, None);
    }

    #[test]
    fn search_path_goes_from_user_to_project_and_ends_with_baton() {
        let dirs = AgentDirs {
            user_config: Some("/cfg/baton".into()),
            home: Some("/home/me".into()),
            project: "/p".into(),
        };
        let found: Vec<(String, Format, Scope)> = dirs
            .search_path()
            .into_iter()
            .map(|d| (d.path.display().to_string(), d.format, d.scope))
            .collect();
        let expected = [
            ("/home/me/.claude/agents", Format::ClaudeCode, Scope::User),
            (
                "/home/me/.config/opencode/agent",
                Format::OpenCode,
                Scope::User,
            ),
            (
                "/home/me/.config/opencode/agents",
                Format::OpenCode,
                Scope::User,
            ),
            ("/cfg/baton/agents", Format::Baton, Scope::User),
            ("/p/.claude/agents", Format::ClaudeCode, Scope::Project),
            ("/p/.opencode/agent", Format::OpenCode, Scope::Project),
            ("/p/.opencode/agents", Format::OpenCode, Scope::Project),
            ("/p/.baton/agents", Format::Baton, Scope::Project),
        ];
        let expected: Vec<(String, Format, Scope)> = expected
            .into_iter()
            .map(|(p, f, s)| (p.to_owned(), f, s))
            .collect();
        assert_eq!(found, expected);
        let bare = AgentDirs {
            user_config: None,
            home: None,
            project: "/p".into(),
        };
        assert_eq!(bare.search_path().len(), 4);
    }
}
