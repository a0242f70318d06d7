//! Scripted reasoning on the chat wires: Anthropic thinking blocks with signatures the server checks
//! when they come back, OpenAI `reasoning_content` deltas.

use serde_json::{Value, json};

use crate::support::{
    anthropic_request, openai_request, parse_sse, post_anthropic, post_openai, receive, start,
    streaming,
};

fn thinking_request(user: &str) -> Value {
    let mut body = anthropic_request(user);
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    body
}

#[tokio::test]
async fn anthropic_thinking_streams_as_a_signed_block_when_enabled() {
    let server = start(
        r#"
[[rules]]
reply = { thinking = "I should read a.", redacted_thinking = "opaque", text_chunk_chars = 8, tool_calls = [{ name = "read", arguments = { path = "a" } }] }
"#,
    )
    .await;
    let received =
        receive(post_anthropic(&server, &streaming(thinking_request("read a"))).await).await;
    let events = parse_sse(&received.text());
    let data: Vec<Value> = events.iter().map(|e| e.json()).collect();
    assert_eq!(
        data[2]["content_block"],
        json!({"type": "redacted_thinking", "data": "opaque"})
    );
    assert_eq!(data[3], json!({"type": "content_block_stop", "index": 0}));
    assert_eq!(
        data[4]["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(
        data[5]["delta"],
        json!({"type": "thinking_delta", "thinking": "I should"})
    );
    assert_eq!(
        data[6]["delta"],
        json!({"type": "thinking_delta", "thinking": " read a."})
    );
    assert_eq!(
        data[7]["delta"],
        json!({"type": "signature_delta", "signature": "sig_1"})
    );
    assert_eq!(data[8], json!({"type": "content_block_stop", "index": 1}));
    assert_eq!(data[9]["content_block"]["type"], "tool_use");

    // Without thinking enabled there is none.
    let plain: Value = post_anthropic(&server, &anthropic_request("read a"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(plain["content"][0]["type"], "tool_use");
}

#[tokio::test]
async fn anthropic_thinking_must_come_back_signed_and_unchanged() {
    let server = start(
        r#"
[[rules]]
when = { no_tool_results = true }
reply = { thinking = "I should read a.", tool_calls = [{ id = "toolu_a", name = "read", arguments = { path = "a" } }] }
[[rules]]
reply = { text = "A it is." }
"#,
    )
    .await;
    let first: Value = post_anthropic(&server, &thinking_request("read a"))
        .await
        .json()
        .await
        .expect("JSON");
    let thinking = first["content"][0].clone();
    assert_eq!(thinking["signature"], "sig_1");
    let follow_up = |first_block: Option<Value>| {
        let mut content: Vec<Value> = first_block.into_iter().collect();
        content.push(first["content"][1].clone());
        let mut body = thinking_request("read a");
        body["messages"] = json!([
            {"role": "user", "content": "read a"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "A"}]}
        ]);
        body
    };
    assert_eq!(
        post_anthropic(&server, &follow_up(Some(thinking.clone())))
            .await
            .status(),
        200
    );
    let mut tampered = thinking.clone();
    tampered["thinking"] = json!("I should read b.");
    for (block, expected) in [
        (Some(tampered), "invalid signature in thinking block"),
        (None, "expected `thinking` or `redacted_thinking`"),
    ] {
        let response = post_anthropic(&server, &follow_up(block)).await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.expect("JSON");
        let message = error["error"]["message"].as_str().expect("message");
        assert!(message.contains(expected), "{expected}: {message}");
    }
}

#[tokio::test]
async fn openai_reasoning_streams_as_reasoning_content_before_the_text() {
    let server = start(
        "[[rules]]\nreply = { reasoning = \"Greeting back.\", text = \"Hello\", text_chunk_chars = 9 }\n",
    )
    .await;
    let received = receive(post_openai(&server, &streaming(openai_request("hi"))).await).await;
    let deltas: Vec<Value> = parse_sse(&received.text())
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| e.json()["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(deltas[1], json!({"reasoning_content": "Greeting "}));
    assert_eq!(deltas[2], json!({"reasoning_content": "back."}));
    assert_eq!(deltas[3], json!({"content": "Hello"}));
    let whole: Value = post_openai(&server, &openai_request("hi"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        whole["choices"][0]["message"]["reasoning_content"],
        "Greeting back."
    );
    assert_eq!(
        whole["usage"]["completion_tokens_details"]["reasoning_tokens"],
        3
    );
}
