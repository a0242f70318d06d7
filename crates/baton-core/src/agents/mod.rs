//! Agent definitions and permission rules.
//!
//! An agent is a system prompt with limits: where it may run (as the agent
//! a person talks to, as a sub-agent, or both), which model it asks for,
//! which tools it may use and which [permission rules](PermissionRules) it
//! adds. baton has four built in (`build`, `plan`, `general`, `explore`);
//! more come from Markdown files with YAML front matter, in baton's own
//! dialect or in Claude Code's or opencode's, read from the user's and the
//! project's folders ([`AgentDirs`]). [`AgentSet::load`] never fails: a
//! file it cannot use is skipped and reported in [`AgentSet::problems`],
//! and what it had to ignore in a file it did use is reported as a
//! warning.

mod builtin;
mod definition;
mod formats;
mod front_matter;
mod load;
mod pattern;
mod permission;
mod search_path;
mod set;
mod tool_names;

pub use definition::{AgentDef, AgentMode, AgentSource, Format, Origin, Scope};
pub use pattern::{PatternError, PatternRule};
pub use permission::{Action, PermissionRules, ToolRule, Verdict};
pub use search_path::{AgentDir, AgentDirs};
pub use set::{AgentProblem, AgentSet};
