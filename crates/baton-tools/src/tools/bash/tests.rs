use super::*;
use crate::test_support::{
    HeardLive, SPAWNS_GRANDCHILD, ShellEvent, TestContext, WAITS_FOR_GO, process_alive, read_pid,
    wait_dead, wait_for_pid, wait_until,
};
use crate::{ShellStatus, ToolError};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

async fn bash(ctx: &TestContext, args: serde_json::Value) -> Result<String, ToolError> {
    BashTool.call(args, ctx).await
}

#[tokio::test]
async fn reports_output_and_exit_code() {
    let ctx = TestContext::new();
    let out = bash(&ctx, json!({"command": "echo hello; echo oops >&2"}))
        .await
        .unwrap();
    assert_eq!(out, "hello\noops\n\nexit code: 0");

    let out = bash(&ctx, json!({"command": "echo partial; exit 3"}))
        .await
        .unwrap();
    assert_eq!(out, "partial\n\ncommand failed\nexit code: 3");

    let out = bash(&ctx, json!({"command": "true"})).await.unwrap();
    assert_eq!(out, "(no output)\n\nexit code: 0");
}

#[tokio::test]
async fn live_output_hears_everything_the_command_prints_in_order() {
    let mut ctx = TestContext::new();
    let live = Arc::new(HeardLive::default());
    ctx.live = Some(live.clone());
    let out = bash(
        &ctx,
        json!({"command": "for i in 1 2 3; do echo line$i; done; echo oops >&2"}),
    )
    .await
    .unwrap();
    assert_eq!(out, "line1\nline2\nline3\noops\n\nexit code: 0");
    assert_eq!(live.text(), "line1\nline2\nline3\noops\n");
}

#[tokio::test]
async fn live_output_stops_when_the_command_moves_to_the_background() {
    let mut ctx = TestContext::with_shells();
    let live = Arc::new(HeardLive::default());
    ctx.live = Some(live.clone());
    let ctx = Arc::new(ctx);
    let running = {
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            bash(
                &ctx,
                json!({"command": format!("{WAITS_FOR_GO}; echo after")}),
            )
            .await
        })
    };
    wait_until(Duration::from_secs(10), "the first line live", || {
        live.text() == "begun\n"
    })
    .await;
    ctx.background.as_ref().unwrap().cancel();
    let id = shell_id_in(&running.await.unwrap().unwrap());
    std::fs::write(ctx.root.join("go"), "").unwrap();
    let shells = ctx.test_shells();
    wait_until(Duration::from_secs(10), "the moved command's end", || {
        shells.manager.get(&id).unwrap().status != ShellStatus::Running
    })
    .await;
    assert_eq!(
        live.text(),
        "begun\n",
        "nothing is heard live after the move"
    );
}

#[tokio::test]
async fn runs_in_the_working_directory_with_empty_stdin() {
    let ctx = TestContext::new();
    ctx.file("marker.txt", "here");
    let out = bash(
        &ctx,
        json!({"command": "cat marker.txt; cat; echo ' done'"}),
    )
    .await
    .unwrap();
    assert_eq!(out, "here done\n\nexit code: 0");
}

#[tokio::test]
async fn long_output_keeps_head_and_tail() {
    let mut ctx = TestContext::new();
    ctx.bash.max_output_bytes = 100;
    let out = bash(&ctx, json!({"command": "seq 1 10000"})).await.unwrap();
    assert!(out.starts_with("1\n2\n3\n"), "{out}");
    assert!(out.contains("bytes omitted ...]"), "{out}");
    assert!(out.ends_with("9999\n10000\n\nexit code: 0"), "{out}");
    assert!(out.len() < 250, "{}", out.len());
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let ctx = TestContext::new();
    let started = Instant::now();
    let err = bash(
        &ctx,
        json!({"command": SPAWNS_GRANDCHILD, "timeout_ms": 2000}),
    )
    .await
    .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(2000), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let ToolError::TimedOut { timeout_ms, output } = &err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert_eq!(*timeout_ms, 2000);
    assert!(output.contains("started"), "{output}");
    assert!(err.to_string().contains("timed out after 2000 ms"), "{err}");

    let pid = read_pid(&ctx.root.join("gc.pid")).expect("the grandchild recorded its pid");
    wait_until(Duration::from_secs(5), "the grandchild to die", || {
        !process_alive(pid)
    })
    .await;
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group() {
    let ctx = Arc::new(TestContext::new());
    let running = {
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move { bash(&ctx, json!({"command": SPAWNS_GRANDCHILD})).await })
    };
    let pid_file = ctx.root.join("gc.pid");
    wait_until(Duration::from_secs(10), "the grandchild to start", || {
        read_pid(&pid_file).is_some()
    })
    .await;
    let pid = read_pid(&pid_file).unwrap();
    assert!(process_alive(pid));

    let cancelled_at = Instant::now();
    ctx.cancel.cancel();
    let err = running.await.unwrap().unwrap_err();
    assert!(cancelled_at.elapsed() < Duration::from_secs(5));
    let ToolError::CommandCancelled { output, .. } = &err else {
        panic!("expected a cancellation, got {err:?}");
    };
    assert!(output.contains("started"), "{output}");
    wait_until(Duration::from_secs(5), "the grandchild to die", || {
        !process_alive(pid)
    })
    .await;
}

#[tokio::test]
async fn background_jobs_left_behind_are_killed_when_the_command_exits() {
    let ctx = TestContext::new();
    let started = Instant::now();
    let out = bash(
        &ctx,
        json!({"command": "sleep 100 & echo $! > bg.pid; echo launched"}),
    )
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out, "launched\n\nexit code: 0");
    let pid = read_pid(&ctx.root.join("bg.pid")).unwrap();
    wait_until(Duration::from_secs(5), "the background job to die", || {
        !process_alive(pid)
    })
    .await;
}

#[tokio::test]
async fn dropping_the_call_kills_the_group() {
    let ctx = TestContext::new();
    let call = bash(&ctx, json!({"command": SPAWNS_GRANDCHILD}));
    let pid_file = ctx.root.join("gc.pid");
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::pin!(call);
        loop {
            tokio::select! {
                _ = &mut call => panic!("the command should still be running"),
                () = tokio::time::sleep(Duration::from_millis(20)) => {
                    if let Some(pid) = read_pid(&pid_file) {
                        return pid;
                    }
                }
            }
        }
    })
    .await;
    let pid = waited.expect("the grandchild started");
    wait_until(Duration::from_secs(5), "the grandchild to die", || {
        !process_alive(pid)
    })
    .await;
}

#[tokio::test]
async fn background_is_refused_without_shells_and_timeouts_are_validated() {
    let ctx = TestContext::new();
    let err = bash(&ctx, json!({"command": "true", "background": true}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("background shells are not available here"),
        "{err}"
    );
    let err = bash(&ctx, json!({"command": "true", "timeout_ms": 0}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidArguments { .. }));
    let err = bash(&ctx, json!({"command": "  "})).await.unwrap_err();
    assert!(matches!(err, ToolError::InvalidArguments { .. }));
}

#[test]
fn signals_are_reported_as_failures() {
    let status = ExitStatus::from_raw(9);
    assert_eq!(
        finish("x".to_owned(), status, None),
        "x\n\ncommand failed: killed by signal 9\nexit code: 137"
    );
}

/// The shell id a `bash` result names.
fn shell_id_in(text: &str) -> String {
    let start = text.find("sh_").expect("a shell id in the result");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The `.log` files in a directory (none if it does not exist).
fn log_files(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn background_start_returns_at_once_and_kill_ends_the_whole_group() {
    let ctx = TestContext::with_shells();
    let shells = ctx.test_shells();
    let started = Instant::now();
    let out = bash(
        &ctx,
        json!({"command": SPAWNS_GRANDCHILD, "background": true, "description": "waits"}),
    )
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let id = shell_id_in(&out);
    assert!(
        out.starts_with(&format!("Started in the background as shell {id} (pid ")),
        "{out}"
    );
    assert!(
        out.contains(&format!("shell_output (shell_id={id})")),
        "{out}"
    );

    let info = shells.manager.get(&id).unwrap();
    assert_eq!(info.status, ShellStatus::Running);
    assert!(info.background);
    assert_eq!(info.session_id, "ses_a");
    assert_eq!(info.description.as_deref(), Some("waits"));
    assert_eq!(info.log_path, shells.log_dir.join(format!("{id}.log")));
    assert_eq!(shells.manager.list(Some("ses_a")), vec![info.clone()]);
    assert!(shells.manager.list(Some("ses_b")).is_empty());
    assert_eq!(shells.manager.running_background("ses_a"), 1);
    let events = shells.events.of(&id);
    assert!(
        matches!(events.as_slice(), [ShellEvent::Backgrounded { info: seen, .. }] if *seen == info),
        "{events:?}"
    );

    let grandchild = wait_for_pid(&ctx.root.join("gc.pid")).await;
    assert!(process_alive(grandchild));
    let killed = shells.manager.kill(&id).await.unwrap();
    assert_eq!(killed.status, ShellStatus::Killed);
    assert_eq!(killed.exit_code, None);
    assert!(killed.ended_at.is_some());
    // `kill` returned after `ended` was called, exactly once.
    let ended = shells.events.ended_of(&id);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].0, killed);
    assert!(ended[0].1.contains("started"), "{}", ended[0].1);
    wait_dead(grandchild).await;
    assert_eq!(shells.manager.running_background("ses_a"), 0);

    let again = shells.manager.kill(&id).await.unwrap();
    assert_eq!(again, killed);
    assert_eq!(shells.events.of(&id).len(), 2);
}

#[tokio::test]
async fn timeout_moves_a_foreground_command_to_the_background() {
    let ctx = TestContext::with_shells();
    let shells = ctx.test_shells();
    let started = Instant::now();
    let out = bash(&ctx, json!({"command": WAITS_FOR_GO, "timeout_ms": 1500}))
        .await
        .unwrap();
    let returned_at = Instant::now();
    assert!(returned_at - started >= Duration::from_millis(1500));
    let id = shell_id_in(&out);
    assert_eq!(
        out,
        format!(
            "Still running after 1500 ms; moved to the background as shell {id}. Output so \
             far:\nbegun\nUse shell_output with shell_id={id} to read what it prints next, or \
             shell_kill to stop it; you will get a notice when it exits."
        )
    );
    let info = shells.manager.get(&id).unwrap();
    assert_eq!((info.status, info.background), (ShellStatus::Running, true));
    assert_eq!(shells.manager.list(None), vec![info.clone()]);
    let events = shells.events.of(&id);
    let [ShellEvent::Backgrounded { info: seen, at }] = events.as_slice() else {
        panic!("expected one backgrounded call, got {events:?}");
    };
    assert_eq!(*seen, info);
    assert!(*at <= returned_at);

    ctx.file("go", "");
    let (ended, tail, ended_at) = shells.events.wait_ended(&id).await;
    assert!(ended_at > returned_at);
    assert_eq!(ended.status, ShellStatus::Exited);
    assert_eq!(ended.exit_code, Some(0));
    assert_eq!(tail, "begun\nfinished");
    // Reads start after what the model already saw.
    let read = shells.manager.read_new(&id, None).unwrap();
    assert_eq!(read.output, "finished\n");
    assert_eq!(
        std::fs::read_to_string(&ended.log_path).unwrap(),
        "begun\nfinished\n"
    );
}

#[tokio::test]
async fn timeout_kills_when_moving_to_the_background_is_off() {
    let mut ctx = TestContext::with_shells();
    ctx.bash.timeout_to_background = false;
    let started = Instant::now();
    let err = bash(
        &ctx,
        json!({"command": SPAWNS_GRANDCHILD, "timeout_ms": 1000}),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(1000));
    let ToolError::TimedOut { timeout_ms, output } = &err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert_eq!(*timeout_ms, 1000);
    assert!(output.contains("started"), "{output}");
    wait_dead(read_pid(&ctx.root.join("gc.pid")).unwrap()).await;

    let shells = ctx.test_shells();
    assert!(shells.events.all().is_empty());
    assert!(shells.manager.list(None).is_empty());
    assert!(log_files(&shells.log_dir).is_empty());
}

#[tokio::test]
async fn a_foreground_command_leaves_no_shell_behind() {
    let ctx = TestContext::with_shells();
    let out = bash(&ctx, json!({"command": "echo hi; exit 4"}))
        .await
        .unwrap();
    assert_eq!(out, "hi\n\ncommand failed\nexit code: 4");
    let shells = ctx.test_shells();
    assert!(shells.events.all().is_empty());
    assert!(shells.manager.list(None).is_empty());
    assert!(log_files(&shells.log_dir).is_empty());
}

#[tokio::test]
async fn a_background_request_moves_a_running_command() {
    let ctx = Arc::new(TestContext::with_shells());
    let running = {
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let out = bash(
                &ctx,
                json!({"command": format!("echo $$ > fg.pid; {WAITS_FOR_GO}")}),
            )
            .await;
            (out, Instant::now())
        })
    };
    let pid = wait_for_pid(&ctx.root.join("fg.pid")).await;
    let requested_at = Instant::now();
    ctx.background.as_ref().unwrap().cancel();
    let (out, returned_at) = running.await.unwrap();
    let out = out.unwrap();
    assert!(returned_at - requested_at < Duration::from_secs(2));
    let id = shell_id_in(&out);
    assert!(
        out.starts_with("Moved to the background on request after "),
        "{out}"
    );
    assert!(
        out.contains(&format!("still running, as shell {id}.")),
        "{out}"
    );

    // The command went on running after the call returned.
    assert!(process_alive(pid));
    let shells = ctx.test_shells();
    let info = shells.manager.get(&id).unwrap();
    assert_eq!((info.status, info.pid), (ShellStatus::Running, Some(pid)));
    let backgrounded_at = match shells.events.of(&id).as_slice() {
        [ShellEvent::Backgrounded { at, .. }] => *at,
        other => panic!("expected one backgrounded call, got {other:?}"),
    };
    assert!(backgrounded_at <= returned_at);

    ctx.file("go", "");
    let (ended, tail, _) = shells.events.wait_ended(&id).await;
    assert_eq!(ended.exit_code, Some(0));
    assert!(tail.ends_with("finished"), "{tail}");
    assert_eq!(shells.events.of(&id).len(), 2);
}

#[tokio::test]
async fn cancel_kills_a_foreground_command_and_forgets_it() {
    let ctx = Arc::new(TestContext::with_shells());
    let running = {
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move { bash(&ctx, json!({"command": SPAWNS_GRANDCHILD})).await })
    };
    let grandchild = wait_for_pid(&ctx.root.join("gc.pid")).await;
    ctx.cancel.cancel();
    let err = running.await.unwrap().unwrap_err();
    assert!(matches!(err, ToolError::CommandCancelled { .. }), "{err:?}");
    wait_dead(grandchild).await;
    let shells = ctx.test_shells();
    assert!(shells.events.all().is_empty());
    assert!(shells.manager.list(None).is_empty());
}

#[tokio::test]
async fn kill_session_stops_a_running_foreground_command() {
    let ctx = Arc::new(TestContext::with_shells());
    let running = {
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move { bash(&ctx, json!({"command": SPAWNS_GRANDCHILD})).await })
    };
    let grandchild = wait_for_pid(&ctx.root.join("gc.pid")).await;
    let shells = ctx.test_shells();
    assert_eq!(shells.manager.kill_session("ses_other").await, 0);
    assert_eq!(shells.manager.kill_session("ses_a").await, 1);
    let err = running.await.unwrap().unwrap_err();
    assert!(matches!(err, ToolError::CommandCancelled { .. }), "{err:?}");
    wait_dead(grandchild).await;
    assert!(shells.events.all().is_empty());
}

#[tokio::test]
async fn commands_write_in_their_tree_and_are_told_when_the_sandbox_refused_elsewhere() {
    let ctx = TestContext::outside_temp();
    let other = crate::test_support::outside_temp_dir();
    let target = other.path().canonicalize().unwrap().join("f");
    let out = bash(&ctx, json!({"command": "echo in > inside.txt && echo ok"}))
        .await
        .unwrap();
    assert_eq!(out, "ok\n\nexit code: 0");
    assert_eq!(ctx.read("inside.txt"), "in\n");

    let out = bash(
        &ctx,
        json!({"command": format!("echo out > {}", target.display())}),
    )
    .await
    .unwrap();
    assert!(!target.exists(), "{out}");
    assert!(
        out.contains("command failed\nexit code: 1\nnote: "),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "the sandbox (workspace-write) refused a write to {}",
            target.display()
        )),
        "{out}"
    );
}

#[tokio::test]
async fn read_only_commands_write_nothing_in_their_tree() {
    let mut ctx = TestContext::outside_temp();
    ctx.bash.sandbox.mode = baton_protocol::SandboxMode::ReadOnly;
    ctx.file("kept.txt", "original");
    let out = bash(
        &ctx,
        json!({"command": "echo changed > kept.txt; rm kept.txt; cat kept.txt"}),
    )
    .await
    .unwrap();
    assert_eq!(ctx.read("kept.txt"), "original");
    assert!(
        out.contains("the sandbox (read-only) refused a write to"),
        "{out}"
    );
}

#[tokio::test]
async fn mode_off_writes_anywhere_without_a_note() {
    let mut ctx = TestContext::outside_temp();
    ctx.bash.sandbox.mode = baton_protocol::SandboxMode::Off;
    let other = crate::test_support::outside_temp_dir();
    let target = other.path().join("f");
    let out = bash(
        &ctx,
        json!({"command": format!("echo out > {}; echo 'x: Permission denied'", target.display())}),
    )
    .await
    .unwrap();
    assert!(target.exists(), "{out}");
    assert!(!out.contains("note:"), "{out}");
}

#[tokio::test]
async fn background_commands_are_sandboxed_and_their_notice_says_so() {
    let ctx = TestContext::with_shells().moved_outside_temp();
    let other = crate::test_support::outside_temp_dir();
    let target = other.path().canonicalize().unwrap().join("bg");
    let out = bash(
        &ctx,
        json!({"command": format!("echo bg > {}", target.display()), "background": true}),
    )
    .await
    .unwrap();
    let id = shell_id_in(&out);
    let (_, tail, _) = ctx.test_shells().events.wait_ended(&id).await;
    assert!(!target.exists());
    assert!(
        tail.contains("the sandbox (workspace-write) refused a write to"),
        "{tail}"
    );
    let read = ctx.test_shells().manager.read_new(&id, None).unwrap();
    assert!(read.sandbox_note.is_some(), "{read:?}");
}
