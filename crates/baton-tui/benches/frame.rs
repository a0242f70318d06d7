//! Frame time of the terminal UI: how long drawing one frame takes for a
//! tree of 100 sessions and for a 10,000-message conversation (the goal is
//! under 5 ms a frame), and the in-process part of a keypress: from the
//! key to a frame that shows the character.
//!
//! Run with `cargo bench -p baton-tui --bench frame`. It prints figures;
//! it asserts nothing. The end-to-end keypress latency through a real
//! terminal is `cargo bench -p baton --bench tui_latency`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::api::{SessionView, TaskView};
use baton_protocol::{EventKind, MessageId, Role, SessionId, SessionStatus, Usage};
use baton_tui::effect::{Outcome, Tree};
use baton_tui::state::{App, Setup};
use baton_tui::view::{self, Cache};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

const FRAMES: usize = 300;

fn view(id: &str, parent: Option<&str>, status: SessionStatus) -> SessionView {
    let now = baton_protocol::now();
    SessionView {
        id: SessionId::from(id),
        parent_id: parent.map(SessionId::from),
        agent: "general".into(),
        model: "mock/mock-1".into(),
        provider: "mock".into(),
        title: format!("work item {id}"),
        cwd: "/p".into(),
        status,
        created_at: now,
        updated_at: now,
        usage: Usage::default(),
        total_usage: Usage::default(),
        tool_calls: 0,
        total_tool_calls: 0,
    }
}

fn task(i: usize, parent: &str) -> TaskView {
    TaskView {
        task_id: format!("task_{i}").into(),
        parent_session_id: SessionId::from(parent),
        child_session_id: SessionId::from(format!("ses_{i}").as_str()),
        description: format!("work item {i}"),
        status: SessionStatus::Running,
        agent: "general".into(),
        model: "mock/mock-1".into(),
        provider: "mock".into(),
        isolation: "shared".into(),
        branch: None,
        claims: Vec::new(),
        elapsed_s: 1.0,
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
        created_at: baton_protocol::now(),
    }
}

fn app(tree: Tree) -> App {
    let mut app = App::new(Setup::default());
    let root = tree.root.id.clone();
    app.on_outcome(Outcome::Tree(tree), Instant::now());
    app.on_outcome(Outcome::History(root, Vec::new()), Instant::now());
    app
}

const ANSWER: &str = "## Result\n\nThe parser now handles **every** case:\n\n- empty input\n- a trailing comma\n- nested lists\n\n```rust\nfn parse(s: &str) -> Vec<u32> {\n    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()\n}\n```\n\nAll tests pass.";

fn feed(app: &mut App, session: &str, messages: usize) {
    let mut seq = 0;
    for i in 0..messages {
        seq += 1;
        let (role, text) = if i % 2 == 0 {
            (
                Role::User,
                format!("question number {i}: what about the parser?"),
            )
        } else {
            (Role::Assistant, ANSWER.to_owned())
        };
        if role == Role::User {
            app.on_event(
                &event(
                    seq,
                    session,
                    EventKind::MessageQueued {
                        message_id: MessageId::from(format!("msg_{i}").as_str()),
                        text: text.clone(),
                    },
                ),
                Instant::now(),
            );
        }
        app.on_event(
            &event(
                seq,
                session,
                EventKind::MessageCompleted {
                    message_id: MessageId::from(format!("msg_{i}").as_str()),
                    role,
                    text,
                },
            ),
            Instant::now(),
        );
    }
}

fn event(seq: u64, session: &str, kind: EventKind) -> baton_protocol::Event {
    baton_protocol::Event {
        seq,
        ts: baton_protocol::now(),
        session_id: SessionId::from(session),
        kind,
    }
}

struct Figures(Vec<Duration>);

impl Figures {
    fn print(mut self, what: &str) {
        self.0.sort();
        let n = self.0.len();
        let mean = self.0.iter().sum::<Duration>() / n as u32;
        println!(
            "{what:<58} mean {:>7.3} ms  p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
            ms(mean),
            ms(self.0[n / 2]),
            ms(self.0[(n * 99 / 100).min(n - 1)]),
            ms(self.0[n - 1]),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Draws `FRAMES` frames, calling `between` before each; returns their
/// times.
fn frames(
    app: &mut App,
    size: (u16, u16),
    mut between: impl FnMut(&mut App, usize),
) -> (Duration, Figures) {
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
    let mut cache = Cache::default();
    let start = Instant::now();
    terminal
        .draw(|f| view::draw(f, app, &mut cache, baton_protocol::now()))
        .unwrap();
    let first = start.elapsed();
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        between(app, i);
        let start = Instant::now();
        terminal
            .draw(|f| view::draw(f, app, &mut cache, baton_protocol::now()))
            .unwrap();
        times.push(start.elapsed());
    }
    (first, Figures(times))
}

fn main() {
    baton_tui::render::highlight::preload();
    println!("terminal UI frame times (release build, one thread, 160x48 unless noted)\n");

    // A tree of 100 sessions: the root and 99 sub-agents, all running.
    let descendants = (1..100)
        .map(|i| {
            view(
                &format!("ses_{i}"),
                Some("ses_root"),
                SessionStatus::Running,
            )
        })
        .collect();
    let tasks = (1..100).map(|i| task(i, "ses_root")).collect();
    let mut tree_app = app(Tree {
        root: view("ses_root", None, SessionStatus::Running),
        descendants,
        tasks,
        shells: Vec::new(),
        permissions: Vec::new(),
        as_of: None,
    });
    feed(&mut tree_app, "ses_root", 40);
    let (first, steady) = frames(&mut tree_app, (160, 48), |app, _| app.tick(Instant::now()));
    println!("100 sessions: first frame {:.3} ms", ms(first));
    steady.print("100 sessions, spinners moving");
    tree_app.on_key(
        KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL),
        Instant::now(),
    );
    let (_, panel) = frames(&mut tree_app, (160, 48), |app, _| app.tick(Instant::now()));
    panel.print("100 sessions, tasks panel open");

    // A conversation of 10,000 messages.
    let mut long = app(Tree {
        root: view("ses_root", None, SessionStatus::Running),
        descendants: Vec::new(),
        tasks: Vec::new(),
        shells: Vec::new(),
        permissions: Vec::new(),
        as_of: None,
    });
    feed(&mut long, "ses_root", 10_000);
    let (first, steady) = frames(&mut long, (160, 48), |app, _| app.tick(Instant::now()));
    println!("\n10,000 messages: first frame {:.3} ms", ms(first));
    steady.print("10,000 messages, at the bottom");
    let (_, streaming) = frames(&mut long, (160, 48), |app, i| {
        app.on_event(
            &event(
                20_000 + i as u64,
                "ses_root",
                EventKind::TextDelta {
                    delta: format!("word{i} "),
                },
            ),
            Instant::now(),
        );
    });
    streaming.print("10,000 messages, streaming a reply (a delta a frame)");
    let (_, scrolling) = frames(&mut long, (160, 48), |app, _| {
        app.on_key(
            KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE),
            Instant::now(),
        );
    });
    scrolling.print("10,000 messages, PgUp every frame (new entries laid out)");

    // A keypress: the key handled and a frame drawn that shows it.
    let mut typing = app(Tree {
        root: view("ses_root", None, SessionStatus::Idle),
        descendants: Vec::new(),
        tasks: Vec::new(),
        shells: Vec::new(),
        permissions: Vec::new(),
        as_of: None,
    });
    feed(&mut typing, "ses_root", 200);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut cache = Cache::default();
    let mut keys = Vec::new();
    for i in 0..FRAMES {
        let c = (b'a' + (i % 26) as u8) as char;
        let start = Instant::now();
        typing.on_key(
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            Instant::now(),
        );
        terminal
            .draw(|f| view::draw(f, &mut typing, &mut cache, baton_protocol::now()))
            .unwrap();
        keys.push(start.elapsed());
        if i % 60 == 59 {
            typing.editor.clear();
        }
    }
    println!();
    Figures(keys).print("keypress to frame (in process, 80x24)");
}
