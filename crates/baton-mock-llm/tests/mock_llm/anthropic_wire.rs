//! The Anthropic messages wire, streamed and not.

use serde_json::{Value, json};

use crate::support::{anthropic_request, parse_sse, post_anthropic, receive, start, streaming};

#[tokio::test]
async fn anthropic_stream_follows_the_message_event_sequence() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Let me look ✓"
text_chunk_chars = 4
args_chunk_chars = 5
tool_calls = [{ name = "read", arguments = { path = "a.txt" } }]
usage = { input_tokens = 40, output_tokens = 12 }
"#,
    )
    .await;
    let response = post_anthropic(&server, &streaming(anthropic_request("look"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let received = receive(response).await;
    assert!(received.error.is_none());
    let events = parse_sse(&received.text());

    let names: Vec<&str> = events
        .iter()
        .map(|e| e.name.as_deref().expect("named event"))
        .collect();
    let mut expected = vec!["message_start", "ping", "content_block_start"];
    expected.extend(["content_block_delta"; 4]); // 13 chars in pieces of 4
    expected.extend(["content_block_stop", "content_block_start"]);
    expected.extend(["content_block_delta"; 4]); // {"path":"a.txt"} is 16 chars, pieces of 5
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    for event in &events {
        assert_eq!(
            event.json()["type"],
            event.name.as_deref().expect("name"),
            "data type matches event name"
        );
    }

    let start_message = &events[0].json()["message"];
    assert_eq!(start_message["id"], "msg_mock_1");
    assert_eq!(start_message["type"], "message");
    assert_eq!(start_message["role"], "assistant");
    assert_eq!(start_message["content"], json!([]));
    assert_eq!(start_message["model"], "claude-test");
    assert!(start_message["stop_reason"].is_null());
    assert_eq!(start_message["usage"]["input_tokens"], 40);

    let blocks: Vec<Value> = events
        .iter()
        .filter(|e| e.name.as_deref() == Some("content_block_start"))
        .map(|e| e.json())
        .collect();
    assert_eq!(blocks[0]["index"], 0);
    assert_eq!(
        blocks[0]["content_block"],
        json!({"type": "text", "text": ""})
    );
    assert_eq!(blocks[1]["index"], 1);
    assert_eq!(
        blocks[1]["content_block"],
        json!({"type": "tool_use", "id": "toolu_1", "name": "read", "input": {}})
    );

    let mut text = String::new();
    let mut partial_json = String::new();
    for event in events
        .iter()
        .filter(|e| e.name.as_deref() == Some("content_block_delta"))
    {
        let data = event.json();
        match (data["index"].as_u64(), data["delta"]["type"].as_str()) {
            (Some(0), Some("text_delta")) => {
                text.push_str(data["delta"]["text"].as_str().expect("text"))
            }
            (Some(1), Some("input_json_delta")) => {
                partial_json.push_str(
                    data["delta"]["partial_json"]
                        .as_str()
                        .expect("partial_json"),
                );
            }
            other => panic!("unexpected delta {other:?}"),
        }
    }
    assert_eq!(text, "Let me look ✓");
    assert_eq!(
        serde_json::from_str::<Value>(&partial_json).expect("JSON"),
        json!({"path": "a.txt"})
    );

    let delta = events[events.len() - 2].json();
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "tool_use", "stop_sequence": null})
    );
    assert_eq!(delta["usage"]["output_tokens"], 12);
}

#[tokio::test]
async fn anthropic_text_only_stream_ends_the_turn() {
    let server = start("[[rules]]\nreply = { text = \"hi\" }\n").await;
    let received = receive(post_anthropic(&server, &streaming(anthropic_request("x"))).await).await;
    let events = parse_sse(&received.text());
    let names: Vec<&str> = events.iter().filter_map(|e| e.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[5].json()["delta"]["stop_reason"], "end_turn");
}

#[tokio::test]
async fn anthropic_non_stream_reply_is_one_message() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Reading."
tool_calls = [{ id = "toolu_fixed", name = "read", arguments = { path = "a.txt" } }]
usage = { input_tokens = 9, output_tokens = 2 }
"#,
    )
    .await;
    let response = post_anthropic(&server, &anthropic_request("go")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let message: Value = response.json().await.expect("JSON");
    assert_eq!(
        message,
        json!({
            "id": "msg_mock_1",
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": "toolu_fixed", "name": "read", "input": {"path": "a.txt"}}
            ],
            "model": "claude-test",
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": 9, "output_tokens": 2}
        })
    );
}

#[tokio::test]
async fn anthropic_stop_reason_can_be_overridden() {
    let server =
        start("[[rules]]\nreply = { text = \"cut\", stop_reason = \"max_tokens\" }\n").await;
    let message: Value = post_anthropic(&server, &anthropic_request("x"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(message["stop_reason"], "max_tokens");
    let received = receive(post_anthropic(&server, &streaming(anthropic_request("x"))).await).await;
    let events = parse_sse(&received.text());
    assert_eq!(
        events[events.len() - 2].json()["delta"]["stop_reason"],
        "max_tokens"
    );
}
