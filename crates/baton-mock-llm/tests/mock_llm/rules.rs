//! Which rule answers: order, `times`, every `when` condition, and the no-match answer.

use baton_mock_llm::MockServer;
use serde_json::{Value, json};

use crate::support::{anthropic_request, openai_request, post_anthropic, post_openai, start};

async fn openai_text(server: &MockServer, body: &Value) -> String {
    let response = post_openai(server, body).await;
    assert_eq!(response.status(), 200, "request {body}");
    let completion: Value = response.json().await.expect("JSON");
    completion["choices"][0]["message"]["content"]
        .as_str()
        .expect("text")
        .to_string()
}

async fn anthropic_text(server: &MockServer, body: &Value) -> String {
    let response = post_anthropic(server, body).await;
    assert_eq!(response.status(), 200, "request {body}");
    let message: Value = response.json().await.expect("JSON");
    message["content"][0]["text"]
        .as_str()
        .expect("text")
        .to_string()
}

#[tokio::test]
async fn rules_are_tried_in_order_and_the_first_match_wins() {
    let server = start(
        r#"
[[rules]]
when = { last_user = "weather" }
reply = { text = "weather rule" }
[[rules]]
when = { last_user = "weather|news" }
reply = { text = "news rule" }
[[rules]]
reply = { text = "fallback" }
"#,
    )
    .await;
    assert_eq!(
        openai_text(&server, &openai_request("weather today?")).await,
        "weather rule"
    );
    assert_eq!(
        openai_text(&server, &openai_request("any news?")).await,
        "news rule"
    );
    assert_eq!(
        openai_text(&server, &openai_request("hello")).await,
        "fallback"
    );
}

#[tokio::test]
async fn times_limits_a_rule_then_the_next_rule_answers() {
    let server = start(
        r#"
[[rules]]
name = "twice"
times = 2
reply = { text = "limited" }
[[rules]]
name = "rest"
reply = { text = "unlimited" }
"#,
    )
    .await;
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(openai_text(&server, &openai_request("x")).await);
    }
    assert_eq!(answers, ["limited", "limited", "unlimited", "unlimited"]);
    let matched: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|r| r.matched_rule)
        .collect();
    assert_eq!(
        matched,
        [Some("twice"), Some("twice"), Some("rest"), Some("rest")].map(|s| s.map(str::to_string))
    );
}

#[tokio::test]
async fn times_is_exact_under_concurrent_requests() {
    let server = start(
        r#"
[[rules]]
times = 5
reply = { text = "limited" }
[[rules]]
reply = { text = "rest" }
"#,
    )
    .await;
    let body = openai_request("x");
    let requests = (0..24).map(|_| openai_text(&server, &body));
    let answers = futures::future::join_all(requests).await;
    assert_eq!(answers.iter().filter(|a| *a == "limited").count(), 5);
    assert_eq!(answers.iter().filter(|a| *a == "rest").count(), 19);
}

#[tokio::test]
async fn wire_condition_picks_the_route() {
    let server = start(
        r#"
[[rules]]
when = { wire = "anthropic" }
reply = { text = "anthropic" }
[[rules]]
when = { wire = "openai" }
reply = { text = "openai" }
"#,
    )
    .await;
    assert_eq!(openai_text(&server, &openai_request("x")).await, "openai");
    assert_eq!(
        anthropic_text(&server, &anthropic_request("x")).await,
        "anthropic"
    );
}

#[tokio::test]
async fn first_user_matches_the_first_user_text_only() {
    let server = start(
        r#"
[[rules]]
when = { first_user = "^start" }
reply = { text = "first" }
[[rules]]
reply = { text = "other" }
"#,
    )
    .await;
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "start here"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "then this"}
    ]});
    assert_eq!(openai_text(&server, &body).await, "first");
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "then this"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "start here"}
    ]});
    assert_eq!(openai_text(&server, &body).await, "other");
}

#[tokio::test]
async fn last_user_skips_a_user_message_that_only_holds_tool_results() {
    let server = start(
        r#"
[[rules]]
when = { last_user = "^fix the bug$" }
reply = { text = "still the bug" }
[[rules]]
reply = { text = "other" }
"#,
    )
    .await;
    let body = json!({"model": "m", "max_tokens": 100, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "fix the bug"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "code"}]}
    ]});
    assert_eq!(anthropic_text(&server, &body).await, "still the bug");
}

#[tokio::test]
async fn last_tool_result_sees_only_results_after_the_latest_assistant_message_openai() {
    let server = start(
        r#"
[[rules]]
when = { last_tool_result = "PASSED" }
reply = { text = "tests pass" }
[[rules]]
reply = { text = "other" }
"#,
    )
    .await;
    let call = |id: &str| json!({"id": id, "type": "function", "function": {"name": "bash", "arguments": "{}"}});
    let answering = json!({"model": "m", "messages": [
        {"role": "user", "content": "run tests"},
        {"role": "assistant", "content": null, "tool_calls": [call("c1"), call("c2")]},
        {"role": "tool", "tool_call_id": "c1", "content": "compiled"},
        {"role": "tool", "tool_call_id": "c2", "content": "3 PASSED"}
    ]});
    assert_eq!(openai_text(&server, &answering).await, "tests pass");
    let stale = json!({"model": "m", "messages": [
        {"role": "user", "content": "run tests"},
        {"role": "assistant", "content": null, "tool_calls": [call("c1")]},
        {"role": "tool", "tool_call_id": "c1", "content": "3 PASSED"},
        {"role": "assistant", "content": "All good."},
        {"role": "user", "content": "thanks"}
    ]});
    assert_eq!(openai_text(&server, &stale).await, "other");
}

#[tokio::test]
async fn last_tool_result_sees_only_results_after_the_latest_assistant_message_anthropic() {
    let server = start(
        r#"
[[rules]]
when = { last_tool_result = "exit code 1" }
reply = { text = "it failed" }
[[rules]]
reply = { text = "other" }
"#,
    )
    .await;
    let answering = json!({"model": "m", "max_tokens": 100, "messages": [
        {"role": "user", "content": "build"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "bash", "input": {}},
            {"type": "tool_use", "id": "t2", "name": "bash", "input": {}}
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
            {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "exit code 1"}]}
        ]}
    ]});
    assert_eq!(anthropic_text(&server, &answering).await, "it failed");
    let stale = json!({"model": "m", "max_tokens": 100, "messages": [
        {"role": "user", "content": "build"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "exit code 1"}]},
        {"role": "assistant", "content": "It failed."},
        {"role": "user", "content": "ok"}
    ]});
    assert_eq!(anthropic_text(&server, &stale).await, "other");
}

#[tokio::test]
async fn no_tool_results_distinguishes_fresh_turns_from_tool_answers() {
    let server = start(
        r#"
[[rules]]
when = { no_tool_results = true }
reply = { text = "fresh" }
[[rules]]
when = { no_tool_results = false }
reply = { text = "after tools" }
"#,
    )
    .await;
    assert_eq!(openai_text(&server, &openai_request("hi")).await, "fresh");
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "x", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "result"}
    ]});
    assert_eq!(openai_text(&server, &body).await, "after tools");
}

#[tokio::test]
async fn system_condition_reads_both_wires_system_prompts() {
    let server = start(
        r#"
[[rules]]
when = { system = "sub-agent" }
reply = { text = "child" }
[[rules]]
reply = { text = "parent" }
"#,
    )
    .await;
    let openai = json!({"model": "m", "messages": [
        {"role": "system", "content": "You are a sub-agent."},
        {"role": "user", "content": "x"}
    ]});
    assert_eq!(openai_text(&server, &openai).await, "child");
    assert_eq!(openai_text(&server, &openai_request("x")).await, "parent");
    let mut anthropic_blocks = anthropic_request("x");
    anthropic_blocks["system"] = json!([{"type": "text", "text": "You are a sub-agent."}]);
    assert_eq!(anthropic_text(&server, &anthropic_blocks).await, "child");
    let mut anthropic_string = anthropic_request("x");
    anthropic_string["system"] = json!("You are the primary agent.");
    assert_eq!(anthropic_text(&server, &anthropic_string).await, "parent");
}

#[tokio::test]
async fn tools_include_and_exclude_check_the_offered_tools() {
    let server = start(
        r#"
[[rules]]
when = { tools_include = ["read", "bash"], tools_exclude = ["task"] }
reply = { text = "worker" }
[[rules]]
when = { tools_include = ["task"] }
reply = { text = "delegator" }
[[rules]]
reply = { text = "no tools" }
"#,
    )
    .await;
    let with_tools = |names: &[&str]| {
        let mut body = openai_request("x");
        body["tools"] = names
            .iter()
            .map(|name| json!({"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}))
            .collect();
        body
    };
    assert_eq!(
        openai_text(&server, &with_tools(&["read", "bash"])).await,
        "worker"
    );
    assert_eq!(
        openai_text(&server, &with_tools(&["read", "bash", "task"])).await,
        "delegator"
    );
    assert_eq!(
        openai_text(&server, &with_tools(&["read"])).await,
        "no tools"
    );

    let mut anthropic = anthropic_request("x");
    anthropic["tools"] = json!([
        {"name": "read", "input_schema": {"type": "object"}},
        {"name": "bash", "input_schema": {"type": "object"}}
    ]);
    assert_eq!(anthropic_text(&server, &anthropic).await, "worker");
}

#[tokio::test]
async fn model_condition_matches_the_model_field() {
    let server = start(
        r#"
[[rules]]
when = { model = "^small-" }
reply = { text = "small" }
[[rules]]
reply = { text = "big" }
"#,
    )
    .await;
    let mut body = openai_request("x");
    body["model"] = json!("small-1");
    assert_eq!(openai_text(&server, &body).await, "small");
    body["model"] = json!("big-small-1");
    assert_eq!(openai_text(&server, &body).await, "big");
}

#[tokio::test]
async fn no_matching_rule_is_a_400_in_each_providers_shape() {
    let server = start(
        r#"
[[rules]]
when = { last_user = "never" }
reply = { text = "x" }
[[rules]]
times = 0
reply = { text = "y" }
"#,
    )
    .await;
    let expected = "baton-mock-llm: no rule matched this request (rules: 2)";

    let response = post_openai(&server, &openai_request("hello")).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["message"], expected);
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let response = post_anthropic(&server, &anthropic_request("hello")).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": expected}})
    );

    assert!(
        server
            .requests()
            .iter()
            .all(|request| request.matched_rule.is_none())
    );
}
