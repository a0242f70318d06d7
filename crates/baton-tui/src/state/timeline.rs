//! The timeline's rows: every session, task and shell of the tree on
//! screen, in tree order, each with when it ran and how it stands.

use super::App;
use baton_protocol::api::ShellState;
use baton_protocol::{SessionId, SessionStatus, Timestamp};

/// How a row's bar looks: what it is and how it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bar {
    /// A session, or the task its sub-agent runs.
    Session(SessionStatus),
    /// A background shell.
    Shell {
        /// Running, exited or killed.
        state: ShellState,
        /// Its exit code, once it exited.
        exit_code: Option<i32>,
    },
}

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// How deep in the tree (0: the root session).
    pub depth: usize,
    /// What it is called: an agent and its title or task, or a command.
    pub label: String,
    /// How its bar looks.
    pub bar: Bar,
    /// When it started.
    pub start: Timestamp,
    /// When it ended; `None` while it goes on.
    pub end: Option<Timestamp>,
    /// The session whose tab it belongs to.
    pub session: SessionId,
}

/// One thing under a session, before it becomes rows.
enum Child {
    Task(usize),
    Shell(usize),
    Session(SessionId),
}

impl App {
    /// The timeline's rows: the root session, then under each session its
    /// tasks (each followed by what its sub-agent started), shells and
    /// other sub-sessions, in the order they started.
    pub fn timeline_rows(&self) -> Vec<TimelineRow> {
        let mut rows = Vec::new();
        if let Some(root) = self.root.clone()
            && let Some(tab) = self.tabs.get(&root)
        {
            rows.push(TimelineRow {
                depth: 0,
                label: format!("{} {}", tab.view.agent, tab.title()),
                bar: Bar::Session(tab.view.status),
                start: tab.view.created_at,
                end: (!tab.busy()).then_some(tab.view.updated_at.max(tab.view.created_at)),
                session: root.clone(),
            });
            let mut seen = vec![root.clone()];
            self.timeline_under(&root, 1, &mut rows, &mut seen);
        }
        rows
    }

    /// Rows for what runs under `session`, at `depth`. `seen` holds the
    /// sessions already shown, so a malformed tree cannot loop.
    fn timeline_under(
        &self,
        session: &SessionId,
        depth: usize,
        rows: &mut Vec<TimelineRow>,
        seen: &mut Vec<SessionId>,
    ) {
        let mut children: Vec<(Timestamp, Child)> = Vec::new();
        for (i, task) in self.tasks.iter().enumerate() {
            if task.parent == *session {
                children.push((task.started, Child::Task(i)));
            }
        }
        for (i, shell) in self.shells.iter().enumerate() {
            if shell.session == *session {
                children.push((shell.started, Child::Shell(i)));
            }
        }
        for id in &self.order {
            let Some(tab) = self.tabs.get(id) else {
                continue;
            };
            let by_task = self.tasks.iter().any(|t| t.child == *id);
            if tab.view.parent_id.as_ref() == Some(session) && !by_task {
                children.push((tab.view.created_at, Child::Session(id.clone())));
            }
        }
        // Stable: what started together keeps its order.
        children.sort_by_key(|(start, _)| *start);
        for (_, child) in children {
            match child {
                Child::Task(i) => {
                    let task = &self.tasks[i];
                    // A running task shows what its sub-agent does now.
                    let status = self
                        .tabs
                        .get(&task.child)
                        .map(|t| t.view.status)
                        .filter(|_| task.running())
                        .unwrap_or(task.status);
                    rows.push(TimelineRow {
                        depth,
                        label: format!("{} {}", task.agent, task.description),
                        bar: Bar::Session(status),
                        start: task.started,
                        end: if task.running() { None } else { task.ended },
                        session: task.child.clone(),
                    });
                    if !seen.contains(&task.child) {
                        seen.push(task.child.clone());
                        self.timeline_under(&task.child, depth + 1, rows, seen);
                    }
                }
                Child::Shell(i) => {
                    let shell = &self.shells[i];
                    rows.push(TimelineRow {
                        depth,
                        label: format!("$ {}", shell.command.lines().next().unwrap_or_default()),
                        bar: Bar::Shell {
                            state: shell.state,
                            exit_code: shell.exit_code,
                        },
                        start: shell.started,
                        end: if shell.running() { None } else { shell.ended },
                        session: shell.session.clone(),
                    });
                }
                Child::Session(id) => {
                    let Some(tab) = self.tabs.get(&id) else {
                        continue;
                    };
                    rows.push(TimelineRow {
                        depth,
                        label: format!("{} {}", tab.view.agent, tab.title()),
                        bar: Bar::Session(tab.view.status),
                        start: tab.view.created_at,
                        end: (!tab.busy()).then_some(tab.view.updated_at.max(tab.view.created_at)),
                        session: id.clone(),
                    });
                    if !seen.contains(&id) {
                        seen.push(id.clone());
                        self.timeline_under(&id, depth + 1, rows, seen);
                    }
                }
            }
        }
    }
}
