//! Builds UI states from sessions and events, the way the runner would,
//! and draws them on ratatui's test backend.

#![allow(dead_code)]

use baton_protocol::api::{SessionView, TaskView};
use baton_protocol::{
    CallId, Event, EventKind, MessageId, PermissionId, Role, SessionId, SessionStatus, Timestamp,
    Usage,
};
use baton_tui::effect::{Outcome, Tree};
use baton_tui::state::{App, Setup};
use baton_tui::view::{self, Cache};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

/// A fixed clock, so elapsed times print the same every run.
pub fn t(seconds: i64) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::seconds(seconds)
}

pub fn session(
    id: &str,
    parent: Option<&str>,
    agent: &str,
    title: &str,
    status: SessionStatus,
) -> SessionView {
    SessionView {
        id: SessionId::from(id),
        parent_id: parent.map(SessionId::from),
        agent: agent.into(),
        model: "mock/mock-1".into(),
        provider: "mock".into(),
        title: title.into(),
        cwd: "/work/project".into(),
        status,
        created_at: t(0),
        updated_at: t(0),
        usage: Usage::default(),
        total_usage: Usage::default(),
        tool_calls: 0,
        total_tool_calls: 0,
    }
}

pub fn task(
    id: &str,
    parent: &str,
    child: &str,
    agent: &str,
    description: &str,
    status: SessionStatus,
    started: i64,
) -> TaskView {
    TaskView {
        task_id: id.into(),
        parent_session_id: SessionId::from(parent),
        child_session_id: SessionId::from(child),
        description: description.into(),
        status,
        agent: agent.into(),
        model: "mock/mock-1".into(),
        provider: "mock".into(),
        isolation: "shared".into(),
        branch: None,
        claims: Vec::new(),
        elapsed_s: 12.0,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        tool_calls: 0,
        doing: String::new(),
        waited_on: false,
        result: None,
        name: None,
        after: Vec::new(),
        budget: None,
        created_at: t(started),
    }
}

/// An app showing a loaded tree.
pub fn app_with(root: SessionView, descendants: Vec<SessionView>, tasks: Vec<TaskView>) -> App {
    let mut app = App::new(Setup {
        cwd: "/work/project".into(),
        ..Setup::default()
    });
    let now = Instant::now();
    app.on_outcome(
        Outcome::Tree(Tree {
            root: root.clone(),
            descendants,
            tasks,
            shells: Vec::new(),
            permissions: Vec::new(),
            as_of: None,
        }),
        now,
    );
    app.on_outcome(Outcome::History(root.id.clone(), Vec::new()), now);
    app
}

pub struct Feed {
    seq: u64,
}

impl Feed {
    pub fn new() -> Self {
        Self { seq: 0 }
    }

    pub fn event(&mut self, session: &str, kind: EventKind) -> Event {
        self.seq += 1;
        Event {
            seq: self.seq,
            ts: t(self.seq as i64),
            session_id: SessionId::from(session),
            kind,
        }
    }

    pub fn apply(&mut self, app: &mut App, session: &str, kind: EventKind) {
        let event = self.event(session, kind);
        app.on_event(&event, Instant::now());
    }

    pub fn user(&mut self, app: &mut App, session: &str, text: &str) {
        let id = format!("msg_u{}", self.seq + 1);
        self.apply(
            app,
            session,
            EventKind::MessageQueued {
                message_id: MessageId::from(id.as_str()),
                text: text.into(),
            },
        );
        self.apply(
            app,
            session,
            EventKind::MessageCompleted {
                message_id: MessageId::from(id.as_str()),
                role: Role::User,
                text: text.into(),
            },
        );
    }

    pub fn assistant(&mut self, app: &mut App, session: &str, text: &str) {
        self.apply(app, session, EventKind::TextDelta { delta: text.into() });
        let id = format!("msg_a{}", self.seq);
        self.apply(
            app,
            session,
            EventKind::MessageCompleted {
                message_id: MessageId::from(id.as_str()),
                role: Role::Assistant,
                text: text.into(),
            },
        );
    }

    pub fn tool(
        &mut self,
        app: &mut App,
        session: &str,
        call: &str,
        name: &str,
        args: serde_json::Value,
        output: Option<&str>,
    ) {
        self.apply(
            app,
            session,
            EventKind::ToolStarted {
                call_id: CallId::from(call),
                name: name.into(),
                arguments: args.to_string(),
            },
        );
        if let Some(output) = output {
            self.apply(
                app,
                session,
                EventKind::ToolCompleted {
                    call_id: CallId::from(call),
                    name: name.into(),
                    is_error: false,
                    output: output.into(),
                },
            );
        }
    }

    pub fn permission(
        &mut self,
        app: &mut App,
        session: &str,
        id: &str,
        tool: &str,
        detail: &str,
        pattern: &str,
    ) {
        self.apply(
            app,
            session,
            EventKind::PermissionRequested {
                request_id: PermissionId::from(id),
                agent: "general".into(),
                tool: tool.into(),
                call_id: CallId::from("call_p"),
                detail: detail.into(),
                pattern: pattern.into(),
            },
        );
        self.apply(
            app,
            session,
            EventKind::SessionStatus {
                status: SessionStatus::AwaitingPermission,
            },
        );
    }
}

/// Draws the app on a `w` x `h` test terminal and returns the screen.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut cache = Cache::default();
    terminal
        .draw(|frame| view::draw(frame, app, &mut cache, t(30)))
        .unwrap();
    format!("{}", terminal.backend())
}

/// A background shell of `session`, started `started` seconds into the
/// fixed clock; an `exit` code (or `None` for still running) and when it
/// ended.
pub fn shell(
    id: &str,
    session: &str,
    command: &str,
    started: i64,
    ended: Option<(i64, i32)>,
) -> baton_protocol::api::ShellView {
    use baton_protocol::api::{ShellState, ShellView};
    ShellView {
        shell_id: baton_protocol::ShellId::from(id),
        session_id: SessionId::from(session),
        command: command.into(),
        description: None,
        status: if ended.is_some() {
            ShellState::Exited
        } else {
            ShellState::Running
        },
        exit_code: ended.map(|(_, code)| code),
        started_at: t(started),
        ended_at: ended.map(|(at, _)| t(at)),
        output: None,
        dropped_bytes: None,
    }
}

/// An app showing a loaded tree with shells.
pub fn app_with_shells(
    root: SessionView,
    descendants: Vec<SessionView>,
    tasks: Vec<TaskView>,
    shells: Vec<baton_protocol::api::ShellView>,
) -> App {
    let mut app = App::new(Setup {
        cwd: "/work/project".into(),
        ..Setup::default()
    });
    let now = Instant::now();
    app.on_outcome(
        Outcome::Tree(Tree {
            root: root.clone(),
            descendants,
            tasks,
            shells,
            permissions: Vec::new(),
            as_of: None,
        }),
        now,
    );
    app.on_outcome(Outcome::History(root.id.clone(), Vec::new()), now);
    app
}
