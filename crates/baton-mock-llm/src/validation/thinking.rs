//! Anthropic extended thinking, checked as the API checks it: `thinking: {type: "enabled",
//! budget_tokens}` with a budget of at least 1024 below `max_tokens` and no `temperature` other than
//! 1; thinking blocks only in assistant messages, each with the signature this server issued for its
//! text, redacted thinking with data this server issued; and, with thinking enabled, the assistant
//! message that opens the tool loop a request ends in must start with a thinking block.

use serde_json::Value;

use super::anthropic::blocks_of;
use super::str_field;
use crate::conversation::role;
use crate::issued::Issued;

/// The smallest thinking budget the API takes.
const MIN_BUDGET: u64 = 1024;

pub(super) fn check(body: &Value, messages: &[Value], issued: &Issued) -> Result<(), String> {
    let enabled = check_config(body)?;
    for (index, message) in messages.iter().enumerate() {
        check_blocks(message, index, issued)?;
    }
    if enabled {
        check_tool_loop(messages)?;
    }
    Ok(())
}

/// Checks the `thinking` field; whether it enables thinking.
fn check_config(body: &Value) -> Result<bool, String> {
    let Some(thinking) = body.get("thinking") else {
        return Ok(false);
    };
    match str_field(thinking, "type") {
        Some("disabled") => return Ok(false),
        Some("enabled") => {}
        _ => return Err("thinking.type: must be \"enabled\" or \"disabled\"".to_string()),
    }
    let budget = thinking
        .get("budget_tokens")
        .and_then(Value::as_u64)
        .ok_or("thinking.budget_tokens: required when thinking is enabled")?;
    if budget < MIN_BUDGET {
        return Err(format!(
            "thinking.budget_tokens: must be at least {MIN_BUDGET}, got {budget}"
        ));
    }
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64).unwrap_or(0);
    if budget >= max_tokens {
        return Err(format!(
            "`max_tokens` must be greater than `thinking.budget_tokens` ({max_tokens} <= {budget})"
        ));
    }
    if body
        .get("temperature")
        .is_some_and(|t| t.as_f64() != Some(1.0))
    {
        return Err("`temperature` may only be set to 1 when thinking is enabled".to_string());
    }
    Ok(true)
}

fn check_blocks(message: &Value, index: usize, issued: &Issued) -> Result<(), String> {
    let blocks = message
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (position, block) in blocks.iter().enumerate() {
        let at = format!("messages[{index}].content[{position}]");
        let kind = str_field(block, "type");
        if !matches!(kind, Some("thinking" | "redacted_thinking")) {
            continue;
        }
        if role(message) != "assistant" {
            return Err(format!(
                "{at}: thinking blocks may only appear in assistant messages"
            ));
        }
        let vouched = if kind == Some("thinking") {
            let text = str_field(block, "thinking")
                .ok_or_else(|| format!("{at}.thinking: a thinking block needs its text"))?;
            str_field(block, "signature")
                .filter(|signature| !signature.is_empty())
                .is_some_and(|signature| issued.vouches(signature, Some(text)))
        } else {
            str_field(block, "data").is_some_and(|data| issued.vouches(data, None))
        };
        if !vouched {
            let what = if kind == Some("thinking") {
                "invalid signature in thinking block"
            } else {
                "invalid data in redacted_thinking block"
            };
            return Err(format!(
                "{at}: {what} (send back the block exactly as the model produced it)"
            ));
        }
    }
    Ok(())
}

/// With thinking enabled, the assistant message that opens the tool loop the request ends in (the
/// first one after the last user message holding no tool results) must start with a thinking or
/// redacted thinking block.
fn check_tool_loop(messages: &[Value]) -> Result<(), String> {
    let has_tool_results = |message: &Value| blocks_of(message, "tool_result").next().is_some();
    let turn_start = messages
        .iter()
        .rposition(|message| role(message) == "user" && !has_tool_results(message))
        .map_or(0, |index| index + 1);
    let Some(offset) = messages[turn_start..]
        .iter()
        .position(|message| role(message) == "assistant")
    else {
        return Ok(());
    };
    let index = turn_start + offset;
    let first = messages[index]
        .get("content")
        .and_then(Value::as_array)
        .and_then(|blocks| blocks.first())
        .and_then(|block| str_field(block, "type"));
    match first {
        Some("thinking" | "redacted_thinking") => Ok(()),
        found => Err(format!(
            "messages[{index}].content[0].type: expected `thinking` or `redacted_thinking`, but \
             found {}. When `thinking` is enabled, the assistant message that starts the tool use \
             loop this request continues must start with a thinking block (preceding the lastmost \
             set of `tool_use` and `tool_result` blocks)",
            found.map_or_else(|| "no block".to_string(), |kind| format!("`{kind}`"))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::anthropic::tests::anthropic_headers;
    use crate::validation::tests::err;
    use serde_json::json;

    fn check(body: Value, issued: &Issued) -> Result<(), String> {
        super::super::validate(crate::Wire::Anthropic, &anthropic_headers(), &body, issued)
    }

    fn issued() -> Issued {
        let issued = Issued::default();
        issued.issue("sig_1", "I should read a.");
        issued.issue("opaque", "");
        issued
    }

    /// A tool loop whose assistant message starts with `first`.
    fn tool_loop(thinking: Value, first: Vec<Value>) -> Value {
        let mut content = first;
        content.push(json!({"type": "tool_use", "id": "t1", "name": "read", "input": {}}));
        json!({"model": "m", "max_tokens": 4096, "thinking": thinking, "messages": [
            {"role": "user", "content": "read a"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "A"}]}
        ]})
    }

    fn enabled() -> Value {
        json!({"type": "enabled", "budget_tokens": 2048})
    }

    fn signed(signature: &str, text: &str) -> Value {
        json!({"type": "thinking", "thinking": text, "signature": signature})
    }

    #[test]
    fn issued_thinking_blocks_pass_in_a_tool_loop() {
        let issued = issued();
        check(
            tool_loop(enabled(), vec![signed("sig_1", "I should read a.")]),
            &issued,
        )
        .expect("valid");
        check(
            tool_loop(
                enabled(),
                vec![json!({"type": "redacted_thinking", "data": "opaque"})],
            ),
            &issued,
        )
        .expect("valid");
    }

    #[test]
    fn forged_changed_or_missing_signatures_are_refused() {
        let issued = issued();
        for block in [
            signed("sig_9", "I should read a."),
            signed("sig_1", "I should read b."),
            signed("", "I should read a."),
            json!({"type": "thinking", "thinking": "I should read a."}),
            json!({"type": "redacted_thinking", "data": "made up"}),
        ] {
            let body = tool_loop(json!({"type": "disabled"}), vec![block.clone()]);
            let message = err(check(body, &issued));
            assert!(
                message.contains("messages[1].content[0]: invalid"),
                "{block}: {message}"
            );
        }
    }

    #[test]
    fn a_tool_loop_without_thinking_first_is_refused_when_thinking_is_on() {
        let issued = issued();
        let message = err(check(tool_loop(enabled(), Vec::new()), &issued));
        assert!(message.contains("expected `thinking`"), "{message}");
        assert!(message.contains("found `tool_use`"), "{message}");
        check(tool_loop(json!({"type": "disabled"}), Vec::new()), &issued).expect("thinking off");
        let mut fresh = tool_loop(enabled(), Vec::new());
        let messages = fresh["messages"].as_array_mut().expect("messages");
        messages.push(json!({"role": "assistant", "content": "A."}));
        messages.push(json!({"role": "user", "content": "thanks"}));
        check(fresh, &issued).expect("a new turn needs no thinking before it");
    }

    #[test]
    fn budget_and_temperature_rules() {
        let issued = issued();
        let body = |thinking: Value, extra: Value| {
            let mut body = json!({"model": "m", "max_tokens": 4096, "thinking": thinking,
                                  "messages": [{"role": "user", "content": "hi"}]});
            if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
                body.extend(extra.clone());
            }
            body
        };
        check(body(enabled(), json!({"temperature": 1})), &issued).expect("temperature 1");
        for (thinking, extra, expected) in [
            (
                json!({"type": "enabled", "budget_tokens": 512}),
                json!({}),
                "at least 1024",
            ),
            (
                json!({"type": "enabled", "budget_tokens": 4096}),
                json!({}),
                "greater than",
            ),
            (
                json!({"type": "enabled"}),
                json!({}),
                "budget_tokens: required",
            ),
            (json!({"type": "on"}), json!({}), "thinking.type"),
            (enabled(), json!({"temperature": 0.2}), "temperature"),
        ] {
            let message = err(check(body(thinking, extra), &issued));
            assert!(message.contains(expected), "{expected}: {message}");
        }
    }

    #[test]
    fn thinking_blocks_belong_to_assistant_messages() {
        let message = err(check(
            json!({"model": "m", "max_tokens": 10, "messages": [
                {"role": "user", "content": [signed("sig_1", "I should read a.")]}
            ]}),
            &issued(),
        ));
        assert!(message.contains("only appear in assistant"), "{message}");
    }
}
