//! opencode's agent files (`.opencode/agent/*.md`, `.opencode/agents/*.md`):
//!
//! ```markdown
//! ---
//! description: Reviews code for quality.   # required
//! mode: subagent                            # primary | subagent | all (default)
//! model: anthropic/claude-sonnet-4
//! temperature: 0.1
//! reasoningEffort: low
//! tools: { write: false, edit: false }      # false: never; true: as usual
//! permission:
//!   edit: deny                              # covers baton's edit and write
//!   bash: { "git diff": allow, "*": ask }
//! steps: 20                                 # or maxSteps
//! color: "#44ba81"
//! disable: false                            # true: the file is skipped
//! ---
//! You are in code review mode...
//! ```
//!
//! The agent is named after the file. Tool names are already lower case;
//! `patch` and `multiedit` become `edit`, `todowrite` becomes `todo_write`.
//! Tools and permissions baton does not have (`webfetch`, `todoread`,
//! wildcards like `mcp_*`) are ignored with a warning.

use super::{AgentFile, model_spec, required_description};
use crate::agents::definition::{AgentDef, AgentMode};
use crate::agents::permission::PermissionRules;
use crate::agents::tool_names::{BUILTIN_TOOLS, push_unique};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The fields baton reads from opencode's files; others (such as `top_p`
/// or `prompt`) are ignored with a warning.
const FIELDS: &[&str] = &[
    "description",
    "mode",
    "model",
    "temperature",
    "tools",
    "permission",
    "maxSteps",
    "steps",
    "reasoningEffort",
    "color",
    "disable",
];

#[derive(Deserialize)]
struct Fields {
    description: Option<String>,
    mode: Option<AgentMode>,
    model: Option<String>,
    temperature: Option<f32>,
    tools: Option<BTreeMap<String, bool>>,
    permission: Option<PermissionRules>,
    #[serde(rename = "maxSteps")]
    max_steps: Option<u32>,
    steps: Option<u32>,
    #[serde(rename = "reasoningEffort")]
    reasoning_effort: Option<baton_llm::ReasoningEffort>,
    color: Option<String>,
    disable: Option<bool>,
}

/// Reads an opencode agent file; `None` when it is disabled.
pub(super) fn parse(
    file: AgentFile<'_>,
    warnings: &mut Vec<String>,
) -> Result<Option<AgentDef>, String> {
    let fields: Fields = file.front.fields()?;
    if fields.disable == Some(true) {
        return Ok(None);
    }
    file.warn_unknown_fields(FIELDS, warnings);
    let description = required_description(fields.description)?;
    let mut disallowed_tools = Vec::new();
    for (name, enabled) in fields.tools.unwrap_or_default() {
        if name.contains('*') {
            warnings.push(format!(
                "tool wildcard `{name}` ignored: list baton's tools one by one"
            ));
            continue;
        }
        match baton_tool(&name) {
            Some(tool) if !enabled => push_unique(&mut disallowed_tools, tool),
            Some(_) => {}
            None => warnings.push(format!("tool `{name}` ignored: baton has no such tool")),
        }
    }
    let permission = fields
        .permission
        .map(|rules| baton_permission(rules, warnings))
        .unwrap_or_default();
    Ok(Some(AgentDef {
        name: file.stem.clone(),
        description,
        prompt: file.prompt(),
        mode: fields.mode.unwrap_or(AgentMode::All),
        model: model_spec(fields.model),
        tools: None,
        disallowed_tools,
        permission,
        temperature: fields.temperature,
        max_steps: fields.steps.or(fields.max_steps),
        reasoning_effort: fields.reasoning_effort,
        sandbox: None,
        color: fields.color,
        source: file.source,
    }))
}

/// baton's name for an opencode tool, if baton has it.
fn baton_tool(opencode: &str) -> Option<&'static str> {
    match opencode {
        "patch" | "multiedit" => Some("edit"),
        "todowrite" => Some("todo_write"),
        name => BUILTIN_TOOLS.iter().copied().find(|t| *t == name),
    }
}

/// opencode's permission rules in baton's terms: `edit` also covers
/// `write`; keys for tools baton does not have are dropped with a warning.
fn baton_permission(rules: PermissionRules, warnings: &mut Vec<String>) -> PermissionRules {
    let mut mapped = PermissionRules::default();
    for (key, rule) in rules.iter() {
        let tool = match key {
            "*" => "*",
            other => match baton_tool(other) {
                Some(tool) => tool,
                None => {
                    warnings.push(format!(
                        "permission for `{key}` ignored: baton has no such tool"
                    ));
                    continue;
                }
            },
        };
        if key == "edit" {
            mapped.set("write", rule.clone());
        }
        mapped.set(tool, rule.clone());
    }
    mapped
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::Parsed;
    use super::super::test_support::{agent, parse, warned};
    use crate::agents::AgentMode;
    use crate::agents::definition::Format;
    use crate::agents::permission::Action;

    const REVIEW: &str = "---
description: Reviews code for best practices
mode: subagent
model: anthropic/claude-sonnet-4-20250514
temperature: 0.1
reasoningEffort: low
tools:
  write: false
  edit: false
  patch: false
  bash: true
  webfetch: false
  todoread: false
  'mcp_*': false
permission:
  edit: deny
  bash:
    'git diff': allow
    '*': ask
  webfetch: deny
steps: 8
top_p: 0.9
---
You are in code review mode.
";

    #[test]
    fn fields_tools_and_permissions_are_mapped() {
        let (a, warnings) = agent("review", REVIEW, Format::OpenCode);
        assert_eq!(a.name, "review");
        assert_eq!(a.description, "Reviews code for best practices");
        assert_eq!(a.prompt, "You are in code review mode.");
        assert_eq!(a.mode, AgentMode::Subagent);
        assert_eq!(
            a.model.as_deref(),
            Some("anthropic/claude-sonnet-4-20250514")
        );
        assert_eq!(a.temperature, Some(0.1));
        assert_eq!(a.reasoning_effort, Some(baton_llm::ReasoningEffort::Low));
        assert_eq!(a.max_steps, Some(8));
        assert_eq!(a.tools, None);
        assert_eq!(a.disallowed_tools, ["edit", "write"]);
        assert!(a.allows_tool("bash") && a.allows_tool("read") && !a.allows_tool("write"));
        let decide = |tool, subject| a.permission.decide(tool, Some(subject)).map(|v| v.action);
        assert_eq!(decide("edit", "a.rs"), Some(Action::Deny));
        assert_eq!(decide("write", "a.rs"), Some(Action::Deny));
        assert_eq!(decide("bash", "git diff --stat"), Some(Action::Allow));
        assert_eq!(decide("bash", "make"), Some(Action::Ask));
        assert_eq!(a.permission.get("webfetch"), None);
        for expected in [
            &["tool `webfetch` ignored"][..],
            &["tool `todoread` ignored"],
            &["wildcard `mcp_*`"],
            &["permission for `webfetch` ignored"],
            &["unknown field `top_p`"],
        ] {
            assert!(warned(&warnings, expected), "{expected:?} in {warnings:?}");
        }
        assert_eq!(warnings.len(), 5, "{warnings:?}");
    }

    #[test]
    fn defaults_and_max_steps() {
        let text = "---\ndescription: d\nmaxSteps: 4\ntools: { todowrite: false }\n---\nP";
        let (a, warnings) = agent("x", text, Format::OpenCode);
        assert_eq!(a.mode, AgentMode::All);
        assert_eq!(a.model, None);
        assert_eq!(a.max_steps, Some(4));
        assert_eq!(a.disallowed_tools, ["todo_write"]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_disabled_file_is_skipped() {
        let text = "---\ndescription: d\ndisable: true\n---\nP";
        assert!(matches!(
            parse("x", text, Format::OpenCode),
            Ok(Parsed::Disabled(_))
        ));
    }

    #[test]
    fn a_tool_flag_must_be_a_boolean() {
        let text = "---\ndescription: d\ntools:\n  bash: maybe\n---\nP";
        let err = parse("x", text, Format::OpenCode).unwrap_err();
        assert!(err.contains("tools"), "{err}");
    }
}
