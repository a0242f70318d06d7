//! The OpenAI chat-completions wire, streamed and not.

use serde_json::{Value, json};

use crate::support::{Event, openai_request, parse_sse, post_openai, receive, start, streaming};

fn chunk_deltas(events: &[Event]) -> Vec<Value> {
    events
        .iter()
        .filter(|event| event.data != "[DONE]")
        .map(Event::json)
        .filter(|chunk| chunk["choices"].as_array().is_some_and(|c| !c.is_empty()))
        .map(|chunk| chunk["choices"][0]["delta"].clone())
        .collect()
}

#[tokio::test]
async fn openai_stream_sends_role_text_deltas_finish_usage_chunk_and_done() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Hello wörld, streamed!"
text_chunk_chars = 5
usage = { input_tokens = 11, output_tokens = 7 }
"#,
    )
    .await;
    let mut body = streaming(openai_request("hi"));
    body["stream_options"] = json!({"include_usage": true});
    let response = post_openai(&server, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert!(
        response.headers().get("content-length").is_none(),
        "streams are chunked"
    );
    let received = receive(response).await;
    assert!(received.error.is_none());
    let events = parse_sse(&received.text());

    assert!(
        events.iter().all(|event| event.name.is_none()),
        "OpenAI events are unnamed"
    );
    assert_eq!(events.last().expect("events").data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(Event::json).collect();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "gpt-test");
        assert_eq!(chunk["id"], chunks[0]["id"]);
        assert!(chunk["created"].is_u64());
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");

    let pieces: Vec<&str> = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .filter(|piece| !piece.is_empty())
        .collect();
    assert_eq!(pieces.concat(), "Hello wörld, streamed!");
    assert!(pieces.iter().all(|piece| piece.chars().count() <= 5));
    assert_eq!(pieces.len(), 5);

    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage_chunk = &chunks[chunks.len() - 1];
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(
        usage_chunk["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
    );
}

#[tokio::test]
async fn openai_stream_without_include_usage_has_no_usage_chunk() {
    let server = start("[[rules]]\nreply = { text = \"ok\" }\n").await;
    let received = receive(post_openai(&server, &streaming(openai_request("hi"))).await).await;
    let events = parse_sse(&received.text());
    assert_eq!(events.last().expect("events").data, "[DONE]");
    for event in &events[..events.len() - 1] {
        let chunk = event.json();
        assert!(chunk.get("usage").is_none(), "{chunk}");
        assert_eq!(chunk["choices"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn openai_stream_tool_calls_assemble_by_index() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Reading."
args_chunk_chars = 3
tool_calls = [
  { name = "read", arguments = { path = "src/main.rs", limit = 10 } },
  { id = "call_fixed", name = "bash", arguments = { command = "ls -la" } },
]
"#,
    )
    .await;
    let received = receive(post_openai(&server, &streaming(openai_request("go"))).await).await;
    let events = parse_sse(&received.text());
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for delta in chunk_deltas(&events) {
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = usize::try_from(call["index"].as_u64().expect("index")).expect("small");
            if let Some(id) = call["id"].as_str() {
                assert_eq!(call["type"], "function");
                assert_eq!(call["function"]["arguments"], "");
                assert_eq!(index, calls.len(), "calls open in index order");
                calls.push((
                    id.to_string(),
                    call["function"]["name"].as_str().expect("name").to_string(),
                    String::new(),
                ));
            } else {
                let piece = call["function"]["arguments"]
                    .as_str()
                    .expect("arguments piece");
                assert!(piece.chars().count() <= 3);
                calls[index].2.push_str(piece);
            }
        }
    }
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].0.as_str(), calls[0].1.as_str()),
        ("call_1", "read")
    );
    assert_eq!(
        (calls[1].0.as_str(), calls[1].1.as_str()),
        ("call_fixed", "bash")
    );
    let first: Value = serde_json::from_str(&calls[0].2).expect("valid JSON arguments");
    assert_eq!(first, json!({"path": "src/main.rs", "limit": 10}));
    let second: Value = serde_json::from_str(&calls[1].2).expect("valid JSON arguments");
    assert_eq!(second, json!({"command": "ls -la"}));
    let finish = events[events.len() - 2].json();
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn openai_interleaved_tool_calls_alternate_indices() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
args_chunk_chars = 4
interleave_tool_calls = true
tool_calls = [
  { name = "a", raw_arguments = "12345678" },
  { name = "b", raw_arguments = "abcdefgh" },
]
"#,
    )
    .await;
    let received = receive(post_openai(&server, &streaming(openai_request("go"))).await).await;
    let indices: Vec<u64> = chunk_deltas(&parse_sse(&received.text()))
        .iter()
        .filter_map(|delta| delta["tool_calls"][0]["index"].as_u64())
        .collect();
    assert_eq!(indices, [0, 1, 0, 1, 0, 1]);
}

#[tokio::test]
async fn openai_raw_arguments_are_streamed_verbatim() {
    let server = start(
        "[[rules]]\nreply = { tool_calls = [{ name = \"edit\", raw_arguments = \"{\\\"path\\\": \\\"a.tx\" }] }\n",
    )
    .await;
    let received = receive(post_openai(&server, &streaming(openai_request("go"))).await).await;
    let arguments: String = chunk_deltas(&parse_sse(&received.text()))
        .iter()
        .filter_map(|delta| {
            delta["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(arguments, "{\"path\": \"a.tx");
}

#[tokio::test]
async fn openai_non_stream_reply_is_one_chat_completion() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Done."
tool_calls = [{ name = "read", arguments = { path = "a.txt" } }]
usage = { input_tokens = 3, output_tokens = 4 }
"#,
    )
    .await;
    let response = post_openai(&server, &openai_request("go")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().get("content-length").is_some());
    let completion: Value = response.json().await.expect("JSON");
    assert_eq!(completion["object"], "chat.completion");
    assert_eq!(completion["model"], "gpt-test");
    assert_eq!(completion["id"], "chatcmpl-mock-1");
    let choice = &completion["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Done.");
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a.txt\"}"}}])
    );
    assert_eq!(
        completion["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})
    );
}

#[tokio::test]
async fn openai_generated_ids_count_up_across_requests_and_stop_reason_can_be_overridden() {
    let server = start(
        "[[rules]]\nreply = { stop_reason = \"length\", tool_calls = [{ name = \"a\" }, { name = \"b\" }] }\n",
    )
    .await;
    let first: Value = post_openai(&server, &openai_request("x"))
        .await
        .json()
        .await
        .expect("JSON");
    let second: Value = post_openai(&server, &openai_request("x"))
        .await
        .json()
        .await
        .expect("JSON");
    let ids = |completion: &Value| -> Vec<String> {
        completion["choices"][0]["message"]["tool_calls"]
            .as_array()
            .expect("calls")
            .iter()
            .map(|call| call["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&first), ["call_1", "call_2"]);
    assert_eq!(ids(&second), ["call_3", "call_4"]);
    assert_eq!(second["id"], "chatcmpl-mock-2");
    assert_eq!(first["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn openai_estimated_usage_is_chars_over_four() {
    let server = start("[[rules]]\nreply = { text = \"0123456789abcdef\" }\n").await;
    let body = openai_request("hello");
    let request_chars = body.to_string().chars().count();
    let completion: Value = post_openai(&server, &body)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        completion["usage"]["prompt_tokens"],
        json!((request_chars / 4).max(1))
    );
    assert_eq!(completion["usage"]["completion_tokens"], 4);
}
