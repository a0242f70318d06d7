//! The Responses wire end to end: streamed text, tool calls and reasoning, each taken back by the
//! mock (which checks call ids, encrypted reasoning and that nothing refers to stored items).

use crate::common::{call, msg, provider, request, server, user};
use baton_llm::{ChatRequest, ReasoningEffort, StopReason, Wire};
use baton_protocol::{Part, Role, ToolSpec, Usage};
use serde_json::json;

fn with_tools(mut r: ChatRequest) -> ChatRequest {
    r.tools = ["read", "glob"]
        .into_iter()
        .map(|name| ToolSpec {
            name: name.into(),
            description: format!("The {name} tool"),
            parameters: json!({"type": "object"}),
        })
        .collect();
    r
}

#[tokio::test]
async fn responses_stream_text_and_usage() {
    let server = server(
        r#"
[[rules]]
when = { wire = "responses", system = "test", last_user = "^hi$" }
reply = { text = "Hello there, in pieces.", text_chunk_chars = 5, usage = { input_tokens = 300, output_tokens = 9, cached_tokens = 256 } }
"#,
    )
    .await;
    let out = call(
        &provider(&server, Wire::Responses),
        request(vec![user("hi")]),
    )
    .await;
    out.assert_complete();
    assert_eq!(out.text(), "Hello there, in pieces.");
    assert_eq!(out.stop_reason(), Some(StopReason::EndTurn));
    assert_eq!(
        out.usage(),
        Some(Usage {
            input_tokens: 300,
            output_tokens: 9,
            cache_read_tokens: 256,
            ..Usage::default()
        })
    );
    assert!(out.reasoning().is_empty());
}

#[tokio::test]
async fn responses_tool_calls_round_trip() {
    let server = server(
        r#"
[[rules]]
name = "calls"
when = { no_tool_results = true }
reply = { text = "Looking.", args_chunk_chars = 3, tool_calls = [{ name = "read", arguments = { path = "a.rs" } }, { name = "glob", arguments = { pattern = "*.rs" } }] }
[[rules]]
name = "done"
when = { last_tool_result = "b.rs" }
reply = { text = "Two files." }
"#,
    )
    .await;
    let responses = provider(&server, Wire::Responses);
    let first = call(&responses, with_tools(request(vec![user("look")]))).await;
    first.assert_complete();
    assert_eq!(first.stop_reason(), Some(StopReason::ToolUse));
    let calls = first.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (
            calls[0].call_id.as_str(),
            calls[0].name.as_str(),
            calls[0].arguments.as_str()
        ),
        ("call_1", "read", r#"{"path":"a.rs"}"#)
    );
    assert_eq!(calls[1].arguments, r#"{"pattern":"*.rs"}"#);

    let results = msg(
        Role::Tool,
        calls
            .iter()
            .map(|c| Part::ToolResult {
                call_id: c.call_id.clone(),
                name: c.name.clone(),
                output: if c.name == "read" {
                    "fn a() {}"
                } else {
                    "a.rs b.rs"
                }
                .into(),
                is_error: false,
                images: Vec::new(),
            })
            .collect(),
    );
    let history = vec![user("look"), first.answer(), results];
    let second = call(&responses, with_tools(request(history))).await;
    second.assert_complete();
    assert_eq!(second.text(), "Two files.");
    let recorded = server.requests();
    assert_eq!(recorded[1].matched_rule.as_deref(), Some("done"));
    let input = recorded[1].body["input"].as_array().unwrap().clone();
    assert_eq!(
        input[2..],
        [
            json!({"type": "function_call", "call_id": "call_1", "name": "read", "arguments": "{\"path\":\"a.rs\"}"}),
            json!({"type": "function_call", "call_id": "call_2", "name": "glob", "arguments": "{\"pattern\":\"*.rs\"}"}),
            json!({"type": "function_call_output", "call_id": "call_1", "output": "fn a() {}"}),
            json!({"type": "function_call_output", "call_id": "call_2", "output": "a.rs b.rs"}),
        ]
    );
}

#[tokio::test]
async fn responses_reasoning_round_trip() {
    let server = server(
        r#"
[[rules]]
name = "think"
when = { no_tool_results = true }
reply = { reasoning = "**Plan** Read a.rs first.", text_chunk_chars = 8, tool_calls = [{ name = "read", arguments = { path = "a.rs" } }], usage = { reasoning_tokens = 42 } }
[[rules]]
name = "answer"
when = { last_tool_result = "fn a" }
reply = { text = "a() it is." }
"#,
    )
    .await;
    let responses = provider(&server, Wire::Responses);
    let mut ask = with_tools(request(vec![user("what is in a.rs?")]));
    ask.reasoning = Some(ReasoningEffort::High);
    let first = call(&responses, ask.clone()).await;
    first.assert_complete();
    assert_eq!(first.reasoning_text(), "**Plan** Read a.rs first.");
    assert_eq!(
        first.reasoning(),
        [Part::Reasoning {
            text: "**Plan** Read a.rs first.".into(),
            signature: None,
            data: Some("enc_mock_1".into()),
            item_id: Some("rs_mock_1".into()),
            origin: "responses".into(),
        }]
    );
    assert_eq!(first.usage().unwrap().reasoning_tokens, 42);
    let sent = &server.requests()[0].body;
    assert_eq!(
        sent["reasoning"],
        json!({"effort": "high", "summary": "auto"})
    );
    assert!(sent.get("temperature").is_none());

    let call_id = first.calls()[0].call_id.clone();
    let mut next = ask;
    next.messages = vec![
        user("what is in a.rs?"),
        first.answer(),
        msg(
            Role::Tool,
            vec![Part::ToolResult {
                call_id,
                name: "read".into(),
                output: "fn a() {}".into(),
                is_error: false,
                images: Vec::new(),
            }],
        ),
    ]
    .into();
    let second = call(&responses, next).await;
    second.assert_complete();
    assert_eq!(second.text(), "a() it is.");
    let recorded = server.requests();
    assert_eq!(recorded[1].matched_rule.as_deref(), Some("answer"));
    assert_eq!(
        recorded[1].body["input"][1],
        json!({"type": "reasoning",
               "summary": [{"type": "summary_text", "text": "**Plan** Read a.rs first."}],
               "encrypted_content": "enc_mock_1"})
    );
}

#[tokio::test]
async fn responses_incomplete_answers_say_why() {
    for (reason, stop) in [
        ("max_output_tokens", StopReason::MaxTokens),
        ("content_filter", StopReason::Refusal),
    ] {
        let server = server(&format!(
            "[[rules]]\nreply = {{ text = \"cut short\", stop_reason = \"{reason}\" }}\n"
        ))
        .await;
        let out = call(
            &provider(&server, Wire::Responses),
            request(vec![user("hi")]),
        )
        .await;
        out.assert_complete();
        assert_eq!(out.text(), "cut short");
        assert_eq!(out.stop_reason(), Some(stop), "{reason}");
    }
}
