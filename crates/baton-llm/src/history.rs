//! Putting a stored conversation into the shape both wire APIs require,
//! before mapping it: every assistant tool call answered right after it,
//! in call order, and nothing else in between.
//!
//! Stored history is not always that tidy: a cancelled turn leaves calls
//! without results, and notices can land between a call and its result.
//! Both APIs reject such requests, so we repair them here rather than fail
//! the session: a missing result becomes an error result saying so, a
//! result that answers no call becomes plain text.

use baton_protocol::{CallId, Message, Part, Role};

/// The output a call without a stored result is answered with.
pub(crate) const MISSING_RESULT: &str = "(no result: the tool call was interrupted)";

/// A message reduced to what the wire mappers need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Turn {
    /// `User`, `Assistant`, or `Tool` (only tool results).
    pub role: Role,
    /// The parts; never empty, no empty text.
    pub parts: Vec<Part>,
}

/// Normalizes `messages`: after each assistant message with tool calls
/// comes one `Tool` turn answering each call in order, then the user-side
/// parts that were stored in between (a user turn per stored message). Empty text parts and empty messages
/// are dropped; tool results that answer no call become user text.
pub(crate) fn normalize(messages: &[Message]) -> Vec<Turn> {
    let mut turns = Vec::new();
    let mut segment: Vec<&Message> = Vec::new();
    let mut open_calls: Vec<(CallId, String)> = Vec::new();
    for message in messages {
        if message.role == Role::Assistant {
            close_segment(&mut turns, &open_calls, &segment);
            segment.clear();
            let parts: Vec<Part> = message.parts.iter().filter(|p| keep(p)).cloned().collect();
            open_calls = message
                .tool_calls()
                .map(|c| (c.call_id.clone(), c.name.clone()))
                .collect();
            if !parts.is_empty() {
                turns.push(Turn {
                    role: Role::Assistant,
                    parts,
                });
            }
        } else {
            segment.push(message);
        }
    }
    close_segment(&mut turns, &open_calls, &segment);
    turns
}

/// Emits what followed an assistant message: the answers to its calls, then
/// everything else as user turns, one per stored message.
fn close_segment(turns: &mut Vec<Turn>, open_calls: &[(CallId, String)], segment: &[&Message]) {
    let mut results: Vec<Option<Part>> = vec![None; open_calls.len()];
    // One user turn per stored message: a message added later then adds a
    // turn, and never changes one already sent (the prompt cache holds).
    let mut user_turns: Vec<Vec<Part>> = Vec::new();
    for message in segment {
        let mut user_parts = Vec::new();
        for part in message.parts.iter().filter(|p| keep(p)) {
            user_side(part, open_calls, &mut results, &mut user_parts);
        }
        if !user_parts.is_empty() {
            user_turns.push(user_parts);
        }
    }
    if !open_calls.is_empty() {
        let answered = results
            .into_iter()
            .zip(open_calls)
            .map(|(result, (call_id, name))| {
                result.unwrap_or_else(|| {
                    tracing::debug!(%call_id, "tool call without a result: answered as interrupted");
                    Part::ToolResult {
                        call_id: call_id.clone(),
                        name: name.clone(),
                        output: MISSING_RESULT.to_owned(),
                        is_error: true,
                        images: Vec::new(),
                    }
                })
            })
            .collect();
        turns.push(Turn {
            role: Role::Tool,
            parts: answered,
        });
    }
    turns.extend(user_turns.into_iter().map(|parts| Turn {
        role: Role::User,
        parts,
    }));
}

/// Sorts one part of the user side: a result answering an open call goes
/// to `results`, the rest (as the model reads it) to `user_parts`.
fn user_side(
    part: &Part,
    open_calls: &[(CallId, String)],
    results: &mut [Option<Part>],
    user_parts: &mut Vec<Part>,
) {
    match part {
        Part::ToolResult {
            call_id,
            name,
            output,
            ..
        } => match open_calls.iter().position(|(id, _)| id == call_id) {
            Some(i) if results[i].is_none() => results[i] = Some(part.clone()),
            _ => {
                tracing::debug!(%call_id, "tool result without a matching call: sent as text");
                user_parts.push(Part::Text {
                    text: format!("[result of an earlier `{name}` call {call_id}]\n{output}"),
                });
            }
        },
        Part::ToolCall(call) => {
            tracing::debug!(call_id = %call.call_id, "tool call outside an assistant message: dropped");
        }
        Part::Text { .. } | Part::Notice { .. } => user_parts.push(part.clone()),
        Part::Context { text, .. } => user_parts.push(Part::Text { text: text.clone() }),
        Part::Compaction(c) => user_parts.push(Part::Text {
            text: summary_text(c),
        }),
        Part::Reasoning { .. } => {
            tracing::debug!("reasoning outside an assistant message: dropped");
        }
    }
}

/// How a compaction's summary reads to the model: in place of the older
/// part of the conversation, before what was kept verbatim.
fn summary_text(c: &baton_protocol::Compaction) -> String {
    format!(
        "<conversation-summary>\nThe earlier part of this conversation ({} messages) was \
         compacted into this summary; the conversation continues after it.\n\n{}\n\
         </conversation-summary>",
        c.summarized,
        c.summary.trim()
    )
}

fn keep(part: &Part) -> bool {
    !matches!(part, Part::Text { text } if text.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use baton_protocol::{SessionId, ToolCall};

    pub(crate) fn msg(role: Role, parts: Vec<Part>) -> Message {
        Message::new(SessionId::from("ses_test"), role, parts)
    }

    pub(crate) fn text(s: &str) -> Part {
        Part::Text { text: s.into() }
    }

    pub(crate) fn call(id: &str, name: &str, args: &str) -> Part {
        Part::ToolCall(ToolCall {
            call_id: CallId::from(id),
            name: name.into(),
            arguments: args.into(),
        })
    }

    /// A conversation whose last message is a screenshot's result.
    pub(crate) fn screenshot_conversation() -> Vec<Message> {
        vec![
            msg(Role::User, vec![text("look")]),
            msg(
                Role::Assistant,
                vec![call("c1", "mcp__browser__shot", "{}")],
            ),
            msg(Role::Tool, vec![result_with_image("c1")]),
        ]
    }

    /// A screenshot's result: its text line and one PNG.
    fn result_with_image(id: &str) -> Part {
        Part::ToolResult {
            call_id: CallId::from(id),
            name: "mcp__browser__shot".into(),
            output: "[image: image/png, 3 bytes]".into(),
            is_error: false,
            images: vec![baton_protocol::Image {
                mime_type: "image/png".into(),
                data: "iVBO".into(),
            }],
        }
    }

    pub(crate) fn result(id: &str, name: &str, output: &str, is_error: bool) -> Part {
        Part::ToolResult {
            call_id: CallId::from(id),
            name: name.into(),
            output: output.into(),
            is_error,
            images: Vec::new(),
        }
    }

    #[test]
    fn a_tidy_conversation_is_kept_as_is() {
        let turns = normalize(&[
            msg(Role::User, vec![text("hi")]),
            msg(
                Role::Assistant,
                vec![text("looking"), call("c1", "read", "{}")],
            ),
            msg(Role::Tool, vec![result("c1", "read", "data", false)]),
            msg(Role::Assistant, vec![text("done")]),
        ]);
        let roles: Vec<Role> = turns.iter().map(|t| t.role).collect();
        assert_eq!(
            roles,
            [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
        );
        assert_eq!(turns[2].parts, vec![result("c1", "read", "data", false)]);
    }

    #[test]
    fn results_are_ordered_and_put_before_notices() {
        let turns = normalize(&[
            msg(Role::User, vec![text("go")]),
            msg(
                Role::Assistant,
                vec![call("a", "read", "{}"), call("b", "glob", "{}")],
            ),
            msg(Role::User, vec![text("a notice arrived")]),
            msg(Role::Tool, vec![result("b", "glob", "B", false)]),
            msg(Role::Tool, vec![result("a", "read", "A", true)]),
        ]);
        assert_eq!(turns.len(), 4);
        assert_eq!(
            turns[2],
            Turn {
                role: Role::Tool,
                parts: vec![
                    result("a", "read", "A", true),
                    result("b", "glob", "B", false)
                ],
            }
        );
        assert_eq!(turns[3].role, Role::User);
        assert_eq!(turns[3].parts, vec![text("a notice arrived")]);
    }

    #[test]
    fn missing_results_are_filled_and_orphans_become_text() {
        let turns = normalize(&[
            msg(Role::Tool, vec![result("zz", "bash", "old output", false)]),
            msg(Role::User, vec![text(""), text("go")]),
            msg(Role::Assistant, vec![call("a", "read", "{}")]),
            msg(Role::User, vec![text("stop")]),
            msg(Role::Assistant, vec![text("")]),
        ]);
        // One user turn per stored message.
        assert_eq!(turns[0].role, Role::User);
        assert_eq!(
            turns[0].parts,
            vec![text("[result of an earlier `bash` call zz]\nold output")]
        );
        assert_eq!(turns[1].role, Role::User);
        assert_eq!(turns[1].parts, vec![text("go")]);
        assert_eq!(turns[2].role, Role::Assistant);
        assert_eq!(
            turns[3].parts,
            vec![result("a", "read", MISSING_RESULT, true)]
        );
        assert_eq!(turns[4].parts, vec![text("stop")]);
        assert_eq!(turns.len(), 5, "the empty assistant message is dropped");
    }
}
