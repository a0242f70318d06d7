//! Reasoning over the chat wires: Anthropic extended thinking goes back signed and unchanged (the
//! mock refuses anything else), OpenAI-compatible `reasoning_content` is shown and kept but never
//! sent back.

use crate::common::{call, msg, provider, request, server, user};
use baton_llm::{ChatRequest, LlmError, ReasoningEffort, StopReason, Wire};
use baton_protocol::{CallId, Message, Part, Role, ToolSpec};
use serde_json::json;

const THINK_THEN_READ: &str = r#"
[[rules]]
name = "think-and-read"
when = { no_tool_results = true }
reply = { thinking = "The user wants a.rs: read it.", text_chunk_chars = 9, tool_calls = [{ name = "read", arguments = { path = "a.rs" } }] }
[[rules]]
name = "answer"
when = { last_tool_result = "fn a" }
reply = { text = "a.rs defines a()." }
"#;

fn thinking(messages: Vec<Message>) -> ChatRequest {
    let mut r = request(messages);
    r.reasoning = Some(ReasoningEffort::Medium);
    r.temperature = Some(0.3);
    r.tools = vec![ToolSpec {
        name: "read".into(),
        description: "Read a file".into(),
        parameters: json!({"type": "object"}),
    }];
    r
}

fn read_result(call_id: &CallId) -> Message {
    msg(
        Role::Tool,
        vec![Part::ToolResult {
            call_id: call_id.clone(),
            name: "read".into(),
            output: "fn a() {}".into(),
            is_error: false,
            images: Vec::new(),
        }],
    )
}

#[tokio::test]
async fn anthropic_thinking_before_a_tool_call_goes_back_with_its_signature() {
    let server = server(THINK_THEN_READ).await;
    let anthropic = provider(&server, Wire::Anthropic);
    let first = call(&anthropic, thinking(vec![user("what is in a.rs?")])).await;
    first.assert_complete();
    assert_eq!(first.reasoning_text(), "The user wants a.rs: read it.");
    assert_eq!(
        first.reasoning(),
        [Part::Reasoning {
            text: "The user wants a.rs: read it.".into(),
            signature: Some("sig_1".into()),
            data: None,
            item_id: None,
            origin: "anthropic".into(),
        }]
    );
    assert_eq!(first.stop_reason(), Some(StopReason::ToolUse));
    let sent = &server.requests()[0].body;
    // Medium effort: an 8192-token budget, above which max_tokens is raised; no temperature.
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(sent["max_tokens"], 8192 + 1024);
    assert!(sent.get("temperature").is_none());

    let answer = first.answer();
    let call_id = first.calls()[0].call_id.clone();
    let history = vec![
        user("what is in a.rs?"),
        answer.clone(),
        read_result(&call_id),
    ];
    let second = call(&anthropic, thinking(history)).await;
    second.assert_complete();
    assert_eq!(second.text(), "a.rs defines a().");
    let recorded = server.requests();
    assert_eq!(recorded[1].matched_rule.as_deref(), Some("answer"));
    assert_eq!(
        recorded[1].body["messages"][1]["content"][0],
        json!({"type": "thinking", "thinking": "The user wants a.rs: read it.", "signature": "sig_1"})
    );

    // A thinking block that was changed is refused, as Anthropic refuses it.
    let mut tampered = answer;
    if let Some(Part::Reasoning { text, .. }) = tampered.parts.first_mut() {
        text.push_str(" And b.rs.");
    }
    let history = vec![user("what is in a.rs?"), tampered, read_result(&call_id)];
    let error = call(&anthropic, thinking(history)).await.error.unwrap();
    assert!(matches!(error, LlmError::BadRequest(_)), "{error}");
    assert!(
        error
            .to_string()
            .contains("invalid signature in thinking block"),
        "{error}"
    );
}

#[tokio::test]
async fn anthropic_tool_loop_from_another_wire_is_continued_without_thinking() {
    // The answer that made the call came from another wire: its reasoning cannot go back, and
    // Anthropic would refuse thinking for a loop that did not start with it.
    let server = server(THINK_THEN_READ).await;
    let call_id = CallId::from("call_1");
    let history = vec![
        user("what is in a.rs?"),
        msg(
            Role::Assistant,
            vec![
                Part::Reasoning {
                    text: "read it".into(),
                    signature: None,
                    data: None,
                    item_id: None,
                    origin: "openai".into(),
                },
                Part::ToolCall(baton_protocol::ToolCall {
                    call_id: call_id.clone(),
                    name: "read".into(),
                    arguments: r#"{"path":"a.rs"}"#.into(),
                }),
            ],
        ),
        read_result(&call_id),
    ];
    let out = call(&provider(&server, Wire::Anthropic), thinking(history)).await;
    out.assert_complete();
    assert_eq!(out.text(), "a.rs defines a().");
    let sent = &server.requests()[0].body;
    assert!(sent.get("thinking").is_none(), "{sent}");
    assert_eq!(sent["temperature"], 0.3);
    assert_eq!(sent["messages"][1]["content"][0]["type"], "tool_use");
}

#[tokio::test]
async fn openai_reasoning_content_is_shown_and_kept_but_not_sent_back() {
    let server = server(THINK_THEN_READ).await;
    let openai = provider(&server, Wire::OpenAi);
    let first = call(&openai, thinking(vec![user("what is in a.rs?")])).await;
    first.assert_complete();
    assert_eq!(first.reasoning_text(), "The user wants a.rs: read it.");
    assert_eq!(
        first.reasoning(),
        [Part::Reasoning {
            text: "The user wants a.rs: read it.".into(),
            signature: None,
            data: None,
            item_id: None,
            origin: "openai".into(),
        }]
    );
    let usage = first.usage().unwrap();
    assert_eq!(usage.reasoning_tokens, 7, "29 reasoning characters / 4");
    assert_eq!(server.requests()[0].body["reasoning_effort"], "medium");

    let call_id = first.calls()[0].call_id.clone();
    let history = vec![
        user("what is in a.rs?"),
        first.answer(),
        read_result(&call_id),
    ];
    let second = call(&openai, thinking(history)).await;
    second.assert_complete();
    assert_eq!(second.text(), "a.rs defines a().");
    let sent = server.requests()[1].body.to_string();
    assert!(!sent.contains("The user wants"), "{sent}");
}
