//! Failures are typed, retried when that can help, and never mistaken for
//! a complete answer.

use crate::common::{WIRES, call, collect, env_for, provider, registry, request, server, user};
use baton_llm::{LlmError, ProviderConfig, RetryPolicy, StreamEvent, Wire, stream_with_retry};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn quick_policy(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            name = "limited"
            times = 1
            reply = { status = 429, headers = { "retry-after" = "1" }, error_message = "slow down" }
            [[rules]]
            name = "ok"
            reply = { text = "finally" }
            "#,
        )
        .await;
        let out = collect(stream_with_retry(
            provider(&server, wire),
            request(vec![user("hi")]),
            RetryPolicy::default(),
            CancellationToken::new(),
        ))
        .await;
        out.assert_complete();
        assert_eq!(out.text(), "finally");
        assert_eq!(out.retries(), [(1, Duration::from_secs(1))], "{wire}");
        let Some(StreamEvent::Retrying { error, .. }) = out.events.first() else {
            panic!("{:?}", out.events)
        };
        assert!(
            error.contains("HTTP 429 (rate limited): slow down"),
            "{error}"
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].matched_rule.as_deref(), Some("limited"));
        let waited = requests[1]
            .received_at
            .duration_since(requests[0].received_at)
            .unwrap();
        assert!(
            waited >= Duration::from_secs(1),
            "{wire}: waited {waited:?}"
        );
    }
}

#[tokio::test]
async fn server_errors_until_retries_run_out() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            reply = { status = 500, error_message = "upstream exploded" }
            "#,
        )
        .await;
        let out = collect(stream_with_retry(
            provider(&server, wire),
            request(vec![user("hi")]),
            quick_policy(3),
            CancellationToken::new(),
        ))
        .await;
        assert_eq!(server.requests().len(), 1 + 3, "{wire}");
        assert_eq!(out.retries().len(), 3);
        let error = out.error.expect("the call fails");
        let shown = error.to_string();
        assert_eq!(
            shown,
            format!(
                "{}: HTTP 500 (server error): upstream exploded (after 3 retries)",
                wire.as_str()
            )
        );
        assert!(!shown.contains('\n'));
        assert_eq!(error.status(), Some(500));
        assert!(matches!(error.root(), LlmError::Server(_)));
    }
}

#[tokio::test]
async fn overloaded_is_retried() {
    for (wire, status) in [
        (Wire::OpenAi, 503),
        (Wire::Anthropic, 529),
        (Wire::Responses, 503),
    ] {
        let server = server(&format!(
            "[[rules]]\ntimes = 1\nreply = {{ status = {status} }}\n[[rules]]\nreply = {{ text = \"ok\" }}\n"
        ))
        .await;
        let out = collect(stream_with_retry(
            provider(&server, wire),
            request(vec![user("hi")]),
            quick_policy(2),
            CancellationToken::new(),
        ))
        .await;
        out.assert_complete();
        assert_eq!(out.retries().len(), 1);
        let Some(StreamEvent::Retrying { error, .. }) = out.events.first() else {
            panic!("{:?}", out.events)
        };
        assert!(
            error.contains(&format!("HTTP {status} (overloaded)")),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_stream_is_retried() {
    for wire in WIRES {
        // Past the opening events (the Responses wire's carry the whole response object).
        let drop_after = if wire == Wire::Responses { 2000 } else { 1000 };
        let server = server(&format!(
            r#"
            [[rules]]
            name = "dropped"
            times = 1
            reply = {{ text = "This answer will never be finished, the connection drops.", text_chunk_chars = 2, drop_after_bytes = {drop_after} }}
            [[rules]]
            reply = {{ text = "complete answer" }}
            "#
        ))
        .await;
        let out = collect(stream_with_retry(
            provider(&server, wire),
            request(vec![user("hi")]),
            quick_policy(2),
            CancellationToken::new(),
        ))
        .await;
        out.assert_complete();
        assert_eq!(out.text(), "complete answer", "{wire}");
        let retries = out.retries();
        assert_eq!(retries.len(), 1, "{wire}: {:?}", out.events);
        let Some(StreamEvent::Retrying { error, .. }) = out
            .events
            .iter()
            .find(|e| matches!(e, StreamEvent::Retrying { .. }))
        else {
            unreachable!()
        };
        assert!(error.contains("stream cut off"), "{error}");
        // Some text of the dropped attempt arrived before the retry.
        let before: usize = out
            .events
            .iter()
            .take_while(|e| !matches!(e, StreamEvent::Retrying { .. }))
            .filter(|e| matches!(e, StreamEvent::TextDelta(_)))
            .count();
        assert!(before > 0, "{wire}: the drop happened mid-stream");
    }
}

#[tokio::test]
async fn a_stream_without_its_terminal_event_is_cut_off() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            reply = { text = "looks complete but is not", omit_terminal = true }
            "#,
        )
        .await;
        let out = call(&provider(&server, wire), request(vec![user("hi")])).await;
        assert!(
            !out.events
                .iter()
                .any(|e| matches!(e, StreamEvent::Done { .. })),
            "{wire}: {:?}",
            out.events
        );
        let error = out.error.expect("cut off");
        assert!(
            matches!(error, LlmError::StreamCutOff { .. }),
            "{wire}: {error}"
        );
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn cancellation_mid_stream_ends_the_stream_at_once() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            reply = { text = "slow slow slow", text_chunk_chars = 1, chunk_delay_ms = 600000 }
            "#,
        )
        .await;
        let cancel = CancellationToken::new();
        let mut stream = provider(&server, wire)
            .stream(request(vec![user("hi")]), cancel.clone())
            .await
            .unwrap();
        let reader = tokio::spawn(async move {
            loop {
                match stream.next().await {
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return (Some(e), stream.next().await.is_none()),
                    None => return (None, true),
                }
            }
        });
        cancel.cancel();
        let (error, ended) = reader.await.unwrap();
        assert!(
            matches!(error, Some(LlmError::Cancelled)),
            "{wire}: {error:?}"
        );
        assert!(ended);
    }
}

#[tokio::test]
async fn cancellation_before_the_response_head() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            reply = { text = "late", first_byte_delay_ms = 600000 }
            "#,
        )
        .await;
        let cancel = CancellationToken::new();
        let mut stream = stream_with_retry(
            provider(&server, wire),
            request(vec![user("hi")]),
            RetryPolicy::default(),
            cancel.clone(),
        );
        let reader = tokio::spawn(async move { (stream.next().await, stream.next().await) });
        cancel.cancel();
        let (first, second) = reader.await.unwrap();
        assert!(matches!(first, Some(Err(LlmError::Cancelled))), "{first:?}");
        assert!(second.is_none());
    }
}

#[tokio::test]
async fn context_too_long_is_typed_and_not_retried() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            reply = { status = 400, error_message = "prompt is too long: 212000 tokens > 200000 maximum" }
            "#,
        )
        .await;
        let out = collect(stream_with_retry(
            provider(&server, wire),
            request(vec![user("hi")]),
            quick_policy(3),
            CancellationToken::new(),
        ))
        .await;
        assert_eq!(server.requests().len(), 1);
        let error = out.error.unwrap();
        assert!(error.is_context_too_long(), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "{}: HTTP 400 (context too long): prompt is too long: 212000 tokens > 200000 maximum",
                wire.as_str()
            )
        );
    }
}

#[tokio::test]
async fn unmatched_requests_are_bad_requests() {
    let server = server("rules = []").await;
    let out = call(&provider(&server, Wire::OpenAi), request(vec![user("hi")])).await;
    let error = out.error.unwrap();
    assert!(matches!(error, LlmError::BadRequest(_)), "{error}");
    assert_eq!(error.status(), Some(400));
    assert!(error.to_string().contains("no rule matched"), "{error}");
}

#[tokio::test]
async fn auth_errors_name_the_variable_to_set() {
    let server = server(
        r#"
        require_api_key = "sk-right"
        [[rules]]
        reply = { text = "ok" }
        "#,
    )
    .await;
    // No key at all: say which variable to set.
    let env = BTreeMap::from([("ANTHROPIC_BASE_URL".to_owned(), server.anthropic_base_url())]);
    let p = registry(&env, &BTreeMap::new()).get("anthropic").unwrap();
    let out = call(&p, request(vec![user("hi")])).await;
    let error = out.error.unwrap();
    assert!(matches!(error, LlmError::Auth(_)), "{error}");
    let shown = error.to_string();
    assert!(shown.starts_with("anthropic: HTTP 401 (auth): "), "{shown}");
    assert!(shown.ends_with(" — set ANTHROPIC_API_KEY"), "{shown}");

    // A wrong key from a configured variable: say which one to check.
    let mut env = env_for(&server);
    env.insert("WORK_KEY".into(), "sk-wrong".into());
    let config = BTreeMap::from([(
        "openai".to_owned(),
        ProviderConfig {
            api_key_env: Some("WORK_KEY".into()),
            ..ProviderConfig::default()
        },
    )]);
    let p = registry(&env, &config).get("openai").unwrap();
    let error = call(&p, request(vec![user("hi")])).await.error.unwrap();
    assert!(error.to_string().ends_with(" — check WORK_KEY"), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connect_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let env = BTreeMap::from([(
        "OPENAI_BASE_URL".to_owned(),
        format!("http://127.0.0.1:{port}/v1"),
    )]);
    let p = registry(&env, &BTreeMap::new()).get("openai").unwrap();
    let out = collect(stream_with_retry(
        p,
        request(vec![user("hi")]),
        quick_policy(1),
        CancellationToken::new(),
    ))
    .await;
    assert_eq!(out.retries().len(), 1);
    let error = out.error.unwrap();
    assert!(matches!(error.root(), LlmError::Connect { .. }), "{error}");
    let shown = error.to_string();
    assert!(shown.starts_with("openai: connection failed: "), "{shown}");
    assert!(shown.ends_with("(after 1 retry)"), "{shown}");
}
