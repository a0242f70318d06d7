//! Reading one agent file in one of the three dialects baton understands:
//! its own, Claude Code's and opencode's. Each dialect maps its fields and
//! tool names onto an [`AgentDef`]; what it cannot map becomes a warning.

mod baton;
mod claude_code;
mod opencode;

use super::definition::{AgentDef, AgentSource, Format, Scope};
use super::front_matter::FrontMatter;
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::Path;

/// What reading an agent file gave.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// An agent, and warnings about what was ignored.
    Agent(Box<AgentDef>, Vec<String>),
    /// The file asks not to be loaded; the reason, for the report.
    Disabled(String),
}

/// Reads the agent defined by `text`, the contents of `path`. An error
/// says why the file cannot be loaded.
pub(crate) fn parse_agent_file(
    path: &Path,
    text: &str,
    format: Format,
    scope: Scope,
) -> Result<Parsed, String> {
    let front = FrontMatter::parse(text)?;
    let file = AgentFile {
        stem: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        front,
        source: AgentSource::file(path, format, scope),
    };
    let mut warnings = Vec::new();
    let agent = match format {
        Format::Baton => baton::parse(file, &mut warnings)?,
        Format::ClaudeCode => claude_code::parse(file, &mut warnings)?,
        Format::OpenCode => match opencode::parse(file, &mut warnings)? {
            Some(agent) => agent,
            None => return Ok(Parsed::Disabled("disabled by `disable: true`".to_owned())),
        },
    };
    check_name(&agent.name)?;
    if agent.prompt.is_empty() {
        warnings.push("the prompt (the text after the front matter) is empty".to_owned());
    }
    Ok(Parsed::Agent(Box::new(agent), warnings))
}

/// One agent file, split, with what is known of it before its fields.
struct AgentFile<'a> {
    /// The file name without `.md`: the default agent name.
    stem: String,
    front: FrontMatter<'a>,
    source: AgentSource,
}

impl AgentFile<'_> {
    /// Adds a warning for each field not in `known`.
    fn warn_unknown_fields(&self, known: &[&str], warnings: &mut Vec<String>) {
        for key in self.front.keys().filter(|k| !known.contains(k)) {
            warnings.push(format!(
                "unknown field `{key}` ignored ({} agent files support: {})",
                self.source.format,
                known.join(", ")
            ));
        }
    }

    /// The prompt: the body after the front matter.
    fn prompt(&self) -> String {
        self.front.body.to_owned()
    }
}

/// Checks an agent name: non-empty, without whitespace or `/`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("the agent name is empty".to_owned())
    } else if name.contains(|c: char| c.is_whitespace() || c == '/') {
        Err(format!(
            "invalid agent name `{name}`: names cannot contain spaces or `/` (try `{}`)",
            name.trim()
                .replace(|c: char| c.is_whitespace() || c == '/', "-")
        ))
    } else {
        Ok(())
    }
}

/// The description, which every dialect requires.
fn required_description(description: Option<String>) -> Result<String, String> {
    match description.map(|d| d.trim().to_owned()) {
        Some(d) if !d.is_empty() => Ok(d),
        _ => Err(
            "missing `description`: it tells other agents (and people) what this agent \
                  is for and when to use it"
                .to_owned(),
        ),
    }
}

/// A model field: `inherit` (or nothing) means the caller's model.
fn model_spec(model: Option<String>) -> Option<String> {
    model
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty() && m != "inherit")
}

/// A list of tool names, written as a YAML list or as one comma-separated
/// string (`Read, Grep, Glob`).
#[derive(Debug, Default, PartialEq, Eq)]
struct ToolList(Vec<String>);

impl<'de> Deserialize<'de> for ToolList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ToolListVisitor)
    }
}

struct ToolListVisitor;

impl<'de> Visitor<'de> for ToolListVisitor {
    type Value = ToolList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of tool names, or tool names separated by commas")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ToolList, E> {
        Ok(ToolList(
            value
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ToolList, A::Error> {
        let mut tools = Vec::new();
        while let Some(tool) = seq.next_element::<String>()? {
            let tool = tool.trim();
            if !tool.is_empty() {
                tools.push(tool.to_owned());
            }
        }
        Ok(ToolList(tools))
    }
}

/// Test helpers shared by the dialects' tests.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod test_support {
    use super::*;

    /// Parses `text` as the project file `<stem>.md` of `format`.
    pub(crate) fn parse(stem: &str, text: &str, format: Format) -> Result<Parsed, String> {
        let path = Path::new("/p/.agents").join(format!("{stem}.md"));
        parse_agent_file(&path, text, format, Scope::Project)
    }

    /// Parses a file that must give an agent.
    pub(crate) fn agent(stem: &str, text: &str, format: Format) -> (AgentDef, Vec<String>) {
        match parse(stem, text, format) {
            Ok(Parsed::Agent(agent, warnings)) => (*agent, warnings),
            other => panic!("expected an agent, got {other:?}"),
        }
    }

    /// Whether some warning contains all of `parts`.
    pub(crate) fn warned(warnings: &[String], parts: &[&str]) -> bool {
        warnings.iter().any(|w| parts.iter().all(|p| w.contains(p)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::test_support::{agent, parse};
    use super::*;

    #[test]
    fn files_without_a_usable_name_are_rejected() {
        let text = "---\nname: my agent\ndescription: d\n---\nPrompt";
        let err = parse("x", text, Format::Baton).unwrap_err();
        assert!(err.contains("`my agent`"), "{err}");
        let text = "---\nname: \"\"\ndescription: d\n---\nPrompt";
        assert!(parse("x", text, Format::ClaudeCode).is_err());
    }

    #[test]
    fn an_empty_prompt_is_a_warning() {
        let (_, warnings) = agent("x", "---\ndescription: d\n---\n", Format::Baton);
        assert!(
            warnings.iter().any(|w| w.contains("prompt")),
            "{warnings:?}"
        );
    }

    #[test]
    fn every_dialect_requires_a_description() {
        for format in [Format::Baton, Format::ClaudeCode, Format::OpenCode] {
            let err = parse("x", "---\nmodel: a/b\n---\nPrompt", format).unwrap_err();
            assert!(err.contains("missing `description`"), "{format}: {err}");
        }
    }

    #[test]
    fn tool_lists_read_from_a_string_or_a_list() {
        let from_string: ToolList = yaml_serde::from_str("Read, Grep ,Glob,").unwrap();
        assert_eq!(from_string.0, ["Read", "Grep", "Glob"]);
        let from_list: ToolList = yaml_serde::from_str("[read, grep]").unwrap();
        assert_eq!(from_list.0, ["read", "grep"]);
        assert!(yaml_serde::from_str::<ToolList>("{a: 1}").is_err());
    }

    #[test]
    fn names_must_be_one_word_without_slashes() {
        assert!(check_name("code-reviewer").is_ok());
        assert!(check_name("").is_err());
        let err = check_name("code reviewer").unwrap_err();
        assert!(err.contains("code-reviewer"), "{err}");
        assert!(check_name("a/b").is_err());
    }

    #[test]
    fn inherit_and_empty_models_mean_the_callers() {
        assert_eq!(model_spec(Some("inherit".into())), None);
        assert_eq!(model_spec(Some(" ".into())), None);
        assert_eq!(model_spec(None), None);
        assert_eq!(model_spec(Some("fast".into())).as_deref(), Some("fast"));
    }

    #[test]
    fn descriptions_are_required_and_trimmed() {
        assert_eq!(required_description(Some(" d ".into())).unwrap(), "d");
        assert!(required_description(Some("  ".into())).is_err());
        assert!(
            required_description(None)
                .unwrap_err()
                .contains("missing `description`")
        );
    }
}
