use crate::test_support::{
    SPAWNS_GRANDCHILD, TestContext, TestShells, WAITS_FOR_GO, process_alive, wait_dead,
    wait_for_pid, wait_until,
};
use crate::{DEFAULT_RING_CAPACITY, ShellStatus, ToolOutcome, ToolRegistry};
use serde_json::{Value, json};
use std::time::Duration;

async fn call(ctx: &TestContext, tool: &str, args: Value) -> ToolOutcome {
    ToolRegistry::builtin()
        .dispatch(tool, &args.to_string(), ctx)
        .await
}

/// Starts `command` with `bash` and `background: true`; returns its id.
async fn start(ctx: &TestContext, command: &str) -> String {
    let outcome = call(ctx, "bash", json!({"command": command, "background": true})).await;
    assert!(!outcome.is_error, "{}", outcome.output);
    let ids = ctx.test_shells().manager.list(Some(ctx.session.as_str()));
    ids.last().unwrap().id.0.clone()
}

#[tokio::test]
async fn shell_output_gives_status_and_only_new_output() {
    let ctx = TestContext::with_shells();
    let id = start(&ctx, WAITS_FOR_GO).await;
    let manager = &ctx.test_shells().manager;
    wait_until(Duration::from_secs(10), "the first line", || {
        manager.snapshot(&id).unwrap().output == "begun\n"
    })
    .await;

    let first = call(&ctx, "shell_output", json!({"shell_id": id})).await;
    let command = format!("`{WAITS_FOR_GO}`");
    assert_eq!(
        first,
        ToolOutcome::ok(format!("Shell {id} ({command}): running.\nbegun\n"))
    );
    let second = call(&ctx, "shell_output", json!({"shell_id": id})).await;
    assert_eq!(
        second.output,
        format!("Shell {id} ({command}): running.\n(no new output)")
    );

    ctx.file("go", "");
    ctx.test_shells().events.wait_ended(&id).await;
    let last = call(
        &ctx,
        "shell_output",
        json!({"shell_id": id, "filter": "fin"}),
    )
    .await;
    assert_eq!(
        last.output,
        format!("Shell {id} ({command}): exited with code 0.\nfinished\n")
    );
    let none = call(
        &ctx,
        "shell_output",
        json!({"shell_id": id, "filter": "fin"}),
    )
    .await;
    assert!(
        none.output.ends_with("\n(no new output matching `fin`)"),
        "{}",
        none.output
    );
}

#[tokio::test]
async fn shell_output_says_when_output_was_dropped() {
    let ctx = TestContext::sharing(TestShells::new(8), "ses_a");
    let id = start(&ctx, "printf 0123456789abcdef; exit 5").await;
    let (info, _, _) = ctx.test_shells().events.wait_ended(&id).await;
    let out = call(&ctx, "shell_output", json!({"shell_id": id})).await;
    assert!(!out.is_error);
    assert_eq!(
        out.output,
        format!(
            "Shell {id} (`printf 0123456789abcdef; exit 5`): exited with code 5.\n(8 bytes of \
             output were dropped before they were read; the full output is in the log {}.)\n\
             89abcdef",
            info.log_path.display()
        )
    );
}

#[tokio::test]
async fn shell_output_rejects_a_bad_filter() {
    let ctx = TestContext::with_shells();
    let id = start(&ctx, "true").await;
    let out = call(&ctx, "shell_output", json!({"shell_id": id, "filter": "("})).await;
    assert!(out.is_error);
    assert!(
        out.output
            .contains("`filter` is not a valid regular expression"),
        "{}",
        out.output
    );
}

#[tokio::test]
async fn shell_kill_stops_the_whole_group_once() {
    let ctx = TestContext::with_shells();
    let id = start(&ctx, SPAWNS_GRANDCHILD).await;
    let grandchild = wait_for_pid(&ctx.root.join("gc.pid")).await;
    let killed = call(&ctx, "shell_kill", json!({"shell_id": id})).await;
    assert_eq!(
        killed,
        ToolOutcome::ok(format!(
            "Killed shell {id} (`{}`) and every process it started. Its last output: \
             shell_output with shell_id={id}.",
            super::shown_command(SPAWNS_GRANDCHILD)
        ))
    );
    wait_dead(grandchild).await;
    let shells = ctx.test_shells();
    assert_eq!(shells.manager.get(&id).unwrap().status, ShellStatus::Killed);
    assert_eq!(shells.events.ended_of(&id).len(), 1);

    let again = call(&ctx, "shell_kill", json!({"shell_id": id})).await;
    assert!(!again.is_error);
    assert!(
        again
            .output
            .ends_with("is not running (killed); nothing to kill."),
        "{}",
        again.output
    );
    assert_eq!(shells.events.ended_of(&id).len(), 1);
}

#[tokio::test]
async fn another_sessions_shell_is_refused() {
    let shells = TestShells::new(DEFAULT_RING_CAPACITY);
    let owner = TestContext::sharing(shells.clone(), "ses_a");
    let other = TestContext::sharing(shells.clone(), "ses_b");
    let id = start(&owner, SPAWNS_GRANDCHILD).await;
    let grandchild = wait_for_pid(&owner.root.join("gc.pid")).await;

    for tool in ["shell_output", "shell_kill"] {
        let out = call(&other, tool, json!({"shell_id": id})).await;
        assert!(out.is_error, "{tool}");
        assert_eq!(
            out.output,
            format!(
                "Shell `{id}` belongs to another session; you can only use the shells this \
                 session started. This session has no background shells."
            ),
            "{tool}"
        );
    }
    assert!(process_alive(grandchild));
    assert_eq!(
        shells.manager.get(&id).unwrap().status,
        ShellStatus::Running
    );
    shells.manager.kill_all().await;
}

#[tokio::test]
async fn an_unknown_id_lists_the_sessions_shells() {
    let ctx = TestContext::with_shells();
    let out = call(&ctx, "shell_output", json!({"shell_id": "sh_nope"})).await;
    assert!(out.is_error);
    assert_eq!(
        out.output,
        "There is no shell `sh_nope`. This session has no background shells."
    );

    let id = start(&ctx, "exit 2").await;
    ctx.test_shells().events.wait_ended(&id).await;
    let out = call(&ctx, "shell_kill", json!({"shell_id": "sh_nope"})).await;
    assert!(out.is_error);
    assert_eq!(
        out.output,
        format!(
            "There is no shell `sh_nope`. This session's shells: {id} (exited with code 2: \
             `exit 2`)."
        )
    );
}

#[tokio::test]
async fn without_shells_both_tools_say_so() {
    let ctx = TestContext::new();
    for tool in ["shell_output", "shell_kill"] {
        let out = call(&ctx, tool, json!({"shell_id": "sh_x"})).await;
        assert!(out.is_error, "{tool}");
        assert!(
            out.output.starts_with("Shells are not available here"),
            "{tool}: {}",
            out.output
        );
    }
}

#[test]
fn long_commands_are_shown_on_one_shortened_line() {
    assert_eq!(super::shown_command("make\n  test"), "make test");
    let long = "x".repeat(100);
    let shown = super::shown_command(&long);
    assert_eq!(shown, format!("{}…", "x".repeat(80)));
}
