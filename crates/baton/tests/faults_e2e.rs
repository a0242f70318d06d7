//! Faults through the real binary: provider errors, dropped streams, bad
//! tool calls from the model, and Ctrl+C at awkward moments.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_with_retry_after_is_waited_out_then_succeeds() {
    let script = r#"
[[rules]]
name = "limited"
times = 1
[rules.reply]
status = 429
headers = { "retry-after" = "1" }
error_message = "slow down please"

[[rules]]
name = "ok"
[rules.reply]
text = "made it"
"#;
    for wire in [Wire::OpenAi, Wire::Anthropic] {
        let world = World::new(wire, script).await;
        let run = world.run(&["run", "--format", "jsonl", "hi"]).await;
        assert_eq!(run.code, 0, "{wire:?}: {}", run.stderr);
        let events = run.events();
        let retry = events
            .iter()
            .find(|e| e["type"] == "llm.retry")
            .expect("a retry event");
        assert!(
            retry["delay_ms"].as_u64().unwrap() >= 1000,
            "Retry-After honoured: {retry}"
        );
        let reqs = world.mock.requests();
        assert_eq!(reqs.len(), 2);
        let gap = reqs[1]
            .received_at
            .duration_since(reqs[0].received_at)
            .unwrap();
        assert!(gap.as_millis() >= 1000, "second try came after {gap:?}");
        assert!(
            events
                .iter()
                .any(|e| e["type"] == "message.completed" && e["text"] == "made it")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_until_retries_run_out_exit_1_with_one_clear_line() {
    let script = r#"
[[rules]]
[rules.reply]
status = 500
error_message = "upstream exploded"
"#;
    let world = World::new(Wire::OpenAi, script).await;
    let run = world.run(&["run", "hi"]).await;
    assert_eq!(run.code, 1, "stdout {} stderr {}", run.stdout, run.stderr);
    // max_retries = 2 in the test config: three attempts in all.
    assert_eq!(world.mock.requests().len(), 3);
    let last = run.stderr.trim().lines().last().unwrap();
    assert!(last.starts_with("baton: "), "{last}");
    assert!(last.contains("mock"), "names the provider: {last}");
    assert!(last.contains("500"), "names the status: {last}");
    assert!(
        last.contains("upstream exploded"),
        "has the provider's message: {last}"
    );
    let ids = world.session_ids().await;
    let shown = world.show(&ids[0]).await;
    assert_eq!(shown["status"], "failed");
    assert_consistent(&shown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_mid_way_is_retried_and_never_taken_as_an_answer() {
    let script = r#"
[[rules]]
name = "dropped"
times = 1
[rules.reply]
text = "this answer is cut off somewhere in the middle and must never be stored"
text_chunk_chars = 4
drop_after_bytes = 400

[[rules]]
name = "whole"
[rules.reply]
text = "the whole answer"
"#;
    for wire in [Wire::OpenAi, Wire::Anthropic] {
        let world = World::new(wire, script).await;
        let run = world.run(&["run", "--format", "jsonl", "hi"]).await;
        assert_eq!(run.code, 0, "{wire:?}: {}", run.stderr);
        let events = run.events();
        assert!(events.iter().any(|e| e["type"] == "llm.retry"));
        let answers: Vec<_> = events
            .iter()
            .filter(|e| e["type"] == "message.completed" && e["role"] == "assistant")
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert_eq!(answers, ["the whole answer"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_arguments_and_unknown_tools_become_readable_errors() {
    let script = r#"
[[rules]]
name = "recovered"
[rules.when]
last_tool_result = "no tool called"
[rules.reply]
text = "I see my mistakes."

[[rules]]
name = "bad"
[rules.reply]
tool_calls = [
  { name = "read", raw_arguments = "{\"path\": \"a.tx" },
  { name = "edit", arguments = { path = "a.txt" } },
  { name = "teleport", arguments = { to = "mars" } },
]
"#;
    let world = World::new(Wire::OpenAi, script).await;
    world.write("a.txt", "alpha\n");
    let run = world.run(&["run", "--format", "jsonl", "hi"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let results: Vec<_> = run
        .events()
        .into_iter()
        .filter(|e| e["type"] == "tool.completed")
        .collect();
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r["is_error"], true, "{r}");
    }
    let out = |i: usize| results[i]["output"].as_str().unwrap().to_lowercase();
    assert!(out(0).contains("json"), "malformed JSON named: {}", out(0));
    assert!(
        out(1).contains("old_string"),
        "missing field named: {}",
        out(1)
    );
    assert!(
        out(2).contains("teleport") && out(2).contains("read"),
        "unknown tool lists tools: {}",
        out(2)
    );
    // The model saw the errors and the session went on.
    let reqs = world.mock.requests();
    assert_eq!(
        reqs.last().unwrap().matched_rule.as_deref(),
        Some("recovered")
    );
    assert_eq!(world.read("a.txt"), "alpha\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_stream_keeps_the_partial_answer_with_a_note() {
    let script = r#"
[[rules]]
[rules.reply]
text = "a slow answer that takes far too long to arrive"
text_chunk_chars = 2
chunk_delay_ms = 500
"#;
    let world = World::new(Wire::Anthropic, script).await;
    let mut child = world.spawn(&["run", "--format", "jsonl", "hi"]);
    let mut lines = stdout_lines(&mut child);
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, |e| e["type"] == "text.delta").await;
    interrupt(&child).await;
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(130));
    let done = seen
        .iter()
        .find(|e| e["type"] == "turn.completed")
        .expect("turn completed");
    assert_eq!(done["reason"], "cancelled");
    let id = seen[0]["session_id"].as_str().unwrap().to_owned();
    let shown = world.show(&id).await;
    assert_eq!(shown["status"], "cancelled");
    let roles: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user"],
        "the partial answer is kept, then the note"
    );
    let streamed: String = seen
        .iter()
        .filter(|e| e["type"] == "text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let messages = shown["messages"].as_array().unwrap();
    assert_eq!(messages[1]["parts"][0]["text"], streamed.as_str());
    assert_eq!(messages[2]["parts"][0]["type"], "context");
    assert!(
        messages[2]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("interrupted")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_tool_kills_the_command_and_records_a_result() {
    let script = r#"
[[rules]]
name = "after"
[rules.when]
last_user = "and now"
[rules.reply]
text = "still here"

[[rules]]
name = "slow"
[rules.reply]
tool_calls = [
  { name = "bash", arguments = { command = "echo started; echo $$ > pid.txt; sleep 30; echo never" } },
  { name = "read", arguments = { path = "pid.txt" } },
]
"#;
    let world = World::new(Wire::OpenAi, script).await;
    let mut child = world.spawn(&["run", "--format", "jsonl", "go"]);
    let mut lines = stdout_lines(&mut child);
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, |e| {
        e["type"] == "tool.started" && e["name"] == "bash"
    })
    .await;
    // Wait until the command really runs (it wrote its pid).
    let pid_file = world.project.path().join("pid.txt");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(20));
    while !pid_file.exists() || world.read("pid.txt").trim().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "command never started"
        );
        poll.tick().await;
    }
    interrupt(&child).await;
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    assert_eq!(child.wait().await.unwrap().code(), Some(130));

    let bash_done = seen
        .iter()
        .find(|e| e["type"] == "tool.completed" && e["name"] == "bash")
        .expect("bash completed (cancelled)");
    assert_eq!(bash_done["is_error"], true);
    assert!(!bash_done["output"].as_str().unwrap().contains("never"));

    // The shell is gone.
    let pid = world.read("pid.txt").trim().to_owned();
    let alive = tokio::process::Command::new("kill")
        .args(["-0", &pid])
        .status()
        .await
        .unwrap()
        .success();
    assert!(!alive, "the command's process was killed");

    // Both calls have results; the read was never started.
    let id = seen[0]["session_id"].as_str().unwrap().to_owned();
    let shown = world.show(&id).await;
    assert_consistent(&shown);
    let last = shown["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "tool");
    assert!(
        last["parts"][1]["output"]
            .as_str()
            .unwrap()
            .contains("cancelled")
    );

    // And the session can be continued afterwards.
    let run = world.run(&["run", "--session", &id, "and now?"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("still here"));
}
