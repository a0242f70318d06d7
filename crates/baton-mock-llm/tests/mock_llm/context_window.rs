//! `context_window`: requests whose estimated input does not fit are refused in each provider's
//! shape and wording, and recorded with their estimate.

use serde_json::{Value, json};

use crate::support::{
    anthropic_request, openai_request, post_anthropic, post_openai, post_responses,
    responses_request, start, streaming,
};

/// The mock's estimate for a body sent with reqwest's `.json()`: characters / 4, at least 1.
fn estimate(body: &Value) -> u64 {
    let chars = serde_json::to_string(body).expect("JSON").chars().count();
    u64::try_from(chars / 4).expect("small").max(1)
}

const SCRIPT: &str = "context_window = 60\n[[rules]]\nreply = { text = \"fits\" }\n";

#[tokio::test]
async fn openai_prompt_over_the_context_window_is_refused_like_openai() {
    let server = start(SCRIPT).await;
    let fits = openai_request("short");
    assert!(estimate(&fits) <= 60);
    assert_eq!(post_openai(&server, &fits).await.status(), 200);

    let too_long = streaming(openai_request(&"long words ".repeat(40)));
    let tokens = estimate(&too_long);
    assert!(tokens > 60);
    let response = post_openai(&server, &too_long).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": {
            "message": format!(
                "This model's maximum context length is 60 tokens. However, your messages \
                 resulted in {tokens} tokens. Please reduce the length of the messages."
            ),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }})
    );

    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].matched_rule.as_deref(), Some("#0"));
    assert_eq!(recorded[0].estimated_input_tokens, estimate(&fits));
    assert_eq!(recorded[1].matched_rule, None);
    assert_eq!(recorded[1].estimated_input_tokens, tokens);
}

#[tokio::test]
async fn anthropic_prompt_over_the_context_window_is_refused_like_anthropic() {
    let server = start(SCRIPT).await;
    let fits = anthropic_request("short");
    assert_eq!(post_anthropic(&server, &fits).await.status(), 200);

    let too_long = anthropic_request(&"long words ".repeat(40));
    let tokens = estimate(&too_long);
    let response = post_anthropic(&server, &too_long).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"type": "error", "error": {
            "type": "invalid_request_error",
            "message": format!("prompt is too long: {tokens} tokens > 60 maximum"),
        }})
    );
    let recorded = server.requests();
    assert_eq!(recorded[1].matched_rule, None);
    assert!(
        recorded
            .iter()
            .filter(|request| request.matched_rule.is_some())
            .all(|request| request.estimated_input_tokens <= 60)
    );
}

#[tokio::test]
async fn responses_input_over_the_context_window_is_refused_like_the_responses_api() {
    let server = start(SCRIPT).await;
    let fits = responses_request("short");
    assert!(estimate(&fits) <= 60);
    assert_eq!(post_responses(&server, &fits).await.status(), 200);

    let too_long = streaming(responses_request(&"long words ".repeat(40)));
    let tokens = estimate(&too_long);
    assert!(tokens > 60);
    let response = post_responses(&server, &too_long).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": {
            "message": "Your input exceeds the context window of this model. Please adjust your \
                        input and try again.",
            "type": "invalid_request_error",
            "param": "input",
            "code": "context_length_exceeded",
        }})
    );
    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].matched_rule.as_deref(), Some("#0"));
    assert_eq!(recorded[0].estimated_input_tokens, estimate(&fits));
    assert_eq!(recorded[1].matched_rule, None);
    assert_eq!(recorded[1].estimated_input_tokens, tokens);
}

#[tokio::test]
async fn a_refused_prompt_uses_up_no_rule() {
    let server = start(
        "context_window = 60\n[[rules]]\ntimes = 1\nname = \"once\"\nreply = { text = \"a\" }\n",
    )
    .await;
    let too_long = openai_request(&"x".repeat(400));
    assert_eq!(post_openai(&server, &too_long).await.status(), 400);
    let response = post_openai(&server, &openai_request("hi")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        server.requests()[1].matched_rule.as_deref(),
        Some("once"),
        "the refusal came before matching"
    );
}
