//! The OpenAI Responses API wire: a `model` and an `input` (a string or items); well-formed items;
//! every `function_call_output` answering a `function_call` earlier in the input; reasoning items
//! carrying the encrypted content this server issued; and, with `store: false` (nothing is kept
//! between calls), no item referring to a stored one by its `id`.

use serde_json::Value;

use super::{images, str_field, with_model};
use crate::conversation::{is_message, role};
use crate::issued::Issued;

pub(super) fn validate(body: &Value, issued: &Issued) -> Result<(), String> {
    let object = with_model(body)?;
    let items = match object.get("input") {
        Some(Value::String(_)) => &[][..],
        Some(Value::Array(items)) if !items.is_empty() => items.as_slice(),
        Some(Value::Array(_)) => return Err("`input` must hold at least one item".to_string()),
        Some(_) => return Err("`input` must be a string or an array of items".to_string()),
        None => return Err("missing required field `input`".to_string()),
    };
    if let Some(instructions) = object.get("instructions")
        && !instructions.is_string()
        && !instructions.is_null()
    {
        return Err("`instructions` must be a string".to_string());
    }
    check_tools(body)?;
    let stored = object.get("store") != Some(&Value::Bool(false));
    for (index, item) in items.iter().enumerate() {
        let at = format!("input[{index}]");
        if !item.is_object() {
            return Err(format!("{at}: must be an object"));
        }
        if !stored && let Some(id) = str_field(item, "id") {
            return Err(format!(
                "{at}: Item with id {id:?} not found. Items are not persisted when `store` is set \
                 to false. Try again with `store` set to true, or remove this item from your input."
            ));
        }
        check_item(items, index, &at, issued)?;
    }
    Ok(())
}

fn check_item(items: &[Value], index: usize, at: &str, issued: &Issued) -> Result<(), String> {
    let item = &items[index];
    if is_message(item) {
        return check_message(item, at);
    }
    let missing = |field: &str| str_field(item, field).is_none();
    match str_field(item, "type") {
        Some("function_call") => {
            if missing("call_id") || missing("name") {
                return Err(format!(
                    "{at}: a function_call item needs `call_id` and `name`"
                ));
            }
            if missing("arguments") {
                return Err(format!(
                    "{at}.arguments: must be a string holding the JSON arguments"
                ));
            }
            Ok(())
        }
        Some("function_call_output") => {
            let call_id = str_field(item, "call_id")
                .ok_or_else(|| format!("{at}: a function_call_output item needs `call_id`"))?;
            check_output(item.get("output"), at)?;
            let called = items[..index].iter().any(|earlier| {
                str_field(earlier, "type") == Some("function_call")
                    && str_field(earlier, "call_id") == Some(call_id)
            });
            if called {
                Ok(())
            } else {
                Err(format!(
                    "{at}: No tool call found for function call output with call_id {call_id:?} \
                     (a function_call item with that call_id must come earlier in the input)"
                ))
            }
        }
        Some("reasoning") => {
            if !item.get("summary").is_some_and(Value::is_array) {
                return Err(format!(
                    "{at}.summary: a reasoning item needs a `summary` array"
                ));
            }
            match str_field(item, "encrypted_content") {
                Some(content) if issued.vouches(content, None) => Ok(()),
                Some(content) => Err(format!(
                    "{at}.encrypted_content: The encrypted content {content:?} could not be \
                     verified. Reason: Encrypted content could not be decrypted or parsed."
                )),
                None => Err(format!(
                    "{at}: a reasoning item sent back must carry its `encrypted_content` (ask for \
                     it with include: [\"reasoning.encrypted_content\"])"
                )),
            }
        }
        Some(other) => Err(format!(
            "{at}.type: unknown input item type {other:?} (expected message, function_call, \
             function_call_output or reasoning)"
        )),
        None => Err(format!("{at}: missing `type`")),
    }
}

/// A call's output: a string, or `input_text` and `input_image` parts.
fn check_output(output: Option<&Value>, at: &str) -> Result<(), String> {
    match output {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(parts)) => {
            for (position, part) in parts.iter().enumerate() {
                let at = format!("{at}.output[{position}]");
                match str_field(part, "type") {
                    Some("input_text") if str_field(part, "text").is_some() => {}
                    Some("input_image") if str_field(part, "file_id").is_some() => {}
                    Some("input_image") => images::check_url(str_field(part, "image_url"), &at)?,
                    other => {
                        return Err(format!(
                            "{at}.type: expected input_text or input_image with its field, got {other:?}"
                        ));
                    }
                }
            }
            Ok(())
        }
        Some(_) => Err(format!(
            "{at}.output: must be a string or an array of input parts"
        )),
        None => Err(format!("{at}: a function_call_output item needs `output`")),
    }
}

fn check_message(item: &Value, at: &str) -> Result<(), String> {
    match role(item) {
        "user" | "assistant" | "system" | "developer" => {}
        "" => return Err(format!("{at}: missing `role`")),
        other => {
            return Err(format!(
                "{at}.role: unknown role {other:?} (expected user, assistant, system or developer)"
            ));
        }
    }
    match item.get("content") {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(parts)) => {
            let allowed: &[&str] = if role(item) == "assistant" {
                &["output_text", "refusal"]
            } else {
                &["input_text", "input_image", "input_file"]
            };
            for (position, part) in parts.iter().enumerate() {
                let at = format!("{at}.content[{position}]");
                let kind = str_field(part, "type");
                if !kind.is_some_and(|kind| allowed.contains(&kind)) {
                    return Err(format!(
                        "{at}.type: expected one of {allowed:?} in a {:?} message, got {kind:?}",
                        role(item)
                    ));
                }
                if matches!(kind, Some("input_text" | "output_text"))
                    && str_field(part, "text").is_none()
                {
                    return Err(format!("{at}: a text part needs `text`"));
                }
            }
            Ok(())
        }
        Some(_) => Err(format!(
            "{at}.content: must be a string or an array of parts"
        )),
        None => Err(format!("{at}: missing `content`")),
    }
}

fn check_tools(body: &Value) -> Result<(), String> {
    let Some(tools) = body.get("tools") else {
        return Ok(());
    };
    let tools = tools.as_array().ok_or("`tools` must be an array")?;
    for (index, tool) in tools.iter().enumerate() {
        if str_field(tool, "type") == Some("function") && str_field(tool, "name").is_none() {
            return Err(format!(
                "tools[{index}]: a function tool needs `name` (at the top level of the tool, not \
                 under `function` as in chat completions)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::tests::err;
    use serde_json::json;

    fn responses(body: Value) -> Result<(), String> {
        let issued = Issued::default();
        issued.issue("enc_mock_1", "thought");
        validate(&body, &issued)
    }

    fn with_input(input: Value) -> Value {
        json!({"model": "m", "store": false, "input": input})
    }

    #[test]
    fn a_well_formed_round_trip_passes() {
        responses(with_input(json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "read a"}]},
            {"type": "reasoning", "summary": [], "encrypted_content": "enc_mock_1"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
            {"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "A"},
            {"role": "user", "content": "thanks"}
        ])))
        .expect("valid");
        responses(
            json!({"model": "m", "input": "hi", "tools": [{"type": "function", "name": "x"}]}),
        )
        .expect("valid");
    }

    #[test]
    fn model_and_input_are_required() {
        assert!(err(responses(json!({"input": "hi"}))).contains("`model`"));
        assert!(err(responses(json!({"model": "m"}))).contains("`input`"));
        assert!(err(responses(json!({"model": "m", "input": []}))).contains("at least one"));
        assert!(err(responses(json!({"model": "m", "input": 3}))).contains("string or an array"));
    }

    #[test]
    fn an_output_must_answer_an_earlier_call() {
        let message = err(responses(with_input(json!([
            {"role": "user", "content": "u"},
            {"type": "function_call_output", "call_id": "ghost", "output": "x"},
            {"type": "function_call", "call_id": "ghost", "name": "read", "arguments": "{}"}
        ]))));
        assert!(
            message.contains("input[1]") && message.contains("ghost"),
            "{message}"
        );
    }

    #[test]
    fn reasoning_must_carry_issued_encrypted_content() {
        let forged = err(responses(with_input(json!([
            {"type": "reasoning", "summary": [], "encrypted_content": "made up"},
            {"role": "user", "content": "u"}
        ]))));
        assert!(forged.contains("could not be verified"), "{forged}");
        let bare = err(responses(with_input(json!([
            {"type": "reasoning", "summary": []},
            {"role": "user", "content": "u"}
        ]))));
        assert!(bare.contains("encrypted_content"), "{bare}");
    }

    #[test]
    fn ids_of_unstored_items_are_refused() {
        let items = json!([
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc_mock_1"},
            {"role": "user", "content": "u"}
        ]);
        let message = err(responses(with_input(items.clone())));
        assert!(message.contains("Items are not persisted"), "{message}");
        responses(json!({"model": "m", "input": items})).expect("stored by default");
    }

    #[test]
    fn malformed_items_and_tools_are_refused() {
        for (input, expected) in [
            (
                json!([{"type": "message", "role": "tool", "content": "x"}]),
                "unknown role",
            ),
            (
                json!([{"type": "message", "role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]),
                "output_text",
            ),
            (
                json!([{"type": "function_call", "call_id": "c", "name": "x", "arguments": {}}]),
                "must be a string",
            ),
            (
                json!([{"type": "item_reference"}]),
                "unknown input item type",
            ),
            (json!([{"content": "no role or type"}]), "missing `type`"),
        ] {
            let message = err(responses(with_input(input)));
            assert!(message.contains(expected), "{expected}: {message}");
        }
        let message = err(responses(json!({"model": "m", "input": "hi",
            "tools": [{"type": "function", "function": {"name": "x"}}]})));
        assert!(message.contains("tools[0]"), "{message}");
    }
}
