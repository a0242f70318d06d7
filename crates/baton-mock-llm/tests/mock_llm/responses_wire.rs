//! The OpenAI Responses wire, streamed and not.

use serde_json::{Value, json};

use crate::support::{
    Event, parse_sse, post_responses, receive, responses_request, start, streaming,
};

fn names(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.name.as_deref().expect("named event"))
        .collect()
}

#[tokio::test]
async fn responses_stream_follows_the_real_event_sequence() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Let me look ✓"
text_chunk_chars = 7
args_chunk_chars = 9
tool_calls = [{ name = "read", arguments = { path = "a.txt" } }]
usage = { input_tokens = 40, output_tokens = 12, cached_tokens = 30 }
"#,
    )
    .await;
    let response = post_responses(&server, &streaming(responses_request("look"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let received = receive(response).await;
    assert!(received.error.is_none());
    let events = parse_sse(&received.text());
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(["response.output_text.delta"; 2]); // 13 chars in pieces of 7
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
    ]);
    expected.extend(["response.function_call_arguments.delta"; 2]); // 16 chars in pieces of 9
    expected.extend([
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(names(&events), expected);
    for (number, event) in events.iter().enumerate() {
        let data = event.json();
        assert_eq!(data["type"], event.name.as_deref().expect("name"));
        assert_eq!(
            data["sequence_number"], number,
            "events are numbered in order"
        );
    }
    let created = &events[0].json()["response"];
    assert_eq!(created["id"], "resp_mock_1");
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["output"], json!([]));

    let text: String = events
        .iter()
        .filter(|e| e.name.as_deref() == Some("response.output_text.delta"))
        .map(|e| e.json()["delta"].as_str().expect("delta").to_string())
        .collect();
    assert_eq!(text, "Let me look ✓");
    let call_added = &events[9].json();
    assert_eq!(call_added["output_index"], 1);
    assert_eq!(
        call_added["item"],
        json!({"id": "fc_mock_1_0", "type": "function_call", "status": "in_progress",
               "call_id": "call_1", "name": "read", "arguments": ""})
    );
    let arguments: String = events
        .iter()
        .filter(|e| e.name.as_deref() == Some("response.function_call_arguments.delta"))
        .map(|e| {
            let data = e.json();
            assert_eq!(data["item_id"], "fc_mock_1_0");
            data["delta"].as_str().expect("delta").to_string()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).expect("JSON"),
        json!({"path": "a.txt"})
    );
    let completed = &events[events.len() - 1].json()["response"];
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["output"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        completed["usage"],
        json!({"input_tokens": 40, "input_tokens_details": {"cached_tokens": 30},
               "output_tokens": 12, "output_tokens_details": {"reasoning_tokens": 0},
               "total_tokens": 52})
    );
}

#[tokio::test]
async fn responses_reasoning_shows_what_the_request_asked_for() {
    let server =
        start("[[rules]]\nreply = { reasoning = \"Plan: greet.\", text = \"Hi\" }\n").await;
    let mut asking = streaming(responses_request("hello"));
    asking["reasoning"] = json!({"effort": "low", "summary": "auto"});
    asking["include"] = json!(["reasoning.encrypted_content"]);
    let events = parse_sse(&receive(post_responses(&server, &asking).await).await.text());
    let names = names(&events);
    assert_eq!(
        names[2..9],
        [
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
        ]
    );
    assert_eq!(
        events[2].json()["item"],
        json!({"id": "rs_mock_1", "type": "reasoning", "summary": []})
    );
    assert_eq!(events[4].json()["delta"], "Plan: greet.");
    assert_eq!(
        events[7].json()["item"],
        json!({"id": "rs_mock_1", "type": "reasoning",
               "summary": [{"type": "summary_text", "text": "Plan: greet."}],
               "encrypted_content": "enc_mock_1"})
    );

    // Without a summary or the include, the item is there but shows neither.
    let plain: Value = post_responses(&server, &responses_request("hello"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        plain["output"][0],
        json!({"id": "rs_mock_2", "type": "reasoning", "summary": []})
    );
}

#[tokio::test]
async fn responses_non_stream_reply_is_one_response_object() {
    let server = start(
        r#"
[[rules]]
[rules.reply]
text = "Reading."
tool_calls = [{ id = "call_fixed", name = "read", arguments = { path = "a.txt" } }]
usage = { input_tokens = 9, output_tokens = 2 }
"#,
    )
    .await;
    let response = post_responses(&server, &responses_request("go")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["id"], "resp_mock_1");
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["model"], "gpt-test");
    assert!(body["incomplete_details"].is_null());
    assert_eq!(
        body["output"],
        json!([
            {"id": "msg_mock_1", "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": "Reading.", "annotations": []}]},
            {"id": "fc_mock_1_0", "type": "function_call", "status": "completed",
             "call_id": "call_fixed", "name": "read", "arguments": "{\"path\":\"a.txt\"}"},
        ])
    );
    assert_eq!(body["usage"]["total_tokens"], 11);
}

#[tokio::test]
async fn responses_stop_reason_makes_the_response_incomplete() {
    let server =
        start("[[rules]]\nreply = { text = \"cut\", stop_reason = \"max_output_tokens\" }\n").await;
    let body: Value = post_responses(&server, &responses_request("x"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["status"], "incomplete");
    assert_eq!(
        body["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    let events = parse_sse(
        &receive(post_responses(&server, &streaming(responses_request("x"))).await)
            .await
            .text(),
    );
    let last = events.last().expect("events");
    assert_eq!(last.name.as_deref(), Some("response.incomplete"));
    assert_eq!(
        last.json()["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
}

#[tokio::test]
async fn responses_omit_terminal_ends_without_response_completed() {
    let server = start("[[rules]]\nreply = { text = \"hi\", omit_terminal = true }\n").await;
    let received = receive(post_responses(&server, &streaming(responses_request("x"))).await).await;
    assert!(received.error.is_none(), "ends cleanly");
    let events = parse_sse(&received.text());
    assert_eq!(
        events.last().and_then(|e| e.name.as_deref()),
        Some("response.output_item.done")
    );
}

#[tokio::test]
async fn responses_rules_match_on_its_conversation() {
    let server = start(
        r#"
[[rules]]
when = { wire = "openai" }
reply = { text = "wrong wire" }
[[rules]]
name = "answered"
when = { wire = "responses", last_tool_result = "^A$", system = "careful", tools_include = ["read"], last_user = "read a" }
reply = { text = "Got A." }
[[rules]]
name = "fresh"
when = { wire = "responses", no_tool_results = true }
reply = { text = "Fresh." }
"#,
    )
    .await;
    let body = json!({"model": "m", "store": false, "instructions": "Be careful.",
    "tools": [{"type": "function", "name": "read", "parameters": {}}],
    "input": [
        {"role": "user", "content": "read a"},
        {"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "A"}
    ]});
    let answered: Value = post_responses(&server, &body)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(answered["output"][0]["content"][0]["text"], "Got A.");
    let fresh: Value = post_responses(&server, &responses_request("hi"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(fresh["output"][0]["content"][0]["text"], "Fresh.");
    let recorded = server.requests();
    assert_eq!(recorded[0].wire, baton_mock_llm::Wire::Responses);
    assert_eq!(recorded[0].path, "/v1/responses");
    assert_eq!(recorded[0].matched_rule.as_deref(), Some("answered"));
    assert_eq!(recorded[1].matched_rule.as_deref(), Some("fresh"));
}

#[tokio::test]
async fn responses_errors_and_refusals_use_the_openai_error_shape() {
    let server = start(
        r#"
[[rules]]
when = { last_user = "busy" }
reply = { status = 429, headers = { "retry-after" = "2" }, error_message = "slow down" }
[[rules]]
reply = { text = "ok" }
"#,
    )
    .await;
    let response = post_responses(&server, &responses_request("busy")).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["message"], "slow down");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    let forged = json!({"model": "m", "store": false, "input": [
        {"role": "user", "content": "hi"},
        {"type": "reasoning", "summary": [], "encrypted_content": "not from here"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
        {"role": "user", "content": "again"}
    ]});
    for (body, expected) in [
        (forged, "could not be verified"),
        (json!({"model": "m"}), "missing required field `input`"),
        (
            json!({"model": "m", "input": [{"type": "function_call_output", "call_id": "c9", "output": "x"}]}),
            "c9",
        ),
    ] {
        let response = post_responses(&server, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        let message = error["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with("baton-mock-llm: malformed OpenAI Responses request: "),
            "{message}"
        );
        assert!(message.contains(expected), "{expected}: {message}");
    }
}

#[tokio::test]
async fn responses_encrypted_reasoning_it_issued_is_taken_back() {
    let server = start("[[rules]]\nreply = { reasoning = \"think\", text = \"one\" }\n").await;
    let mut first = responses_request("hi");
    first["include"] = json!(["reasoning.encrypted_content"]);
    let answer: Value = post_responses(&server, &first)
        .await
        .json()
        .await
        .expect("JSON");
    let encrypted = answer["output"][0]["encrypted_content"].clone();
    assert_eq!(encrypted, "enc_mock_1");
    let mut second = first.clone();
    let input = second["input"].as_array_mut().expect("input");
    input.push(json!({"type": "reasoning", "summary": [], "encrypted_content": encrypted}));
    input.push(json!({"role": "assistant", "content": [{"type": "output_text", "text": "one"}]}));
    input.push(json!({"role": "user", "content": "and?"}));
    assert_eq!(post_responses(&server, &second).await.status(), 200);
}
