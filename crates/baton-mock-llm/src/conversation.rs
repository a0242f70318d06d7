//! The facts rules match on, pulled out of a request of either wire.
//!
//! Extraction is lenient: it runs on requests that already passed [`crate::validation`], and
//! anything it does not understand simply contributes no text.

use serde_json::Value;

use crate::Wire;

/// What a request says, in wire-neutral form.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Conversation {
    /// The `model` field.
    pub(crate) model: String,
    /// The system prompt, if any (several system parts joined by newlines).
    pub(crate) system: Option<String>,
    /// The text of the first user message that has text.
    pub(crate) first_user: Option<String>,
    /// The text of the latest user message that has text.
    pub(crate) last_user: Option<String>,
    /// The contents of the tool results after the latest assistant message.
    pub(crate) trailing_tool_results: Vec<String>,
    /// The names of the tools offered.
    pub(crate) tool_names: Vec<String>,
    /// Every text of the request in order: the system prompt, then each message's text (user,
    /// assistant, tool results).
    pub(crate) texts: Vec<String>,
}

impl Conversation {
    /// Extracts the conversation from a request body of the given wire.
    pub(crate) fn extract(wire: Wire, body: &Value) -> Conversation {
        match wire {
            Wire::OpenAi => from_openai(body),
            Wire::Anthropic => from_anthropic(body),
        }
    }
}

fn messages(body: &Value) -> &[Value] {
    body.get("messages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(crate) fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The text of a content value: a string, or the `text` blocks/parts of an array joined by newlines.
/// `None` when there is no text block at all.
fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|block| str_field(block, "type") == Some("text"))
                .filter_map(|block| str_field(block, "text"))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

fn user_texts<'a>(messages: &'a [Value]) -> impl Iterator<Item = String> + 'a {
    messages
        .iter()
        .filter(|message| role(message) == "user")
        .filter_map(|message| message.get("content").and_then(text_of))
}

/// The messages after the latest assistant message (all of them when there is none).
fn after_last_assistant(messages: &[Value]) -> &[Value] {
    let start = messages
        .iter()
        .rposition(|message| role(message) == "assistant")
        .map_or(0, |index| index + 1);
    &messages[start..]
}

fn joined(parts: Vec<String>) -> Option<String> {
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn from_openai(body: &Value) -> Conversation {
    let messages = messages(body);
    let system = messages
        .iter()
        .filter(|message| matches!(role(message), "system" | "developer"))
        .filter_map(|message| message.get("content").and_then(text_of))
        .collect();
    let trailing_tool_results = after_last_assistant(messages)
        .iter()
        .filter(|message| role(message) == "tool")
        .map(|message| message.get("content").and_then(text_of).unwrap_or_default())
        .collect();
    let tool_names = tools(body)
        .filter_map(|tool| {
            tool.get("function")
                .and_then(|function| str_field(function, "name"))
                .or_else(|| str_field(tool, "name"))
        })
        .map(str::to_string)
        .collect();
    let texts = messages
        .iter()
        .filter_map(|message| message.get("content").and_then(text_of))
        .collect();
    Conversation {
        model: str_field(body, "model").unwrap_or_default().to_string(),
        system: joined(system),
        first_user: user_texts(messages).next(),
        last_user: user_texts(messages).last(),
        trailing_tool_results,
        tool_names,
        texts,
    }
}

fn from_anthropic(body: &Value) -> Conversation {
    let messages = messages(body);
    let trailing_tool_results = after_last_assistant(messages)
        .iter()
        .filter(|message| role(message) == "user")
        .filter_map(|message| message.get("content").and_then(Value::as_array))
        .flatten()
        .filter(|block| str_field(block, "type") == Some("tool_result"))
        .map(|block| block.get("content").and_then(text_of).unwrap_or_default())
        .collect();
    let tool_names = tools(body)
        .filter_map(|tool| str_field(tool, "name"))
        .map(str::to_string)
        .collect();
    let system = body.get("system").and_then(text_of);
    let texts = system
        .iter()
        .cloned()
        .chain(messages.iter().flat_map(anthropic_message_texts))
        .collect();
    Conversation {
        model: str_field(body, "model").unwrap_or_default().to_string(),
        system,
        first_user: user_texts(messages).next(),
        last_user: user_texts(messages).last(),
        trailing_tool_results,
        tool_names,
        texts,
    }
}

/// The texts of one Anthropic message: a string content, or each text block and each tool
/// result's text, in order.
fn anthropic_message_texts(message: &Value) -> Vec<String> {
    match message.get("content") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|block| match str_field(block, "type") {
                Some("text") => str_field(block, "text").map(str::to_string),
                Some("tool_result") => block.get("content").and_then(text_of),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn tools(body: &Value) -> impl Iterator<Item = &Value> {
    body.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_conversation_facts() {
        let body = json!({
            "model": "gpt-x",
            "messages": [
                {"role": "system", "content": "You are baton."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "part"}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "file body"},
                {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "exit 0"}]}
            ],
            "tools": [
                {"type": "function", "function": {"name": "read", "parameters": {}}},
                {"type": "function", "function": {"name": "bash", "parameters": {}}}
            ]
        });
        let conversation = Conversation::extract(Wire::OpenAi, &body);
        assert_eq!(
            conversation,
            Conversation {
                model: "gpt-x".into(),
                system: Some("You are baton.".into()),
                first_user: Some("first question".into()),
                last_user: Some("second\npart".into()),
                trailing_tool_results: vec!["file body".into(), "exit 0".into()],
                tool_names: vec!["read".into(), "bash".into()],
                texts: vec![
                    "You are baton.".into(),
                    "first question".into(),
                    "ok".into(),
                    "second\npart".into(),
                    "file body".into(),
                    "exit 0".into(),
                ],
            }
        );
    }

    #[test]
    fn openai_tool_results_before_the_last_assistant_message_are_not_trailing() {
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "old"},
                {"role": "assistant", "content": "done"},
                {"role": "user", "content": "next"}
            ]
        });
        let conversation = Conversation::extract(Wire::OpenAi, &body);
        assert!(conversation.trailing_tool_results.is_empty());
        assert_eq!(conversation.last_user.as_deref(), Some("next"));
        assert!(conversation.system.is_none());
    }

    #[test]
    fn anthropic_conversation_facts() {
        let body = json!({
            "model": "claude-x",
            "system": [{"type": "text", "text": "You are"}, {"type": "text", "text": "baton."}],
            "messages": [
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "reading"},
                    {"type": "tool_use", "id": "t1", "name": "read", "input": {}},
                    {"type": "tool_use", "id": "t2", "name": "read", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "plain"},
                    {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "in blocks"}]}
                ]}
            ],
            "tools": [{"name": "read", "input_schema": {}}, {"name": "task", "input_schema": {}}]
        });
        let conversation = Conversation::extract(Wire::Anthropic, &body);
        assert_eq!(
            conversation,
            Conversation {
                model: "claude-x".into(),
                system: Some("You are\nbaton.".into()),
                first_user: Some("hello".into()),
                // The latest user message holds only tool results, so it does not count.
                last_user: Some("hello".into()),
                trailing_tool_results: vec!["plain".into(), "in blocks".into()],
                tool_names: vec!["read".into(), "task".into()],
                texts: vec![
                    "You are\nbaton.".into(),
                    "hello".into(),
                    "reading".into(),
                    "plain".into(),
                    "in blocks".into(),
                ],
            }
        );
    }

    #[test]
    fn anthropic_user_text_next_to_tool_results_counts() {
        let body = json!({
            "model": "m",
            "system": "sys",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "a"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "x", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1"},
                    {"type": "text", "text": "and also b"}
                ]}
            ]
        });
        let conversation = Conversation::extract(Wire::Anthropic, &body);
        assert_eq!(conversation.system.as_deref(), Some("sys"));
        assert_eq!(conversation.last_user.as_deref(), Some("and also b"));
        assert_eq!(conversation.trailing_tool_results, vec![String::new()]);
    }
}
