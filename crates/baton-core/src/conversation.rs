//! Small helpers over stored conversations: titles, and repairing calls
//! a dead process left without results.

use crate::permissions::denial;
use baton_protocol::{CallId, Message, Part, Role};
use std::collections::HashSet;

/// A tool message answering every call of the last assistant message that
/// has no result, or `None` when nothing is missing. A call the person
/// denied (one of `denials`, with the reason they gave) was not run, and
/// its result says so; the others' results are unknown.
pub(crate) fn results_for_interrupted_calls(
    history: &[Message],
    denials: &[(CallId, Option<String>)],
) -> Option<Message> {
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
            output: match denials.iter().find(|(id, _)| *id == c.call_id) {
                Some((_, reason)) => denial(&format!("`{}`", c.name), reason.as_deref()),
                None => "interrupted: baton stopped while this call ran, so its result is unknown"
                    .into(),
            },
            is_error: true,
            images: Vec::new(),
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
        use baton_protocol::{SessionId, ToolCall};
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
        let fixed = results_for_interrupted_calls(&history, &[]).unwrap();
        assert_eq!(fixed.role, Role::Tool);
        assert_eq!(fixed.parts.len(), 2);
        history.push(fixed);
        assert!(results_for_interrupted_calls(&history, &[]).is_none());
    }

    #[test]
    fn a_dangling_call_the_person_denied_says_so_with_their_reason() {
        use baton_protocol::{SessionId, ToolCall};
        let call = |id: &str| {
            Part::ToolCall(ToolCall {
                call_id: CallId::from(id),
                name: "bash".into(),
                arguments: "{}".into(),
            })
        };
        let sid = SessionId::from("s");
        let history = vec![Message::new(
            sid,
            Role::Assistant,
            vec![call("a"), call("b"), call("c")],
        )];
        let denials = [
            (CallId::from("a"), Some("not on main".to_owned())),
            (CallId::from("b"), None),
        ];
        let fixed = results_for_interrupted_calls(&history, &denials).unwrap();
        let outputs: Vec<&str> = fixed
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::ToolResult { output, .. } => Some(output.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            outputs[0].starts_with("Permission denied") && outputs[0].ends_with(": not on main"),
            "{}",
            outputs[0]
        );
        assert!(
            outputs[1].starts_with("Permission denied"),
            "{}",
            outputs[1]
        );
        assert!(outputs[2].starts_with("interrupted"), "{}", outputs[2]);
    }

    #[test]
    fn titles_are_first_line_capped() {
        assert_eq!(title_from("\n  fix the build\nplease"), "fix the build");
        let long = "x".repeat(80);
        assert_eq!(title_from(&long).chars().count(), 61);
    }
}
