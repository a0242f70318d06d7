//! How bodies are delivered: write sizes, delays, HTTP errors, dropped connections, missing
//! terminal events.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    anthropic_request, openai_request, parse_sse, post_anthropic, post_openai, receive, start,
    streaming,
};

#[tokio::test]
async fn write_bytes_splits_events_and_characters_across_writes_and_reassembles_exactly() {
    let server = start(
        r#"
[[rules]]
name = "whole"
times = 1
reply = { text = "héllo wörld ✓ — ünïcödé", text_chunk_chars = 3 }
[[rules]]
name = "split"
reply = { text = "héllo wörld ✓ — ünïcödé", text_chunk_chars = 3, write_bytes = 7 }
"#,
    )
    .await;
    let body = streaming(anthropic_request("x"));
    let whole = receive(post_anthropic(&server, &body).await).await;
    let split = receive(post_anthropic(&server, &body).await).await;
    assert!(whole.error.is_none() && split.error.is_none());

    // The only difference between the two replies is the message id.
    let expected = whole.text().replace("msg_mock_1", "msg_mock_2");
    assert_eq!(split.bytes(), expected.as_bytes());
    assert!(
        split.frames.len() > parse_sse(&expected).len(),
        "more writes than events"
    );
    assert!(split.frames.iter().all(|frame| frame.len() <= 7));
    assert!(
        split
            .frames
            .iter()
            .any(|frame| std::str::from_utf8(frame).is_err()),
        "some write ends inside a multi-byte character"
    );
}

#[tokio::test]
async fn default_delivery_sends_one_event_per_write() {
    let server =
        start("[[rules]]\nreply = { text = \"abcdefghij\", text_chunk_chars = 2 }\n").await;
    let received = receive(post_openai(&server, &streaming(openai_request("x"))).await).await;
    let text = received.text();
    // A frame never spans two writes, so if every write is one event, every event ends where a
    // frame ends.
    let mut frame_ends = Vec::new();
    let mut offset = 0;
    for frame in &received.frames {
        offset += frame.len();
        frame_ends.push(offset);
    }
    let event_ends: Vec<usize> = text.match_indices("\n\n").map(|(at, _)| at + 2).collect();
    assert_eq!(event_ends.len(), parse_sse(&text).len());
    for end in event_ends {
        assert!(
            frame_ends.contains(&end),
            "an event ending at {end} shares a write with the next"
        );
    }
}

#[tokio::test]
async fn coalesced_body_carries_every_event() {
    let server = start(
        "[[rules]]\nreply = { text = \"abcdefghij\", text_chunk_chars = 2, coalesce = true }\n",
    )
    .await;
    let received = receive(post_anthropic(&server, &streaming(anthropic_request("x"))).await).await;
    let events = parse_sse(&received.text());
    assert_eq!(
        events.first().and_then(|e| e.name.as_deref()),
        Some("message_start")
    );
    assert_eq!(
        events.last().and_then(|e| e.name.as_deref()),
        Some("message_stop")
    );
}

#[tokio::test]
async fn chunk_delay_spaces_the_writes() {
    let server = start(
        "[[rules]]\nreply = { text = \"abcd\", text_chunk_chars = 1, chunk_delay_ms = 25 }\n",
    )
    .await;
    let sent = Instant::now();
    let received = receive(post_openai(&server, &streaming(openai_request("x"))).await).await;
    let events = parse_sse(&received.text());
    // role, 4 text deltas, finish, [DONE] = 7 writes, so at least 6 delays before the last one.
    assert_eq!(events.len(), 7);
    let last = *received.arrivals.last().expect("frames");
    assert!(
        last.duration_since(sent) >= Duration::from_millis(6 * 25),
        "{:?}",
        last.duration_since(sent)
    );
}

#[tokio::test]
async fn first_byte_delay_holds_back_the_status_line() {
    let server = start("[[rules]]\nreply = { text = \"x\", first_byte_delay_ms = 150 }\n").await;
    let sent = Instant::now();
    let response = post_openai(&server, &openai_request("x")).await;
    assert!(sent.elapsed() >= Duration::from_millis(150));
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn scripted_429_carries_retry_after_and_an_openai_error_body() {
    let server = start(
        r#"
[[rules]]
reply = { status = 429, headers = { "retry-after" = "1" }, error_message = "slow down" }
"#,
    )
    .await;
    // Even a streaming request gets a JSON error, as the real API does.
    let response = post_openai(&server, &streaming(openai_request("x"))).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": {"message": "slow down", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
    );
}

#[tokio::test]
async fn scripted_errors_use_the_anthropic_error_shape_with_default_messages() {
    let server = start(
        r#"
[[rules]]
times = 1
reply = { status = 429, headers = { "retry-after" = "2" } }
[[rules]]
times = 1
reply = { status = 529 }
[[rules]]
reply = { status = 500 }
"#,
    )
    .await;
    let expectations = [
        (429, "rate_limit_error", Some("2")),
        (529, "overloaded_error", None),
        (500, "api_error", None),
    ];
    for (status, kind, retry_after) in expectations {
        let response = post_anthropic(&server, &anthropic_request("x")).await;
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().expect("ascii")),
            retry_after
        );
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], kind);
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains("scripted by baton-mock-llm"), "{message}");
    }
}

#[tokio::test]
async fn extra_headers_come_with_content_replies_too() {
    let server =
        start("[[rules]]\nreply = { text = \"x\", headers = { \"x-request-id\" = \"req-7\" } }\n")
            .await;
    let response = post_openai(&server, &openai_request("x")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "req-7");
}

#[tokio::test]
async fn drop_after_bytes_cuts_the_stream_and_the_client_sees_an_error() {
    let server = start(
        "[[rules]]\nreply = { text = \"a long enough reply to be cut\", text_chunk_chars = 2, drop_after_bytes = 120 }\n",
    )
    .await;
    let response = post_openai(&server, &streaming(openai_request("x"))).await;
    assert_eq!(response.status(), 200);
    let received = receive(response).await;
    assert!(
        received.error.is_some(),
        "the body must end in an error, not cleanly"
    );
    // Every byte before the cut arrives; then the connection ends mid-body.
    let bytes = received.bytes();
    assert_eq!(bytes.len(), 120);
    let text = String::from_utf8_lossy(&bytes);
    // (Key order is the JSON library's business, not the wire's.)
    assert!(text.starts_with("data: {\""), "{text}");
    assert!(text.contains("\"choices\":"), "{text}");
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn drop_after_bytes_also_cuts_a_non_streaming_body() {
    let server = start("[[rules]]\nreply = { text = \"hello\", drop_after_bytes = 10 }\n").await;
    let response = post_anthropic(&server, &anthropic_request("x")).await;
    assert_eq!(response.status(), 200);
    assert!(response.json::<Value>().await.is_err());
}

#[tokio::test]
async fn omit_terminal_ends_the_openai_stream_cleanly_without_done() {
    let server = start("[[rules]]\nreply = { text = \"hi\", omit_terminal = true }\n").await;
    let received = receive(post_openai(&server, &streaming(openai_request("x"))).await).await;
    assert!(received.error.is_none(), "the body ends cleanly");
    let events = parse_sse(&received.text());
    assert!(events.iter().all(|event| event.data != "[DONE]"));
    let last = events.last().expect("events").json();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn omit_terminal_ends_the_anthropic_stream_cleanly_without_message_stop() {
    let server = start("[[rules]]\nreply = { text = \"hi\", omit_terminal = true }\n").await;
    let received = receive(post_anthropic(&server, &streaming(anthropic_request("x"))).await).await;
    assert!(received.error.is_none(), "the body ends cleanly");
    let events = parse_sse(&received.text());
    assert_eq!(
        events.last().and_then(|e| e.name.as_deref()),
        Some("message_delta")
    );
    assert!(
        events
            .iter()
            .all(|event| event.name.as_deref() != Some("message_stop"))
    );
}
