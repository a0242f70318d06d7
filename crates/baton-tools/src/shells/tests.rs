use super::*;
use crate::test_support::{
    SPAWNS_GRANDCHILD, TestContext, TestShells, WAITS_FOR_GO, process_alive, wait_dead,
    wait_for_pid, wait_until,
};
use crate::{ToolContext, ToolError};
use std::time::Duration;

/// Starts `command` in the background for the context's session.
fn start(ctx: &TestContext, command: &str) -> ShellInfo {
    ctx.test_shells()
        .manager
        .start_background(ShellSpec {
            shell: "sh",
            command,
            working_dir: ctx.working_dir(),
            session_id: ctx.session_id(),
            description: None,
            sandbox: &ctx.bash_settings().sandbox,
        })
        .unwrap()
}

#[tokio::test]
async fn read_new_returns_only_what_is_new() {
    let ctx = TestContext::with_shells();
    let manager = &ctx.test_shells().manager;
    let id = start(&ctx, WAITS_FOR_GO).id.0;
    wait_until(Duration::from_secs(10), "the first line", || {
        manager.snapshot(&id).unwrap().output == "begun\n"
    })
    .await;

    let first = manager.read_new(&id, None).unwrap();
    assert_eq!(
        first,
        ShellRead {
            output: "begun\n".to_owned(),
            dropped_bytes: 0,
            status: ShellStatus::Running,
            exit_code: None,
            sandbox_note: None,
        }
    );
    assert_eq!(manager.read_new(&id, None).unwrap().output, "");

    ctx.file("go", "");
    ctx.test_shells().events.wait_ended(&id).await;
    let last = manager.read_new(&id, None).unwrap();
    assert_eq!(
        last,
        ShellRead {
            output: "finished\n".to_owned(),
            dropped_bytes: 0,
            status: ShellStatus::Exited,
            exit_code: Some(0),
            sandbox_note: None,
        }
    );
    assert_eq!(manager.read_new(&id, None).unwrap().output, "");
    // The snapshot still has everything and did not move the cursor.
    assert_eq!(manager.snapshot(&id).unwrap().output, "begun\nfinished\n");
}

#[tokio::test]
async fn a_filter_keeps_matching_lines_and_waits_for_whole_lines() {
    let ctx = TestContext::with_shells();
    let manager = &ctx.test_shells().manager;
    let id = start(
        &ctx,
        "printf 'apple\\nbanana\\nbe'; while [ ! -e go ]; do sleep 0.02; done; \
         printf 'rry\\napricot\\nblue'",
    )
    .id
    .0;
    wait_until(Duration::from_secs(10), "the first lines", || {
        manager.snapshot(&id).unwrap().output.ends_with("be")
    })
    .await;
    let b_words = regex::Regex::new("^b").unwrap();
    let read = manager.read_new(&id, Some(&b_words)).unwrap();
    // "be" is not a whole line yet: it waits.
    assert_eq!(read.output, "banana\n");

    ctx.file("go", "");
    ctx.test_shells().events.wait_ended(&id).await;
    let read = manager.read_new(&id, Some(&b_words)).unwrap();
    // Once the shell ended, the last line counts even without a newline.
    assert_eq!(read.output, "berry\nblue");
    assert_eq!(read.status, ShellStatus::Exited);
    assert_eq!(manager.read_new(&id, None).unwrap().output, "");
}

#[tokio::test]
async fn a_small_ring_drops_old_output_and_says_how_much() {
    let shells = TestShells::new(16);
    let ctx = TestContext::sharing(shells, "ses_a");
    let manager = &ctx.test_shells().manager;
    let id = start(&ctx, "printf 0123456789; printf abcdefghij").id.0;
    let (info, tail, _) = ctx.test_shells().events.wait_ended(&id).await;
    assert_eq!(tail, "456789abcdefghij");

    let snapshot = manager.snapshot(&id).unwrap();
    assert_eq!(
        (snapshot.output.as_str(), snapshot.dropped_bytes),
        ("456789abcdefghij", 4)
    );
    let read = manager.read_new(&id, None).unwrap();
    assert_eq!(
        (read.output.as_str(), read.dropped_bytes),
        ("456789abcdefghij", 4)
    );
    let read = manager.read_new(&id, None).unwrap();
    assert_eq!((read.output.as_str(), read.dropped_bytes), ("", 0));
    // The log has every byte.
    assert_eq!(
        std::fs::read_to_string(info.log_path).unwrap(),
        "0123456789abcdefghij"
    );
}

#[tokio::test]
async fn the_end_reports_exit_code_tail_and_a_complete_log() {
    let ctx = TestContext::with_shells();
    let shells = ctx.test_shells();
    let id = start(&ctx, "seq 1 30; echo oops >&2; exit 3").id.0;
    let (info, tail, _) = shells.events.wait_ended(&id).await;
    assert_eq!(info.status, ShellStatus::Exited);
    assert_eq!(info.exit_code, Some(3));
    assert!(info.ended_at.unwrap() >= info.started_at);
    let mut last: Vec<String> = (12..=30).map(|n| n.to_string()).collect();
    last.push("oops".to_owned());
    assert_eq!(tail, last.join("\n"));
    assert_eq!(shells.manager.get(&id).unwrap(), info);

    let mut all: String = (1..=30).map(|n| format!("{n}\n")).collect();
    all.push_str("oops\n");
    assert_eq!(std::fs::read_to_string(&info.log_path).unwrap(), all);
    assert_eq!(shells.events.ended_of(&id).len(), 1);
}

#[tokio::test]
async fn a_shell_ended_by_a_signal_has_no_exit_code() {
    let ctx = TestContext::with_shells();
    let id = start(&ctx, "kill -9 $$").id.0;
    let (info, _, _) = ctx.test_shells().events.wait_ended(&id).await;
    assert_eq!((info.status, info.exit_code), (ShellStatus::Exited, None));
}

#[tokio::test]
async fn leftover_jobs_of_a_background_shell_are_killed_when_it_exits() {
    let ctx = TestContext::with_shells();
    let id = start(&ctx, "sleep 100 & echo $! > bg.pid; echo launched")
        .id
        .0;
    let (info, tail, _) = ctx.test_shells().events.wait_ended(&id).await;
    assert_eq!(info.exit_code, Some(0));
    assert_eq!(tail, "launched");
    wait_dead(wait_for_pid(&ctx.root.join("bg.pid")).await).await;
}

#[tokio::test]
async fn kill_session_kills_only_that_sessions_shells() {
    let shells = TestShells::new(DEFAULT_RING_CAPACITY);
    let a = TestContext::sharing(shells.clone(), "ses_a");
    let b = TestContext::sharing(shells.clone(), "ses_b");
    let a_id = start(&a, SPAWNS_GRANDCHILD).id.0;
    let b_id = start(&b, SPAWNS_GRANDCHILD).id.0;
    let a_grandchild = wait_for_pid(&a.root.join("gc.pid")).await;
    let b_grandchild = wait_for_pid(&b.root.join("gc.pid")).await;
    assert_eq!(shells.manager.running_background("ses_a"), 1);
    assert_eq!(shells.manager.running_background("ses_b"), 1);

    assert_eq!(shells.manager.kill_session("ses_a").await, 1);
    let a_info = shells.manager.get(&a_id).unwrap();
    assert_eq!(a_info.status, ShellStatus::Killed);
    assert_eq!(shells.events.ended_of(&a_id).len(), 1);
    wait_dead(a_grandchild).await;

    assert_eq!(
        shells.manager.get(&b_id).unwrap().status,
        ShellStatus::Running
    );
    assert!(process_alive(b_grandchild));
    assert!(shells.events.ended_of(&b_id).is_empty());
    assert_eq!(shells.manager.running_background("ses_b"), 1);
    assert_eq!(shells.manager.kill_session("ses_a").await, 0);

    shells.manager.kill_all().await;
    assert_eq!(
        shells.manager.get(&b_id).unwrap().status,
        ShellStatus::Killed
    );
    assert_eq!(shells.events.ended_of(&b_id).len(), 1);
    wait_dead(b_grandchild).await;
    let ids: Vec<String> = shells
        .manager
        .list(None)
        .into_iter()
        .map(|info| info.id.0)
        .collect();
    assert_eq!(ids, [a_id, b_id]);
}

#[tokio::test]
async fn unknown_ids_are_errors() {
    let ctx = TestContext::with_shells();
    let manager = &ctx.test_shells().manager;
    assert!(manager.get("sh_nope").is_none());
    for err in [
        manager.read_new("sh_nope", None).unwrap_err(),
        manager.snapshot("sh_nope").unwrap_err(),
        manager.kill("sh_nope").await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, ToolError::Failed(text) if text == "there is no shell `sh_nope`"),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_shell_program_is_an_error_and_leaves_nothing_behind() {
    let ctx = TestContext::with_shells();
    let shells = ctx.test_shells();
    let err = shells
        .manager
        .start_background(ShellSpec {
            shell: "/nonexistent/shell",
            command: "true",
            working_dir: ctx.working_dir(),
            session_id: "ses_a",
            description: None,
            sandbox: &ctx.bash_settings().sandbox,
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("could not start the shell `/nonexistent/shell`"),
        "{err}"
    );
    assert!(shells.manager.list(None).is_empty());
    assert!(shells.events.all().is_empty());
    assert_eq!(std::fs::read_dir(&shells.log_dir).unwrap().count(), 0);
}
