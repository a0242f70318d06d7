use super::*;
use crate::test_support::TestContext;
use serde_json::json;
use std::sync::Arc;

async fn bash(ctx: &TestContext, args: serde_json::Value) -> Result<String, ToolError> {
    BashTool.call(args, ctx).await
}

/// Whether a process exists and is not a zombie waiting to be reaped.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Polls `condition` until it holds, failing the test after `limit`.
async fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A command that starts a grandchild in the background, records its pid
/// in `gc.pid`, prints `started` and then waits.
const SPAWNS_GRANDCHILD: &str =
    "echo started; sh -c 'echo $$ > gc.pid.tmp; mv gc.pid.tmp gc.pid; exec sleep 100' & wait";

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
async fn background_is_refused_and_timeouts_are_validated() {
    let ctx = TestContext::new();
    let err = bash(&ctx, json!({"command": "true", "background": true}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not available"), "{err}");
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
        finish("x".to_owned(), status),
        "x\n\ncommand failed: killed by signal 9\nexit code: 137"
    );
}
