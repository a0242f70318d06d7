//! The facts rules match on, pulled out of a request of any wire.
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
    /// assistant, tool results). Responses: `instructions`, then each input item's text
    /// (messages of any role, `function_call_output`s), or the string `input`.
    pub(crate) texts: Vec<String>,
}

impl Conversation {
    /// Extracts the conversation from a request body of the given wire.
    pub(crate) fn extract(wire: Wire, body: &Value) -> Conversation {
        match wire {
            Wire::OpenAi => from_openai(body),
            Wire::Anthropic => from_anthropic(body),
            Wire::Responses => from_responses(body),
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

/// The text of a content value: a string, or the text blocks/parts of an array (`text`, and the
/// Responses API's `input_text` / `output_text`) joined by newlines. `None` when there is no text
/// block at all.
fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|block| {
                    matches!(
                        str_field(block, "type"),
                        Some("text" | "input_text" | "output_text")
                    )
                })
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

/// Whether a Responses API input item is a message (typed, or an "easy" `{role, content}`).
pub(crate) fn is_message(item: &Value) -> bool {
    match str_field(item, "type") {
        Some(kind) => kind == "message",
        None => item.get("role").is_some(),
    }
}

/// Whether a Responses API input item is model output: an assistant message, a function call or
/// reasoning.
fn is_output(item: &Value) -> bool {
    match str_field(item, "type") {
        Some("function_call" | "reasoning") => true,
        _ => is_message(item) && role(item) == "assistant",
    }
}

fn from_responses(body: &Value) -> Conversation {
    let input = body.get("input");
    let items = input
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let user_texts: Vec<String> = match input.and_then(Value::as_str) {
        Some(text) => vec![text.to_string()],
        None => items
            .iter()
            .filter(|item| is_message(item) && role(item) == "user")
            .filter_map(|item| item.get("content").and_then(text_of))
            .collect(),
    };
    let system = str_field(body, "instructions")
        .map(str::to_string)
        .into_iter()
        .chain(
            items
                .iter()
                .filter(|item| is_message(item) && matches!(role(item), "system" | "developer"))
                .filter_map(|item| item.get("content").and_then(text_of)),
        )
        .collect();
    let start = items
        .iter()
        .rposition(is_output)
        .map_or(0, |index| index + 1);
    let trailing_tool_results = items[start..]
        .iter()
        .filter(|item| str_field(item, "type") == Some("function_call_output"))
        .map(|item| item.get("output").and_then(text_of).unwrap_or_default())
        .collect();
    let tool_names = tools(body)
        .filter_map(|tool| str_field(tool, "name"))
        .map(str::to_string)
        .collect();
    let texts = str_field(body, "instructions")
        .map(str::to_string)
        .into_iter()
        .chain(input.and_then(Value::as_str).map(str::to_string))
        .chain(items.iter().filter_map(responses_item_text))
        .collect();
    Conversation {
        model: str_field(body, "model").unwrap_or_default().to_string(),
        system: joined(system),
        first_user: user_texts.first().cloned(),
        last_user: user_texts.last().cloned(),
        trailing_tool_results,
        tool_names,
        texts,
    }
}

/// The text of one Responses input item: a message's content (any role) or a
/// `function_call_output`'s output; other items (calls, reasoning) have none.
fn responses_item_text(item: &Value) -> Option<String> {
    if is_message(item) {
        item.get("content").and_then(text_of)
    } else if str_field(item, "type") == Some("function_call_output") {
        item.get("output").and_then(text_of)
    } else {
        None
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

    #[test]
    fn responses_conversation_facts() {
        let body = json!({
            "model": "gpt-5",
            "instructions": "You are baton.",
            "input": [
                {"type": "message", "role": "developer", "content": "Be brief."},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "read a"}]},
                {"type": "reasoning", "summary": [], "encrypted_content": "enc_mock_1"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
                {"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "A"},
                {"role": "user", "content": "and b"}
            ],
            "tools": [{"type": "function", "name": "read", "parameters": {}}]
        });
        assert_eq!(
            Conversation::extract(Wire::Responses, &body),
            Conversation {
                model: "gpt-5".into(),
                system: Some("You are baton.\nBe brief.".into()),
                first_user: Some("read a".into()),
                last_user: Some("and b".into()),
                trailing_tool_results: vec!["A".into()],
                tool_names: vec!["read".into()],
                texts: vec![
                    "You are baton.".into(),
                    "Be brief.".into(),
                    "read a".into(),
                    "ok".into(),
                    "A".into(),
                    "and b".into(),
                ],
            }
        );
        let plain = json!({"model": "m", "input": "hello"});
        let conversation = Conversation::extract(Wire::Responses, &plain);
        assert_eq!(conversation.first_user.as_deref(), Some("hello"));
        assert_eq!(conversation.texts, ["hello"]);
        assert!(conversation.system.is_none());
        assert!(conversation.trailing_tool_results.is_empty());
    }
}
