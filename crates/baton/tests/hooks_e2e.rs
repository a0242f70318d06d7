//! Hooks through the real binary: Claude Code–style commands run on the
//! engine's events with the event as JSON on stdin; exit code 2 and JSON
//! decisions block; a hook that hangs is killed and the turn goes on; an
//! untrusted project's hooks never run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use std::path::{Path, PathBuf};

const SCRIPT: &str = r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "child done"

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "child done"
[rules.reply]
text = "all done"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "Task .* started"
[rules.reply]
text = "Delegated."

[[rules]]
name = "after-tool"
[rules.when]
last_tool_result = "."
[rules.reply]
text = "tool answered"

[[rules]]
name = "go-on"
[rules.when]
last_user = "Its reason: run the tests"
[rules.reply]
text = "tests run"

[[rules]]
name = "run"
[rules.when]
last_user = "^run$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo ran > made.txt" } }]

[[rules]]
name = "delegate"
[rules.when]
last_user = "^delegate$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "small job", prompt = "do the small job" } }]

[[rules]]
name = "hello"
[rules.reply]
text = "hello"
"#;

/// A `[hooks]` entry of the user's config for `event`.
fn hook(event: &str, matcher: &str, command: &str, timeout: Option<u64>) -> String {
    let timeout = timeout.map_or(String::new(), |t| format!(", timeout = {t}"));
    format!(
        "[[hooks.{event}]]\nmatcher = \"{matcher}\"\nhooks = [{{ type = \"command\", command = '''{command}'''{timeout} }}]\n"
    )
}

/// A command that appends its stdin (one JSON line) to `log`.
fn record(log: &Path) -> String {
    format!("{{ cat; echo; }} >> {}", log.display())
}

/// The JSON lines a recording hook wrote.
fn recorded(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn log_of(world: &World) -> PathBuf {
    world.home.path().join("hooks.jsonl")
}

/// Runs `prompt` with a recording hook on `event` and returns what it got.
async fn seen(event: &str, prompt: &str, extra_config: &str) -> (Run, Vec<serde_json::Value>) {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let log = log_of(&world);
    world.append_config(&format!(
        "{extra_config}{}",
        hook(event, "", &record(&log), None)
    ));
    let run = world
        .run(&["run", "--yes", "--format", "jsonl", prompt])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got = recorded(&log);
    assert!(
        !got.is_empty(),
        "the {event} hook did not run: {}",
        run.stderr
    );
    for input in &got {
        assert_eq!(input["hook_event_name"], event, "{input}");
        assert!(
            input["session_id"].as_str().unwrap().starts_with("ses"),
            "{input}"
        );
        assert_eq!(input["cwd"], canonical(world.project.path()), "{input}");
    }
    (run, got)
}

/// Every request body the mock model got, as text.
fn bodies(world: &World) -> Vec<String> {
    world
        .mock
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect()
}

fn hook_events(run: &Run) -> Vec<serde_json::Value> {
    run.events()
        .into_iter()
        .filter(|e| e["type"] == "hook.completed")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_tool_use_gets_the_call() {
    let (_, got) = seen("PreToolUse", "run", "").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["tool_name"], "Bash");
    assert_eq!(got[0]["baton_tool_name"], "bash");
    assert_eq!(got[0]["tool_input"]["command"], "echo ran > made.txt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_tool_use_gets_the_call_and_its_response() {
    let (_, got) = seen("PostToolUse", "run", "").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["tool_name"], "Bash");
    assert_eq!(got[0]["tool_response"]["is_error"], false);
    assert!(got[0]["tool_response"]["output"].is_string(), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_prompt_submit_gets_the_prompt_and_its_stdout_reaches_the_model() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let log = log_of(&world);
    world.append_config(&hook(
        "UserPromptSubmit",
        "",
        &format!("{}; echo 'the build is green'", record(&log)),
        None,
    ));
    let run = world.run(&["run", "hi there"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got = recorded(&log);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["hook_event_name"], "UserPromptSubmit");
    assert_eq!(got[0]["prompt"], "hi there");
    assert!(
        bodies(&world)[0].contains("the build is green"),
        "{:?}",
        bodies(&world)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_prompt_submit_block_refuses_the_prompt_and_says_why() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.append_config(&hook(
        "UserPromptSubmit",
        "",
        "echo 'no secrets in prompts' >&2; exit 2",
        None,
    ));
    let run = world.run(&["run", "hi there"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no secrets in prompts"),
        "{}",
        run.stderr
    );
    assert!(world.mock.requests().is_empty(), "the model was called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_runs_at_the_turns_end() {
    let (_, got) = seen("Stop", "hi", "").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["stop_hook_active"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_block_sends_the_agent_back_to_work_with_the_reason() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let flag = world.home.path().join("stopped-once");
    world.append_config(&hook(
        "Stop",
        "",
        &format!(
            "if [ -f {f} ]; then exit 0; fi; touch {f}; echo 'run the tests' >&2; exit 2",
            f = flag.display()
        ),
        None,
    ));
    let run = world.run(&["run", "hi"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("hello"), "{}", run.stdout);
    assert!(run.stdout.contains("tests run"), "{}", run.stdout);
    assert_eq!(world.mock.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_start_runs_and_its_stdout_reaches_the_model() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let log = log_of(&world);
    world.append_config(&hook(
        "SessionStart",
        "",
        &format!("{}; echo 'remember the style guide'", record(&log)),
        None,
    ));
    let run = world.run(&["run", "hi"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got = recorded(&log);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["hook_event_name"], "SessionStart");
    assert_eq!(got[0]["source"], "startup");
    assert!(bodies(&world)[0].contains("remember the style guide"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_runs_on_a_permission_ask() {
    let (_, got) = seen("Notification", "run", "[permission]\nbash = \"ask\"\n").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["notification_type"], "permission_prompt");
    assert!(
        got[0]["message"].as_str().unwrap().contains("echo ran"),
        "{got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subagent_start_and_stop_run_for_a_task() {
    let (_, started) = seen("SubagentStart", "delegate", "").await;
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0]["agent_type"], "general");
    assert_eq!(started[0]["prompt"], "do the small job");
    let (_, stopped) = seen("SubagentStop", "delegate", "").await;
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0]["agent_type"], "general");
    assert_ne!(stopped[0]["agent_id"], stopped[0]["session_id"].clone());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_pre_tool_use_keeps_the_call_from_running_and_tells_the_model() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.append_config(&hook(
        "PreToolUse",
        "Bash",
        "echo 'no commands today' >&2; exit 2",
        None,
    ));
    let run = world.run(&["run", "--format", "jsonl", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!world.project.path().join("made.txt").exists());
    let last = bodies(&world).pop().unwrap();
    assert!(last.contains("no commands today"), "{last}");
    let hooks = hook_events(&run);
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["outcome"], "blocked");
    assert_eq!(hooks[0]["exit_code"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_deny_keeps_the_call_from_running_and_a_hook_cannot_widen_a_deny() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.append_config(&hook(
        "PreToolUse",
        "*",
        r#"echo '{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "denied by the policy hook"}}'"#,
        None,
    ));
    let run = world.run(&["run", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!world.project.path().join("made.txt").exists());
    assert!(
        bodies(&world)
            .pop()
            .unwrap()
            .contains("denied by the policy hook")
    );

    // `allow` skips an ask but never a deny rule.
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.append_config(&format!(
        "[permission]\nbash = \"deny\"\n{}",
        hook(
            "PreToolUse",
            "*",
            r#"echo '{"hookSpecificOutput": {"permissionDecision": "allow"}}'"#,
            None,
        )
    ));
    let run = world.run(&["run", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!world.project.path().join("made.txt").exists());
    assert!(bodies(&world).pop().unwrap().contains("Permission denied"));

    // ... and it does skip an ask a headless run would deny.
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.append_config(&format!(
        "[permission]\nbash = \"ask\"\n{}",
        hook(
            "PreToolUse",
            "*",
            r#"echo '{"hookSpecificOutput": {"permissionDecision": "allow"}}'"#,
            None,
        )
    ));
    let run = world.run(&["run", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(world.project.path().join("made.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_hangs_is_killed_reported_and_the_turn_goes_on() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.append_config(&hook("PreToolUse", "Bash", "sleep 30", Some(1)));
    let started = std::time::Instant::now();
    let run = world.run(&["run", "--format", "jsonl", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(world.project.path().join("made.txt").exists());
    assert!(run.stdout.contains("tool answered"), "{}", run.stdout);
    let hooks = hook_events(&run);
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["outcome"], "timed_out");
    assert_eq!(hooks[0]["event"], "PreToolUse");
    assert_eq!(hooks[0]["command"], "sleep 30");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_projects_claude_settings_hooks_do_not_run_until_trusted() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.write(
        ".claude/settings.json",
        r#"{"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "touch hooked.txt"}]}]}}"#,
    );
    let run = world.run(&["run", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!world.project.path().join("hooked.txt").exists());
    assert!(run.stderr.contains("is not trusted"), "{}", run.stderr);
    assert!(
        run.stderr.contains(".claude/settings.json"),
        "{}",
        run.stderr
    );

    let trusted = world.run(&["trust"]).await;
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    let run = world.run(&["run", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(world.project.path().join("hooked.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_claude_settings_hooks_run_and_matchers_map_claude_codes_names() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    std::fs::create_dir_all(world.home.path().join(".claude")).unwrap();
    std::fs::write(
        world.home.path().join(".claude/settings.json"),
        r#"{"hooks": {"PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "touch bash-hook.txt"}]},
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "touch edit-hook.txt"}]}
        ]}}"#,
    )
    .unwrap();
    let run = world.run(&["run", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(world.project.path().join("bash-hook.txt").exists());
    assert!(!world.project.path().join("edit-hook.txt").exists());
}
