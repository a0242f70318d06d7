//! The `/` commands.

use super::{App, Level, List, Overlay, Picker};
use crate::effect::Effect;
use std::time::Instant;

/// Every command, as typed.
pub const COMMANDS: &[&str] = &[
    "/new",
    "/sessions",
    "/agents",
    "/model",
    "/tasks",
    "/shells",
    "/timeline",
    "/compact",
    "/cancel",
    "/copy",
    "/help",
    "/quit",
];

/// One line of help per command.
pub const COMMAND_HELP: &[(&str, &str)] = &[
    ("/new [agent]", "start a new session (with another agent)"),
    ("/sessions", "switch to a tab or resume an older session"),
    (
        "/agents",
        "list agents; pick one to start a session with it",
    ),
    (
        "/model [provider/model]",
        "switch the focused session's model",
    ),
    ("/tasks", "the tasks panel"),
    ("/shells", "the background shells panel"),
    (
        "/timeline",
        "every session, task and shell of the tree over time",
    ),
    (
        "/compact",
        "summarize the focused session's older conversation to free context",
    ),
    (
        "/cancel",
        "cancel the focused session's turn, tasks and shells",
    ),
    (
        "/copy",
        "copy the selected entry, else the last answer, to the clipboard",
    ),
    ("/help", "all keys and commands"),
    ("/quit", "leave baton"),
];

/// A command's line of help: how it is typed (with its arguments) and
/// what it does. `name` is the command as typed, without arguments.
pub fn command_help(name: &str) -> Option<(&'static str, &'static str)> {
    COMMAND_HELP
        .iter()
        .find(|(usage, _)| usage.split_whitespace().next() == Some(name))
        .copied()
}

impl App {
    /// Runs a `/` command line.
    pub(super) fn command(&mut self, line: &str, now: Instant) -> Vec<Effect> {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default();
        let arg = words.collect::<Vec<_>>().join(" ");
        let arg = (!arg.is_empty()).then_some(arg);
        let known: Vec<&str> = COMMANDS
            .iter()
            .copied()
            .filter(|c| c.starts_with(name))
            .collect();
        let name = match known.as_slice() {
            [one] => *one,
            _ if COMMANDS.contains(&name) => name,
            [] => {
                self.toast(
                    Level::Error,
                    format!("unknown command {name}: /help lists them"),
                    now,
                );
                return Vec::new();
            }
            many => {
                self.toast(
                    Level::Error,
                    format!("{name} could be {}", many.join(", ")),
                    now,
                );
                return Vec::new();
            }
        };
        match name {
            "/new" => {
                self.start_new(arg);
                self.toast(Level::Info, "new session: type its first message", now);
                Vec::new()
            }
            "/sessions" => self.open_picker(),
            "/agents" => {
                self.overlay = Overlay::Agents(List::default());
                vec![Effect::ListAgents]
            }
            "/model" => match (arg, self.focused_id().cloned()) {
                (Some(model), Some(id)) => vec![Effect::SetModel(id, model)],
                (Some(model), None) => {
                    self.setup.model = Some(model.clone());
                    self.toast(Level::Info, format!("new sessions use {model}"), now);
                    Vec::new()
                }
                (None, _) => {
                    self.overlay = Overlay::Models(List::default());
                    vec![Effect::ListModels]
                }
            },
            "/tasks" => {
                self.overlay = Overlay::Tasks(Default::default());
                Vec::new()
            }
            "/shells" => {
                self.overlay = Overlay::Shells(Default::default());
                Vec::new()
            }
            "/timeline" => {
                self.overlay = Overlay::Timeline(Default::default());
                Vec::new()
            }
            "/compact" => match self.focused_id().cloned() {
                Some(id) => {
                    self.toast(Level::Info, "compacting the conversation", now);
                    vec![Effect::Compact(id)]
                }
                None => Vec::new(),
            },
            "/cancel" => match self.focused_id().cloned() {
                Some(id) => {
                    self.toast(
                        Level::Info,
                        "cancelling the turn, tasks and shells of this session",
                        now,
                    );
                    vec![Effect::Cancel(id)]
                }
                None => Vec::new(),
            },
            "/copy" => {
                match self.focused().and_then(|tab| tab.copy_text()) {
                    Some(text) => self.clipboard = Some(text),
                    None => self.toast(Level::Info, "nothing to copy yet", now),
                }
                Vec::new()
            }
            "/help" => {
                self.overlay = Overlay::Help;
                Vec::new()
            }
            _ => {
                self.request_quit();
                Vec::new()
            }
        }
    }

    /// Leaves the tree on screen for a new session, created with the first
    /// message.
    pub(super) fn start_new(&mut self, agent: Option<String>) {
        if agent.is_some() {
            self.setup.agent = agent;
        }
        self.root = None;
        self.order.clear();
        self.tabs.clear();
        self.tasks.clear();
        self.shells.clear();
        self.permissions.clear();
        self.focus = 0;
        self.dirty = true;
    }

    /// Opens the session picker (its older sessions load meanwhile).
    pub(super) fn open_picker(&mut self) -> Vec<Effect> {
        self.overlay = Overlay::Picker(Picker {
            older: None,
            selection: Default::default(),
        });
        vec![Effect::ListSessions]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_line_of_help() {
        for name in COMMANDS {
            let (usage, text) = command_help(name).unwrap_or_default();
            assert!(usage.starts_with(name), "{name}");
            assert!(!text.is_empty(), "{name}");
        }
        assert_eq!(
            command_help("/model").map(|(usage, _)| usage),
            Some("/model [provider/model]")
        );
        assert_eq!(command_help("/mode"), None);
    }
}
