//! Request handling around the rules: API keys, malformed requests, recording, helper endpoints,
//! binding and shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use baton_mock_llm::{MockServer, RecordedRequest, Script, Wire};
use serde_json::{Value, json};

use crate::support::{
    anthropic_request, client, openai_request, post_anthropic, post_openai, start,
};

#[tokio::test]
async fn require_api_key_checks_bearer_on_openai() {
    let server =
        start("require_api_key = \"sk-test\"\n[[rules]]\nreply = { text = \"in\" }\n").await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let send = |key: Option<&'static str>| {
        let mut request = client().post(&url).json(&openai_request("x"));
        if let Some(key) = key {
            request = request.header("authorization", key);
        }
        request.send()
    };
    for bad in [None, Some("Bearer sk-wrong"), Some("sk-test")] {
        let response = send(bad).await.expect("sent");
        assert_eq!(response.status(), 401, "authorization {bad:?}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "invalid_api_key");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    let response = send(Some("Bearer sk-test")).await.expect("sent");
    assert_eq!(response.status(), 200);
    let matched: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|r| r.matched_rule)
        .collect();
    assert_eq!(matched, [None, None, None, Some("#0".to_string())]);
}

#[tokio::test]
async fn require_api_key_checks_x_api_key_on_anthropic() {
    let server =
        start("require_api_key = \"sk-test\"\n[[rules]]\nreply = { text = \"in\" }\n").await;
    let url = format!("{}/v1/messages", server.anthropic_base_url());
    let send = |key: &'static str| {
        client()
            .post(&url)
            .header("anthropic-version", "2023-06-01")
            .header("x-api-key", key)
            .json(&anthropic_request("x"))
            .send()
    };
    let response = send("sk-nope").await.expect("sent");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(send("sk-test").await.expect("sent").status(), 200);
}

async fn openai_refusal(server: &MockServer, body: &str) -> String {
    let response = client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400, "body {body}");
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    error["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
}

async fn anthropic_refusal(server: &MockServer, body: &Value) -> String {
    let response = post_anthropic(server, body).await;
    assert_eq!(response.status(), 400, "body {body}");
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    error["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
}

#[tokio::test]
async fn malformed_openai_requests_are_refused_with_a_clear_400() {
    let server = start("[[rules]]\nreply = { text = \"x\" }\n").await;
    let cases = [
        ("{not json", "not valid JSON"),
        (
            r#"{"messages": [{"role": "user", "content": "x"}]}"#,
            "`model`",
        ),
        (r#"{"model": "m"}"#, "`messages`"),
        (
            r#"{"model": "m", "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "read", "arguments": "{}"}}]},
                {"role": "user", "content": "never answered"}
            ]}"#,
            "call_9",
        ),
    ];
    for (body, expected) in cases {
        let message = openai_refusal(&server, body).await;
        assert!(
            message.contains(expected),
            "{message:?} should mention {expected:?}"
        );
        assert!(message.starts_with("baton-mock-llm: "), "{message}");
    }
    let recorded = server.requests();
    assert_eq!(
        recorded.len(),
        cases.len(),
        "refused requests are recorded too"
    );
    assert_eq!(recorded[0].body, json!("{not json"));
    assert!(recorded.iter().all(|r| r.matched_rule.is_none()));
}

#[tokio::test]
async fn malformed_anthropic_requests_are_refused_with_a_clear_400() {
    let server = start("[[rules]]\nreply = { text = \"x\" }\n").await;
    let without_max_tokens = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
    let assistant_first =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": "x"}]});
    let not_alternating = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "a"}, {"role": "user", "content": "b"}
    ]});
    let unanswered_tool_use = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_9", "name": "read", "input": {}}]},
        {"role": "user", "content": "no result"}
    ]});
    let cases = [
        (without_max_tokens, "max_tokens"),
        (assistant_first, "first message"),
        (not_alternating, "alternate"),
        (unanswered_tool_use, "toolu_9"),
        (json!({"max_tokens": 5, "messages": []}), "`model`"),
        (json!({"model": "m", "max_tokens": 5}), "`messages`"),
    ];
    for (body, expected) in &cases {
        let message = anthropic_refusal(&server, body).await;
        assert!(
            message.contains(expected),
            "{message:?} should mention {expected:?}"
        );
    }

    let response = client()
        .post(format!("{}/v1/messages", server.anthropic_base_url()))
        .json(&anthropic_request("x"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("JSON");
    assert!(
        error["error"]["message"]
            .as_str()
            .expect("message")
            .contains("anthropic-version")
    );

    let response = client()
        .post(format!("{}/v1/messages", server.anthropic_base_url()))
        .header("anthropic-version", "2023-06-01")
        .body("plain text")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    assert_eq!(server.requests().len(), cases.len() + 2);
}

#[tokio::test]
async fn every_request_is_recorded_in_arrival_order() {
    let server = start(
        r#"
[[rules]]
name = "greeting"
when = { last_user = "hello" }
reply = { text = "hi" }
[[rules]]
when = { wire = "anthropic" }
reply = { text = "anthropic" }
"#,
    )
    .await;
    let before = std::time::SystemTime::now();
    let response = client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .header("X-Custom-Header", "Value")
        .json(&openai_request("hello"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        post_anthropic(&server, &anthropic_request("other"))
            .await
            .status(),
        200
    );
    assert_eq!(
        post_openai(&server, &openai_request("other"))
            .await
            .status(),
        400
    );

    let recorded = server.requests();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0].wire, Wire::OpenAi);
    assert_eq!(recorded[0].path, "/v1/chat/completions");
    assert_eq!(recorded[0].headers["x-custom-header"], "Value");
    assert_eq!(recorded[0].body, openai_request("hello"));
    assert_eq!(recorded[0].matched_rule.as_deref(), Some("greeting"));
    assert_eq!(recorded[1].wire, Wire::Anthropic);
    assert_eq!(recorded[1].path, "/v1/messages");
    assert_eq!(recorded[1].headers["anthropic-version"], "2023-06-01");
    assert_eq!(recorded[1].matched_rule.as_deref(), Some("#1"));
    assert_eq!(recorded[2].matched_rule, None);
    assert!(recorded[0].received_at >= before);
    assert!(
        recorded
            .windows(2)
            .all(|pair| pair[0].received_at <= pair[1].received_at)
    );
}

#[tokio::test]
async fn mock_requests_endpoint_serves_the_recorded_requests_as_json() {
    let server = start("[[rules]]\nreply = { text = \"x\" }\n").await;
    post_openai(&server, &openai_request("one")).await;
    post_anthropic(&server, &anthropic_request("two")).await;
    let response = client()
        .get(format!("{}/_mock/requests", server.url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let raw: Value = response.json().await.expect("JSON");
    assert_eq!(raw[0]["wire"], "openai");
    assert_eq!(raw[1]["wire"], "anthropic");
    assert_eq!(raw[1]["body"]["messages"][0]["content"], "two");
    assert!(raw[0]["estimated_input_tokens"].as_u64() > Some(0));
    let recorded: Vec<RecordedRequest> = serde_json::from_value(raw).expect("RecordedRequest JSON");
    assert_eq!(recorded, server.requests());
}

#[tokio::test]
async fn health_endpoint_answers_200_and_unknown_routes_404() {
    let server = start("").await;
    let health = client()
        .get(format!("{}/_mock/health", server.url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
    let missing = client()
        .post(format!("{}/chat/completions", server.url()))
        .json(&openai_request("x"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("/v1/chat/completions")
    );
    assert!(
        server.requests().is_empty(),
        "only model requests are recorded"
    );
}

#[tokio::test]
async fn urls_follow_the_bound_address() {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = MockServer::bind(addr, Script::default())
        .await
        .expect("bind");
    let port = server.addr().port();
    assert_ne!(port, 0);
    assert_eq!(server.url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(
        server.openai_base_url(),
        format!("http://127.0.0.1:{port}/v1")
    );
    assert_eq!(
        server.anthropic_base_url(),
        format!("http://127.0.0.1:{port}")
    );
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = start("").await;
    let health = format!("{}/_mock/health", server.url());
    assert_eq!(
        client().get(&health).send().await.expect("up").status(),
        200
    );
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // A fresh client each time, so no pooled connection is reused.
        if client().get(&health).send().await.is_err() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server still answering after drop"
        );
        tokio::task::yield_now().await;
    }
}
