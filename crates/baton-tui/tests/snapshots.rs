//! What the screen looks like, pinned with insta snapshots: the tab bar in
//! every status, a conversation with Markdown, an edit diff and a notice,
//! the tasks panel, a permission prompt and the panel that answers it,
//! and the whole 80x24 layout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{EventKind, MessageId, Role, SessionStatus, Usage};
use common::{Feed, app_with, screen, session, task};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use std::time::Instant;

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

#[test]
fn tab_bar_shows_every_status() {
    let statuses = [
        ("ses_run", "tests", SessionStatus::Running),
        ("ses_que", "lint", SessionStatus::Queued),
        ("ses_ask", "deploy", SessionStatus::AwaitingPermission),
        ("ses_done", "docs", SessionStatus::Completed),
        ("ses_fail", "bench", SessionStatus::Failed),
        ("ses_cxl", "refactor", SessionStatus::Cancelled),
        ("ses_int", "migrate", SessionStatus::Interrupted),
    ];
    let children = statuses
        .iter()
        .map(|(id, title, status)| session(id, Some("ses_root"), "general", title, *status))
        .collect();
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "build",
            "ship the release",
            SessionStatus::Running,
        ),
        children,
        Vec::new(),
    );
    let mut feed = Feed::new();
    feed.permission(
        &mut app,
        "ses_ask",
        "perm_1",
        "bash",
        "make deploy",
        "make *",
    );
    // Something happened in a tab that is not focused.
    feed.apply(
        &mut app,
        "ses_done",
        EventKind::TextDelta { delta: "x".into() },
    );
    feed.apply(
        &mut app,
        "ses_done",
        EventKind::Error {
            message: "x".into(),
        },
    );
    insta::assert_snapshot!(screen(&mut app, 230, 2));
}

#[test]
fn conversation_shows_markdown_an_edit_diff_and_a_notice() {
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "build",
            "fix the parser",
            SessionStatus::Idle,
        ),
        Vec::new(),
        Vec::new(),
    );
    let mut feed = Feed::new();
    feed.user(&mut app, "ses_root", "Fix the off-by-one in the parser.");
    feed.assistant(
        &mut app,
        "ses_root",
        "## Plan\n\n1. Read `parse`\n2. Fix the **bound**\n\n```rust\nfn last(v: &[u8]) -> u8 {\n    v[v.len() - 1]\n}\n```",
    );
    feed.tool(
        &mut app,
        "ses_root",
        "call_1",
        "edit",
        json!({"path": "src/parse.rs", "old_string": "for i in 0..=n {\n    step(i);\n}", "new_string": "for i in 0..n {\n    step(i);\n}"}),
        Some("edited src/parse.rs"),
    );
    feed.tool(
        &mut app,
        "ses_root",
        "call_2",
        "bash",
        json!({"command": "cargo test", "background": true}),
        Some("started shell sh_1"),
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::NotificationDelivered {
            source_id: "sh_1".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::MessageCompleted {
            message_id: MessageId::from("msg_n1"),
            role: Role::User,
            text: "shell sh_1 exited with code 0: test result: ok. 12 passed".into(),
        },
    );
    feed.assistant(&mut app, "ses_root", "All **12** tests pass.");
    insta::assert_snapshot!(screen(&mut app, 80, 40));
}

#[test]
fn tasks_panel_lists_the_tree_of_tasks() {
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "architect",
            "build the feature",
            SessionStatus::Running,
        ),
        vec![
            session(
                "ses_dev",
                Some("ses_root"),
                "developer",
                "implement it",
                SessionStatus::Running,
            ),
            session(
                "ses_qa",
                Some("ses_root"),
                "qa",
                "write the tests",
                SessionStatus::Completed,
            ),
            session(
                "ses_lint",
                Some("ses_dev"),
                "explore",
                "find call sites",
                SessionStatus::Running,
            ),
        ],
        vec![
            task(
                "task_dev",
                "ses_root",
                "ses_dev",
                "developer",
                "implement it",
                SessionStatus::Running,
                0,
            ),
            task(
                "task_qa",
                "ses_root",
                "ses_qa",
                "qa",
                "write the tests",
                SessionStatus::Completed,
                2,
            ),
            task(
                "task_lint",
                "ses_dev",
                "ses_lint",
                "explore",
                "find call sites",
                SessionStatus::Running,
                10,
            ),
        ],
    );
    let mut feed = Feed::new();
    feed.tool(
        &mut app,
        "ses_lint",
        "call_9",
        "grep",
        json!({"pattern": "parse_header"}),
        None,
    );
    feed.apply(
        &mut app,
        "ses_dev",
        EventKind::TurnCompleted {
            steps: 3,
            usage: Usage {
                input_tokens: 12_000,
                output_tokens: 800,
                cost_usd: 0.042,
                ..Usage::default()
            },
            reason: "end_turn".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_dev",
        EventKind::SessionStatus {
            status: SessionStatus::Running,
        },
    );
    app.on_key(
        key(KeyCode::Char('t'), KeyModifiers::CONTROL),
        Instant::now(),
    );
    insta::assert_snapshot!(screen(&mut app, 110, 12));
}

#[test]
fn permission_prompt_shows_the_exact_command() {
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "build",
            "clean up",
            SessionStatus::Running,
        ),
        vec![session(
            "ses_child",
            Some("ses_root"),
            "general",
            "remove build dirs",
            SessionStatus::Running,
        )],
        vec![task(
            "task_c",
            "ses_root",
            "ses_child",
            "general",
            "remove build dirs",
            SessionStatus::Running,
            0,
        )],
    );
    let mut feed = Feed::new();
    feed.user(&mut app, "ses_root", "Clean the build directories.");
    feed.permission(
        &mut app,
        "ses_child",
        "perm_7",
        "bash",
        "rm -rf target/debug/incremental",
        "rm *",
    );
    // The toast names it; the prompt is on the child's tab.
    app.on_key(key(KeyCode::Char('2'), KeyModifiers::ALT), Instant::now());
    let on_tab = screen(&mut app, 80, 24);
    insta::assert_snapshot!("permission_prompt_on_its_tab", on_tab);
    app.on_key(key(KeyCode::Char('1'), KeyModifiers::ALT), Instant::now());
    app.on_key(
        key(KeyCode::Char('p'), KeyModifiers::CONTROL),
        Instant::now(),
    );
    insta::assert_snapshot!("permission_list", screen(&mut app, 80, 24));
    // "Deny, and tell the agent why": the reason is typed in the panel.
    app.on_key(key(KeyCode::Char('r'), KeyModifiers::NONE), Instant::now());
    app.on_key(key(KeyCode::Enter, KeyModifiers::NONE), Instant::now());
    for c in "only the incremental dir of release".chars() {
        app.on_key(key(KeyCode::Char(c), KeyModifiers::NONE), Instant::now());
    }
    insta::assert_snapshot!("permission_reason", screen(&mut app, 80, 24));
}

#[test]
fn the_whole_layout_at_80x24() {
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "build",
            "run the integration tests",
            SessionStatus::Running,
        ),
        vec![
            session(
                "ses_a",
                Some("ses_root"),
                "general",
                "fix timeouts",
                SessionStatus::Running,
            ),
            session(
                "ses_b",
                Some("ses_root"),
                "explore",
                "map the test suite",
                SessionStatus::Completed,
            ),
        ],
        vec![
            task(
                "task_a",
                "ses_root",
                "ses_a",
                "general",
                "fix timeouts",
                SessionStatus::Running,
                0,
            ),
            task(
                "task_b",
                "ses_root",
                "ses_b",
                "explore",
                "map the test suite",
                SessionStatus::Completed,
                1,
            ),
        ],
    );
    let mut feed = Feed::new();
    feed.user(
        &mut app,
        "ses_root",
        "Run the integration tests and fix any timeouts.",
    );
    feed.tool(
        &mut app,
        "ses_root",
        "call_1",
        "task",
        json!({"description": "fix timeouts", "prompt": "...", "agent": "general"}),
        Some("started task task_a"),
    );
    feed.assistant(
        &mut app,
        "ses_root",
        "I delegated the timeouts to a sub-agent. Meanwhile:\n\n- the suite has **42** tests\n- 3 of them time out",
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::MessageQueued {
            message_id: baton_protocol::MessageId::from("msg_q"),
            text: "also check the flaky one".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskCompleted {
            task_id: "task_b".into(),
            status: SessionStatus::Completed,
        },
    );
    for c in "and the docs".chars() {
        app.on_key(key(KeyCode::Char(c), KeyModifiers::NONE), Instant::now());
    }
    insta::assert_snapshot!(screen(&mut app, 80, 24));
}
