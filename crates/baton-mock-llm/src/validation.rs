//! Refuses requests that the real provider would refuse, so a client cannot pass its tests against
//! the mock and then fail against the real thing.
//!
//! Each check returns a message naming the offending field (`messages[2].tool_calls[0]: ...`).

use axum::http::HeaderMap;
use serde_json::Value;

use crate::Wire;
use crate::conversation::role;

/// Checks a parsed request body (and, for Anthropic, the headers) for its wire.
pub(crate) fn validate(wire: Wire, headers: &HeaderMap, body: &Value) -> Result<(), String> {
    match wire {
        Wire::OpenAi => validate_openai(body),
        Wire::Anthropic => validate_anthropic(headers, body),
    }
}

/// Checks what both wires require: an object with a `model` string and a non-empty `messages` array.
fn common(body: &Value) -> Result<&[Value], String> {
    let object = body
        .as_object()
        .ok_or("the request body must be a JSON object")?;
    match object.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        Some(_) => return Err("`model` must be a non-empty string".to_string()),
        None => return Err("missing required field `model`".to_string()),
    }
    let messages = match object.get("messages") {
        Some(Value::Array(messages)) => messages,
        Some(_) => return Err("`messages` must be an array".to_string()),
        None => return Err("missing required field `messages`".to_string()),
    };
    if messages.is_empty() {
        return Err("`messages` must hold at least one message".to_string());
    }
    Ok(messages)
}

fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn validate_openai(body: &Value) -> Result<(), String> {
    let messages = common(body)?;
    for (index, message) in messages.iter().enumerate() {
        if !message.is_object() {
            return Err(format!("messages[{index}]: must be an object"));
        }
        match str_field(message, "role") {
            None => return Err(format!("messages[{index}]: missing `role`")),
            Some("system" | "developer" | "user") => {}
            Some("assistant") => check_openai_tool_calls(messages, index)?,
            Some("tool") => check_openai_tool_answer(messages, index)?,
            Some(other) => {
                return Err(format!(
                    "messages[{index}]: unknown role {other:?} (expected system, developer, user, assistant or tool)"
                ));
            }
        }
    }
    Ok(())
}

/// An assistant message's tool calls must each be answered by one of the `tool` messages that
/// directly follow it.
fn check_openai_tool_calls(messages: &[Value], index: usize) -> Result<(), String> {
    let Some(calls) = messages[index].get("tool_calls") else {
        return Ok(());
    };
    let calls = calls
        .as_array()
        .ok_or_else(|| format!("messages[{index}].tool_calls: must be an array"))?;
    let answered: Vec<&str> = messages[index + 1..]
        .iter()
        .take_while(|next| role(next) == "tool")
        .filter_map(|next| str_field(next, "tool_call_id"))
        .collect();
    for (position, call) in calls.iter().enumerate() {
        let at = format!("messages[{index}].tool_calls[{position}]");
        let id = str_field(call, "id").ok_or_else(|| format!("{at}: missing `id`"))?;
        let function = call
            .get("function")
            .ok_or_else(|| format!("{at}: missing `function`"))?;
        if str_field(function, "name").is_none() {
            return Err(format!("{at}.function: missing `name`"));
        }
        if str_field(function, "arguments").is_none() {
            return Err(format!(
                "{at}.function.arguments: must be a string holding the JSON arguments"
            ));
        }
        if !answered.contains(&id) {
            return Err(format!(
                "{at}: tool call {id:?} has no answer: the assistant message must be followed by a \
                 message with role \"tool\" and tool_call_id {id:?} (tool messages come right after \
                 the assistant message that made the calls)"
            ));
        }
    }
    Ok(())
}

/// A `tool` message must answer a call made by the assistant message just before the run of tool
/// messages it belongs to.
fn check_openai_tool_answer(messages: &[Value], index: usize) -> Result<(), String> {
    let id = str_field(&messages[index], "tool_call_id")
        .ok_or_else(|| format!("messages[{index}]: a \"tool\" message needs `tool_call_id`"))?;
    let owner = messages[..index]
        .iter()
        .rev()
        .find(|previous| role(previous) != "tool");
    let answers_a_call = owner.is_some_and(|owner| {
        role(owner) == "assistant"
            && owner
                .get("tool_calls")
                .and_then(Value::as_array)
                .is_some_and(|calls| calls.iter().any(|call| str_field(call, "id") == Some(id)))
    });
    if answers_a_call {
        Ok(())
    } else {
        Err(format!(
            "messages[{index}]: a message with role \"tool\" must answer a tool call of the assistant \
             message just before it, and there is no call with id {id:?}"
        ))
    }
}

fn validate_anthropic(headers: &HeaderMap, body: &Value) -> Result<(), String> {
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
    Ok(())
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
            }
            Ok(())
        }
        Some(_) => Err(format!(
            "messages[{index}].content: must be a string or an array of content blocks"
        )),
        None => Err(format!("messages[{index}]: missing `content`")),
    }
}

fn blocks_of<'a>(message: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
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
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn anthropic_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        headers
    }

    fn openai(body: Value) -> Result<(), String> {
        validate(Wire::OpenAi, &HeaderMap::new(), &body)
    }

    fn anthropic(body: Value) -> Result<(), String> {
        validate(Wire::Anthropic, &anthropic_headers(), &body)
    }

    fn err(result: Result<(), String>) -> String {
        result.expect_err("expected the request to be refused")
    }

    #[test]
    fn openai_well_formed_tool_round_trip_passes() {
        openai(json!({"model": "m", "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "read", "arguments": "{}"}},
                {"id": "b", "type": "function", "function": {"name": "read", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "b", "content": "2"},
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "user", "content": "more"}
        ]}))
        .expect("valid");
    }

    #[test]
    fn missing_model_or_messages_is_refused() {
        assert!(err(openai(json!({"messages": []}))).contains("`model`"));
        assert!(err(openai(json!({"model": "m"}))).contains("`messages`"));
        assert!(err(openai(json!({"model": "m", "messages": []}))).contains("at least one"));
        assert!(err(openai(json!([1]))).contains("JSON object"));
    }

    #[test]
    fn openai_unanswered_tool_call_is_refused() {
        let message = err(openai(json!({"model": "m", "messages": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "read", "arguments": "{}"}}
            ]},
            {"role": "user", "content": "no answer"}
        ]})));
        assert!(message.contains("messages[1].tool_calls[0]"), "{message}");
        assert!(message.contains("\"a\""), "{message}");
    }

    #[test]
    fn openai_answer_separated_from_its_call_is_refused() {
        let message = err(openai(json!({"model": "m", "messages": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "read", "arguments": "{}"}}
            ]},
            {"role": "user", "content": "between"},
            {"role": "tool", "tool_call_id": "a", "content": "late"}
        ]})));
        assert!(message.contains("no answer"), "{message}");
    }

    #[test]
    fn openai_stray_tool_message_is_refused() {
        let message = err(openai(json!({"model": "m", "messages": [
            {"role": "user", "content": "u"},
            {"role": "tool", "tool_call_id": "zzz", "content": "x"}
        ]})));
        assert!(
            message.contains("messages[1]") && message.contains("zzz"),
            "{message}"
        );
    }

    #[test]
    fn openai_object_arguments_are_refused() {
        let message = err(openai(json!({"model": "m", "messages": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "read", "arguments": {}}}
            ]},
            {"role": "tool", "tool_call_id": "a", "content": "x"}
        ]})));
        assert!(message.contains("must be a string"), "{message}");
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
        let message = err(validate(Wire::Anthropic, &HeaderMap::new(), &body));
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
