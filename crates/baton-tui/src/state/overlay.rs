//! Panels and dialogs drawn over the conversation. While one is open it
//! takes the keys; Esc closes it.

use super::Editor;
use baton_protocol::api::{AgentView, ModelView, SessionView};
use baton_protocol::{PermissionId, SessionId, TaskId};

/// What is open over the conversation.
#[derive(Debug, Clone, Default)]
pub enum Overlay {
    /// Nothing.
    #[default]
    None,
    /// All keys and commands.
    Help,
    /// The tasks panel.
    Tasks(Selection),
    /// The shells panel.
    Shells(Selection),
    /// Every pending permission request, one of them being answered.
    Permissions(PermissionPanel),
    /// Sessions to switch to: this tree's tabs and older sessions.
    Picker(Picker),
    /// Agents to start a new session with.
    Agents(List<AgentView>),
    /// Models for the focused session.
    Models(List<ModelView>),
    /// Asks before something that cannot be undone.
    Confirm(Confirm),
    /// Every session, task and shell of the tree as bars over time.
    Timeline(Selection),
}

/// A selected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Selection {
    /// Index of the highlighted row.
    pub selected: usize,
}

impl Selection {
    /// Moves the highlight, staying within `len` rows.
    pub fn step(&mut self, down: bool, len: usize) {
        if len == 0 {
            self.selected = 0;
        } else if down {
            self.selected = (self.selected + 1).min(len - 1);
        } else {
            self.selected = self.selected.saturating_sub(1);
        }
    }
}

/// A list of things to choose from.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T> {
    /// The things; `None` while they load.
    pub items: Option<Vec<T>>,
    /// The highlighted one.
    pub selection: Selection,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self {
            items: None,
            selection: Selection::default(),
        }
    }
}

/// The session picker.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picker {
    /// Older top-level sessions of this directory; `None` while loading.
    pub older: Option<Vec<SessionView>>,
    /// The highlighted row (tabs first, then older sessions).
    pub selection: Selection,
}

/// What a confirmation is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Cancel a task that has sub-tasks of its own.
    CancelTask {
        /// The task.
        task: TaskId,
        /// How many tasks run under it.
        children: usize,
    },
    /// Quit while work runs.
    Quit {
        /// Running tasks.
        tasks: usize,
        /// Running shells.
        shells: usize,
        /// Sessions taking a turn.
        busy: usize,
    },
    /// Cancel everything a session runs (`/cancel`).
    CancelSession(SessionId),
}

/// The permission panel (Ctrl+P): the tree's pending requests, the one
/// being answered and the answer chosen for it. Nothing is answered until
/// Enter.
#[derive(Debug, Clone, Default)]
pub struct PermissionPanel {
    /// The highlighted request, by id, so that requests coming and going
    /// never move the highlight onto another one. `None` while nothing
    /// waits; an id no longer pending was answered elsewhere.
    pub request: Option<PermissionId>,
    /// The highlighted answer.
    pub choice: Choice,
    /// The reason being typed, once "deny, and tell the agent why" was
    /// chosen.
    pub reason: Option<Box<Reason>>,
}

/// A denial's reason being typed.
#[derive(Debug, Clone)]
pub struct Reason {
    /// The request it answers.
    pub request: PermissionId,
    /// What is typed.
    pub editor: Editor,
}

/// The answers the permission panel offers, in the order it shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// Run this call.
    #[default]
    AllowOnce,
    /// Run it, and allow what the request's pattern covers in the tree.
    AllowAlways,
    /// Do not run it.
    Deny,
    /// Do not run it, and type why for the agent to read.
    DenyWithReason,
}

impl Choice {
    /// Every choice, in order.
    pub const ALL: [Choice; 4] = [
        Choice::AllowOnce,
        Choice::AllowAlways,
        Choice::Deny,
        Choice::DenyWithReason,
    ];

    /// The key that highlights it.
    pub fn key(self) -> char {
        match self {
            Choice::AllowOnce => 'y',
            Choice::AllowAlways => 'a',
            Choice::Deny => 'n',
            Choice::DenyWithReason => 'r',
        }
    }

    /// What the panel calls it.
    pub fn label(self) -> &'static str {
        match self {
            Choice::AllowOnce => "allow once",
            Choice::AllowAlways => "allow always",
            Choice::Deny => "deny",
            Choice::DenyWithReason => "deny, and tell the agent why…",
        }
    }

    /// The next (or previous) choice, staying within the row.
    pub fn step(self, forward: bool) -> Choice {
        let i = Choice::ALL.iter().position(|c| *c == self).unwrap_or(0);
        let next = if forward {
            (i + 1).min(Choice::ALL.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        Choice::ALL[next]
    }

    /// The choice a key highlights.
    pub fn of_key(key: char) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.key() == key)
    }
}
