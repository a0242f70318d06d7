//! The terminal UI tells the truth, end to end: the real `baton` binary in
//! a pseudo-terminal against the mock model over HTTP. A task's line says
//! what the task does (never done while it runs), a running command shows
//! its output as it comes, Esc hands queued messages back, tabs answer
//! clicks, and `baton demo` opens the UI.
//!
//! Slow work waits on a gate file the test creates, so "shown while it
//! still ran" is proved by order, not by timing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pty;

use baton_mock_llm::Wire;
use common::{World, wait_for_gate};
use pty::Tui;

/// The line of the screen that contains `text`.
fn line_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_line_says_what_the_task_does_and_is_done_only_when_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let command = serde_json::to_string(&wait_for_gate(&gate)).unwrap();
    let script = format!(
        r#"
[[rules]]
name = "child-done"
[rules.when]
system = "baton sub-agent"
last_user = "Background shell"
[rules.reply]
text = "the build ended"

[[rules]]
name = "child-wait"
[rules.when]
system = "baton sub-agent"
last_tool_result = "background as shell"
[rules.reply]
text = "the build runs in the background"

[[rules]]
name = "child-start"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = {command}, background = true, description = "build" }} }}]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated the build"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated the build"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
no_tool_results = true
[rules.reply]
tool_calls = [{{ name = "task", arguments = {{ description = "build it", prompt = "build", agent = "general" }} }}]
"#
    );
    let world = World::new(Wire::OpenAi, &script).await;
    let tui = Tui::spawn(world.tui_command(&[]), 120, 30);
    tui.wait_text("Type a message");
    tui.submit("go");

    // The task call returned at once, but its task is not done: its child
    // waits on its background shell, and the line and the tab say so.
    let screen = tui.wait_for("the task waiting on its shell", |s| {
        line_with(s, "task build it").contains("waiting on a shell")
    });
    assert!(!gate.exists());
    assert!(
        !line_with(&screen, "task build it").contains('✓'),
        "no done mark on a running task:\n{screen}"
    );
    let bar = screen.lines().next().unwrap();
    assert!(
        bar.contains("◷ general build it"),
        "the tab shows the shell wait:\n{screen}"
    );

    // The timeline: the session, its task and the shell, as bars, the
    // shell's still running.
    tui.ctrl(b'l');
    // Waited for whole: the timeline is painted in more than one write.
    let below_tabs = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    let screen = tui.wait_for("the timeline's bars", |s| {
        let timeline = below_tabs(s);
        s.contains("┌ timeline")
            && line_with(&timeline, "$ while").contains('█')
            && line_with(&timeline, "general build it").contains('─')
            && line_with(&timeline, "build go").contains('─')
    });
    assert!(screen.contains("now"), "{screen}");
    tui.send(b"\x1b");
    tui.wait_for("the timeline closed", |s| !s.contains("┌ timeline"));

    std::fs::write(&gate, "").unwrap();
    let screen = tui.wait_for("the task done", |s| {
        line_with(s, "task build it").contains("✓") && s.contains("integrated the build")
    });
    assert!(
        line_with(&screen, "task build it").contains("done"),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_command_shows_its_latest_output_and_elapsed_time_as_it_comes() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let command = serde_json::to_string(&format!(
        "seq 1 3000 | sed 's/^/n-/'; {}",
        wait_for_gate(&gate)
    ))
    .unwrap();
    let script = format!(
        r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "gate-open-42"
[rules.reply]
text = "the count is done"

[[rules]]
name = "count"
[rules.when]
last_user = "^count$"
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = {command} }} }}]
"#
    );
    let world = World::new(Wire::OpenAi, &script).await;
    let tui = Tui::spawn(world.tui_command(&[]), 100, 30);
    tui.wait_text("Type a message");
    tui.submit("count");

    // While the command still runs (the gate is closed), its tail shows,
    // under a running mark with the seconds it has run.
    let screen = tui.wait_for("the live tail", |s| s.contains("n-3000"));
    assert!(!gate.exists());
    let head = line_with(&screen, "$ seq 1 3000");
    assert!(head.contains('⋯'), "still running:\n{screen}");
    assert!(
        head.trim_end().ends_with(" s"),
        "its elapsed time:\n{screen}"
    );
    assert!(
        !screen.contains("n-2990"),
        "only the tail shows, folded:\n{screen}"
    );

    std::fs::write(&gate, "").unwrap();
    let screen = tui.wait_text("the count is done");
    let head = line_with(&screen, "$ seq 1 3000");
    assert!(head.contains('✓'), "{screen}");
    assert!(
        screen.contains("gate-open-42"),
        "the stored output's tail:\n{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_hands_a_queued_message_back_and_keeps_the_partial_answer() {
    let story = "Once upon a time ".to_owned() + &"there was a parser that waited. ".repeat(40);
    let script = format!(
        r#"
[[rules]]
name = "short"
[rules.when]
last_user = "^and make it short$"
[rules.reply]
text = "a short one"

[[rules]]
name = "story"
[rules.when]
last_user = "^tell a story$"
[rules.reply]
text = "{story}"
text_chunk_chars = 4
chunk_delay_ms = 60
"#
    );
    let world = World::new(Wire::OpenAi, &script).await;
    let tui = Tui::spawn(world.tui_command(&[]), 100, 30);
    tui.wait_text("Type a message");
    tui.submit("tell a story");
    tui.wait_text("Once upon a time");
    tui.submit("and make it short");
    let screen = tui.wait_text("queued: taken at the next step");
    assert!(
        screen.find("Once upon").unwrap() < screen.find("and make it short").unwrap(),
        "the queued message waits below the answer, which is not split:\n{screen}"
    );

    tui.send(b"\x1b");
    let screen = tui.wait_for("the message back in the editor", |s| {
        s.contains("turn interrupted") && !s.contains("queued: taken")
    });
    let rows: Vec<&str> = screen.lines().collect();
    let editor_row = rows
        .iter()
        .rposition(|l| l.contains("and make it short"))
        .unwrap();
    let status_row = rows.len() - 1;
    assert!(
        editor_row + 3 >= status_row,
        "the text is in the editor at the bottom, not in the conversation:\n{screen}"
    );

    // Sent again, it goes alone (not glued to anything), and the model
    // reads the interrupted answer before it.
    tui.send(b"\r");
    tui.wait_text("a short one");
    let requests = world.mock.requests();
    let last = requests.last().unwrap();
    let messages = last.body["messages"].as_array().unwrap();
    let user = messages.last().unwrap();
    assert_eq!(user["content"], "and make it short", "{messages:#?}");
    let partial = messages
        .iter()
        .find(|m| m["role"] == "assistant")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    assert!(
        partial.starts_with("Once upon a time") && partial.len() < story.len(),
        "the partial answer is in the context: {messages:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_tab_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let command = serde_json::to_string(&wait_for_gate(&gate)).unwrap();
    let script = format!(
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
tool_calls = [{{ name = "bash", arguments = {{ command = {command} }} }}]

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
no_tool_results = true
[rules.reply]
tool_calls = [{{ name = "task", arguments = {{ description = "alpha work", prompt = "alpha", agent = "general" }} }}]
"#
    );
    let world = World::new(Wire::OpenAi, &script).await;
    let tui = Tui::spawn(world.tui_command(&[]), 120, 30);
    tui.wait_text("Type a message");
    tui.submit("go");
    tui.wait_for("the child's tab", |s| {
        s.lines()
            .next()
            .is_some_and(|bar| bar.contains("alpha work"))
    });
    tui.wait_text("delegated");
    let col = tui.col_of(0, "alpha work").unwrap();
    tui.click(col, 0);
    let screen = tui.wait_for("the child's conversation", |s| {
        s.contains("steer general") && s.contains("› alpha")
    });
    assert!(!screen.contains("› go"), "{screen}");
    std::fs::write(&gate, "").unwrap();
    tui.wait_text("child done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baton_demo_in_a_terminal_opens_the_ui_with_its_sub_agents_as_tabs() {
    let world = World::new(Wire::OpenAi, "").await;
    let mut cmd = world.tui_command(&["demo"]);
    cmd.env_remove("BATON_CONFIG");
    let tui = Tui::spawn(cmd, 140, 36);
    let screen = tui.wait_for("three sub-agent tabs", |s| {
        s.lines().next().is_some_and(|bar| {
            bar.contains("fix the typo") && bar.contains("count TODOs") && bar.contains("run the")
        })
    });
    assert!(screen.contains("baton demo"), "{screen}");
    tui.wait_text("All three sub-agents are done");
    // The person is free to type: the demo model answers.
    tui.submit("what now?");
    tui.wait_text("scripted demo model");
    // Once nothing runs, Ctrl+C twice quits at once.
    tui.wait_for("the orchestrator idle", |s| {
        s.lines()
            .next()
            .is_some_and(|bar| bar.contains("· build Tidy up"))
    });
    tui.ctrl(b'c');
    tui.wait_text("press Ctrl+C again");
    tui.ctrl(b'c');
    let mut tui = tui;
    assert!(tui.wait_exit(), "the demo ends cleanly");
}
