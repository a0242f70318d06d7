//! Everything the screen shows, as plain data, kept current from the
//! engine's events and changed by keys. No terminal and no client in
//! here: keys return [`Effect`]s for the runner to carry out.

mod commands;
mod conversation;
mod input;
mod keys;
mod loads;
mod overlay;
mod paste;
mod timeline;
mod toasts;
mod work;

pub use commands::{COMMAND_HELP, COMMANDS, command_help};
pub use conversation::{Conversation, Entry, EntryKind, ToolEntry};
pub use input::{Completion, Editor};
pub use loads::TreeLoads;
pub use overlay::{Choice, Confirm, List, Overlay, PermissionPanel, Picker, Reason, Selection};
pub use timeline::{Bar, TimelineRow};
pub use toasts::{Level, Toast, Toasts, VISIBLE};
pub use work::{Activity, ShellRow, TaskRow, is_running};

use crate::effect::{Effect, Outcome, Tree};
use baton_protocol::api::{SessionView, ShellState};
use baton_protocol::{
    Event, EventKind, PermissionRequest, SessionId, SessionStatus, TaskId, Usage,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// One session of the tree, as its tab and conversation show it.
#[derive(Debug, Clone)]
pub struct Tab {
    /// The session as the engine described it (status and usage are kept
    /// current from events).
    pub view: SessionView,
    /// Its conversation.
    pub conversation: Conversation,
    /// The task it runs, for a sub-agent session.
    pub task: Option<TaskId>,
    /// Lines scrolled up from the bottom (0: follows the end).
    pub scroll: usize,
    /// Whether its stored conversation was loaded (or it was born while
    /// the UI watched, so there is none to load).
    pub loaded: bool,
    /// Something happened in it since it was last focused.
    pub unseen: bool,
    /// Show every tool call in full.
    pub expand_tools: bool,
    /// The entry selected (Ctrl+↑/↓ or a click): Ctrl+E and a click
    /// expand it alone.
    pub selected: Option<usize>,
    /// Scroll so the selected entry shows, at the next frame.
    pub reveal: bool,
}

impl Tab {
    fn new(view: SessionView, loaded: bool) -> Self {
        Self {
            view,
            conversation: Conversation::default(),
            task: None,
            scroll: 0,
            loaded,
            unseen: false,
            expand_tools: false,
            selected: None,
            reveal: false,
        }
    }

    /// Whether the session is taking a turn or waiting to.
    pub fn busy(&self) -> bool {
        matches!(
            self.view.status,
            SessionStatus::Running
                | SessionStatus::Queued
                | SessionStatus::Waiting
                | SessionStatus::AwaitingPermission
        )
    }

    /// What `/copy` copies: the selected entry's text, else the last
    /// answer.
    pub fn copy_text(&self) -> Option<String> {
        let entries = self.conversation.entries();
        let entry = match self.selected {
            Some(index) => entries.get(index)?,
            None => entries
                .iter()
                .rev()
                .find(|e| matches!(e.kind, EntryKind::Assistant { .. }))?,
        };
        let text = match &entry.kind {
            EntryKind::User { text, .. }
            | EntryKind::Assistant { text, .. }
            | EntryKind::Reasoning { text, .. }
            | EntryKind::Notice { text, .. }
            | EntryKind::Error(text)
            | EntryKind::Info(text) => text.clone(),
            EntryKind::Tool(tool) => tool.output.clone().unwrap_or_else(|| tool.live.clone()),
        };
        (!text.trim().is_empty()).then_some(text)
    }

    /// A short title: the session's, else "new session".
    pub fn title(&self) -> &str {
        if self.view.title.trim().is_empty() {
            "new session"
        } else {
            &self.view.title
        }
    }
}

/// How the UI was started.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The working directory of new sessions (and of `@` completion).
    pub cwd: PathBuf,
    /// Whether the engine runs in another process (quitting leaves its
    /// work running).
    pub remote: bool,
    /// Agent for new sessions.
    pub agent: Option<String>,
    /// Model for new sessions.
    pub model: Option<String>,
}

/// The whole UI state.
pub struct App {
    /// How it was started.
    pub setup: Setup,
    /// The top session of the tree on screen, once there is one.
    pub root: Option<SessionId>,
    /// Tabs in order: the root, then sub-agents as they appeared.
    pub order: Vec<SessionId>,
    /// The sessions of the tree.
    pub tabs: HashMap<SessionId, Tab>,
    /// Index into `order` of the focused tab.
    pub focus: usize,
    /// Tasks of the tree, in the order they started.
    pub tasks: Vec<TaskRow>,
    /// Shells of the tree, in the order they started.
    pub shells: Vec<ShellRow>,
    /// Unanswered permission requests of the tree, oldest first.
    pub permissions: Vec<PermissionRequest>,
    /// Notifications.
    pub toasts: Toasts,
    /// The message editor.
    pub editor: Editor,
    /// What is open over the conversation.
    pub overlay: Overlay,
    /// Animation frame of the spinners.
    pub frame: u64,
    /// When Esc last interrupted (a second one within a second cancels
    /// the session's tasks too).
    pub last_esc: Option<Instant>,
    /// When Ctrl+C was last pressed (twice quits).
    pub last_ctrl_c: Option<Instant>,
    /// Set when the UI should end.
    pub quit: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// A session is being created (messages wait for it).
    pub creating: bool,
    /// Rows the conversation had at the last frame (PgUp/PgDn scroll half).
    pub viewport_height: usize,
    /// Where the last frame put what a click can hit.
    pub hits: Hits,
    /// Whether the UI takes the mouse (clicks, the wheel); off, the
    /// terminal's own selection and copy work (F2 switches).
    pub mouse_capture: bool,
    /// Text to put on the clipboard (`/copy`), for the runner.
    pub clipboard: Option<String>,
    /// Tree loads not back yet, with the events that came meanwhile.
    pub loads: TreeLoads,
}

/// What the last frame drew where, for clicks.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    /// The tab bar's row.
    pub tab_row: u16,
    /// Each visible tab's columns (`start..=end`) and index.
    pub tabs: Vec<(u16, u16, usize)>,
    /// Each conversation row showing an entry, with the entry's index.
    pub entries: Vec<(u16, usize)>,
}

impl App {
    /// A UI with no session yet.
    pub fn new(setup: Setup) -> Self {
        Self {
            setup,
            root: None,
            order: Vec::new(),
            tabs: HashMap::new(),
            focus: 0,
            tasks: Vec::new(),
            shells: Vec::new(),
            permissions: Vec::new(),
            toasts: Toasts::default(),
            editor: Editor::default(),
            overlay: Overlay::None,
            frame: 0,
            last_esc: None,
            last_ctrl_c: None,
            quit: false,
            dirty: true,
            creating: false,
            viewport_height: 20,
            hits: Hits::default(),
            mouse_capture: true,
            clipboard: None,
            loads: TreeLoads::default(),
        }
    }

    /// The focused session.
    pub fn focused_id(&self) -> Option<&SessionId> {
        self.order.get(self.focus)
    }

    /// The focused tab.
    pub fn focused(&self) -> Option<&Tab> {
        self.focused_id().and_then(|id| self.tabs.get(id))
    }

    /// The focused tab, to change it.
    pub fn focused_mut(&mut self) -> Option<&mut Tab> {
        let id = self.order.get(self.focus)?.clone();
        self.tabs.get_mut(&id)
    }

    /// Focuses the tab at `index`; returns the history to load, if its
    /// conversation was not loaded yet.
    pub fn focus_tab(&mut self, index: usize) -> Vec<Effect> {
        if index >= self.order.len() {
            return Vec::new();
        }
        self.focus = index;
        self.dirty = true;
        let id = self.order[index].clone();
        match self.tabs.get_mut(&id) {
            Some(tab) => {
                tab.unseen = false;
                if tab.loaded {
                    Vec::new()
                } else {
                    tab.loaded = true;
                    vec![Effect::LoadHistory(id)]
                }
            }
            None => Vec::new(),
        }
    }

    /// Focuses a session's tab.
    pub fn focus_session(&mut self, id: &SessionId) -> Vec<Effect> {
        match self.order.iter().position(|s| s == id) {
            Some(index) => self.focus_tab(index),
            None => Vec::new(),
        }
    }

    /// Running tasks of the tree.
    pub fn running_tasks(&self) -> usize {
        self.tasks.iter().filter(|t| t.running()).count()
    }

    /// Running shells of the tree.
    pub fn running_shells(&self) -> usize {
        self.shells.iter().filter(|s| s.running()).count()
    }

    /// Sessions of the tree taking a turn.
    pub fn busy_sessions(&self) -> usize {
        self.tabs.values().filter(|t| t.busy()).count()
    }

    /// Tokens and cost of the whole tree.
    pub fn totals(&self) -> Usage {
        let mut total = Usage::default();
        for tab in self.tabs.values() {
            total += tab.view.usage;
        }
        total
    }

    /// Tokens and cost of a session and everything under it.
    pub fn subtree_usage(&self, id: &SessionId) -> Usage {
        let mut total = Usage::default();
        let mut stack = vec![id.clone()];
        while let Some(next) = stack.pop() {
            if let Some(tab) = self.tabs.get(&next) {
                total += tab.view.usage;
            }
            stack.extend(
                self.tabs
                    .values()
                    .filter(|t| t.view.parent_id.as_ref() == Some(&next))
                    .map(|t| t.view.id.clone()),
            );
        }
        total
    }

    /// Pending permission requests of a session.
    pub fn permissions_of(&self, id: &SessionId) -> impl Iterator<Item = &PermissionRequest> {
        self.permissions.iter().filter(move |p| p.session_id == *id)
    }

    /// Tasks running under a task (its sub-agent's own tasks, and theirs).
    pub fn tasks_under(&self, task: &TaskId) -> usize {
        let Some(row) = self.tasks.iter().find(|t| t.task_id == *task) else {
            return 0;
        };
        let mut count = 0;
        let mut stack = vec![row.child.clone()];
        while let Some(session) = stack.pop() {
            for t in self.tasks.iter().filter(|t| t.parent == session) {
                if t.running() {
                    count += 1;
                }
                stack.push(t.child.clone());
            }
        }
        count
    }

    /// What a task's sub-agent is doing now, in a few words.
    pub fn activity(&self, session: &SessionId) -> String {
        let Some(tab) = self.tabs.get(session) else {
            return String::new();
        };
        if let Some(tool) = tab.conversation.running_tools().last() {
            let what = tool
                .arg("command")
                .or_else(|| tool.arg("path"))
                .or_else(|| tool.arg("pattern"))
                .or_else(|| tool.arg("description"))
                .unwrap_or_default();
            return format!("{} {what}", tool.name).trim().to_owned();
        }
        match tab.view.status {
            SessionStatus::Running => match tab.conversation.entries().last().map(|e| &e.kind) {
                Some(EntryKind::Assistant {
                    streaming: true, ..
                }) => "writing".into(),
                _ => "thinking".into(),
            },
            SessionStatus::AwaitingPermission => "waiting for permission".into(),
            SessionStatus::Queued => "waiting for a slot".into(),
            SessionStatus::Waiting => "waiting on the tasks it comes after".into(),
            other => other.as_str().replace('_', " "),
        }
    }

    /// Whether anything animates (spinners), so frames are needed even
    /// without events.
    pub fn animating(&self) -> bool {
        self.tabs
            .values()
            .any(|t| t.view.status == SessionStatus::Running)
            || self.running_shells() > 0
    }

    /// Advances the spinners and expires toasts.
    pub fn tick(&mut self, now: Instant) {
        if self.animating() {
            self.frame = self.frame.wrapping_add(1);
            self.dirty = true;
        }
        if self.toasts.expire(now) {
            self.dirty = true;
        }
        if self
            .last_esc
            .is_some_and(|t| now.duration_since(t).as_secs() >= 1)
        {
            self.last_esc = None;
        }
    }

    /// Shows a toast.
    pub fn toast(&mut self, level: Level, text: impl Into<String>, now: Instant) {
        self.toasts.push(level, text, now);
        self.dirty = true;
    }

    fn in_tree(&self, id: &SessionId) -> bool {
        self.tabs.contains_key(id)
    }

    /// Starts showing a tree (replacing what was shown).
    /// Asks for `root`'s tree; the events that come until it does are held
    /// for it (see [`TreeLoads`]).
    pub fn load_tree(&mut self, root: SessionId) -> Effect {
        self.loads.start();
        Effect::LoadTree(root)
    }

    fn show_tree(&mut self, tree: Tree) -> Vec<Effect> {
        let later = self.loads.arrived(tree.as_of);
        let root = tree.root.id.clone();
        let keep_root = self.root.as_ref() == Some(&root);
        let mut old = std::mem::take(&mut self.tabs);
        self.order.clear();
        self.root = Some(root.clone());
        for view in std::iter::once(tree.root).chain(tree.descendants) {
            let id = view.id.clone();
            // A reload (after a resync) keeps what was already shown.
            let tab = match old.remove(&id).filter(|_| keep_root) {
                Some(mut tab) => {
                    tab.view = view;
                    tab
                }
                None => Tab::new(view, false),
            };
            self.order.push(id.clone());
            self.tabs.insert(id, tab);
        }
        self.tasks = tree.tasks.iter().map(TaskRow::from_view).collect();
        for task in &self.tasks {
            if let Some(tab) = self.tabs.get_mut(&task.child) {
                tab.task = Some(task.task_id.clone());
                if tab.view.title.is_empty() {
                    tab.view.title = task.description.clone();
                }
                // A sub-agent at rest shows how its task ended.
                if !task.running() && !tab.busy() {
                    tab.view.status = task.status;
                }
            }
        }
        self.shells = tree.shells.iter().map(ShellRow::from_view).collect();
        self.permissions = tree.permissions;
        self.refresh_task_marks();
        self.dirty = true;
        let now = Instant::now();
        for event in &later {
            self.apply_event(event, now);
        }
        if keep_root {
            let focus = self.focus.min(self.order.len().saturating_sub(1));
            // Reloaded: conversations are fetched again in full.
            for tab in self.tabs.values_mut() {
                tab.loaded = false;
            }
            self.focus_tab(focus)
        } else {
            self.focus_tab(0)
        }
    }

    /// Applies an outcome of an effect; returns follow-up effects.
    pub fn on_outcome(&mut self, outcome: Outcome, now: Instant) -> Vec<Effect> {
        self.dirty = true;
        match outcome {
            Outcome::Created(view, first) => {
                self.creating = false;
                let id = view.id.clone();
                let effects = self.show_tree(Tree {
                    root: view,
                    descendants: Vec::new(),
                    tasks: Vec::new(),
                    shells: Vec::new(),
                    permissions: Vec::new(),
                    as_of: None,
                });
                if let Some(tab) = self.tabs.get_mut(&id) {
                    tab.loaded = true;
                }
                let mut effects: Vec<Effect> = effects
                    .into_iter()
                    .filter(|e| !matches!(e, Effect::LoadHistory(_)))
                    .collect();
                if let Some(text) = first {
                    effects.push(Effect::Send(id, text));
                }
                effects
            }
            Outcome::Tree(tree) => self.show_tree(tree),
            Outcome::History(id, messages) => {
                if let Some(tab) = self.tabs.get_mut(&id) {
                    tab.conversation.load_history(&messages);
                    if tab.view.title.is_empty()
                        && let Some(first) = messages
                            .iter()
                            .find(|m| m.role == baton_protocol::Role::User)
                    {
                        tab.view.title = short_title(&first.text());
                    }
                }
                self.refresh_task_marks();
                Vec::new()
            }
            Outcome::Sessions(list) => {
                if let Overlay::Picker(picker) = &mut self.overlay {
                    picker.older = Some(
                        list.into_iter()
                            .filter(|s| Some(&s.id) != self.root.as_ref())
                            .collect(),
                    );
                }
                Vec::new()
            }
            Outcome::Agents(list) => {
                if let Overlay::Agents(agents) = &mut self.overlay {
                    agents.items = Some(list);
                }
                Vec::new()
            }
            Outcome::Models(list) => {
                let current = self.focused().map(|t| t.view.model.clone());
                if let Overlay::Models(models) = &mut self.overlay {
                    models.selection.selected = list
                        .iter()
                        .position(|m| Some(&m.id) == current.as_ref())
                        .unwrap_or(0);
                    models.items = Some(list);
                }
                Vec::new()
            }
            Outcome::Session(view) => {
                let text = format!("{} now uses {}", short_title(&view.title), view.model);
                if let Some(tab) = self.tabs.get_mut(&view.id) {
                    tab.view.model = view.model;
                    tab.view.provider = view.provider;
                }
                self.toast(Level::Info, text, now);
                Vec::new()
            }
            Outcome::Shell(view) => {
                let row = ShellRow::from_view(&view);
                match self.shells.iter_mut().find(|s| s.shell_id == row.shell_id) {
                    Some(existing) => *existing = row,
                    None => self.shells.push(row),
                }
                Vec::new()
            }
            Outcome::Done(text) => {
                if !text.is_empty() {
                    self.toast(Level::Info, text, now);
                }
                Vec::new()
            }
            Outcome::Withdrawn(id, messages) => {
                let ids: Vec<_> = messages.iter().map(|m| m.message_id.clone()).collect();
                if let Some(tab) = self.tabs.get_mut(&id) {
                    tab.conversation.drop_queued(&ids);
                }
                // Back in the editor, oldest first, before what is typed.
                let mut texts: Vec<String> = messages.into_iter().map(|m| m.text).collect();
                let typed = self.editor.text();
                if !typed.trim().is_empty() {
                    texts.push(typed);
                }
                self.editor.set_text(&texts.join("\n\n"));
                let n = ids.len();
                self.toast(
                    Level::Info,
                    format!(
                        "{n} queued {} back in the editor: Enter sends, Ctrl+C clears",
                        if n == 1 { "message is" } else { "messages are" }
                    ),
                    now,
                );
                Vec::new()
            }
            Outcome::Failed(text) => {
                self.creating = false;
                self.toast(Level::Error, text, now);
                Vec::new()
            }
            Outcome::TreeFailed(text) => {
                for event in self.loads.failed() {
                    self.apply_event(&event, now);
                }
                self.toast(Level::Error, text, now);
                Vec::new()
            }
        }
    }

    /// Applies an event from the engine. Events of sessions outside the
    /// tree on screen are ignored, except a new sub-agent of it.
    pub fn on_event(&mut self, event: &Event, now: Instant) {
        if !self.loads.hold(event) {
            self.apply_event(event, now);
        }
    }

    fn apply_event(&mut self, event: &Event, now: Instant) {
        if let EventKind::SessionCreated {
            parent_id: Some(parent),
            agent,
            model,
            cwd,
        } = &event.kind
            && self.in_tree(parent)
            && !self.in_tree(&event.session_id)
        {
            self.add_child(event, parent, agent, model, cwd);
            return;
        }
        if !self.in_tree(&event.session_id) {
            return;
        }
        self.dirty = true;
        let focused = self.focused_id() == Some(&event.session_id);
        if let Some(tab) = self.tabs.get_mut(&event.session_id) {
            tab.view.updated_at = tab.view.updated_at.max(event.ts);
            tab.conversation.apply_event(event);
            if !focused && !matches!(event.kind, EventKind::TextDelta { .. }) {
                tab.unseen = true;
            }
        }
        self.apply_to_tree(event, now);
        if matches!(
            event.kind,
            EventKind::SessionStatus { .. }
                | EventKind::TaskSpawned { .. }
                | EventKind::TaskStarted { .. }
                | EventKind::TaskCompleted { .. }
                | EventKind::ShellStarted { .. }
                | EventKind::ShellExited { .. }
                | EventKind::ToolCompleted { .. }
        ) {
            self.refresh_task_marks();
        }
    }

    /// What a session is doing, from its status, its task's and its own
    /// background work.
    pub fn activity_of(&self, id: &SessionId) -> Activity {
        let Some(tab) = self.tabs.get(id) else {
            return Activity::Idle;
        };
        let task = self.tasks.iter().find(|t| t.child == *id);
        if let Some(task) = task
            && !task.running()
        {
            return Activity::Ended(task.status);
        }
        match tab.view.status {
            SessionStatus::Running => Activity::Running,
            SessionStatus::AwaitingPermission => Activity::Asking,
            SessionStatus::Queued => Activity::Queued,
            SessionStatus::Waiting => Activity::Waiting,
            SessionStatus::Idle => {
                if task.is_some_and(|t| t.status == SessionStatus::Queued) {
                    Activity::Queued
                } else if task.is_some_and(|t| t.status == SessionStatus::Waiting) {
                    Activity::Waiting
                } else if self.shells.iter().any(|s| s.session == *id && s.running()) {
                    Activity::Shell
                } else if self.tasks.iter().any(|t| t.parent == *id && t.running()) {
                    Activity::Tasks
                } else {
                    Activity::Idle
                }
            }
            ended => Activity::Ended(ended),
        }
    }

    /// Puts what each task is doing on the `task` call that started it.
    fn refresh_task_marks(&mut self) {
        let marks: Vec<(SessionId, TaskId, Activity)> = self
            .tasks
            .iter()
            .map(|t| {
                (
                    t.parent.clone(),
                    t.task_id.clone(),
                    self.activity_of(&t.child),
                )
            })
            .collect();
        for (parent, task, activity) in marks {
            if let Some(tab) = self.tabs.get_mut(&parent) {
                tab.conversation.set_task_activity(&task, activity);
            }
        }
    }

    fn add_child(
        &mut self,
        event: &Event,
        parent: &SessionId,
        agent: &str,
        model: &str,
        cwd: &str,
    ) {
        let view = SessionView {
            id: event.session_id.clone(),
            parent_id: Some(parent.clone()),
            agent: agent.to_owned(),
            model: model.to_owned(),
            provider: provider_of(model),
            title: String::new(),
            cwd: cwd.to_owned(),
            status: SessionStatus::Idle,
            created_at: event.ts,
            updated_at: event.ts,
            usage: Usage::default(),
            total_usage: Usage::default(),
            tool_calls: 0,
            total_tool_calls: 0,
        };
        // Born while watched: every event of it is seen, nothing to load.
        let mut tab = Tab::new(view, true);
        tab.unseen = true;
        if let Some(task) = self.tasks.iter().find(|t| t.child == event.session_id) {
            tab.task = Some(task.task_id.clone());
            tab.view.title = task.description.clone();
        }
        // After its parent's other children, so the tree reads in order.
        self.order.push(event.session_id.clone());
        self.tabs.insert(event.session_id.clone(), tab);
        self.dirty = true;
    }

    fn apply_to_tree(&mut self, event: &Event, now: Instant) {
        let session = &event.session_id;
        match &event.kind {
            EventKind::SessionStatus { status } => {
                if let Some(tab) = self.tabs.get_mut(session) {
                    tab.view.status = *status;
                }
                // A sub-agent at work: its task has left the queue (or the
                // wait for what it comes after), even if `task.started` has
                // not been seen.
                if let Some(row) = self.tasks.iter_mut().find(|t| {
                    t.child == *session
                        && matches!(t.status, SessionStatus::Queued | SessionStatus::Waiting)
                }) {
                    match status {
                        SessionStatus::Waiting => {}
                        SessionStatus::Queued => row.status = SessionStatus::Queued,
                        _ => row.status = SessionStatus::Running,
                    }
                }
            }
            EventKind::MessageCompleted {
                role: baton_protocol::Role::User,
                text,
                ..
            } => {
                if let Some(tab) = self.tabs.get_mut(session)
                    && tab.view.title.is_empty()
                {
                    tab.view.title = short_title(text);
                }
            }
            EventKind::SessionUpdated {
                agent,
                model,
                title,
            } => {
                if let Some(tab) = self.tabs.get_mut(session) {
                    tab.view.agent = agent.clone();
                    tab.view.provider = provider_of(model);
                    tab.view.model = model.clone();
                    if let Some(title) = title {
                        tab.view.title = title.clone();
                    }
                }
            }
            EventKind::StepCompleted { session_usage, .. } => {
                // Live: a running task's tokens and cost grow as it works.
                if let Some(tab) = self.tabs.get_mut(session) {
                    tab.view.usage = *session_usage;
                }
            }
            EventKind::TurnCompleted { reason, .. } if reason == "error" => {
                if let Some(tab) = self.tabs.get_mut(session) {
                    tab.view.status = SessionStatus::Failed;
                }
            }
            EventKind::TaskSpawned {
                task_id,
                child_session_id,
                agent,
                model,
                description,
                after,
                ..
            } => {
                let task_id = TaskId::from(task_id.as_str());
                if let Some(tab) = self.tabs.get_mut(child_session_id) {
                    tab.task = Some(task_id.clone());
                    tab.view.title = description.clone();
                }
                self.tasks.push(TaskRow {
                    task_id,
                    parent: session.clone(),
                    child: child_session_id.clone(),
                    description: description.clone(),
                    agent: agent.clone(),
                    model: model.clone(),
                    // Born waiting for a slot, or for what it comes after;
                    // `task.started` says it runs.
                    status: if after.is_empty() {
                        SessionStatus::Queued
                    } else {
                        SessionStatus::Waiting
                    },
                    started: event.ts,
                    ended: None,
                });
            }
            EventKind::TaskStarted { task_id } => {
                if let Some(row) = self
                    .tasks
                    .iter_mut()
                    .find(|t| t.task_id.as_str() == task_id && t.running())
                {
                    row.status = SessionStatus::Running;
                }
            }
            EventKind::TaskCompleted { task_id, status } => {
                let Some(row) = self
                    .tasks
                    .iter_mut()
                    .find(|t| t.task_id.as_str() == task_id)
                else {
                    return;
                };
                row.status = *status;
                row.ended = Some(event.ts);
                let child = row.child.clone();
                let text = format!("{} {}: {}", row.agent, status.as_str(), row.description);
                if let Some(tab) = self.tabs.get_mut(&child) {
                    tab.view.status = *status;
                }
                let level = match status {
                    SessionStatus::Completed => Level::Info,
                    _ => Level::Error,
                };
                self.toast(level, text, now);
            }
            EventKind::ShellStarted { shell_id, command }
                if !self.shells.iter().any(|s| s.shell_id == *shell_id) =>
            {
                self.shells.push(ShellRow {
                    shell_id: shell_id.clone(),
                    session: session.clone(),
                    command: command.clone(),
                    state: ShellState::Running,
                    exit_code: None,
                    tail: None,
                    started: event.ts,
                    ended: None,
                });
            }
            EventKind::ShellExited {
                shell_id,
                exit_code,
            } => {
                let Some(row) = self.shells.iter_mut().find(|s| s.shell_id == *shell_id) else {
                    return;
                };
                row.state = if exit_code.is_some() {
                    ShellState::Exited
                } else {
                    ShellState::Killed
                };
                row.exit_code = *exit_code;
                row.ended = Some(event.ts);
                let text = format!("shell {}: {}", row.state_label(), short_title(&row.command));
                let level = if *exit_code == Some(0) {
                    Level::Info
                } else {
                    Level::Error
                };
                self.toast(level, text, now);
            }
            EventKind::PermissionRequested {
                request_id,
                agent,
                tool,
                call_id,
                detail,
                pattern,
            } => {
                // An open panel with nothing to answer shows it at once.
                if let Overlay::Permissions(panel) = &mut self.overlay
                    && panel.request.is_none()
                {
                    panel.request = Some(request_id.clone());
                }
                self.permissions.push(PermissionRequest {
                    id: request_id.clone(),
                    session_id: session.clone(),
                    agent: agent.clone(),
                    tool: tool.clone(),
                    call_id: call_id.clone(),
                    detail: detail.clone(),
                    pattern: pattern.clone(),
                    created_at: event.ts,
                });
                let title = self
                    .tabs
                    .get(session)
                    .map(|t| short_title(t.title()))
                    .unwrap_or_default();
                self.toast(
                    Level::Attention,
                    format!(
                        "{agent} ({title}) asks to use {tool}: {}",
                        short_title(detail)
                    ),
                    now,
                );
            }
            EventKind::PermissionResolved { request_id, .. } => {
                self.permissions.retain(|p| p.id != *request_id);
            }
            _ => {}
        }
    }
}

/// The first line of a text, cut to a tab-sized title.
pub fn short_title(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > 48 {
        let cut: String = line.chars().take(47).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// The provider part of a `provider/model` name.
fn provider_of(model: &str) -> String {
    model.split_once('/').map_or("", |(p, _)| p).to_owned()
}
