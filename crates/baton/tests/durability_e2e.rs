//! Durability through the real binary: what `baton serve` acknowledged
//! survives `kill -9`, and a restarted server shows it and acts on it.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use serde_json::json;
use std::time::Duration;

const SCRIPT: &str = r#"
[[rules]]
name = "answer-both"
[rules.when]
last_user = "and now this"
[rules.reply]
text = "answered the queued message and this one"

[[rules]]
name = "long-command"
[rules.when]
last_user = "^start the long job$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo $$ > job.pid; while [ ! -f never ]; do sleep 0.05; done" } }]
"#;

/// Waits (polling, 30 s deadline) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut poll = tokio::time::interval(Duration::from_millis(25));
    loop {
        if check().await {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        poll.tick().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_acknowledged_while_busy_survives_kill_9_and_is_answered_after_restart() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let mut server = serve(&world, &[]).await;
    let api = Api::new(&world, &server.url);
    let (status, session) = api.post("/v1/sessions", json!({})).await;
    assert_eq!(status, 201, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    let (status, _) = api
        .post(
            &format!("/v1/sessions/{id}/messages"),
            json!({ "text": "start the long job" }),
        )
        .await;
    assert_eq!(status, 202);
    let pid_file = world.project.path().join("job.pid");
    eventually("the long command runs", || async { pid_file.exists() }).await;

    // Busy: this one is acknowledged, then the process dies at once.
    let (status, accepted) = api
        .post(
            &format!("/v1/sessions/{id}/messages"),
            json!({ "text": "the queued message" }),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let job = std::fs::read_to_string(&pid_file).unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", job.trim()])
        .status();

    // A new server on the same store shows the message as queued.
    let server = serve(&world, &[]).await;
    let api = Api::new(&world, &server.url);
    let tree = api.get(&format!("/v1/sessions/{id}/tree")).await;
    let queued: Vec<&str> = tree["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(queued, ["the queued message"], "{tree}");
    assert_eq!(tree["sessions"][0]["status"], "interrupted", "{tree}");

    // Touching the session takes it, in order, exactly once.
    let (status, _) = api
        .post(
            &format!("/v1/sessions/{id}/messages"),
            json!({ "text": "and now this" }),
        )
        .await;
    assert_eq!(status, 202);
    let messages_path = format!("/v1/sessions/{id}/messages");
    eventually("the answer", || async {
        let messages = api.get(&messages_path).await;
        messages
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["parts"][0]["text"] == "answered the queued message and this one")
    })
    .await;
    let messages = api.get(&messages_path).await;
    let user_texts: Vec<String> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| m["parts"].as_array().unwrap().clone())
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        user_texts,
        ["start the long job", "the queued message", "and now this"],
        "{messages}"
    );
    let tree = api.get(&format!("/v1/sessions/{id}/tree")).await;
    assert_eq!(tree["queued"], json!([]), "{tree}");
    let last = world.mock.requests().last().unwrap().body.to_string();
    assert!(
        last.contains("the queued message"),
        "the model read it: {last}"
    );
}
