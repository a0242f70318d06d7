//! The OpenAI chat-completions wire: every assistant tool call answered by the `tool` messages
//! right after it, and every `tool` message answering one.

use serde_json::Value;

use super::{common, images, str_field};
use crate::conversation::role;

pub(super) fn validate(body: &Value) -> Result<(), String> {
    let messages = common(body)?;
    for (index, message) in messages.iter().enumerate() {
        if !message.is_object() {
            return Err(format!("messages[{index}]: must be an object"));
        }
        match str_field(message, "role") {
            None => return Err(format!("messages[{index}]: missing `role`")),
            Some("system" | "developer") => {}
            Some("user") => check_user_images(message, index)?,
            Some("assistant") => check_openai_tool_calls(messages, index)?,
            Some("tool") => {
                check_text_only(message, index)?;
                check_openai_tool_answer(messages, index)?;
            }
            Some(other) => {
                return Err(format!(
                    "messages[{index}]: unknown role {other:?} (expected system, developer, user, assistant or tool)"
                ));
            }
        }
    }
    Ok(())
}

/// A user message's image parts need a valid URL.
fn check_user_images(message: &Value, index: usize) -> Result<(), String> {
    let parts = message.get("content").and_then(Value::as_array);
    for (position, part) in parts.into_iter().flatten().enumerate() {
        if str_field(part, "type") == Some("image_url") {
            let url = part
                .get("image_url")
                .and_then(|image| str_field(image, "url"));
            images::check_url(
                url,
                &format!("messages[{index}].content[{position}].image_url"),
            )?;
        }
    }
    Ok(())
}

/// A `tool` message's content is a string or text parts: images are for user messages.
fn check_text_only(message: &Value, index: usize) -> Result<(), String> {
    let parts = message.get("content").and_then(Value::as_array);
    for (position, part) in parts.into_iter().flatten().enumerate() {
        if str_field(part, "type") != Some("text") {
            return Err(format!(
                "messages[{index}].content[{position}]: Image URLs are only allowed for messages \
                 with role 'user', and a \"tool\" message holds text parts only"
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::tests::err;
    use serde_json::json;

    fn openai(body: Value) -> Result<(), String> {
        validate(&body)
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
}
