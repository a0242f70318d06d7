//! Turning the stored conversation into what a model call sends.

use baton_protocol::{Message, Part, Role};
use std::collections::HashSet;

/// What a tool call that never got a result (the process died between the
/// call and its result) is answered with, so the conversation stays valid.
pub const MISSING_RESULT: &str =
    "interrupted: this call was not completed (the run stopped before it returned)";

/// Returns the conversation with a synthetic error result added for every
/// tool call that has none, right after the message that made the call.
pub fn repair(history: &[Message]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(history.len() + 1);
    let mut i = 0;
    while i < history.len() {
        let msg = &history[i];
        out.push(msg.clone());
        i += 1;
        if msg.role != Role::Assistant || msg.tool_calls().next().is_none() {
            continue;
        }
        let answered: HashSet<&str> = history
            .get(i)
            .filter(|next| next.role == Role::Tool)
            .map(|next| {
                next.parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolResult { call_id, .. } => Some(call_id.as_str()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let missing: Vec<Part> = msg
            .tool_calls()
            .filter(|c| !answered.contains(c.call_id.as_str()))
            .map(|c| Part::ToolResult {
                call_id: c.call_id.clone(),
                name: c.name.clone(),
                output: MISSING_RESULT.into(),
                is_error: true,
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        if let Some(next) = history.get(i).filter(|n| n.role == Role::Tool) {
            let mut merged = next.clone();
            merged.parts.extend(missing);
            out.push(merged);
            i += 1;
        } else {
            out.push(Message::new(msg.session_id.clone(), Role::Tool, missing));
        }
    }
    out
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
    use baton_protocol::{CallId, SessionId, ToolCall};

    fn call(id: &str) -> Part {
        Part::ToolCall(ToolCall {
            call_id: CallId::from(id),
            name: "bash".into(),
            arguments: "{}".into(),
        })
    }

    fn result(id: &str) -> Part {
        Part::ToolResult {
            call_id: CallId::from(id),
            name: "bash".into(),
            output: "ok".into(),
            is_error: false,
        }
    }

    fn msg(role: Role, parts: Vec<Part>) -> Message {
        Message::new(SessionId::from("s"), role, parts)
    }

    #[test]
    fn dangling_calls_get_synthetic_results() {
        let h = vec![
            msg(Role::User, vec![Part::Text { text: "go".into() }]),
            msg(Role::Assistant, vec![call("a"), call("b")]),
            msg(Role::Tool, vec![result("a")]),
            msg(Role::Assistant, vec![call("c")]),
        ];
        let fixed = repair(&h);
        assert_eq!(fixed.len(), 5);
        assert_eq!(
            fixed[2].parts.len(),
            2,
            "b's result merged into a's message"
        );
        assert!(
            matches!(&fixed[2].parts[1], Part::ToolResult { call_id, is_error: true, .. } if call_id.as_str() == "b")
        );
        assert_eq!(fixed[4].role, Role::Tool);
    }

    #[test]
    fn complete_history_is_unchanged() {
        let h = vec![
            msg(Role::User, vec![Part::Text { text: "go".into() }]),
            msg(Role::Assistant, vec![call("a")]),
            msg(Role::Tool, vec![result("a")]),
            msg(
                Role::Assistant,
                vec![Part::Text {
                    text: "done".into(),
                }],
            ),
        ];
        assert_eq!(repair(&h), h);
    }

    #[test]
    fn titles_are_first_line_capped() {
        assert_eq!(title_from("\n  fix the build\nplease"), "fix the build");
        let long = "x".repeat(80);
        assert_eq!(title_from(&long).chars().count(), 61);
    }
}
