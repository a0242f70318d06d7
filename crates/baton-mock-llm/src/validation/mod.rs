//! Refuses requests that the real provider would refuse, so a client cannot pass its tests against
//! the mock and then fail against the real thing.
//!
//! Each check returns a message naming the offending field (`messages[2].tool_calls[0]: ...`).

mod anthropic;
mod images;
mod openai;
mod responses;
mod thinking;

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::Wire;
use crate::issued::Issued;

/// Checks a parsed request body (and, for Anthropic, the headers) for its wire. Reasoning sent back
/// (thinking signatures, redacted thinking, encrypted reasoning) must be what `issued` holds.
pub(crate) fn validate(
    wire: Wire,
    headers: &HeaderMap,
    body: &Value,
    issued: &Issued,
) -> Result<(), String> {
    match wire {
        Wire::OpenAi => openai::validate(body),
        Wire::Anthropic => anthropic::validate(headers, body, issued),
        Wire::Responses => responses::validate(body, issued),
    }
}

/// Checks what every wire requires: an object with a non-empty `model` string.
fn with_model(body: &Value) -> Result<&Map<String, Value>, String> {
    let object = body
        .as_object()
        .ok_or("the request body must be a JSON object")?;
    match object.get("model") {
        Some(Value::String(model)) if !model.is_empty() => Ok(object),
        Some(_) => Err("`model` must be a non-empty string".to_string()),
        None => Err("missing required field `model`".to_string()),
    }
}

/// Checks what the chat wires require: a `model` and a non-empty `messages` array.
fn common(body: &Value) -> Result<&[Value], String> {
    let messages = match with_model(body)?.get("messages") {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(super) fn err(result: Result<(), String>) -> String {
        result.expect_err("expected the request to be refused")
    }

    fn openai(body: Value) -> Result<(), String> {
        validate(Wire::OpenAi, &HeaderMap::new(), &body, &Issued::default())
    }

    #[test]
    fn missing_model_or_messages_is_refused() {
        assert!(err(openai(json!({"messages": []}))).contains("`model`"));
        assert!(err(openai(json!({"model": "m"}))).contains("`messages`"));
        assert!(err(openai(json!({"model": "m", "messages": []}))).contains("at least one"));
        assert!(err(openai(json!([1]))).contains("JSON object"));
    }
}
