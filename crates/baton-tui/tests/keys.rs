//! What keys ask of the engine, proved on the state alone (no terminal,
//! no engine): every key returns the effects the runner would carry out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{
    CallId, EventKind, PermissionAnswer, PermissionDecision, PermissionId, SessionId,
    SessionStatus, TaskId,
};
use baton_tui::effect::{Effect, Outcome};
use baton_tui::state::{App, Choice, Confirm, Overlay, PermissionPanel, Setup};
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
            name: None,
            after: Vec::new(),
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
    assert!(toast.contains("keeps running"), "{toast}");
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

/// A tree whose sub-agent `ses_a` asks to run `rm -rf x` and whose
/// `ses_b` asks to write `/etc/hosts`, with the asking tab focused.
fn asking_app() -> App {
    let mut app = tree_app();
    let mut feed = Feed::new();
    feed.permission(&mut app, "ses_a", "perm_1", "bash", "rm -rf x", "rm *");
    feed.permission(&mut app, "ses_b", "perm_2", "write", "/etc/hosts", "/etc/*");
    press(
        &mut app,
        KeyCode::Char('2'),
        KeyModifiers::ALT,
        Instant::now(),
    );
    app
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    press(app, code, KeyModifiers::NONE, Instant::now())
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    press(app, KeyCode::Char(c), KeyModifiers::CONTROL, Instant::now())
}

fn panel(app: &App) -> &PermissionPanel {
    match &app.overlay {
        Overlay::Permissions(panel) => panel,
        other => panic!("the permission panel is not open: {other:?}"),
    }
}

#[test]
fn typing_while_a_request_waits_never_answers_it() {
    let mut app = asking_app();
    assert!(app.toasts.iter().any(|t| t.text.contains("rm -rf x")));
    assert_eq!(app.focused_permission(), Some(PermissionId::from("perm_1")));
    // Every letter goes to the editor, the first one included.
    for text in [
        "actually, do not run that",
        " no wait",
        " yes",
        " a",
        " n",
        " y",
    ] {
        for c in text.chars() {
            assert_eq!(
                key(&mut app, KeyCode::Char(c)),
                [],
                "{c:?} of {text:?} answered"
            );
        }
    }
    assert_eq!(
        app.editor.text(),
        "actually, do not run that no wait yes a n y"
    );
    assert_eq!(app.permissions.len(), 2, "both requests still wait");
    assert!(matches!(app.overlay, Overlay::None));
    // With the editor empty, a letter is still only a letter.
    ctrl(&mut app, 'c');
    assert!(app.editor.is_empty());
    assert_eq!(key(&mut app, KeyCode::Char('y')), []);
    assert_eq!(app.editor.text(), "y");
}

#[test]
fn ctrl_p_focuses_the_request_and_only_enter_answers_it() {
    let mut app = asking_app();
    type_text(&mut app, "draft");
    assert_eq!(ctrl(&mut app, 'p'), []);
    // Opened on the focused tab's request, "allow once" highlighted.
    assert_eq!(panel(&app).request, Some(PermissionId::from("perm_1")));
    assert_eq!(panel(&app).choice, Choice::AllowOnce);
    // Letters and arrows move the highlight; nothing is answered yet.
    assert_eq!(key(&mut app, KeyCode::Char('a')), []);
    assert_eq!(panel(&app).choice, Choice::AllowAlways);
    assert_eq!(key(&mut app, KeyCode::Right), []);
    assert_eq!(panel(&app).choice, Choice::Deny);
    assert_eq!(key(&mut app, KeyCode::Left), []);
    assert_eq!(key(&mut app, KeyCode::Left), []);
    assert_eq!(key(&mut app, KeyCode::Left), []);
    assert_eq!(panel(&app).choice, Choice::AllowOnce);
    // Another request: the choice starts over.
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(key(&mut app, KeyCode::Down), []);
    assert_eq!(panel(&app).request, Some(PermissionId::from("perm_2")));
    assert_eq!(panel(&app).choice, Choice::AllowOnce);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        [Effect::Answer(
            PermissionId::from("perm_1"),
            PermissionAnswer::AllowOnce
        )]
    );
    assert!(matches!(app.overlay, Overlay::None), "answering closes it");
    assert_eq!(app.editor.text(), "draft", "the draft is untouched");

    // From another tab Ctrl+P opens on the tree's oldest request; `g`
    // goes to the asking tab.
    press(
        &mut app,
        KeyCode::Char('1'),
        KeyModifiers::ALT,
        Instant::now(),
    );
    ctrl(&mut app, 'p');
    assert_eq!(panel(&app).request, Some(PermissionId::from("perm_1")));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('g'));
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.focused_id(), Some(&SessionId::from("ses_b")));
}

#[test]
fn deny_and_tell_the_agent_why_sends_the_typed_reason() {
    let mut app = asking_app();
    ctrl(&mut app, 'p');
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(panel(&app).choice, Choice::DenyWithReason);
    assert_eq!(key(&mut app, KeyCode::Enter), [], "Enter opens the reason");
    assert!(panel(&app).reason.is_some());
    // Every key is text now, the panel's own keys included.
    type_text(&mut app, "use staging, quit jk");
    app.on_paste(" — 日本 🙏");
    assert_eq!(
        panel(&app).reason.as_ref().unwrap().editor.text(),
        "use staging, quit jk — 日本 🙏"
    );
    assert!(app.editor.is_empty(), "nothing went to the message editor");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        [Effect::Answer(
            PermissionId::from("perm_1"),
            PermissionAnswer::deny_because("use staging, quit jk — 日本 🙏")
        )]
    );
    assert!(matches!(app.overlay, Overlay::None));

    // A blank reason is not sent; Esc goes back to the choices.
    ctrl(&mut app, 'p');
    key(&mut app, KeyCode::Char('r'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "  ");
    assert_eq!(key(&mut app, KeyCode::Enter), []);
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("type why the call is denied"))
    );
    assert_eq!(key(&mut app, KeyCode::Esc), []);
    assert!(panel(&app).reason.is_none());
    assert_eq!(panel(&app).choice, Choice::DenyWithReason);
}

#[test]
fn a_request_answered_elsewhere_is_not_answered_again_by_enter() {
    let mut app = asking_app();
    let mut feed = Feed::new();
    ctrl(&mut app, 'p');
    key(&mut app, KeyCode::Char('a'));
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::PermissionResolved {
            request_id: PermissionId::from("perm_1"),
            decision: PermissionDecision::Deny,
        },
    );
    assert_eq!(app.permissions.len(), 1);
    // The highlight does not jump to the other request by itself.
    assert_eq!(key(&mut app, KeyCode::Enter), []);
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("no longer waiting"))
    );
    key(&mut app, KeyCode::Down);
    assert_eq!(panel(&app).request, Some(PermissionId::from("perm_2")));
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        [Effect::Answer(
            PermissionId::from("perm_2"),
            PermissionAnswer::AllowOnce
        )]
    );

    // A reason typed for a request answered meanwhile is not sent.
    feed.permission(&mut app, "ses_a", "perm_3", "bash", "make", "make");
    ctrl(&mut app, 'p');
    key(&mut app, KeyCode::Char('r'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "no");
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::PermissionResolved {
            request_id: PermissionId::from("perm_3"),
            decision: PermissionDecision::AllowOnce,
        },
    );
    assert_eq!(key(&mut app, KeyCode::Enter), []);
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("the reason was not sent"))
    );
}

#[test]
fn an_open_panel_with_nothing_to_answer_shows_the_next_request() {
    let mut app = tree_app();
    ctrl(&mut app, 'p');
    assert_eq!(panel(&app).request, None);
    assert_eq!(key(&mut app, KeyCode::Enter), []);
    Feed::new().permission(&mut app, "ses_b", "perm_9", "bash", "ls", "ls");
    assert_eq!(panel(&app).request, Some(PermissionId::from("perm_9")));
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
fn a_model_or_agent_change_from_anywhere_shows_on_the_tab() {
    let mut app = tree_app();
    let mut feed = Feed::new();
    feed.apply(
        &mut app,
        "ses_a",
        EventKind::SessionUpdated {
            agent: "plan".into(),
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
    assert_eq!(tab.view.agent, "plan");
}
