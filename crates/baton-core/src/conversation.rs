//! Small helpers over stored conversations: titles, and repairing calls
//! a dead process left without results.

use baton_protocol::{Message, Part, Role};
use std::collections::HashSet;

/// A tool message answering every call of the last assistant message that
/// has no result, or `None` when nothing is missing.
pub(crate) fn results_for_interrupted_calls(history: &[Message]) -> Option<Message> {
    let (index, last) = history
        .iter()
        .enumerate()
        .rev()
        .find(|(_, m)| m.role == Role::Assistant)?;
    let answered: HashSet<&str> = history[index + 1..]
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::ToolResult { call_id, .. } => Some(call_id.as_str()),
            _ => None,
        })
        .collect();
    let missing: Vec<Part> = last
        .tool_calls()
        .filter(|c| !answered.contains(c.call_id.as_str()))
        .map(|c| Part::ToolResult {
            call_id: c.call_id.clone(),
            name: c.name.clone(),
            output: "interrupted: baton stopped while this call ran, so its result is unknown"
                .into(),
            is_error: true,
        })
        .collect();
    (!missing.is_empty()).then(|| Message::new(last.session_id.clone(), Role::Tool, missing))
}

/// A short title from the first message: its first line, at most 60 chars.
pub fn title_from(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangling_calls_of_the_last_answer_get_results() {
        use baton_protocol::{CallId, SessionId, ToolCall};
        let call = |id: &str| {
            Part::ToolCall(ToolCall {
                call_id: CallId::from(id),
                name: "bash".into(),
                arguments: "{}".into(),
            })
        };
        let sid = SessionId::from("s");
        let mut history = vec![
            Message::new(
                sid.clone(),
                Role::User,
                vec![Part::Text { text: "go".into() }],
            ),
            Message::new(sid.clone(), Role::Assistant, vec![call("a"), call("b")]),
        ];
        let fixed = results_for_interrupted_calls(&history).unwrap();
        assert_eq!(fixed.role, Role::Tool);
        assert_eq!(fixed.parts.len(), 2);
        history.push(fixed);
        assert!(results_for_interrupted_calls(&history).is_none());
    }

    #[test]
    fn titles_are_first_line_capped() {
        assert_eq!(title_from("\n  fix the build\nplease"), "fix the build");
        let long = "x".repeat(80);
        assert_eq!(title_from(&long).chars().count(), 61);
    }
}
