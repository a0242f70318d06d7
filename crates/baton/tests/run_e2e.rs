//! `baton run` end to end: the real binary against the mock model over
//! real HTTP, for both wire formats.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;

/// Read a file, edit it, run a command, answer.
const MULTI_STEP: &str = r#"
[[rules]]
name = "answer"
[rules.when]
last_tool_result = "count=1"
[rules.reply]
text = "Done: renamed the greeting and verified it."

[[rules]]
name = "run"
[rules.when]
last_tool_result = "(?i)(replac|edit)"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo count=$(grep -c 'Hello, baton' greet.txt)" } }]

[[rules]]
name = "edit"
[rules.when]
last_tool_result = "Hello, world"
[rules.reply]
text = "Changing the greeting."
tool_calls = [{ name = "edit", arguments = { path = "greet.txt", old_string = "Hello, world", new_string = "Hello, baton" } }]

[[rules]]
name = "read"
[rules.when]
last_user = "greeting"
no_tool_results = true
[rules.reply]
text = "Let me look."
tool_calls = [{ name = "read", arguments = { path = "greet.txt" } }]
"#;

async fn multi_step_session(wire: Wire) {
    let world = World::new(wire, MULTI_STEP).await;
    world.write("greet.txt", "Hello, world!\n");
    let run = world
        .run(&["run", "--format", "jsonl", "change the greeting to baton"])
        .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);

    // The file really changed.
    assert_eq!(world.read("greet.txt"), "Hello, baton!\n");

    // Every jsonl line has the contract fields, seq strictly increases.
    let events = run.events();
    assert!(!events.is_empty());
    let mut last_seq = 0;
    let session_id = events[0]["session_id"].as_str().unwrap().to_owned();
    for e in &events {
        assert!(e["type"].is_string(), "{e}");
        assert_eq!(e["session_id"].as_str(), Some(session_id.as_str()), "{e}");
        let seq = e["seq"].as_u64().unwrap();
        assert!(seq > last_seq, "seq not increasing at {e}");
        last_seq = seq;
        let ts = e["ts"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.len() == 24 && ts.ends_with('Z'),
            "ts {ts} is not RFC 3339 with milliseconds"
        );
    }
    let types = types(&events);
    for t in [
        "turn.started",
        "tool.started",
        "tool.completed",
        "message.completed",
        "turn.completed",
        "session.idle",
    ] {
        assert!(types.contains(&t.to_owned()), "missing {t} in {types:?}");
    }
    let tools: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "tool.completed")
        .map(|e| {
            assert_eq!(e["is_error"], false, "{e}");
            e["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(tools, ["read", "edit", "bash"]);
    let last_answer = events
        .iter()
        .rev()
        .find(|e| e["type"] == "message.completed" && e["role"] == "assistant")
        .unwrap();
    assert_eq!(
        last_answer["text"],
        "Done: renamed the greeting and verified it."
    );
    // The run ends when the session is quiet, and says so last.
    assert_eq!(types.last().map(String::as_str), Some("session.quiet"));
    assert_eq!(types.first().map(String::as_str), Some("session.created"));
    assert!(types.contains(&"message.queued".to_owned()), "{types:?}");

    // Four model calls, each answering the previous step's results.
    let requests = world.mock.requests();
    let rules: Vec<_> = requests
        .iter()
        .map(|r| r.matched_rule.clone().unwrap_or_default())
        .collect();
    assert_eq!(rules, ["read", "edit", "run", "answer"]);

    // The session is listed afterwards, with its conversation stored.
    assert_eq!(world.session_ids().await, vec![session_id.clone()]);
    let shown = world.show(&session_id[..12]).await;
    assert_eq!(shown["cwd"], canonical(world.project.path()));
    assert_eq!(shown["title"], "change the greeting to baton");
    assert_consistent(&shown);
    assert!(shown["usage"]["input_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_step_session_over_openai_wire() {
    multi_step_session(Wire::OpenAi).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_step_session_over_anthropic_wire() {
    multi_step_session(Wire::Anthropic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_format_prints_the_answer_on_stdout_and_activity_on_stderr() {
    let world = World::new(Wire::OpenAi, MULTI_STEP).await;
    world.write("greet.txt", "Hello, world!\n");
    let run = world.run(&["run", "change the greeting"]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        run.stdout
            .contains("Done: renamed the greeting and verified it."),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("→ read greet.txt"), "{}", run.stderr);
    assert!(run.stderr.contains("→ bash echo count="), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_resumes_the_last_session_with_its_history() {
    let script = r#"
[[rules]]
name = "second"
[rules.when]
first_user = "first question"
last_user = "second question"
[rules.reply]
text = "second answer"

[[rules]]
name = "first"
[rules.when]
last_user = "first question"
[rules.reply]
text = "first answer"
"#;
    let world = World::new(Wire::Anthropic, script).await;
    let one = world.run(&["run", "first question"]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.stdout.contains("first answer"));
    let two = world.run(&["run", "--continue", "second question"]).await;
    assert_eq!(two.code, 0, "{}", two.stderr);
    assert!(two.stdout.contains("second answer"));
    let ids = world.session_ids().await;
    assert_eq!(ids.len(), 1, "continued, not a new session");
    let shown = world.show(&ids[0]).await;
    let texts: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["parts"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "first question",
            "first answer",
            "second question",
            "second answer"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_usage_and_bad_config_exit_2_with_one_line() {
    let world = World::new(Wire::OpenAi, "").await;
    let run = world.run(&["run", "--model", "nope/x", "hi"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("provider `nope`"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);

    std::fs::write(
        &world.config,
        "model = \"mock/x\"\n[agent]\nmax_steps = \"lots\"\n",
    )
    .unwrap();
    let run = world.run(&["run", "hi"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("config.toml:3:"), "{}", run.stderr);
    assert!(world.mock.requests().is_empty(), "nothing was sent");

    let run = world.run(&["sessions", "show", "ses_nothing"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_instructions_and_environment_reach_the_model() {
    let script = r#"
[[rules]]
[rules.when]
system = "(?s)Always answer in haiku.*"
[rules.reply]
text = "ok"
"#;
    let world = World::new(Wire::OpenAi, script).await;
    world.write("AGENTS.md", "Always answer in haiku.");
    let run = world.run(&["run", "hi"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let req = &world.mock.requests()[0];
    let system = req.body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        system.contains(&canonical(world.project.path())),
        "{system}"
    );
    assert!(system.contains("git: not a git repository"), "{system}");
    let tools: Vec<&str> = req.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for t in [
        "bash",
        "edit",
        "glob",
        "grep",
        "list",
        "read",
        "todo_write",
        "write",
    ] {
        assert!(tools.contains(&t), "{t} offered: {tools:?}");
    }
}

/// The answer keeps hitting the output limit.
const ALWAYS_CUT_OFF: &str = r#"
[[rules]]
name = "cut"
[rules.reply]
text = "and so on"
stop_reason = "length"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_cut_off_at_the_output_limit_fails_the_run_and_says_why() {
    let world = World::new(Wire::OpenAi, ALWAYS_CUT_OFF).await;
    let run = world
        .run(&["run", "--format", "jsonl", "write a novel"])
        .await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("output limit"),
        "stderr: {}",
        run.stderr
    );
    let ended: Vec<_> = run
        .events()
        .into_iter()
        .filter(|e| e["type"] == "turn.completed")
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["reason"], "cut_off");
    // Continued twice before giving up.
    let calls = world
        .mock
        .requests()
        .iter()
        .filter(|r| r.matched_rule.as_deref() == Some("cut"))
        .count();
    assert_eq!(calls, 3);
}

/// Issue 14: an edit whose new text ends in an emoji (after multi-byte text)
/// used to panic inside `edit`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_whose_new_text_ends_in_an_emoji_succeeds() {
    let script = r#"
[[rules]]
name = "answer"
[rules.when]
last_tool_result = "(?s)Edited|crash|fail"
[rules.reply]
text = "Done."

[[rules]]
name = "edit"
[rules.when]
last_tool_result = "Grüße"
[rules.reply]
tool_calls = [{ name = "edit", arguments = { path = "note.txt", old_string = "Grüße, café", new_string = "Grüße, café 🎉" } }]

[[rules]]
name = "read"
[rules.when]
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "note.txt" } }]
"#;
    let world = World::new(Wire::OpenAi, script).await;
    world.write("note.txt", "Grüße, café\nzweite Zeile\n");
    let run = world
        .run(&["run", "--format", "jsonl", "celebrate the note"])
        .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "stderr: {}", run.stderr);
    assert_eq!(world.read("note.txt"), "Grüße, café 🎉\nzweite Zeile\n");
    let edits: Vec<_> = run
        .events()
        .into_iter()
        .filter(|e| e["type"] == "tool.completed" && e["name"] == "edit")
        .collect();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(edits[0]["is_error"], false, "{}", edits[0]);
    assert_eq!(
        edits[0]["output"],
        "Edited note.txt: 1 replacement (line 1 of the new file)"
    );
}
