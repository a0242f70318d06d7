//! Compaction's arithmetic, apart from the session that runs it: how big a
//! request is about to be, where the part kept verbatim begins, the
//! transcript a summarizer reads, and what the model is sent after a
//! compaction.
//!
//! Sizes are estimated, not counted: the provider's last reported input
//! tokens cover everything up to its answer; what came after is estimated
//! at [`CHARS_PER_TOKEN`] characters a token (a little more than
//! tokenizers give for English and code, so the estimate errs high).

use baton_protocol::{Message, Part, Role, ToolSpec};

/// Characters per token assumed where nothing was counted (times ten, to
/// stay in integers: 3.5).
const CHARS_PER_TOKEN_X10: u64 = 35;

/// Characters per token assumed where nothing was counted.
pub(crate) const CHARS_PER_TOKEN: f64 = CHARS_PER_TOKEN_X10 as f64 / 10.0;

/// What one image counts for, in characters: about the 1 600 tokens a
/// provider charges for a large image (it scales images down to that), not
/// the length of its base64.
const IMAGE_CHARS: usize = 1_600 * CHARS_PER_TOKEN_X10 as usize / 10;

/// Estimated tokens of `chars` characters.
pub(crate) fn tokens_of_chars(chars: usize) -> u64 {
    (chars as u64 * 10).div_ceil(CHARS_PER_TOKEN_X10)
}

/// The characters of what the model reads of one part.
fn part_chars(part: &Part) -> usize {
    match part {
        Part::Text { text } | Part::Notice { text, .. } | Part::Context { text, .. } => text.len(),
        Part::ToolCall(call) => call.name.len() + call.arguments.len() + 32,
        Part::ToolResult { output, images, .. } => output.len() + 32 + images.len() * IMAGE_CHARS,
        Part::Reasoning {
            text,
            signature,
            data,
            ..
        } => {
            text.len()
                + signature.as_ref().map_or(0, String::len)
                + data.as_ref().map_or(0, String::len)
        }
        Part::Compaction(c) => c.summary.len() + 200,
    }
}

/// Estimated tokens of one message (with a little for its framing).
pub(crate) fn message_tokens(message: &Message) -> u64 {
    tokens_of_chars(message.parts.iter().map(part_chars).sum::<usize>() + 16)
}

/// Estimated tokens of the system prompt and the tool list.
pub(crate) fn fixed_tokens(system: &str, tools: &[ToolSpec]) -> u64 {
    let tools: usize = tools
        .iter()
        .map(|t| t.name.len() + t.description.len() + t.parameters.to_string().len() + 32)
        .sum();
    tokens_of_chars(system.len() + tools)
}

/// Estimated input tokens of a request sending `history` (after the
/// system prompt and tools of `fixed` tokens). The latest answer's reported
/// usage covers everything before it, itself included; only what came
/// after it is estimated.
pub(crate) fn request_tokens(fixed: u64, history: &[Message]) -> u64 {
    let reported = history.iter().enumerate().rev().find_map(|(i, m)| {
        let usage = m.usage.filter(|_| m.role == Role::Assistant)?;
        Some((i, usage.input_tokens + usage.output_tokens))
    });
    match reported {
        Some((i, counted)) if counted > 0 => {
            counted + history[i + 1..].iter().map(message_tokens).sum::<u64>()
        }
        _ => fixed + history.iter().map(message_tokens).sum::<u64>(),
    }
}

/// Where the part of `history` kept verbatim begins: the earliest point
/// from which the rest fits in `keep` tokens, at a boundary that splits no
/// tool call from its result (a message from the person or a notice
/// preferred, else the start of a step). `None` when no such point leaves
/// anything to summarize.
pub(crate) fn split_point(history: &[Message], keep: u64) -> Option<usize> {
    let boundary = |i: usize| {
        let prev = &history[i - 1];
        let splits_call = prev.role == Role::Assistant && prev.tool_calls().next().is_some();
        !splits_call && matches!(history[i].role, Role::User | Role::Assistant)
    };
    let person = |i: usize| {
        history[i].role == Role::User
            && history[i]
                .parts
                .iter()
                .any(|p| matches!(p, Part::Text { .. } | Part::Notice { .. }))
    };
    let mut suffix = vec![0u64; history.len() + 1];
    for i in (0..history.len()).rev() {
        suffix[i] = suffix[i + 1] + message_tokens(&history[i]);
    }
    let candidates: Vec<usize> = (1..history.len()).filter(|&i| boundary(i)).collect();
    let fits = |i: &&usize| suffix[**i] <= keep;
    candidates
        .iter()
        .filter(fits)
        .find(|&&i| person(i))
        .or_else(|| candidates.iter().find(fits))
        .or_else(|| candidates.last())
        .copied()
        .or(Some(history.len()))
        .filter(|&i| i > 0 && !only_a_summary(&history[..i]))
}

/// Whether `older` is nothing but an earlier compaction's summary (there
/// is nothing new to summarize).
fn only_a_summary(older: &[Message]) -> bool {
    older.iter().all(|m| {
        m.parts
            .iter()
            .all(|p| matches!(p, Part::Compaction(_) | Part::Context { .. }))
    })
}

/// The older part of a conversation as a summarizer reads it: who said
/// what, tool calls with their arguments and results, notices, an earlier
/// summary. Reasoning is left out.
pub(crate) fn transcript(messages: &[Message]) -> String {
    let mut out = String::new();
    for message in messages {
        for part in &message.parts {
            let who = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
            };
            let line = match part {
                Part::Text { text } => format!("[{who}]\n{text}"),
                Part::Notice { text, .. } => format!("[notice]\n{text}"),
                Part::Context { text, .. } => format!("[baton]\n{text}"),
                Part::ToolCall(call) => {
                    format!("[assistant calls {}]\n{}", call.name, call.arguments)
                }
                Part::ToolResult {
                    name,
                    output,
                    is_error,
                    ..
                } => {
                    let how = if *is_error { "failed" } else { "result" };
                    format!("[{name} {how}]\n{output}")
                }
                Part::Compaction(c) => format!("[summary of what came before]\n{}", c.summary),
                Part::Reasoning { .. } => continue,
            };
            out.push_str(&line);
            out.push_str("\n\n");
        }
    }
    out
}

/// `text` cut into pieces of at most `max` bytes, at line ends where a
/// line end is near (else at a character boundary).
pub(crate) fn chunks(text: &str, max: usize) -> Vec<&str> {
    let max = max.max(64);
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(newline) = rest[..cut].rfind('\n').filter(|&n| n >= cut / 2) {
            cut = newline + 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// What the model reads of a stored conversation: after the latest
/// compaction, its summary, then the messages it kept (from its
/// `first_kept` on), then everything stored after it.
pub(crate) fn model_view(stored: Vec<Message>) -> Vec<Message> {
    let latest = stored
        .iter()
        .rposition(|m| m.parts.iter().any(|p| matches!(p, Part::Compaction(_))));
    let Some(at) = latest else {
        return stored;
    };
    let first_kept = stored[at].parts.iter().find_map(|p| match p {
        Part::Compaction(c) => c.first_kept.clone(),
        _ => None,
    });
    let kept_from = first_kept
        .and_then(|id| stored[..at].iter().position(|m| m.id == id))
        .unwrap_or(at);
    let mut stored = stored;
    let after = stored.split_off(at + 1);
    let summary = stored.pop();
    let kept = stored.split_off(kept_from);
    summary.into_iter().chain(kept).chain(after).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::{CallId, Compaction, SessionId, ToolCall, Usage};

    fn msg(role: Role, text: &str) -> Message {
        Message::new(
            SessionId::from("s"),
            role,
            vec![Part::Text { text: text.into() }],
        )
    }

    fn call(id: &str) -> Message {
        Message::new(
            SessionId::from("s"),
            Role::Assistant,
            vec![Part::ToolCall(ToolCall {
                call_id: CallId::from(id),
                name: "read".into(),
                arguments: "{}".into(),
            })],
        )
    }

    fn result(id: &str, output: &str) -> Message {
        Message::new(
            SessionId::from("s"),
            Role::Tool,
            vec![Part::ToolResult {
                call_id: CallId::from(id),
                name: "read".into(),
                output: output.into(),
                is_error: false,
                images: Vec::new(),
            }],
        )
    }

    fn compaction(first_kept: Option<&Message>) -> Message {
        Message::new(
            SessionId::from("s"),
            Role::User,
            vec![Part::Compaction(Compaction {
                summary: "earlier".into(),
                first_kept: first_kept.map(|m| m.id.clone()),
                summarized: 2,
                tokens_before: 10,
                tokens_after: 2,
                trigger: "auto".into(),
            })],
        )
    }

    #[test]
    fn the_estimate_builds_on_the_last_reported_usage() {
        let mut answer = msg(Role::Assistant, "ok");
        answer.usage = Some(Usage {
            input_tokens: 1000,
            output_tokens: 50,
            ..Usage::default()
        });
        let after = msg(Role::User, &"x".repeat(350));
        let history = vec![msg(Role::User, "hi"), answer, after.clone()];
        assert_eq!(request_tokens(7, &history), 1050 + message_tokens(&after));
        // Nothing reported yet: everything is estimated, the fixed part too.
        let fresh = vec![after.clone()];
        assert_eq!(request_tokens(7, &fresh), 7 + message_tokens(&after));
        assert_eq!(tokens_of_chars(35), 10);
        assert_eq!(tokens_of_chars(36), 11);
    }

    #[test]
    fn an_image_counts_as_what_a_provider_charges_not_as_its_base64() {
        let text_only = result("a", "[image: image/png, 3000000 bytes]");
        let mut with_image = text_only.clone();
        if let Part::ToolResult { images, .. } = &mut with_image.parts[0] {
            images.push(baton_protocol::Image {
                mime_type: "image/png".into(),
                data: "A".repeat(4_000_000),
            });
        }
        assert_eq!(
            message_tokens(&with_image) - message_tokens(&text_only),
            1_600
        );
    }

    #[test]
    fn the_split_keeps_recent_turns_and_never_parts_a_call_from_its_result() {
        let big = "y".repeat(3500);
        let history = vec![
            msg(Role::User, "first"),
            call("a"),
            result("a", &big),
            msg(Role::Assistant, "read it"),
            msg(Role::User, "second"),
            call("b"),
            result("b", "small"),
            msg(Role::Assistant, "done"),
        ];
        let keep = message_tokens(&history[4]) * 10;
        assert_eq!(
            split_point(&history, keep),
            Some(4),
            "at the person's message"
        );
        // Too little room for a whole turn: the start of a step, never
        // between a call and its result.
        let tiny = message_tokens(&history[7]);
        assert_eq!(split_point(&history, tiny), Some(7));
        // Room for everything: still something is summarized.
        assert_eq!(split_point(&history, u64::MAX), Some(4));
        // Nothing before but a summary: nothing to do.
        let c = compaction(None);
        assert_eq!(split_point(&[c.clone(), msg(Role::User, "hi")], 0), None);
        assert_eq!(split_point(&[], 0), None);
    }

    #[test]
    fn the_view_after_a_compaction_is_summary_kept_part_then_what_followed() {
        let (a, b, c) = (
            msg(Role::User, "a"),
            msg(Role::Assistant, "b"),
            msg(Role::User, "c"),
        );
        let summary = compaction(Some(&b));
        let d = msg(Role::Assistant, "d");
        let stored = vec![a, b.clone(), c.clone(), summary.clone(), d.clone()];
        let ids = |v: &[Message]| v.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&model_view(stored.clone())),
            ids(&[summary.clone(), b, c, d.clone()])
        );
        // Nothing kept: the summary, then what followed.
        let none = compaction(None);
        let stored = vec![msg(Role::User, "x"), none.clone(), d.clone()];
        assert_eq!(ids(&model_view(stored)), ids(&[none, d]));
    }

    #[test]
    fn transcripts_name_every_part_and_chunks_cut_at_lines() {
        let t = transcript(&[msg(Role::User, "hello"), call("a"), result("a", "FACT-1")]);
        assert!(t.contains("[user]\nhello"), "{t}");
        assert!(t.contains("[assistant calls read]"), "{t}");
        assert!(t.contains("[read result]\nFACT-1"), "{t}");
        let text = "line one\n".repeat(50);
        let pieces = chunks(&text, 100);
        assert!(pieces.iter().all(|p| p.len() <= 100 && p.ends_with('\n')));
        assert_eq!(pieces.concat(), text);
        let wide = "é".repeat(100);
        assert_eq!(chunks(&wide, 65).concat(), wide);
    }
}
