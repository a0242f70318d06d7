//! Panels and dialogs drawn over the conversation. While one is open it
//! takes the keys; Esc closes it.

use baton_protocol::api::{AgentView, ModelView, SessionView};
use baton_protocol::{SessionId, TaskId};

/// What is open over the conversation.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// Every pending permission request.
    Permissions(Selection),
    /// Sessions to switch to: this tree's tabs and older sessions.
    Picker(Picker),
    /// Agents to start a new session with.
    Agents(List<AgentView>),
    /// Models for the focused session.
    Models(List<ModelView>),
    /// Asks before something that cannot be undone.
    Confirm(Confirm),
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
