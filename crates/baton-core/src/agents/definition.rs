//! What an agent is: its prompt, where it may run, its model, its tools and
//! its permission rules, and where its definition came from.

use super::permission::PermissionRules;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// One agent, built in or read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDef {
    /// The name sessions and the `task` tool refer to it by: non-empty,
    /// without whitespace or `/`.
    pub name: String,
    /// What it is for (what a delegating agent reads to choose it).
    pub description: String,
    /// The agent's part of the system prompt.
    pub prompt: String,
    /// Where it may run: as a primary agent, as a sub-agent, or both.
    pub mode: AgentMode,
    /// The model it asks for, as written: `provider/model` or an alias,
    /// not yet resolved. `None`: it uses its caller's model.
    pub model: Option<String>,
    /// The tools it may use; `None`: every tool.
    pub tools: Option<Vec<String>>,
    /// Tools it may never use, whatever [`AgentDef::tools`] says.
    pub disallowed_tools: Vec<String>,
    /// Its permission rules, added to the config's (the strictest wins).
    pub permission: PermissionRules,
    /// Sampling temperature; `None`: the provider's default.
    pub temperature: Option<f32>,
    /// Overrides the configured step limit.
    pub max_steps: Option<u32>,
    /// How hard a reasoning model thinks for it; `None`: `[agent]
    /// reasoning_effort`, else the provider's default.
    pub reasoning_effort: Option<baton_llm::ReasoningEffort>,
    /// The sandbox its commands run in, when narrower than it would have
    /// otherwise (the config's, or its parent's); `None`: that one. An
    /// agent can narrow the sandbox, never widen it.
    pub sandbox: Option<baton_protocol::SandboxMode>,
    /// A display color for front ends, as written (`blue`, `#ff8800`).
    pub color: Option<String>,
    /// Where the definition came from.
    pub source: AgentSource,
}

impl AgentDef {
    /// Whether a person can talk to it directly.
    pub fn is_primary(&self) -> bool {
        matches!(self.mode, AgentMode::Primary | AgentMode::All)
    }

    /// Whether other agents can delegate to it.
    pub fn is_subagent(&self) -> bool {
        matches!(self.mode, AgentMode::Subagent | AgentMode::All)
    }

    /// Whether it may use `tool`: in its allow list when it has one, and
    /// not in its disallowed list.
    pub fn allows_tool(&self, tool: &str) -> bool {
        let listed = self
            .tools
            .as_ref()
            .is_none_or(|tools| tools.iter().any(|t| t == tool));
        listed && !self.disallowed_tools.iter().any(|t| t == tool)
    }
}

/// Where an agent may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentMode {
    /// Only as the agent a person talks to.
    Primary,
    /// Only as a sub-agent that others delegate to.
    Subagent,
    /// Either.
    All,
}

impl AgentMode {
    /// The mode's name as agent files write it: `primary`, `subagent`
    /// or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentMode::Primary => "primary",
            AgentMode::Subagent => "subagent",
            AgentMode::All => "all",
        }
    }
}

/// Where an agent definition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSource {
    /// Built in, or read from a file.
    pub origin: Origin,
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// The file's dialect (built-in agents count as baton's).
    pub format: Format,
    /// Whether the file is the user's or the project's; `None` for
    /// built-in agents.
    pub scope: Option<Scope>,
}

impl AgentSource {
    /// The source of a built-in agent.
    pub fn builtin() -> AgentSource {
        AgentSource {
            origin: Origin::Builtin,
            path: None,
            format: Format::Baton,
            scope: None,
        }
    }

    /// The source of an agent read from `path`.
    pub fn file(path: impl Into<PathBuf>, format: Format, scope: Scope) -> AgentSource {
        AgentSource {
            origin: Origin::File,
            path: Some(path.into()),
            format,
            scope: Some(scope),
        }
    }
}

/// `built-in`, or the scope, the file and its dialect:
/// `project .claude/agents/x.md (Claude Code)`. Project files are shown
/// from the project directory (the agent folder and the file), user files
/// with their whole path.
impl fmt::Display for AgentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(path) = &self.path else {
            return f.write_str("built-in");
        };
        let shown = match self.scope {
            Some(Scope::Project) => last_components(path, 3),
            _ => path.clone(),
        };
        if let Some(scope) = self.scope {
            write!(f, "{scope} ")?;
        }
        write!(f, "{} ({})", shown.display(), self.format)
    }
}

/// The last `n` components of a path (`.claude/agents/x.md`).
fn last_components(path: &Path, n: usize) -> PathBuf {
    let all: Vec<_> = path.components().collect();
    all[all.len().saturating_sub(n)..].iter().collect()
}

/// Whether an agent is built in or comes from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Compiled into baton.
    Builtin,
    /// Read from an agent file.
    File,
}

/// The dialect of an agent file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// baton's own (`.baton/agents/*.md`).
    Baton,
    /// Claude Code's (`.claude/agents/*.md`).
    ClaudeCode,
    /// opencode's (`.opencode/agent/*.md`, `.opencode/agents/*.md`).
    OpenCode,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Baton => "baton",
            Format::ClaudeCode => "Claude Code",
            Format::OpenCode => "opencode",
        })
    }
}

/// Whose an agent file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The user's, for every project (under the home or config directory).
    User,
    /// The project's (under the project directory); wins over the user's.
    Project,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::User => "user",
            Scope::Project => "project",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn agent(tools: Option<&[&str]>, disallowed: &[&str]) -> AgentDef {
        AgentDef {
            name: "a".into(),
            description: "d".into(),
            prompt: String::new(),
            mode: AgentMode::All,
            model: None,
            tools: tools.map(|t| t.iter().map(|s| s.to_string()).collect()),
            disallowed_tools: disallowed.iter().map(|s| s.to_string()).collect(),
            permission: PermissionRules::default(),
            temperature: None,
            max_steps: None,
            reasoning_effort: None,
            sandbox: None,
            color: None,
            source: AgentSource::builtin(),
        }
    }

    #[test]
    fn allows_tool_follows_the_allow_and_disallowed_lists() {
        let all = agent(None, &[]);
        assert!(all.allows_tool("bash") && all.allows_tool("anything"));
        let listed = agent(Some(&["read", "grep"]), &[]);
        assert!(listed.allows_tool("read"));
        assert!(!listed.allows_tool("bash"));
        let both = agent(Some(&["read", "bash"]), &["bash"]);
        assert!(both.allows_tool("read"));
        assert!(!both.allows_tool("bash"));
        let denied = agent(None, &["write"]);
        assert!(!denied.allows_tool("write") && denied.allows_tool("edit"));
        let none = agent(Some(&[]), &[]);
        assert!(!none.allows_tool("read"));
    }

    #[test]
    fn modes_decide_where_an_agent_runs() {
        let mut a = agent(None, &[]);
        assert!(a.is_primary() && a.is_subagent());
        a.mode = AgentMode::Primary;
        assert!(a.is_primary() && !a.is_subagent());
        a.mode = AgentMode::Subagent;
        assert!(!a.is_primary() && a.is_subagent());
    }

    #[test]
    fn mode_names_match_their_serde_names() {
        for mode in [AgentMode::Primary, AgentMode::Subagent, AgentMode::All] {
            let json = serde_json::to_value(mode).unwrap();
            assert_eq!(json, mode.as_str());
        }
    }

    #[test]
    fn sources_display_briefly() {
        assert_eq!(AgentSource::builtin().to_string(), "built-in");
        let project = AgentSource::file(
            "/home/me/proj/.claude/agents/x.md",
            Format::ClaudeCode,
            Scope::Project,
        );
        assert_eq!(
            project.to_string(),
            "project .claude/agents/x.md (Claude Code)"
        );
        let user = AgentSource::file(
            "/home/me/.config/baton/agents/y.md",
            Format::Baton,
            Scope::User,
        );
        assert_eq!(
            user.to_string(),
            "user /home/me/.config/baton/agents/y.md (baton)"
        );
    }
}
