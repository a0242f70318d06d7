//! How a baton tool call looks to an ACP client: its title, its kind, the
//! files it touches, and for edits the diff.

use agent_client_protocol::v1::schema::{
    Diff, ToolCall, ToolCallContent, ToolCallLocation, ToolCallStatus, ToolKind,
};
use serde_json::Value;

/// A tool call's fixed description, taken from its name and arguments.
#[derive(Debug, Clone)]
pub(crate) struct ToolShape {
    /// One line for people: the command, the path, the pattern.
    pub title: String,
    /// What kind of work it is.
    pub kind: ToolKind,
    /// The arguments as the model gave them (a string when they are not
    /// JSON).
    pub raw_input: Value,
    locations: Vec<ToolCallLocation>,
    diff: Option<Diff>,
}

impl Default for ToolShape {
    fn default() -> Self {
        Self {
            title: String::new(),
            kind: ToolKind::Other,
            raw_input: Value::Null,
            locations: Vec::new(),
            diff: None,
        }
    }
}

impl ToolShape {
    /// The `tool_call` update that announces it.
    pub(crate) fn tool_call(&self, call_id: String) -> ToolCall {
        ToolCall::new(call_id, self.title.clone())
            .kind(self.kind)
            .status(ToolCallStatus::InProgress)
            .raw_input(self.raw_input.clone())
            .locations(self.locations.clone())
            .content(self.content_with(""))
    }

    /// Its content with `output` so far: the diff of an edit, then the
    /// output (when there is some).
    pub(crate) fn content_with(&self, output: &str) -> Vec<ToolCallContent> {
        let mut content = Vec::new();
        if let Some(diff) = &self.diff {
            content.push(ToolCallContent::from(diff.clone()));
        }
        if !output.is_empty() {
            content.push(ToolCallContent::from(output));
        }
        content
    }
}

/// Describes a call of tool `name` with JSON `arguments`.
pub(crate) fn shape(name: &str, arguments: &str) -> ToolShape {
    let raw_input: Value =
        serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_owned()));
    let field = |key: &str| {
        raw_input
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let path = field("path");
    let locations = path
        .iter()
        .map(|p| ToolCallLocation::new(p.clone()))
        .collect();
    let (kind, title, diff) = match name {
        "bash" => (
            ToolKind::Execute,
            field("command").unwrap_or_else(|| "bash".into()),
            None,
        ),
        "read" | "list" => (ToolKind::Read, titled(name, path.as_deref()), None),
        "edit" => (
            ToolKind::Edit,
            titled(name, path.as_deref()),
            path.as_ref().map(|p| {
                Diff::new(p.clone(), field("new_string").unwrap_or_default())
                    .old_text(field("old_string"))
            }),
        ),
        "write" => (
            ToolKind::Edit,
            titled(name, path.as_deref()),
            path.as_ref()
                .map(|p| Diff::new(p.clone(), field("content").unwrap_or_default())),
        ),
        "grep" | "glob" => (
            ToolKind::Search,
            match field("pattern") {
                Some(p) => format!("{name} {p}"),
                None => name.to_owned(),
            },
            None,
        ),
        "task" => (
            ToolKind::Think,
            match field("description") {
                Some(d) => format!("task: {d}"),
                None => "task".into(),
            },
            None,
        ),
        other => (ToolKind::Other, other.to_owned(), None),
    };
    ToolShape {
        title,
        kind,
        raw_input,
        locations,
        diff,
    }
}

fn titled(name: &str, path: Option<&str>) -> String {
    match path {
        Some(p) => format!("{name} {p}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_that_are_not_json_are_kept_as_a_string() {
        let s = shape("bash", "{not json");
        assert_eq!(s.raw_input, Value::String("{not json".into()));
        assert_eq!(s.title, "bash");
        assert!(s.content_with("").is_empty());
    }

    #[test]
    fn a_write_is_a_diff_from_nothing() {
        let s = shape("write", r#"{"path":"n.txt","content":"hi"}"#);
        let content = serde_json::to_value(s.content_with("")).unwrap_or_default();
        assert_eq!(content[0]["type"], "diff");
        assert_eq!(content[0]["newText"], "hi");
        assert!(content[0].get("oldText").is_none_or(Value::is_null));
    }
}
