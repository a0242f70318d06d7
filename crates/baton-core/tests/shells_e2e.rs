//! Background shells and moving running calls to the background, against
//! the mock model; commands wait for files the test creates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{EventKind, NoticeKind, Part};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_shell_reports_its_exit_and_output_is_read_only_once() {
    let script = r#"
[[rules]]
name = "done"
[rules.when]
last_tool_result = "exited with code"
[rules.reply]
text = "shell finished"

[[rules]]
name = "wait"
[rules.when]
last_tool_result = "\\): running"
[rules.reply]
text = "waiting for the shell"

[[rules]]
name = "read2"
[rules.when]
last_user = "Background shell (?P<s>sh_[0-9a-f]+)"
[rules.reply]
tool_calls = [{ name = "shell_output", arguments = { shell_id = "${s}" } }]

[[rules]]
name = "read1"
[rules.when]
last_tool_result = "background as shell (?P<s>sh_[0-9a-f]+)"
[rules.reply]
tool_calls = [{ name = "shell_output", arguments = { shell_id = "${s}" } }]

[[rules]]
name = "go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo first; while [ ! -f gate ]; do sleep 0.01; done; echo second", background = true } }]
"#;
    let h = harness(script, |_| {}).await;
    let session = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&session, "go").await.unwrap();
    f.until("turn end", |e| is_type(e, "turn.completed")).await;
    assert!(
        f.of(|e| is_type(e, "shell.exited")).is_empty(),
        "still running"
    );
    h.touch("gate");
    h.engine.wait_quiet(&session).await.unwrap();
    f.drain();

    let reads = f.outputs("shell_output");
    assert_eq!(reads.len(), 2);
    let body = |r: &str| r.lines().skip(1).collect::<Vec<_>>().join("\n");
    let all = format!("{}\n{}", body(&reads[0]), body(&reads[1]));
    assert_eq!(all.matches("first").count(), 1, "{reads:?}");
    assert_eq!(all.matches("second").count(), 1, "{reads:?}");
    assert!(reads[1].contains("exited with code 0"), "{}", reads[1]);
    assert!(
        !body(&reads[1]).contains("first"),
        "the second read has only new output"
    );

    let exited = f.of(|e| is_type(e, "shell.exited"));
    assert_eq!(exited.len(), 1);
    assert!(matches!(
        exited[0].kind,
        EventKind::ShellExited {
            exit_code: Some(0),
            ..
        }
    ));
    let notices: Vec<String> = h
        .store
        .messages(&session)
        .await
        .unwrap()
        .iter()
        .flat_map(|m| m.parts.clone())
        .filter_map(|p| match p {
            Part::Notice {
                kind: NoticeKind::Shell,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1, "delivered exactly once");
    assert!(notices[0].contains("exited with code 0") && notices[0].contains("second"));
    let shells = h.store.list_shells(&session).await.unwrap();
    assert_eq!(shells.len(), 1);
    assert_eq!(shells[0].status, "exited");
    assert_eq!(shells[0].exit_code, Some(0));
    let log = std::fs::read_to_string(&shells[0].log_path).unwrap();
    assert_eq!(log, "first\nsecond\n");
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreground_command_past_its_timeout_moves_to_the_background() {
    let script = r#"
[[rules]]
name = "notice"
[rules.when]
last_user = "Background shell"
[rules.reply]
text = "it finished"

[[rules]]
name = "moved"
[rules.when]
last_tool_result = "moved to the background"
[rules.reply]
text = "it went to the background"

[[rules]]
name = "go"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo begun; while [ ! -f gate ]; do sleep 0.01; done; echo finished", timeout_ms = 300 } }]
"#;
    let h = harness(script, |_| {}).await;
    let session = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&session, "go").await.unwrap();
    f.until("turn end", |e| is_type(e, "turn.completed")).await;
    let out = f.outputs("bash").remove(0);
    assert!(
        out.contains("Still running after 300 ms; moved to the background"),
        "{out}"
    );
    assert!(f.of(|e| is_type(e, "shell.started")).len() == 1);
    h.touch("gate");
    h.engine.wait_quiet(&session).await.unwrap();
    f.drain();
    assert_eq!(f.of(|e| is_type(e, "shell.exited")).len(), 1);
    let last = h.last_text(&session).await;
    assert_eq!(last, "it finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_moves_a_running_command_to_the_background() {
    let script = r#"
[[rules]]
name = "notice"
[rules.when]
last_user = "Background shell"
[rules.reply]
text = "it finished"

[[rules]]
name = "moved"
[rules.when]
last_tool_result = "Moved to the background on request"
[rules.reply]
text = "carrying on"

[[rules]]
name = "go"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo begun; while [ ! -f gate ]; do sleep 0.01; done; echo finished" } }]
"#;
    let h = harness(script, |_| {}).await;
    let session = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&session, "go").await.unwrap();
    let started = f
        .until(
            "bash started",
            |e| matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash"),
        )
        .await;
    let EventKind::ToolStarted { call_id, .. } = &started.kind else {
        unreachable!()
    };
    // A call can be moved from the moment its start is announced.
    h.engine.background_call(call_id.as_str()).unwrap();
    f.until("turn end", |e| is_type(e, "turn.completed")).await;
    let out = f.outputs("bash").remove(0);
    assert!(out.contains("Moved to the background on request"), "{out}");
    assert!(
        f.of(|e| is_type(e, "shell.exited")).is_empty(),
        "still running"
    );
    assert!(
        h.engine.background_call(call_id.as_str()).is_err(),
        "a finished call cannot be moved"
    );
    h.touch("gate");
    h.engine.wait_quiet(&session).await.unwrap();
    let last = h.last_text(&session).await;
    assert_eq!(last, "it finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_moves_a_waiting_task_to_the_background() {
    let script = r#"
[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released"
[rules.reply]
text = "child result"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "notice"
[rules.when]
last_user = "child result"
[rules.reply]
text = "got it later"

[[rules]]
name = "moved"
[rules.when]
last_tool_result = "moved to the background"
[rules.reply]
text = "not waiting any more"

[[rules]]
name = "go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "slow", prompt = "work", background = false } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    let started = f
        .until("task started", |e| {
            e.session_id == parent
                && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "task")
        })
        .await;
    let EventKind::ToolStarted { call_id, .. } = &started.kind else {
        unreachable!()
    };
    // The child is at work and the parent's call is waiting for it.
    f.until("child command", |e| {
        e.session_id != parent
            && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash")
    })
    .await;
    h.engine.background_call(call_id.as_str()).unwrap();
    f.until("parent turn end", |e| {
        e.session_id == parent && is_type(e, "turn.completed")
    })
    .await;
    let out = f.outputs("task").remove(0);
    assert!(out.contains("moved to the background"), "{out}");
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let delivered = f.of(|e| e.session_id == parent && is_type(e, "notification.delivered"));
    assert_eq!(delivered.len(), 1, "the result came later, as a notice");
    let last = h.last_text(&parent).await;
    assert_eq!(last, "got it later");
}
