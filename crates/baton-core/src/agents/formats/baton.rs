//! baton's own agent files (`.baton/agents/*.md`):
//!
//! ```markdown
//! ---
//! description: Reviews a change for bugs and missing tests.   # required
//! name: reviewer            # default: the file name without `.md`
//! mode: subagent            # primary | subagent | all (default)
//! model: fast               # provider/model, an alias, or inherit (default)
//! tools: [read, grep, glob] # default: every tool
//! disallowed_tools: [bash]
//! permission:
//!   edit: deny
//!   bash: { "git diff *": allow, "*": ask }
//! temperature: 0.2
//! max_steps: 30
//! reasoning_effort: high    # low | medium | high (reasoning models only)
//! sandbox: read-only        # read-only | workspace-write | off (narrows, never widens)
//! color: blue
//! ---
//! You review changes...
//! ```

use super::{AgentFile, ToolList, model_spec, required_description};
use crate::agents::definition::{AgentDef, AgentMode};
use crate::agents::permission::PermissionRules;
use crate::agents::tool_names::is_builtin;
use serde::Deserialize;

/// The fields baton's files may have.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "mode",
    "model",
    "tools",
    "disallowed_tools",
    "permission",
    "temperature",
    "max_steps",
    "reasoning_effort",
    "sandbox",
    "color",
];

#[derive(Deserialize)]
struct Fields {
    name: Option<String>,
    description: Option<String>,
    mode: Option<AgentMode>,
    model: Option<String>,
    tools: Option<ToolList>,
    disallowed_tools: Option<ToolList>,
    permission: Option<PermissionRules>,
    temperature: Option<f32>,
    max_steps: Option<u32>,
    reasoning_effort: Option<baton_llm::ReasoningEffort>,
    sandbox: Option<baton_protocol::SandboxMode>,
    color: Option<String>,
}

/// Reads a baton agent file. Tool names are kept as written (a tool may
/// come from elsewhere later), with a warning for names baton does not
/// know.
pub(super) fn parse(file: AgentFile<'_>, warnings: &mut Vec<String>) -> Result<AgentDef, String> {
    let fields: Fields = file.front.fields()?;
    file.warn_unknown_fields(FIELDS, warnings);
    let description = required_description(fields.description)?;
    let tools = fields.tools.map(|t| t.0);
    let disallowed_tools = fields.disallowed_tools.map(|t| t.0).unwrap_or_default();
    for tool in tools.iter().flatten().chain(&disallowed_tools) {
        if !is_builtin(tool) {
            warnings.push(format!("`{tool}` is not a built-in tool"));
        }
    }
    Ok(AgentDef {
        name: fields
            .name
            .map(|n| n.trim().to_owned())
            .unwrap_or(file.stem.clone()),
        description,
        prompt: file.prompt(),
        mode: fields.mode.unwrap_or(AgentMode::All),
        model: model_spec(fields.model),
        tools,
        disallowed_tools,
        permission: fields.permission.unwrap_or_default(),
        temperature: fields.temperature,
        max_steps: fields.max_steps,
        reasoning_effort: fields.reasoning_effort,
        sandbox: fields.sandbox,
        color: fields.color,
        source: file.source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::{agent, parse, warned};
    use crate::agents::AgentMode;
    use crate::agents::definition::{Format, Origin, Scope};
    use crate::agents::permission::Action;

    const REVIEWER: &str = "---
description: Reviews a diff for bugs.
mode: subagent
model: inherit
tools: [read, grep, bash, reed]
disallowed_tools: [bash]
permission:
  edit: deny
  bash:
    'git diff *': allow
    '*': ask
temperature: 0.2
reasoning_effort: high
sandbox: read-only
max_steps: 12
color: blue
---

Review the change you are given.
";

    #[test]
    fn every_field_is_read() {
        let (a, warnings) = agent("reviewer", REVIEWER, Format::Baton);
        assert_eq!(a.name, "reviewer");
        assert_eq!(a.description, "Reviews a diff for bugs.");
        assert_eq!(a.prompt, "Review the change you are given.");
        assert_eq!(a.mode, AgentMode::Subagent);
        assert_eq!(a.model, None);
        assert_eq!(
            a.tools.as_deref(),
            Some(&["read", "grep", "bash", "reed"].map(String::from)[..])
        );
        assert_eq!(a.disallowed_tools, ["bash"]);
        assert!(a.allows_tool("read") && !a.allows_tool("bash") && !a.allows_tool("write"));
        let decide = |tool, subject| a.permission.decide(tool, Some(subject)).map(|v| v.action);
        assert_eq!(decide("edit", "a.rs"), Some(Action::Deny));
        assert_eq!(decide("bash", "git diff HEAD"), Some(Action::Allow));
        assert_eq!(decide("bash", "make"), Some(Action::Ask));
        assert_eq!(a.temperature, Some(0.2));
        assert_eq!(a.reasoning_effort, Some(baton_llm::ReasoningEffort::High));
        assert_eq!(a.sandbox, Some(baton_protocol::SandboxMode::ReadOnly));
        assert_eq!(a.max_steps, Some(12));
        assert_eq!(a.color.as_deref(), Some("blue"));
        assert_eq!(a.source.origin, Origin::File);
        assert_eq!(a.source.format, Format::Baton);
        assert_eq!(a.source.scope, Some(Scope::Project));
        assert!(
            warned(&warnings, &["`reed`", "not a built-in tool"]),
            "{warnings:?}"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn defaults_name_mode_model_and_tools() {
        let text = "---\nname: helper\ndescription: Helps.\nmodel: fast\n---\nHelp.";
        let (a, warnings) = agent("file-name", text, Format::Baton);
        assert_eq!(a.name, "helper");
        assert_eq!(a.mode, AgentMode::All);
        assert_eq!(a.model.as_deref(), Some("fast"));
        assert_eq!(a.tools, None);
        assert_eq!(a.sandbox, None);
        assert!(a.disallowed_tools.is_empty() && a.permission.is_empty());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unknown_fields_are_warnings() {
        let text = "---\ndescription: d\ntopP: 1\n---\nPrompt";
        let (_, warnings) = agent("x", text, Format::Baton);
        assert!(warned(&warnings, &["unknown field `topP`"]), "{warnings:?}");
    }

    #[test]
    fn wrong_types_and_bad_rules_are_errors_naming_the_field() {
        let err = parse(
            "x",
            "---\ndescription: d\nmax_steps: lots\n---\n",
            Format::Baton,
        )
        .unwrap_err();
        assert!(err.contains("max_steps") && err.contains("line 3"), "{err}");
        let err = parse("x", "---\ndescription: d\nmode: main\n---\n", Format::Baton).unwrap_err();
        assert!(err.contains("mode") && err.contains("main"), "{err}");
        let text = "---\ndescription: d\nsandbox: none\n---\n";
        let err = parse("x", text, Format::Baton).unwrap_err();
        assert!(
            err.contains("sandbox") && err.contains("workspace-write"),
            "{err}"
        );
        let text = "---\ndescription: d\npermission:\n  bash:\n    'ls [': allow\n---\n";
        let err = parse("x", text, Format::Baton).unwrap_err();
        assert!(err.contains("`bash`") && err.contains("`ls [`"), "{err}");
    }
}
