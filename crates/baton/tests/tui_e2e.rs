//! The terminal UI end to end: the real `baton` binary in a pseudo-
//! terminal against the mock model over HTTP, read through a vt100 screen.
//!
//! Slow sub-agents and commands wait on a gate file the test creates, so
//! "the second answer came while the sub-agents still ran" is proved by
//! order (they cannot finish before the gate exists), not by timing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pty;

use baton_mock_llm::Wire;
use common::{World, wait_for_gate};
use pty::Tui;

fn delegation_script(gate: &std::path::Path) -> String {
    // A JSON string is a valid TOML basic string for this text.
    let child_command = serde_json::to_string(&wait_for_gate(gate)).unwrap();
    let calls = r#"[
  { name = "task", arguments = { description = "alpha work", prompt = "alpha", agent = "general" } },
  { name = "task", arguments = { description = "beta work", prompt = "beta", agent = "general" } },
]"#;
    format!(
        r#"
[[rules]]
name = "child-done"
[rules.when]
system = "baton sub-agent"
last_tool_result = "gate-open-42"
[rules.reply]
text = "child done"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = {child_command}, description = "wait for the gate" }} }}]

[[rules]]
name = "parent-second"
[rules.when]
last_user = "how are you"
[rules.reply]
text = "fine, the sub-agents are still working"

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated the results"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "task_"
[rules.reply]
text = "delegated both"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = {calls}
"#
    )
}

/// Whether the tab bar (first row) shows a tab with `mark` and `title`.
fn tab_shows(screen: &str, mark: &str, title: &str) -> bool {
    let bar = screen.lines().next().unwrap_or_default();
    bar.contains(&format!("{mark} general {title}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegating_two_slow_sub_agents_while_the_person_keeps_talking() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let world = World::new(Wire::OpenAi, &delegation_script(&gate)).await;
    let tui = Tui::spawn(world.tui_command(&[]), 120, 30);
    tui.wait_text("Type a message");

    tui.submit("go");
    // Both sub-agents appear as tabs; the focus stays on the primary.
    let screen = tui.wait_for("two sub-agent tabs", |s| {
        s.lines()
            .next()
            .is_some_and(|bar| bar.contains("alpha work") && bar.contains("beta work"))
    });
    assert!(
        screen.lines().next().unwrap().contains("build go"),
        "the primary's tab comes first:\n{screen}"
    );
    tui.wait_text("delegated both");

    // Input is live while they run: a second message is answered.
    tui.submit("how are you");
    let screen = tui.wait_text("fine, the sub-agents are still working");
    assert!(!gate.exists());
    assert!(
        !tab_shows(&screen, "✓", "alpha work") && !tab_shows(&screen, "✓", "beta work"),
        "the sub-agents cannot be done before the gate opens:\n{screen}"
    );
    assert!(
        screen.contains("2 tasks"),
        "status line counts them:\n{screen}"
    );

    // Open the gate: both tabs turn done, and the primary integrates.
    std::fs::write(&gate, "").unwrap();
    tui.wait_for("both tabs done", |s| {
        tab_shows(s, "✓", "alpha work") && tab_shows(s, "✓", "beta work")
    });
    tui.wait_text("integrated the results");

    // Switch to a child's tab: its own conversation, and typing steers it.
    tui.alt_digit(2);
    let screen = tui.wait_for("the child's tab", |s| {
        s.contains("steer general") && s.contains("› alpha")
    });
    assert!(screen.contains("child done"), "{screen}");
    assert!(
        screen.contains("gate-open-42"),
        "its command's output:\n{screen}"
    );
    assert!(!screen.contains("integrated the results"), "{screen}");

    // Nothing runs any more once the primary's turn has ended (its last
    // words can be painted before its status turns idle): Ctrl+C twice
    // quits at once.
    tui.wait_for("the primary idle", |s| {
        s.lines()
            .next()
            .is_some_and(|bar| bar.contains("· build go"))
    });
    tui.ctrl(b'c');
    tui.wait_text("press Ctrl+C again");
    tui.ctrl(b'c');
    let mut tui = tui;
    assert!(tui.wait_exit(), "baton exits cleanly");
    assert!(
        world.home.path().join("logs/tui.log").exists(),
        "logs go to a file, not the screen"
    );

    // `baton --continue` reopens the tree: the tabs and the conversation.
    let again = Tui::spawn(world.tui_command(&["--continue"]), 120, 30);
    let screen = again.wait_text("integrated the results");
    let bar = screen.lines().next().unwrap();
    assert!(
        bar.contains("alpha work") && bar.contains("beta work"),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_b_moves_a_long_foreground_command_to_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let command = serde_json::to_string(&wait_for_gate(&gate)).unwrap();
    let script = format!(
        r#"
[[rules]]
name = "after-notice"
[rules.when]
last_user = "Background shell"
[rules.reply]
text = "the build finished"

[[rules]]
name = "moved"
[rules.when]
last_tool_result = "Moved to the background"
[rules.reply]
text = "it goes on in the background"

[[rules]]
name = "build"
[rules.when]
last_user = "^build$"
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = {command} }} }}]
"#
    );
    let world = World::new(Wire::OpenAi, &script).await;
    let tui = Tui::spawn(world.tui_command(&[]), 100, 24);
    tui.wait_text("Type a message");
    tui.submit("build");
    // The foreground command runs (and cannot end: the gate is closed).
    tui.wait_text("$ while [ ! -e");
    tui.ctrl(b'b');
    let screen = tui.wait_text("it goes on in the background");
    assert!(
        screen.contains("1 shell"),
        "the status line counts it:\n{screen}"
    );
    // The agent was free at once; the shell ends later with a notice the
    // agent picks up.
    std::fs::write(&gate, "").unwrap();
    tui.wait_text("the build finished");
    tui.wait_text("0 shells");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_attaches_to_a_server_and_its_work_goes_on_after_quitting() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let world = World::new(Wire::OpenAi, &delegation_script(&gate)).await;
    let server = common::serve(&world, &[]).await;
    let tui = Tui::spawn(world.tui_command(&["--attach", &server.url]), 120, 30);
    tui.wait_text("Type a message");
    tui.submit("go");
    tui.wait_text("delegated both");
    tui.wait_text("2 tasks");
    // Quitting asks first (work runs) and says the server keeps it.
    tui.ctrl(b'c');
    tui.ctrl(b'c');
    tui.wait_text("This work goes on");
    tui.send(b"y");
    let mut tui = tui;
    assert!(tui.wait_exit(), "baton exits cleanly");
    // The sub-agents still run in the server; they finish once the gate
    // opens, and a new UI on the server shows the integrated result.
    std::fs::write(&gate, "").unwrap();
    let again = Tui::spawn(
        world.tui_command(&["--attach", &server.url, "--continue"]),
        120,
        30,
    );
    again.wait_text("integrated the results");
    let screen = again.wait_for("both tabs done", |s| {
        tab_shows(s, "✓", "alpha work") && tab_shows(s, "✓", "beta work")
    });
    assert!(screen.contains("0 tasks"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_models_reasoning_is_shown_folded_and_opens_with_ctrl_e() {
    let script = r#"
[[rules]]
name = "think"
[rules.when]
last_user = "^check$"
[rules.reply]
reasoning = "The file might be stale, so compare it first."
text = "All good."
"#;
    // `reasoning_content`, as DeepSeek, vLLM and llama.cpp stream it.
    let world = World::new(Wire::OpenAi, script).await;
    let tui = Tui::spawn(world.tui_command(&[]), 100, 24);
    tui.wait_text("Type a message");
    tui.submit("check");
    let screen = tui.wait_text("All good.");
    assert!(
        screen.contains("∴ thought (1 line, Ctrl+E shows it)"),
        "{screen}"
    );
    assert!(!screen.contains("compare it first"), "{screen}");
    tui.ctrl(b'e');
    tui.wait_text("The file might be stale, so compare it first.");
}

/// The model runs `touch ran.txt` for "clean" and says what became of it;
/// the config asks before every `bash` command.
async fn asking_world() -> World {
    let script = r#"
[[rules]]
name = "after-denied"
[rules.when]
last_tool_result = "Permission denied"
[rules.reply]
text = "understood, I did not run it"

[[rules]]
name = "after-run"
[rules.when]
last_tool_result = "."
[rules.reply]
text = "cleaned up"

[[rules]]
name = "clean"
[rules.when]
last_user = "^clean$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "touch ran.txt" } }]

[[rules]]
name = "chat"
[rules.when]
last_user = "."
[rules.reply]
text = "ok"
"#;
    let world = World::new(Wire::OpenAi, script).await;
    let mut config = std::fs::read_to_string(&world.config).unwrap();
    config.push_str("[permission]\nbash = \"ask\"\n");
    std::fs::write(&world.config, config).unwrap();
    world
}

/// The tool results the model was sent, in order.
fn tool_results_sent(world: &World) -> Vec<String> {
    world
        .mock
        .requests()
        .iter()
        .flat_map(|r| r.body["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_while_a_command_waits_never_answers_it_and_ctrl_p_allow_once_runs_it() {
    let world = asking_world().await;
    let ran = world.project.path().join("ran.txt");
    let tui = Tui::spawn(world.tui_command(&[]), 100, 30);
    tui.wait_text("Type a message");
    tui.submit("clean");
    let screen = tui.wait_text("Ctrl+P to answer");
    assert!(screen.contains("asks to use bash"), "{screen}");
    assert!(screen.contains("1 asking: Ctrl+P answers"), "{screen}");

    // Every letter of it could have answered before: `a` (allow always)
    // first, then `n` and `y`.
    let typed = "actually, do not run that. no wait, yes";
    tui.send(typed.as_bytes());
    let screen = tui.wait_text(typed);
    assert!(!ran.exists(), "the command did not run");
    assert!(
        screen.contains("Ctrl+P to answer"),
        "still asking:\n{screen}"
    );
    assert!(screen.contains("1 asking"), "{screen}");

    // Ctrl+P focuses the request; Enter takes the highlighted "allow once".
    tui.ctrl(b'p');
    tui.wait_for("the permission panel", |s| {
        s.contains("permission requests") && s.contains("y allow once")
    });
    tui.send(b"\r");
    let screen = tui.wait_text("cleaned up");
    assert!(ran.exists(), "allowed once, it ran");
    assert!(
        !screen.contains("could not answer"),
        "the request was still waiting when it was answered:\n{screen}"
    );
    assert!(
        screen.contains(typed),
        "the typed text is still in the editor:\n{screen}"
    );
    let results = tool_results_sent(&world);
    assert!(
        results.iter().all(|r| !r.contains("Permission denied")),
        "{results:?}"
    );

    // Only once: the same command asks again (nothing granted it for good).
    std::fs::remove_file(&ran).unwrap();
    tui.ctrl(b'c');
    tui.wait_for("the editor cleared", |s| !s.contains(typed));
    tui.submit("clean");
    tui.wait_text("Ctrl+P to answer");
    assert!(!ran.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_and_tell_the_agent_why_puts_the_reason_in_the_calls_result() {
    let world = asking_world().await;
    let ran = world.project.path().join("ran.txt");
    let tui = Tui::spawn(world.tui_command(&[]), 100, 30);
    tui.wait_text("Type a message");
    tui.submit("clean");
    tui.wait_text("Ctrl+P to answer");

    tui.ctrl(b'p');
    tui.wait_text("deny, and tell the agent why");
    // `r` highlights it, Enter opens the reason.
    tui.send(b"r\r");
    tui.wait_text("and tell the agent why:");
    let reason = "not now, the target dir is shared; run cargo clean -p baton instead";
    tui.send(reason.as_bytes());
    tui.wait_text("the target dir is shared");
    tui.send(b"\r");
    tui.wait_text("understood, I did not run it");
    assert!(!ran.exists(), "denied, it did not run");
    let results = tool_results_sent(&world);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        results[0]
            .starts_with("Permission denied: the user refused `bash` command `touch ran.txt`")
            && results[0].ends_with(&format!("The user denied this call: {reason}")),
        "{}",
        results[0]
    );
}
