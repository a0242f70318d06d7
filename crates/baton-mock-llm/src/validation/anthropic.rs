//! The Anthropic messages wire: the `anthropic-version` header, `max_tokens`, alternating roles
//! starting with the user, well-formed blocks, every `tool_use` answered in the next message, and
//! extended thinking as the API wants it (see [`super::thinking`]).

use axum::http::HeaderMap;
use serde_json::Value;

use super::{common, images, str_field, thinking};
use crate::conversation::role;
use crate::issued::Issued;

pub(super) fn validate(headers: &HeaderMap, body: &Value, issued: &Issued) -> Result<(), String> {
    if !headers.contains_key("anthropic-version") {
        return Err(
            "missing required header `anthropic-version` (for example \"2023-06-01\")".to_string(),
        );
    }
    let messages = common(body)?;
    match body.get("max_tokens") {
        Some(value) if value.as_u64().is_some_and(|tokens| tokens > 0) => {}
        Some(_) => return Err("`max_tokens` must be a positive integer".to_string()),
        None => return Err("missing required field `max_tokens`".to_string()),
    }
    if let Some(system) = body.get("system") {
        check_anthropic_system(system)?;
    }
    for (index, message) in messages.iter().enumerate() {
        let role = match str_field(message, "role") {
            Some(role @ ("user" | "assistant")) => role,
            Some(other) => {
                return Err(format!(
                    "messages[{index}].role: must be \"user\" or \"assistant\", got {other:?}"
                ));
            }
            None => return Err(format!("messages[{index}]: missing `role`")),
        };
        if index == 0 && role != "user" {
            return Err("messages[0]: the first message must have role \"user\"".to_string());
        }
        if index > 0 && str_field(&messages[index - 1], "role") == Some(role) {
            return Err(format!(
                "messages[{index}]: roles must alternate between \"user\" and \"assistant\", but \
                 messages[{}] is also {role:?}",
                index - 1
            ));
        }
        check_anthropic_content(message, index)?;
    }
    for (index, message) in messages.iter().enumerate() {
        check_anthropic_tool_pairs(messages, index, message)?;
    }
    thinking::check(body, messages, issued)
}

fn check_anthropic_system(system: &Value) -> Result<(), String> {
    match system {
        Value::String(_) => Ok(()),
        Value::Array(blocks) => {
            for (index, block) in blocks.iter().enumerate() {
                if str_field(block, "type") != Some("text") || str_field(block, "text").is_none() {
                    return Err(format!(
                        "system[{index}]: system blocks must be {{\"type\": \"text\", \"text\": ...}}"
                    ));
                }
            }
            Ok(())
        }
        _ => Err("`system` must be a string or an array of text blocks".to_string()),
    }
}

fn check_anthropic_content(message: &Value, index: usize) -> Result<(), String> {
    match message.get("content") {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(blocks)) => {
            for (position, block) in blocks.iter().enumerate() {
                let at = format!("messages[{index}].content[{position}]");
                let kind =
                    str_field(block, "type").ok_or_else(|| format!("{at}: missing `type`"))?;
                let missing = |field: &str| str_field(block, field).is_none();
                let problem = match kind {
                    "tool_use" if missing("id") || missing("name") => {
                        Some(": a tool_use block needs `id` and `name`")
                    }
                    "tool_use" if !block.get("input").is_some_and(Value::is_object) => {
                        Some(".input: must be an object")
                    }
                    "tool_result" if missing("tool_use_id") => {
                        Some(": a tool_result block needs `tool_use_id`")
                    }
                    "text" if missing("text") => Some(": a text block needs `text`"),
                    _ => None,
                };
                if let Some(problem) = problem {
                    return Err(format!("{at}{problem}"));
                }
                match kind {
                    "image" => images::check_anthropic(block, &at)?,
                    "tool_result" => check_tool_result_content(block, &at)?,
                    _ => {}
                }
            }
            Ok(())
        }
        Some(_) => Err(format!(
            "messages[{index}].content: must be a string or an array of content blocks"
        )),
        None => Err(format!("messages[{index}]: missing `content`")),
    }
}

/// A tool result's content: a string, or text and image blocks.
fn check_tool_result_content(block: &Value, at: &str) -> Result<(), String> {
    let Some(content) = block.get("content") else {
        return Ok(());
    };
    match content {
        Value::String(_) => Ok(()),
        Value::Array(blocks) => {
            for (position, inner) in blocks.iter().enumerate() {
                let at = format!("{at}.content[{position}]");
                match str_field(inner, "type") {
                    Some("text") if str_field(inner, "text").is_some() => {}
                    Some("image") => images::check_anthropic(inner, &at)?,
                    _ => {
                        return Err(format!(
                            "{at}: a tool_result's content holds text and image blocks only"
                        ));
                    }
                }
            }
            Ok(())
        }
        _ => Err(format!(
            "{at}.content: must be a string or an array of text and image blocks"
        )),
    }
}

pub(super) fn blocks_of<'a>(
    message: &'a Value,
    kind: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    message
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |block| str_field(block, "type") == Some(kind))
}

/// Every `tool_use` needs a `tool_result` in the next (user) message, and every `tool_result`
/// must answer a `tool_use` of the message just before.
fn check_anthropic_tool_pairs(
    messages: &[Value],
    index: usize,
    message: &Value,
) -> Result<(), String> {
    if role(message) == "assistant" {
        let next = messages.get(index + 1);
        for tool_use in blocks_of(message, "tool_use") {
            let id = str_field(tool_use, "id").unwrap_or_default();
            let answered = next.is_some_and(|next| {
                blocks_of(next, "tool_result")
                    .any(|result| str_field(result, "tool_use_id") == Some(id))
            });
            if !answered {
                return Err(format!(
                    "messages[{index}]: tool_use {id:?} has no tool_result: each tool_use block must \
                     have a matching tool_result block (tool_use_id {id:?}) in the next user message"
                ));
            }
        }
    } else {
        for result in blocks_of(message, "tool_result") {
            let id = str_field(result, "tool_use_id").unwrap_or_default();
            let asked = index
                .checked_sub(1)
                .and_then(|previous| messages.get(previous))
                .is_some_and(|previous| {
                    blocks_of(previous, "tool_use")
                        .any(|tool_use| str_field(tool_use, "id") == Some(id))
                });
            if !asked {
                return Err(format!(
                    "messages[{index}]: tool_result for {id:?} does not answer any tool_use block \
                     of the previous assistant message"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::validation::tests::err;
    use axum::http::HeaderValue;
    use serde_json::json;

    pub(in crate::validation) fn anthropic_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        headers
    }

    fn anthropic(body: Value) -> Result<(), String> {
        validate(&anthropic_headers(), &body, &Issued::default())
    }

    #[test]
    fn anthropic_well_formed_tool_round_trip_passes() {
        anthropic(json!({"model": "m", "max_tokens": 10, "system": [{"type": "text", "text": "s"}], "messages": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "read", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"}]}
        ]}))
        .expect("valid");
    }

    #[test]
    fn anthropic_header_and_max_tokens_are_required() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "u"}]});
        let message = err(validate(&HeaderMap::new(), &body, &Issued::default()));
        assert!(message.contains("anthropic-version"), "{message}");
        assert!(err(anthropic(body)).contains("max_tokens"));
    }

    #[test]
    fn anthropic_first_message_must_be_user() {
        let message = err(anthropic(
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "assistant", "content": "hi"}
            ]}),
        ));
        assert!(message.contains("first message"), "{message}");
    }

    #[test]
    fn anthropic_roles_must_alternate() {
        let message = err(anthropic(
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "user", "content": "a"},
                {"role": "user", "content": "b"}
            ]}),
        ));
        assert!(message.contains("alternate"), "{message}");
    }

    #[test]
    fn anthropic_tool_use_without_result_is_refused() {
        let message = err(anthropic(
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "x", "input": {}}]},
                {"role": "user", "content": "forgot the result"}
            ]}),
        ));
        assert!(
            message.contains("t1") && message.contains("tool_result"),
            "{message}"
        );
    }

    #[test]
    fn anthropic_tool_result_without_tool_use_is_refused() {
        let message = err(anthropic(
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "ghost", "content": "x"}]}
            ]}),
        ));
        assert!(message.contains("ghost"), "{message}");
    }

    #[test]
    fn anthropic_bad_system_is_refused() {
        let message = err(anthropic(
            json!({"model": "m", "max_tokens": 5, "system": 3, "messages": [
                {"role": "user", "content": "a"}
            ]}),
        ));
        assert!(message.contains("`system`"), "{message}");
    }
}
