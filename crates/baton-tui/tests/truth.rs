//! Snapshots of what the conversation says about work in progress: a
//! task call shows its task's state, a running command its live tail and
//! elapsed time, a selected entry expands alone, notices render Markdown.

#![allow(clippy::unwrap_used)]

mod common;

use baton_protocol::{CallId, EventKind, MessageId, NoticeKind, SessionId, SessionStatus};
use common::{Feed, app_with, screen, session};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use std::time::Instant;

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

#[test]
fn task_calls_show_what_their_tasks_do() {
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "architect",
            "ship it",
            SessionStatus::Idle,
        ),
        Vec::new(),
        Vec::new(),
    );
    let mut feed = Feed::new();
    for (n, what) in ["implement it", "write the tests", "wait for CI"]
        .iter()
        .enumerate()
    {
        let call = format!("call_{n}");
        feed.tool(
            &mut app,
            "ses_root",
            &call,
            "task",
            json!({"description": what, "prompt": "...", "agent": "developer"}),
            None,
        );
        let child = format!("ses_c{n}");
        feed.apply(
            &mut app,
            &child,
            EventKind::SessionCreated {
                parent_id: Some(SessionId::from("ses_root")),
                agent: "developer".into(),
                model: "mock/mock-1".into(),
                cwd: "/work/project".into(),
            },
        );
        feed.apply(
            &mut app,
            "ses_root",
            EventKind::TaskSpawned {
                task_id: format!("task_{n}"),
                child_session_id: SessionId::from(child.as_str()),
                agent: "developer".into(),
                model: "mock/mock-1".into(),
                description: (*what).into(),
                name: None,
                after: Vec::new(),
            },
        );
        feed.apply(
            &mut app,
            "ses_root",
            EventKind::ToolCompleted {
                call_id: CallId::from(call.as_str()),
                name: "task".into(),
                is_error: false,
                output: format!("Task task_{n} started: agent developer, status queued."),
            },
        );
    }
    let children = ["ses_c0", "ses_c1", "ses_c2"];
    // The first runs, the second waits on its shell, the third is queued.
    feed.apply(
        &mut app,
        children[0],
        EventKind::SessionStatus {
            status: SessionStatus::Running,
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskStarted {
            task_id: "task_1".into(),
        },
    );
    feed.apply(
        &mut app,
        children[1],
        EventKind::ShellStarted {
            shell_id: "sh_1".into(),
            command: "cargo test".into(),
        },
    );
    feed.apply(
        &mut app,
        children[1],
        EventKind::SessionStatus {
            status: SessionStatus::Idle,
        },
    );
    insta::assert_snapshot!("task_calls_live", screen(&mut app, 80, 14));

    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskCompleted {
            task_id: "task_0".into(),
            status: SessionStatus::Completed,
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskCompleted {
            task_id: "task_2".into(),
            status: SessionStatus::Cancelled,
        },
    );
    insta::assert_snapshot!("task_calls_ended", screen(&mut app, 80, 14));
}

#[test]
fn a_running_command_shows_its_tail_and_elapsed_time_like_its_stored_output() {
    let mut app = app_with(
        session("ses_root", None, "build", "count", SessionStatus::Running),
        Vec::new(),
        Vec::new(),
    );
    let mut feed = Feed::new();
    feed.tool(
        &mut app,
        "ses_root",
        "call_1",
        "bash",
        json!({"command": "seq 1 3000"}),
        None,
    );
    let lines: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    for chunk in lines.as_bytes().chunks(4096) {
        feed.apply(
            &mut app,
            "ses_root",
            EventKind::ToolOutput {
                call_id: CallId::from("call_1"),
                delta: String::from_utf8(chunk.to_vec()).unwrap(),
            },
        );
    }
    // The screen's clock is 30 s after the feed's start: the call runs.
    insta::assert_snapshot!("bash_live", screen(&mut app, 70, 12));
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::ToolCompleted {
            call_id: CallId::from("call_1"),
            name: "bash".into(),
            is_error: false,
            output: format!("{lines}exit code 0"),
        },
    );
    insta::assert_snapshot!("bash_done", screen(&mut app, 70, 12));
}

#[test]
fn a_selected_entry_expands_alone_and_notices_render_markdown() {
    let mut app = app_with(
        session("ses_root", None, "build", "review", SessionStatus::Idle),
        Vec::new(),
        Vec::new(),
    );
    let mut feed = Feed::new();
    let long: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    feed.tool(
        &mut app,
        "ses_root",
        "call_1",
        "bash",
        json!({"command": "cat a.txt"}),
        Some(&long),
    );
    feed.tool(
        &mut app,
        "ses_root",
        "call_2",
        "bash",
        json!({"command": "cat b.txt"}),
        Some(&long),
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::NotificationDelivered {
            source_id: "task_9".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::MessageCompleted {
            message_id: MessageId::from("msg_n"),
            role: baton_protocol::Role::User,
            text: "Task task_9 completed. Result:\n\n**All green**: `cargo test` passed.\n\n- 42 tests\n- 0 failures"
                .into(),
        },
    );
    let now = Instant::now();
    // Select the first command (two steps up past the notice and the
    // second command) and show it alone.
    for _ in 0..3 {
        app.on_key(key(KeyCode::Up, KeyModifiers::CONTROL), now);
    }
    app.on_key(key(KeyCode::Char('e'), KeyModifiers::CONTROL), now);
    let shown = screen(&mut app, 60, 60);
    assert!(
        shown.contains("line 1 "),
        "the first call in full:\n{shown}"
    );
    assert_eq!(
        shown.matches("line 2 ").count(),
        1,
        "only the selected call is expanded:\n{shown}"
    );
    insta::assert_snapshot!("selected_expanded", shown);
    assert!(
        matches!(
            app.focused()
                .unwrap()
                .conversation
                .entries()
                .last()
                .unwrap()
                .kind,
            baton_tui::state::EntryKind::Notice {
                kind: NoticeKind::Task,
                ..
            }
        ),
        "the notice is the last entry"
    );
}

/// A tree is asked for after the event stream is followed, so an event can
/// come before the (older) tree it follows: it must neither be lost under
/// the tree nor applied when the tree already shows it.
#[test]
fn an_event_that_comes_before_its_tree_is_applied_on_top_of_it_once() {
    use baton_tui::effect::{Outcome, Tree};
    use baton_tui::state::{Activity, App, Setup};
    let mut app = App::new(Setup::default());
    let now = Instant::now();
    let load = app.load_tree(SessionId::from("ses_root"));
    assert_eq!(
        load,
        baton_tui::effect::Effect::LoadTree(SessionId::from("ses_root"))
    );
    let mut feed = Feed::new();
    // Seq 1: the child went busy (the tree, read after it, shows that).
    feed.apply(
        &mut app,
        "ses_b",
        EventKind::SessionStatus {
            status: SessionStatus::Running,
        },
    );
    // Seq 2 and 3: the task ends after the tree was read.
    feed.apply(
        &mut app,
        "ses_b",
        EventKind::SessionStatus {
            status: SessionStatus::Idle,
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
    let tree = Tree {
        root: session("ses_root", None, "build", "go", SessionStatus::Idle),
        descendants: vec![session(
            "ses_b",
            Some("ses_root"),
            "general",
            "beta work",
            SessionStatus::Running,
        )],
        tasks: vec![common::task(
            "task_b",
            "ses_root",
            "ses_b",
            "general",
            "beta work",
            SessionStatus::Running,
            0,
        )],
        shells: Vec::new(),
        permissions: Vec::new(),
        as_of: Some(1),
    };
    app.on_outcome(Outcome::Tree(tree), now);
    let child = SessionId::from("ses_b");
    assert_eq!(
        app.activity_of(&child),
        Activity::Ended(SessionStatus::Completed),
        "the end that came before the tree shows on it"
    );
    assert!(app.tasks.iter().all(|t| !t.running()));
    // Later events apply at once.
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::SessionStatus {
            status: SessionStatus::Running,
        },
    );
    assert_eq!(
        app.activity_of(&SessionId::from("ses_root")),
        Activity::Running
    );
}

#[test]
fn a_task_that_comes_after_another_shows_waiting_then_queued_then_running() {
    let mut app = app_with(
        session(
            "ses_root",
            None,
            "architect",
            "ship it",
            SessionStatus::Idle,
        ),
        Vec::new(),
        Vec::new(),
    );
    let mut feed = Feed::new();
    feed.tool(
        &mut app,
        "ses_root",
        "call_qa",
        "task",
        json!({"description": "check it", "prompt": "...", "agent": "qa", "after": ["dev"]}),
        None,
    );
    feed.apply(
        &mut app,
        "ses_qa",
        EventKind::SessionCreated {
            parent_id: Some(SessionId::from("ses_root")),
            agent: "qa".into(),
            model: "mock/mock-1".into(),
            cwd: "/work/project".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskSpawned {
            task_id: "task_qa".into(),
            child_session_id: SessionId::from("ses_qa"),
            agent: "qa".into(),
            model: "mock/mock-1".into(),
            description: "check it".into(),
            name: Some("qa".into()),
            after: vec!["task_dev".into()],
        },
    );
    let text = screen(&mut app, 80, 14);
    assert!(text.contains("waiting on earlier tasks"), "{text}");
    feed.apply(
        &mut app,
        "ses_qa",
        EventKind::SessionStatus {
            status: SessionStatus::Queued,
        },
    );
    let text = screen(&mut app, 80, 14);
    assert!(!text.contains("waiting on earlier tasks"), "{text}");
    assert!(text.contains("queued"), "{text}");
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskStarted {
            task_id: "task_qa".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_qa",
        EventKind::SessionStatus {
            status: SessionStatus::Running,
        },
    );
    let text = screen(&mut app, 80, 14);
    assert!(text.contains("running"), "{text}");
}
