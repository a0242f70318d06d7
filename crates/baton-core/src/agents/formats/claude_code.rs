//! Claude Code's sub-agent files (`.claude/agents/*.md`):
//!
//! ```markdown
//! ---
//! name: code-reviewer
//! description: Reviews code; use after every change.
//! tools: Read, Grep, Glob, Bash    # or a list; default: every tool
//! disallowedTools: Write
//! model: sonnet                    # inherit, an alias or a model id
//! color: blue
//! ---
//! You are a senior reviewer...
//! ```
//!
//! They are always sub-agents. Claude tool names are mapped to baton's;
//! tools baton does not have (`WebFetch`, `NotebookEdit`, `mcp__*`, ...)
//! are dropped from the allow list with a warning. A model alias such as
//! `sonnet` is kept as written, for the config's aliases to resolve.

use super::{AgentFile, ToolList, model_spec, required_description};
use crate::agents::definition::{AgentDef, AgentMode};
use crate::agents::permission::PermissionRules;
use crate::agents::tool_names::{BUILTIN_TOOLS, push_unique};
use serde::Deserialize;

/// The fields baton reads from Claude Code's files; others (such as
/// `permissionMode`, `hooks` or `skills`) are ignored with a warning.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "tools",
    "disallowedTools",
    "model",
    "color",
];

#[derive(Deserialize)]
struct Fields {
    name: Option<String>,
    description: Option<String>,
    tools: Option<ToolList>,
    #[serde(rename = "disallowedTools")]
    disallowed_tools: Option<ToolList>,
    model: Option<String>,
    color: Option<String>,
}

/// Reads a Claude Code agent file.
pub(super) fn parse(file: AgentFile<'_>, warnings: &mut Vec<String>) -> Result<AgentDef, String> {
    let fields: Fields = file.front.fields()?;
    file.warn_unknown_fields(FIELDS, warnings);
    let description = required_description(fields.description)?;
    let tools = fields.tools.map(|list| {
        let mut tools = Vec::new();
        for name in &list.0 {
            match baton_tool(name) {
                Some(tool) => push_unique(&mut tools, tool),
                None if has_arguments(name) => warnings.push(format!(
                    "tool `{name}` dropped: baton cannot limit a tool to some arguments here \
                     (use `permission` rules in a baton agent file)"
                )),
                None => warnings.push(format!("tool `{name}` dropped: baton has no such tool")),
            }
        }
        tools
    });
    let mut disallowed_tools = Vec::new();
    for name in fields.disallowed_tools.map(|t| t.0).unwrap_or_default() {
        match baton_tool(&name) {
            Some(tool) => push_unique(&mut disallowed_tools, tool),
            // Disallowing a tool baton does not have changes nothing, but a
            // limit on some arguments cannot be kept.
            None if has_arguments(&name) => warnings.push(format!(
                "disallowed tool `{name}` ignored: baton cannot disallow a tool for some \
                 arguments here (use `permission` rules in a baton agent file)"
            )),
            None => {}
        }
    }
    Ok(AgentDef {
        name: fields
            .name
            .map(|n| n.trim().to_owned())
            .unwrap_or(file.stem.clone()),
        description,
        prompt: file.prompt(),
        mode: AgentMode::Subagent,
        model: model_spec(fields.model),
        tools,
        disallowed_tools,
        permission: PermissionRules::default(),
        temperature: None,
        max_steps: None,
        reasoning_effort: None,
        sandbox: None,
        color: fields.color,
        source: file.source,
    })
}

/// baton's name for a Claude Code tool, if baton has it.
fn baton_tool(claude: &str) -> Option<&'static str> {
    Some(match claude {
        "Read" => "read",
        "Write" => "write",
        "Edit" | "MultiEdit" => "edit",
        "Glob" => "glob",
        "Grep" => "grep",
        "LS" => "list",
        "Bash" => "bash",
        "BashOutput" => "shell_output",
        "KillShell" | "KillBash" => "shell_kill",
        "Task" => "task",
        "TodoWrite" => "todo_write",
        // Already baton's name (written in lower case by hand).
        other => return BUILTIN_TOOLS.iter().copied().find(|t| *t == other),
    })
}

/// Whether a tool entry limits its arguments, like `Bash(git diff:*)`.
fn has_arguments(entry: &str) -> bool {
    entry.ends_with(')') && entry.contains('(')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::{agent, warned};
    use super::{baton_tool, has_arguments};
    use crate::agents::AgentMode;
    use crate::agents::definition::Format;

    const REVIEWER: &str = "---
name: code-reviewer
description: Expert code reviewer. Use after writing code.
tools: Read, Grep, Glob, Bash, MultiEdit, Edit, WebFetch, mcp__github__get_pr
disallowedTools: [Write, NotebookEdit, 'Bash(rm:*)']
model: sonnet
color: red
permissionMode: acceptEdits
---
You are a senior code reviewer.
";

    #[test]
    fn fields_and_tool_names_are_mapped() {
        let (a, warnings) = agent("reviewer", REVIEWER, Format::ClaudeCode);
        assert_eq!(a.name, "code-reviewer");
        assert_eq!(
            a.description,
            "Expert code reviewer. Use after writing code."
        );
        assert_eq!(a.prompt, "You are a senior code reviewer.");
        assert_eq!(a.mode, AgentMode::Subagent);
        assert_eq!(a.model.as_deref(), Some("sonnet"));
        assert_eq!(a.color.as_deref(), Some("red"));
        assert_eq!(
            a.tools.as_deref(),
            Some(&["read", "grep", "glob", "bash", "edit"].map(String::from)[..])
        );
        assert_eq!(a.disallowed_tools, ["write"]);
        assert!(a.permission.is_empty());
        assert!(
            warned(&warnings, &["`WebFetch`", "dropped"]),
            "{warnings:?}"
        );
        assert!(
            warned(&warnings, &["`mcp__github__get_pr`"]),
            "{warnings:?}"
        );
        assert!(warned(&warnings, &["`Bash(rm:*)`"]), "{warnings:?}");
        assert!(
            warned(&warnings, &["unknown field `permissionMode`"]),
            "{warnings:?}"
        );
        assert!(!warned(&warnings, &["NotebookEdit"]), "{warnings:?}");
        assert_eq!(warnings.len(), 4, "{warnings:?}");
    }

    #[test]
    fn inherit_and_missing_tools_mean_the_callers_model_and_every_tool() {
        let text = "---\nname: helper\ndescription: Helps.\nmodel: inherit\n---\nHelp.";
        let (a, warnings) = agent("x", text, Format::ClaudeCode);
        assert_eq!(a.model, None);
        assert_eq!(a.tools, None);
        assert!(a.allows_tool("bash"));
        assert!(warnings.is_empty(), "{warnings:?}");
        let text = "---\ndescription: Helps.\ntools: [Read, Grep]\n---\nHelp.";
        let (a, _) = agent("stem-name", text, Format::ClaudeCode);
        assert_eq!(a.name, "stem-name");
        assert_eq!(
            a.tools.as_deref(),
            Some(&["read", "grep"].map(String::from)[..])
        );
    }

    #[test]
    fn claude_tool_names_map_to_batons() {
        assert_eq!(baton_tool("MultiEdit"), Some("edit"));
        assert_eq!(baton_tool("LS"), Some("list"));
        assert_eq!(baton_tool("KillBash"), Some("shell_kill"));
        assert_eq!(baton_tool("todo_write"), Some("todo_write"));
        assert_eq!(baton_tool("WebFetch"), None);
        assert_eq!(baton_tool("mcp__github__create_issue"), None);
        assert!(has_arguments("Bash(git diff:*)"));
        assert!(!has_arguments("Bash"));
    }
}
