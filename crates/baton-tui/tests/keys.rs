//! What keys ask of the engine, proved on the state alone (no terminal,
//! no engine): every key returns the effects the runner would carry out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{
    CallId, EventKind, PermissionDecision, PermissionId, SessionId, SessionStatus, TaskId,
};
use baton_tui::effect::{Effect, Outcome};
use baton_tui::state::{App, Confirm, Overlay, Setup};
use common::{Feed, app_with, session, task};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use std::time::{Duration, Instant};

fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers, at: Instant) -> Vec<Effect> {
    app.on_key(KeyEvent::new(code, modifiers), at)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c), KeyModifiers::NONE, Instant::now());
    }
}

fn tree_app() -> App {
    app_with(
        session("ses_root", None, "build", "root", SessionStatus::Running),
        vec![
            session(
                "ses_a",
                Some("ses_root"),
                "general",
                "a",
                SessionStatus::Running,
            ),
            session(
                "ses_b",
                Some("ses_a"),
                "explore",
                "b",
                SessionStatus::Running,
            ),
        ],
        vec![
            task(
                "task_a",
                "ses_root",
                "ses_a",
                "general",
                "a",
                SessionStatus::Running,
                0,
            ),
            task(
                "task_b",
                "ses_a",
                "ses_b",
                "explore",
                "b",
                SessionStatus::Running,
                1,
            ),
        ],
    )
}

#[test]
fn the_first_message_creates_the_session_then_sends() {
    let mut app = App::new(Setup {
        cwd: "/p".into(),
        agent: Some("plan".into()),
        ..Setup::default()
    });
    type_text(&mut app, "hello");
    let effects = press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now());
    assert_eq!(
        effects,
        [Effect::CreateSession {
            agent: Some("plan".into()),
            model: None,
            first_message: Some("hello".into())
        }]
    );
    let follow = app.on_outcome(
        Outcome::Created(
            session("ses_new", None, "plan", "", SessionStatus::Idle),
            Some("hello".into()),
        ),
        Instant::now(),
    );
    assert_eq!(
        follow,
        [Effect::Send(SessionId::from("ses_new"), "hello".into())]
    );
    assert_eq!(app.order, [SessionId::from("ses_new")]);
}

#[test]
fn typing_in_a_busy_session_sends_at_once_and_in_a_child_tab_steers_its_task() {
    let mut app = tree_app();
    type_text(&mut app, "second");
    let effects = press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now());
    assert_eq!(
        effects,
        [Effect::Send(SessionId::from("ses_root"), "second".into())]
    );
    press(
        &mut app,
        KeyCode::Char('2'),
        KeyModifiers::ALT,
        Instant::now(),
    );
    type_text(&mut app, "use the fast path");
    let effects = press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now());
    assert_eq!(
        effects,
        [Effect::SendToTask(
            TaskId::from("task_a"),
            "use the fast path".into()
        )]
    );
}

#[test]
fn shift_enter_and_ctrl_j_add_lines_instead_of_sending() {
    let mut app = tree_app();
    type_text(&mut app, "one");
    assert!(
        press(
            &mut app,
            KeyCode::Enter,
            KeyModifiers::SHIFT,
            Instant::now()
        )
        .is_empty()
    );
    type_text(&mut app, "two");
    assert!(
        press(
            &mut app,
            KeyCode::Char('j'),
            KeyModifiers::CONTROL,
            Instant::now()
        )
        .is_empty()
    );
    type_text(&mut app, "three");
    let effects = press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now());
    assert_eq!(
        effects,
        [Effect::Send(
            SessionId::from("ses_root"),
            "one\ntwo\nthree".into()
        )]
    );
    // History brings it back.
    press(&mut app, KeyCode::Up, KeyModifiers::NONE, Instant::now());
    assert_eq!(app.editor.text(), "one\ntwo\nthree");
}

#[test]
fn a_new_sub_agent_gets_a_tab_without_taking_focus() {
    let mut app = tree_app();
    let mut feed = Feed::new();
    feed.apply(
        &mut app,
        "ses_c",
        EventKind::SessionCreated {
            parent_id: Some(SessionId::from("ses_root")),
            agent: "qa".into(),
            model: "mock/mock-1".into(),
            cwd: "/p".into(),
        },
    );
    feed.apply(
        &mut app,
        "ses_root",
        EventKind::TaskSpawned {
            task_id: "task_c".into(),
            child_session_id: SessionId::from("ses_c"),
            agent: "qa".into(),
            model: "mock/mock-1".into(),
            description: "check it".into(),
        },
    );
    assert_eq!(app.order.len(), 4);
    assert_eq!(app.focus, 0, "focus stays on the root");
    let tab = &app.tabs[&SessionId::from("ses_c")];
    assert_eq!(tab.view.title, "check it");
    assert_eq!(tab.task, Some(TaskId::from("task_c")));
    // A session of another tree is not shown.
    feed.apply(
        &mut app,
        "ses_other",
        EventKind::SessionCreated {
            parent_id: None,
            agent: "build".into(),
            model: "m/m".into(),
            cwd: "/p".into(),
        },
    );
    assert_eq!(app.order.len(), 4);
}

#[test]
fn esc_interrupts_and_a_second_esc_within_a_second_cancels_the_tasks() {
    let mut app = tree_app();
    let t0 = Instant::now();
    let root = SessionId::from("ses_root");
    assert_eq!(
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE, t0),
        [Effect::Interrupt(root.clone())]
    );
    let toast = app.toasts.iter().last().unwrap().text.clone();
    assert!(toast.contains("keep running"), "{toast}");
    assert_eq!(
        press(
            &mut app,
            KeyCode::Esc,
            KeyModifiers::NONE,
            t0 + Duration::from_millis(600)
        ),
        [Effect::Cancel(root.clone())]
    );
    assert!(app.toasts.iter().last().unwrap().text.contains("cancelled"));
    // Later than a second: an interrupt again, not a cancel.
    let t1 = t0 + Duration::from_secs(5);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE, t1);
    assert_eq!(
        press(
            &mut app,
            KeyCode::Esc,
            KeyModifiers::NONE,
            t1 + Duration::from_millis(1500)
        ),
        [Effect::Interrupt(root)]
    );
}

#[test]
fn ctrl_b_moves_the_running_command_to_the_background() {
    let mut app = tree_app();
    assert!(
        press(
            &mut app,
            KeyCode::Char('b'),
            KeyModifiers::CONTROL,
            Instant::now()
        )
        .is_empty()
    );
    let mut feed = Feed::new();
    feed.tool(
        &mut app,
        "ses_root",
        "call_7",
        "bash",
        json!({"command": "sleep 100"}),
        None,
    );
    assert_eq!(
        press(
            &mut app,
            KeyCode::Char('b'),
            KeyModifiers::CONTROL,
            Instant::now()
        ),
        [Effect::Background(CallId::from("call_7").to_string())]
    );
}

#[test]
fn permissions_are_answered_from_the_tab_or_the_list() {
    let mut app = tree_app();
    let mut feed = Feed::new();
    feed.permission(&mut app, "ses_a", "perm_1", "bash", "rm -rf x", "rm *");
    feed.permission(&mut app, "ses_b", "perm_2", "write", "/etc/hosts", "/etc/*");
    assert!(app.toasts.iter().any(|t| t.text.contains("rm -rf x")));
    // On the root tab, `y` is just a letter.
    assert!(
        press(
            &mut app,
            KeyCode::Char('y'),
            KeyModifiers::NONE,
            Instant::now()
        )
        .is_empty()
    );
    assert_eq!(app.editor.text(), "y");
    press(
        &mut app,
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
        Instant::now(),
    );
    press(
        &mut app,
        KeyCode::Char('2'),
        KeyModifiers::ALT,
        Instant::now(),
    );
    assert_eq!(
        press(
            &mut app,
            KeyCode::Char('a'),
            KeyModifiers::NONE,
            Instant::now()
        ),
        [Effect::Answer(
            PermissionId::from("perm_1"),
            PermissionDecision::AllowAlways
        )]
    );
    press(
        &mut app,
        KeyCode::Char('p'),
        KeyModifiers::CONTROL,
        Instant::now(),
    );
    press(&mut app, KeyCode::Down, KeyModifiers::NONE, Instant::now());
    assert_eq!(
        press(
            &mut app,
            KeyCode::Char('n'),
            KeyModifiers::NONE,
            Instant::now()
        ),
        [Effect::Answer(
            PermissionId::from("perm_2"),
            PermissionDecision::Deny
        )]
    );
    feed.apply(
        &mut app,
        "ses_b",
        EventKind::PermissionResolved {
            request_id: PermissionId::from("perm_2"),
            decision: PermissionDecision::Deny,
        },
    );
    assert_eq!(app.permissions.len(), 1);
}

#[test]
fn cancelling_a_task_with_children_asks_first() {
    let mut app = tree_app();
    press(
        &mut app,
        KeyCode::Char('t'),
        KeyModifiers::CONTROL,
        Instant::now(),
    );
    // task_a runs task_b: confirm first.
    assert!(
        press(
            &mut app,
            KeyCode::Char('x'),
            KeyModifiers::NONE,
            Instant::now()
        )
        .is_empty()
    );
    assert!(matches!(
        app.overlay,
        Overlay::Confirm(Confirm::CancelTask { children: 1, .. })
    ));
    assert_eq!(
        press(
            &mut app,
            KeyCode::Char('y'),
            KeyModifiers::NONE,
            Instant::now()
        ),
        [Effect::CancelTask(TaskId::from("task_a"))]
    );
    // task_b has none: at once.
    press(
        &mut app,
        KeyCode::Char('t'),
        KeyModifiers::CONTROL,
        Instant::now(),
    );
    press(&mut app, KeyCode::Down, KeyModifiers::NONE, Instant::now());
    assert_eq!(
        press(
            &mut app,
            KeyCode::Char('x'),
            KeyModifiers::NONE,
            Instant::now()
        ),
        [Effect::CancelTask(TaskId::from("task_b"))]
    );
    // Enter opens the task's tab.
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now());
    assert_eq!(app.focused_id(), Some(&SessionId::from("ses_b")));
}

#[test]
fn ctrl_c_twice_quits_but_asks_while_work_runs() {
    let t0 = Instant::now();
    let mut idle = app_with(
        session("ses_root", None, "build", "root", SessionStatus::Idle),
        Vec::new(),
        Vec::new(),
    );
    press(&mut idle, KeyCode::Char('c'), KeyModifiers::CONTROL, t0);
    assert!(!idle.quit);
    press(
        &mut idle,
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
        t0 + Duration::from_millis(300),
    );
    assert!(idle.quit);

    let mut busy = tree_app();
    press(&mut busy, KeyCode::Char('c'), KeyModifiers::CONTROL, t0);
    press(
        &mut busy,
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
        t0 + Duration::from_millis(300),
    );
    assert!(!busy.quit);
    assert!(matches!(
        busy.overlay,
        Overlay::Confirm(Confirm::Quit { tasks: 2, .. })
    ));
    press(&mut busy, KeyCode::Char('y'), KeyModifiers::NONE, t0);
    assert!(busy.quit);
}

#[test]
fn commands_switch_models_and_open_panels() {
    let mut app = tree_app();
    type_text(&mut app, "/model other/fast");
    assert_eq!(
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now()),
        [Effect::SetModel(
            SessionId::from("ses_root"),
            "other/fast".into()
        )]
    );
    type_text(&mut app, "/mo");
    assert_eq!(
        app.editor.completion.as_ref().unwrap().candidates,
        ["/model"]
    );
    assert_eq!(
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now()),
        [Effect::ListModels]
    );
    assert!(matches!(app.overlay, Overlay::Models(_)));
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE, Instant::now());
    type_text(&mut app, "/sessions");
    assert_eq!(
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now()),
        [Effect::ListSessions]
    );
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE, Instant::now());
    type_text(&mut app, "/bogus");
    assert!(press(&mut app, KeyCode::Enter, KeyModifiers::NONE, Instant::now()).is_empty());
    assert!(
        app.toasts
            .iter()
            .last()
            .unwrap()
            .text
            .contains("unknown command")
    );
}

#[test]
fn task_and_shell_endings_raise_toasts_and_update_the_status_line_counts() {
    let mut app = tree_app();
    let mut feed = Feed::new();
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::ShellStarted {
            shell_id: "sh_1".into(),
            command: "make".into(),
        },
    );
    assert_eq!(app.running_shells(), 1);
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::ShellExited {
            shell_id: "sh_1".into(),
            exit_code: Some(2),
        },
    );
    assert_eq!(app.running_shells(), 0);
    assert!(app.toasts.iter().last().unwrap().text.contains("exit 2"));
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::TaskCompleted {
            task_id: "task_b".into(),
            status: SessionStatus::Failed,
        },
    );
    assert_eq!(app.running_tasks(), 1);
    assert!(app.toasts.iter().last().unwrap().text.contains("failed"));
    assert_eq!(
        app.tabs[&SessionId::from("ses_b")].view.status,
        SessionStatus::Failed
    );
}

#[test]
fn a_model_change_from_anywhere_shows_on_the_tab() {
    let mut app = tree_app();
    let mut feed = Feed::new();
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::SessionUpdated {
            model: "other/fast".into(),
            title: Some("renamed".into()),
        },
    );
    let tab = &app.tabs[&SessionId::from("ses_a")];
    assert_eq!(
        (tab.view.model.as_str(), tab.view.provider.as_str()),
        ("other/fast", "other")
    );
    assert_eq!(tab.view.title, "renamed");
}
