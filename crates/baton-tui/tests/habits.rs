//! The TUI's everyday habits, pinned with tests and insta snapshots:
//! toasts in a strip of their own that never cover the conversation or a
//! panel, edit diffs with line numbers, long pastes collapsed, the `/`
//! menu with descriptions, counts that read right, and the timeline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::api::ModelView;
use baton_protocol::{EventKind, SessionStatus};
use baton_tui::effect::{Effect, Outcome};
use baton_tui::state::{Level, Overlay, VISIBLE};
use common::{Feed, app_with, app_with_shells, screen, session, shell, t, task};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use std::time::Instant;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn type_text(app: &mut baton_tui::state::App, text: &str) {
    for c in text.chars() {
        app.on_key(key(KeyCode::Char(c)), Instant::now());
    }
}

fn idle_root(title: &str) -> baton_protocol::api::SessionView {
    session("ses_root", None, "build", title, SessionStatus::Idle)
}

const CONVERSATION: &[&str] = &[
    "The parser reads one token past the end of its input when the last line",
    "has no newline. The bound check is off by one; the fix moves it before the",
    "read, and a test pins it: a file that ends without a newline parses.",
];

fn toasts(app: &mut baton_tui::state::App, n: usize) {
    for i in 1..=n {
        let level = if i % 2 == 0 {
            Level::Error
        } else {
            Level::Info
        };
        app.toast(
            level,
            format!("toast number {i}: something finished and says so at some length"),
            Instant::now(),
        );
    }
}

#[test]
fn several_toasts_show_two_in_their_strip_and_cover_no_conversation() {
    let mut app = app_with(idle_root("fix the parser"), Vec::new(), Vec::new());
    let mut feed = Feed::new();
    feed.user(&mut app, "ses_root", "Why does the parser crash?");
    feed.assistant(&mut app, "ses_root", &CONVERSATION.join(" "));
    toasts(&mut app, 5);
    let shown = screen(&mut app, 80, 20);
    for line in [
        "Why does the parser crash?",
        "and a test pins it: a file that ends",
    ] {
        assert!(shown.contains(line), "{line} hidden:\n{shown}");
    }
    let toast_lines = shown.lines().filter(|l| l.contains("toast number")).count();
    assert_eq!(toast_lines, VISIBLE);
    assert!(shown.contains("toast number 5"), "the newest shows");
    assert!(shown.contains("+3 more"), "the others are counted");
    insta::assert_snapshot!(shown);
}

#[test]
fn toasts_never_cover_the_model_picker() {
    let mut app = app_with(idle_root("fix the parser"), Vec::new(), Vec::new());
    type_text(&mut app, "/model");
    let effects = app.on_key(key(KeyCode::Enter), Instant::now());
    assert!(matches!(effects.as_slice(), [Effect::ListModels]));
    let models = [
        "mock/mock-1",
        "mock/mock-2",
        "openai/gpt-5",
        "anthropic/opus",
    ]
    .into_iter()
    .map(|id| ModelView {
        id: id.into(),
        provider: id.split('/').next().unwrap().into(),
        model: id.split('/').nth(1).unwrap().into(),
        is_default: id == "mock/mock-1",
        aliases: Vec::new(),
        context_window: None,
    })
    .collect();
    app.on_outcome(Outcome::Models(models), Instant::now());
    toasts(&mut app, 4);
    let shown = screen(&mut app, 80, 20);
    assert!(matches!(app.overlay, Overlay::Models(_)));
    for model in [
        "● mock/mock-1",
        "mock/mock-2",
        "openai/gpt-5",
        "anthropic/opus",
    ] {
        assert!(shown.contains(model), "{model} covered:\n{shown}");
    }
    assert!(shown.contains("model of this session"));
    insta::assert_snapshot!(shown);
}

#[test]
fn an_edit_shows_line_numbers_where_it_landed() {
    let mut app = app_with(idle_root("fix the parser"), Vec::new(), Vec::new());
    let mut feed = Feed::new();
    feed.tool(
        &mut app,
        "ses_root",
        "call_1",
        "edit",
        json!({
            "path": "src/parse.rs",
            "old_string": "    let end = input.len();\n    let last = input[end];\n    last\n",
            "new_string": "    let end = input.len();\n    if end == 0 {\n        return None;\n    }\n    let last = input[end - 1];\n    Some(last)\n",
        }),
        Some("Edited src/parse.rs: 1 replacement (lines 41-46 of the new file)"),
    );
    let shown = screen(&mut app, 80, 16);
    assert!(
        shown.contains("41 41       let end = input.len();"),
        "{shown}"
    );
    assert!(
        shown.contains("42    -     let last = input[end];"),
        "{shown}"
    );
    assert!(shown.contains("   46 +     Some(last)"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn a_long_paste_is_a_placeholder_and_is_sent_exactly() {
    let mut app = app_with(idle_root("fix the parser"), Vec::new(), Vec::new());
    let log: String = (1..=40)
        .map(|i| format!("error[E{i:04}]: line {i}\n"))
        .collect();
    type_text(&mut app, "see ");
    app.on_paste(&log);
    type_text(&mut app, " and ");
    app.on_paste("a short one");
    assert_eq!(app.editor.text(), "see [pasted 40 lines] and a short one");
    let shown = screen(&mut app, 80, 10);
    assert!(
        shown.contains("see [pasted 40 lines] and a short one"),
        "{shown}"
    );
    assert!(!shown.contains("E0001"), "the paste is collapsed:\n{shown}");
    let effects = app.on_key(key(KeyCode::Enter), Instant::now());
    match effects.as_slice() {
        [Effect::Send(_, text)] => assert_eq!(*text, format!("see {log} and a short one")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_slash_menu_shows_what_each_command_does() {
    let mut app = app_with(idle_root("fix the parser"), Vec::new(), Vec::new());
    type_text(&mut app, "/");
    let all = screen(&mut app, 90, 22);
    assert!(all.contains("/model [provider/model]  switch the focused session's model"));
    assert!(all.contains("/timeline"), "{all}");
    insta::assert_snapshot!("slash_menu_all", all);
    type_text(&mut app, "t");
    let filtered = screen(&mut app, 90, 22);
    assert!(filtered.contains("/tasks") && filtered.contains("/timeline"));
    assert!(!filtered.contains("/model"), "{filtered}");
    insta::assert_snapshot!("slash_menu_filtered", filtered);
}

#[test]
fn the_quit_question_counts_right() {
    let mut app = app_with(
        session("ses_root", None, "build", "release", SessionStatus::Running),
        vec![session(
            "ses_a",
            Some("ses_root"),
            "general",
            "docs",
            SessionStatus::Running,
        )],
        vec![task(
            "task_a",
            "ses_root",
            "ses_a",
            "general",
            "docs",
            SessionStatus::Running,
            0,
        )],
    );
    app.on_key(ctrl('c'), Instant::now());
    app.on_key(ctrl('c'), Instant::now());
    let shown = screen(&mut app, 80, 14);
    assert!(
        shown.contains("2 sessions working, 1 task running."),
        "{shown}"
    );
    assert!(shown.contains("1 task · 0 shells"), "{shown}");
    insta::assert_snapshot!(shown);
}

/// A root, three tasks (completed, running, failed) and two shells (one
/// done, one running), seen at 30 s.
fn timeline_app() -> baton_tui::state::App {
    let mut root = session(
        "ses_root",
        None,
        "build",
        "ship 1.2",
        SessionStatus::Running,
    );
    root.created_at = t(0);
    let child =
        |id: &str, title: &str, status| session(id, Some("ses_root"), "general", title, status);
    let mut failed = task(
        "task_c",
        "ses_root",
        "ses_c",
        "general",
        "run the benchmarks",
        SessionStatus::Failed,
        14,
    );
    failed.elapsed_s = 6.0;
    app_with_shells(
        root,
        vec![
            child("ses_a", "update the changelog", SessionStatus::Completed),
            child("ses_b", "fix the flaky test", SessionStatus::Running),
            child("ses_c", "run the benchmarks", SessionStatus::Failed),
        ],
        vec![
            task(
                "task_a",
                "ses_root",
                "ses_a",
                "general",
                "update the changelog",
                SessionStatus::Completed,
                2,
            ),
            task(
                "task_b",
                "ses_root",
                "ses_b",
                "general",
                "fix the flaky test",
                SessionStatus::Running,
                6,
            ),
            failed,
        ],
        vec![
            shell("sh_1", "ses_root", "cargo build --release", 1, Some((9, 0))),
            shell("sh_2", "ses_b", "cargo test -- --ignored", 18, None),
        ],
    )
}

#[test]
fn the_timeline_shows_every_session_task_and_shell_over_time() {
    let mut app = timeline_app();
    app.on_key(ctrl('l'), Instant::now());
    assert!(matches!(app.overlay, Overlay::Timeline(_)));
    let rows = app.timeline_rows();
    let labels: Vec<(usize, &str)> = rows.iter().map(|r| (r.depth, r.label.as_str())).collect();
    assert_eq!(
        labels,
        [
            (0, "build ship 1.2"),
            (1, "$ cargo build --release"),
            (1, "general update the changelog"),
            (1, "general fix the flaky test"),
            (2, "$ cargo test -- --ignored"),
            (1, "general run the benchmarks"),
        ]
    );
    let shown = screen(&mut app, 100, 16);
    insta::assert_snapshot!(shown);
    // Enter opens the highlighted row's tab; Esc closes.
    for _ in 0..3 {
        app.on_key(key(KeyCode::Down), Instant::now());
    }
    app.on_key(key(KeyCode::Enter), Instant::now());
    assert_eq!(app.focused_id().map(|s| s.as_str()), Some("ses_b"));
    assert!(matches!(app.overlay, Overlay::None));
    app.on_key(ctrl('l'), Instant::now());
    app.on_key(key(KeyCode::Esc), Instant::now());
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn the_timeline_scrolls_when_rows_do_not_fit() {
    let mut app = timeline_app();
    type_text(&mut app, "/timeline");
    app.on_key(key(KeyCode::Enter), Instant::now());
    assert!(matches!(app.overlay, Overlay::Timeline(_)));
    for _ in 0..5 {
        app.on_key(key(KeyCode::Down), Instant::now());
    }
    let shown = screen(&mut app, 80, 12);
    assert!(
        shown.contains("general run the"),
        "the last row in view:\n{shown}"
    );
    assert!(
        !shown.contains("│ ⠋ build ship 1.2"),
        "the first scrolled away:\n{shown}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn shells_keep_when_they_started_and_ended() {
    let mut app = app_with(idle_root("r"), Vec::new(), Vec::new());
    let mut feed = Feed::new();
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::ShellStarted {
            shell_id: "sh_9".into(),
            command: "sleep 5".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::ShellExited {
            shell_id: "sh_9".into(),
            exit_code: Some(0),
        },
    );
    let row = &app.shells[0];
    assert_eq!(row.started, t(1));
    assert_eq!(row.ended, Some(t(2)));
}
