//! Echo replies (`text_from`) and the `any_text` condition, over HTTP.

use serde_json::{Value, json};

use crate::support::{
    Event, parse_sse, post_anthropic, post_openai, post_responses, receive, start, streaming,
};

const SCRIPT: &str = r#"
[[rules]]
name = "summary"
when = { any_text = "(?i)summari[sz]e the conversation" }
reply = { text_from = { pattern = "FACT-[0-9]+", prefix = "Facts: ", separator = ", " } }

[[rules]]
name = "echo-last"
when = { last_user = "^echo" }
reply = { text_from = { pattern = "[a-z]+-[0-9]+", source = "last_user", separator = " + ", none_text = "nothing" } }

[[rules]]
name = "plain"
reply = { text = "ok" }
"#;

fn openai_text(events: &[Event]) -> String {
    events
        .iter()
        .filter(|event| event.data != "[DONE]")
        .filter_map(|event| {
            event.json()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test]
async fn openai_summary_request_echoes_every_fact_of_the_conversation() {
    let server = start(SCRIPT).await;
    let body = streaming(json!({
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Remember FACT-1."},
            {"role": "user", "content": "Note FACT-2 and FACT-1."},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "the file says FACT-30"},
            {"role": "assistant", "content": "Got FACT-2."},
            {"role": "user", "content": "Summarize the conversation so far."}
        ]
    }));
    let response = post_openai(&server, &body).await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&receive(response).await.text());
    assert_eq!(openai_text(&events), "Facts: FACT-1, FACT-2, FACT-30");
    assert_eq!(
        server.requests()[0].matched_rule.as_deref(),
        Some("summary")
    );
}

#[tokio::test]
async fn anthropic_summary_request_reads_system_text_blocks_and_tool_results() {
    let server = start(SCRIPT).await;
    let body = json!({
        "model": "claude-test",
        "max_tokens": 256,
        "system": [{"type": "text", "text": "Keep FACT-7 in mind."}],
        "messages": [
            {"role": "user", "content": "start"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "read", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "FACT-8"}]},
                {"type": "text", "text": "Please summarise the conversation."}
            ]}
        ]
    });
    let response = post_anthropic(&server, &body).await;
    assert_eq!(response.status(), 200);
    let message: Value = response.json().await.expect("JSON");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Facts: FACT-7, FACT-8"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
}

#[tokio::test]
async fn a_summary_without_facts_says_none_and_last_user_echo_reads_only_the_latest_text() {
    let server = start(SCRIPT).await;
    let text_of = |value: &Value| value["choices"][0]["message"]["content"].clone();

    let nothing = post_openai(
        &server,
        &json!({"model": "m", "messages": [{"role": "user", "content": "summarize the conversation"}]}),
    )
    .await;
    let nothing: Value = nothing.json().await.expect("JSON");
    assert_eq!(text_of(&nothing), "Facts: (none)");

    let echo = post_openai(
        &server,
        &json!({"model": "m", "messages": [
            {"role": "user", "content": "old-1"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "echo abc-1 def-2 abc-1"}
        ]}),
    )
    .await;
    let echo: Value = echo.json().await.expect("JSON");
    assert_eq!(text_of(&echo), "abc-1 + def-2");

    let empty = post_openai(
        &server,
        &json!({"model": "m", "messages": [{"role": "user", "content": "echo nothing here"}]}),
    )
    .await;
    let empty: Value = empty.json().await.expect("JSON");
    assert_eq!(text_of(&empty), "nothing");

    let plain = post_openai(
        &server,
        &json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]}),
    )
    .await;
    let plain: Value = plain.json().await.expect("JSON");
    assert_eq!(text_of(&plain), "ok");
}

#[tokio::test]
async fn responses_summary_request_reads_instructions_messages_and_call_outputs() {
    let server = start(SCRIPT).await;
    let body = streaming(json!({
        "model": "gpt-test",
        "store": false,
        "instructions": "Keep FACT-4 in mind.",
        "input": [
            {"type": "message", "role": "developer", "content": "And FACT-5."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "read FACT-6"}]},
            {"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "it says FACT-4 and FACT-9"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Read FACT-9."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Summarize the conversation."}]}
        ]
    }));
    let response = post_responses(&server, &body).await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&receive(response).await.text());
    let text: String = events
        .iter()
        .filter(|event| event.name.as_deref() == Some("response.output_text.delta"))
        .filter_map(|event| event.json()["delta"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "Facts: FACT-4, FACT-5, FACT-6, FACT-9");
    assert_eq!(
        server.requests()[0].matched_rule.as_deref(),
        Some("summary")
    );

    let echo = post_responses(
        &server,
        &json!({"model": "m", "store": false, "input": "echo xyz-3 then xyz-4"}),
    )
    .await;
    let echo: Value = echo.json().await.expect("JSON");
    assert_eq!(echo["output"][0]["content"][0]["text"], "xyz-3 + xyz-4");
}
