//! One session's conversation as the screen shows it: built from its
//! stored messages, then kept current from its events.

use super::work::Activity;
use baton_protocol::{
    CallId, Event, EventKind, Message, MessageId, NoticeKind, Part, Role, TaskId, Timestamp,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most live output kept for a running call (its end; the whole
/// output comes with `tool.completed`).
const LIVE_KEEP: usize = 64 * 1024;

/// One block of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// What the person wrote. `queued` until the session takes it.
    User {
        /// The text.
        text: String,
        /// Accepted but not yet part of the conversation (the session is
        /// busy and takes it at its next step boundary).
        queued: bool,
    },
    /// What the model wrote (Markdown); `streaming` while it arrives.
    Assistant {
        /// The text so far.
        text: String,
        /// Still arriving.
        streaming: bool,
    },
    /// The model's reasoning before an answer (extended thinking);
    /// `streaming` while it arrives. Shown folded unless expanded.
    Reasoning {
        /// The readable reasoning so far.
        text: String,
        /// Still arriving.
        streaming: bool,
    },
    /// A tool call and, once it ended, its output.
    Tool(ToolEntry),
    /// A notice handed to the model: a task or a shell ended.
    Notice {
        /// What it is about.
        kind: NoticeKind,
        /// The task or shell id.
        source_id: String,
        /// The notice text.
        text: String,
    },
    /// Something failed.
    Error(String),
    /// A line from baton itself (a task started, a turn was cancelled).
    Info(String),
}

/// A tool call in the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolEntry {
    /// The call.
    pub call_id: CallId,
    /// The tool.
    pub name: String,
    /// Its raw JSON arguments.
    pub arguments: String,
    /// Its output, once it ended.
    pub output: Option<String>,
    /// Whether it failed.
    pub is_error: bool,
    /// What it printed so far while it runs (`tool.output`), its end.
    pub live: String,
    /// When it started, when known.
    pub started: Option<Timestamp>,
    /// When it ended, when known.
    pub ended: Option<Timestamp>,
    /// For a `task` call: the task it started, once known.
    pub task: Option<TaskId>,
    /// For a `task` call: what that task is doing now (from the task's
    /// and its sub-agent's events), once known.
    pub task_activity: Option<Activity>,
}

impl ToolEntry {
    /// A call that just started.
    pub fn new(call_id: CallId, name: String, arguments: String) -> Self {
        Self {
            call_id,
            name,
            arguments,
            output: None,
            is_error: false,
            live: String::new(),
            started: None,
            ended: None,
            task: None,
            task_activity: None,
        }
    }

    /// Seconds it ran, up to `now` while it runs; `None` without a start.
    pub fn elapsed_s(&self, now: Timestamp) -> Option<f64> {
        let start = self.started?;
        let end = match (self.running(), self.ended) {
            (true, _) => now,
            (false, Some(end)) => end,
            (false, None) => return None,
        };
        Some((end - start).num_milliseconds().max(0) as f64 / 1000.0)
    }

    /// Ends the call with its output.
    fn complete(&mut self, output: &str, is_error: bool, at: Option<Timestamp>) {
        self.output = Some(output.to_owned());
        self.is_error = is_error;
        self.live.clear();
        self.ended = at;
        if self.name == "task" && self.task.is_none() {
            self.task = started_task(output);
        }
    }

    /// Adds live output, keeping only its end.
    fn append_live(&mut self, delta: &str) {
        self.live.push_str(delta);
        if self.live.len() > LIVE_KEEP {
            let mut cut = self.live.len() - LIVE_KEEP;
            while !self.live.is_char_boundary(cut) {
                cut += 1;
            }
            // From the start of a line, so no half line shows.
            if let Some(nl) = self.live[cut..].find('\n') {
                cut += nl + 1;
            }
            self.live.drain(..cut);
        }
    }

    /// Whether the call is still running.
    pub fn running(&self) -> bool {
        self.output.is_none()
    }

    /// A string argument of the call, if the arguments parse and have it.
    pub fn arg(&self, key: &str) -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(&self.arguments).ok()?;
        match value.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

/// An entry and what the view needs to draw it cheaply.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What it shows.
    pub kind: EntryKind,
    /// The stored message it came from, when known (to merge history with
    /// live events without showing anything twice); for a queued message,
    /// the id it will be stored with.
    pub message_id: Option<MessageId>,
    /// Shown in full on its own (a click or Ctrl+E on it).
    pub expanded: bool,
    /// New on every change (unique among all entries), so the view knows
    /// its cached drawing is old.
    pub version: u64,
}

impl Entry {
    fn new(kind: EntryKind) -> Self {
        Self {
            kind,
            message_id: None,
            expanded: false,
            version: next_version(),
        }
    }

    fn with_id(kind: EntryKind, id: &MessageId) -> Self {
        Self {
            message_id: Some(id.clone()),
            ..Self::new(kind)
        }
    }

    fn touch(&mut self) {
        self.version = next_version();
    }

    /// Whether it has more to show than its folded form: a tool call, a
    /// notice, reasoning.
    pub fn expandable(&self) -> bool {
        matches!(
            self.kind,
            EntryKind::Tool(_) | EntryKind::Notice { .. } | EntryKind::Reasoning { .. }
        )
    }

    /// Whether it is a message queued for the session, not taken yet.
    fn is_queued(&self) -> bool {
        matches!(self.kind, EntryKind::User { queued: true, .. })
    }
}

/// A version no entry had before: an entry's drawing is cached by
/// position and version, and entries can move (a queued message stays
/// last), so equal versions must mean the same drawing.
fn next_version() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The task a `task` call's result names ("Task task_… started: …").
fn started_task(output: &str) -> Option<TaskId> {
    let rest = output.trim_start().strip_prefix("Task ")?;
    let (id, tail) = rest.split_once(' ')?;
    tail.starts_with("started").then(|| TaskId::from(id))
}

/// A session's conversation.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    entries: Vec<Entry>,
    /// Stored messages already shown.
    seen: HashSet<MessageId>,
    /// Notices announced as delivered whose message has not arrived yet.
    delivering: Vec<String>,
    /// Entries changed since the view last looked (index of the first).
    changed_from: Option<usize>,
    /// A call ended with an output the event stream cut: the stored
    /// conversation has it whole and should be loaded again.
    stale: bool,
}

impl Conversation {
    /// The entries, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Marks every entry changed (how they are drawn changed).
    pub fn invalidate_all(&mut self) {
        for entry in &mut self.entries {
            entry.touch();
        }
        self.changed_from = Some(0);
    }

    /// The index of the first entry changed since the last call, and
    /// forgets it.
    pub fn take_changed(&mut self) -> Option<usize> {
        self.changed_from.take()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a call's output was cut on the event stream since the
    /// stored conversation was last loaded; clears the mark.
    pub fn take_stale(&mut self) -> bool {
        std::mem::take(&mut self.stale)
    }

    /// Messages the person sent that the session has not taken yet.
    pub fn queued(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::User { queued: true, .. }))
            .count()
    }

    /// The running tool calls, oldest first.
    pub fn running_tools(&self) -> impl Iterator<Item = &ToolEntry> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::Tool(t) if t.running() => Some(t),
            _ => None,
        })
    }

    /// Adds an entry. Messages queued for the session stay last, below
    /// what the session does meanwhile, so an answer that streams on is
    /// never split by them.
    fn push(&mut self, entry: Entry) {
        if !entry.is_queued() {
            let queued = self
                .entries
                .iter()
                .rev()
                .take_while(|e| e.is_queued())
                .count();
            if queued > 0 {
                let at = self.entries.len() - queued;
                self.entries.insert(at, entry);
                self.changed_from = Some(self.changed_from.map_or(at, |c| c.min(at)));
                return;
            }
        }
        self.push_last(entry);
    }

    fn push_last(&mut self, entry: Entry) {
        let index = self.entries.len();
        self.changed_from = Some(self.changed_from.map_or(index, |c| c.min(index)));
        self.entries.push(entry);
    }

    fn change(&mut self, index: usize, f: impl FnOnce(&mut EntryKind)) {
        if let Some(entry) = self.entries.get_mut(index) {
            f(&mut entry.kind);
            entry.touch();
            self.changed_from = Some(self.changed_from.map_or(index, |c| c.min(index)));
        }
    }

    /// Puts stored history in front of what live events already showed.
    /// Messages that are in both are shown once.
    pub fn load_history(&mut self, messages: &[Message]) {
        let live = std::mem::take(&mut self.entries);
        let mut tools: Vec<(CallId, usize)> = Vec::new();
        for message in messages {
            self.seen.insert(message.id.clone());
            self.add_message(message, &mut tools);
        }
        let stored: HashSet<&MessageId> = messages.iter().map(|m| &m.id).collect();
        for entry in live {
            let duplicate = match &entry.message_id {
                Some(id) => stored.contains(id),
                None => match &entry.kind {
                    // A tool call live events showed that the history has.
                    EntryKind::Tool(t) => tools.iter().any(|(c, _)| *c == t.call_id),
                    _ => false,
                },
            };
            if !duplicate {
                self.entries.push(entry);
            }
        }
        self.changed_from = Some(0);
    }

    fn add_message(&mut self, message: &Message, tools: &mut Vec<(CallId, usize)>) {
        for part in &message.parts {
            match part {
                Part::Text { text } if text.trim().is_empty() => {}
                Part::Text { text } => {
                    let kind = match message.role {
                        Role::User => EntryKind::User {
                            text: text.clone(),
                            queued: false,
                        },
                        _ => EntryKind::Assistant {
                            text: text.clone(),
                            streaming: false,
                        },
                    };
                    self.entries.push(Entry::with_id(kind, &message.id));
                }
                Part::ToolCall(call) => {
                    tools.push((call.call_id.clone(), self.entries.len()));
                    let mut tool = ToolEntry::new(
                        call.call_id.clone(),
                        call.name.clone(),
                        call.arguments.clone(),
                    );
                    tool.started = Some(message.created_at);
                    self.entries
                        .push(Entry::with_id(EntryKind::Tool(tool), &message.id));
                }
                Part::ToolResult {
                    call_id,
                    output,
                    is_error,
                    ..
                } => {
                    if let Some((_, index)) = tools.iter().find(|(c, _)| c == call_id)
                        && let Some(Entry {
                            kind: EntryKind::Tool(tool),
                            ..
                        }) = self.entries.get_mut(*index)
                    {
                        tool.complete(output, *is_error, Some(message.created_at));
                    }
                }
                Part::Notice {
                    kind,
                    source_id,
                    text,
                } => self.entries.push(Entry::with_id(
                    EntryKind::Notice {
                        kind: *kind,
                        source_id: source_id.clone(),
                        text: text.clone(),
                    },
                    &message.id,
                )),
                Part::Compaction(c) => self.entries.push(Entry::with_id(
                    EntryKind::Info(compacted_line(
                        &c.trigger,
                        c.summarized,
                        c.tokens_before,
                        c.tokens_after,
                    )),
                    &message.id,
                )),
                Part::Reasoning { text, .. } if !text.trim().is_empty() => {
                    self.entries.push(Entry::with_id(
                        EntryKind::Reasoning {
                            text: text.clone(),
                            streaming: false,
                        },
                        &message.id,
                    ));
                }
                // Notes from the engine to the model (and reasoning kept
                // only as an opaque blob) are not shown.
                Part::Context { .. } | Part::Reasoning { .. } => {}
            }
        }
    }

    /// Applies one of the session's events, with when it happened.
    pub fn apply_event(&mut self, event: &Event) {
        self.apply_at(&event.kind, Some(event.ts));
    }

    /// Applies one of the session's events.
    pub fn apply(&mut self, event: &EventKind) {
        self.apply_at(event, None);
    }

    fn apply_at(&mut self, event: &EventKind, at: Option<Timestamp>) {
        match event {
            EventKind::MessageQueued { message_id, text } => self.push(Entry::with_id(
                EntryKind::User {
                    text: text.clone(),
                    queued: true,
                },
                message_id,
            )),
            EventKind::MessageWithdrawn { message_ids } => {
                self.drop_queued(message_ids);
            }
            EventKind::ToolOutput { call_id, delta } => {
                if let Some(index) = self.tool_index(call_id) {
                    self.change(index, |kind| {
                        if let EntryKind::Tool(tool) = kind {
                            tool.append_live(delta);
                        }
                    });
                }
            }
            EventKind::ReasoningDelta { delta } => self.append_reasoning(delta),
            EventKind::TextDelta { delta } => {
                self.finish_reasoning();
                self.append_text(delta);
            }
            EventKind::MessageCompleted {
                message_id,
                role,
                text,
            } => self.message_completed(message_id, *role, text),
            EventKind::ToolStarted {
                call_id,
                name,
                arguments,
            } => {
                self.finish_streaming();
                self.finish_reasoning();
                let mut tool = ToolEntry::new(call_id.clone(), name.clone(), arguments.clone());
                tool.started = at;
                self.push(Entry::new(EntryKind::Tool(tool)));
            }
            EventKind::ToolCompleted {
                call_id,
                output,
                is_error,
                ..
            } => {
                if let Some(index) = self.tool_index(call_id) {
                    self.change(index, |kind| {
                        if let EntryKind::Tool(tool) = kind {
                            tool.complete(output, *is_error, at);
                        }
                    });
                    self.stale |= output.contains(baton_protocol::OUTPUT_CUT_NOTE);
                }
            }
            EventKind::NotificationDelivered { source_id } => {
                self.delivering.push(source_id.clone());
            }
            EventKind::Error { message } => {
                self.finish_streaming();
                self.finish_reasoning();
                self.push(Entry::new(EntryKind::Error(message.clone())));
            }
            EventKind::HookCompleted {
                event,
                command,
                outcome,
                message,
                ..
            } if outcome != "ok" => {
                let why = message.as_deref().map(str::trim).unwrap_or_default();
                let line = match outcome.as_str() {
                    "blocked" => format!("{event} hook `{command}` blocked it: {why}"),
                    "timed_out" => format!("{event} hook `{command}` timed out and was stopped"),
                    _ => format!("{event} hook `{command}` failed: {why}"),
                };
                self.push(Entry::new(EntryKind::Info(
                    line.trim_end_matches(": ").to_owned(),
                )));
            }
            EventKind::LlmRetry {
                attempt,
                delay_ms,
                error,
            } => self.push(Entry::new(EntryKind::Info(format!(
                "the model call failed (attempt {attempt}): {error}; retrying in {:.1} s",
                *delay_ms as f64 / 1000.0
            )))),
            EventKind::ContextCompacting { trigger, tokens } => {
                self.push(Entry::new(EntryKind::Info(format!(
                    "compacting the conversation ({trigger}, about {tokens} tokens)…"
                ))))
            }
            EventKind::ContextCompacted {
                message_id,
                trigger,
                summarized,
                tokens_before,
                tokens_after,
            } if self.seen.insert(message_id.clone()) => self.push(Entry::with_id(
                EntryKind::Info(compacted_line(
                    trigger,
                    *summarized,
                    *tokens_before,
                    *tokens_after,
                )),
                message_id,
            )),
            EventKind::TaskSpawned {
                task_id,
                agent,
                description,
                after,
                ..
            } if !self.link_task(task_id, description, !after.is_empty()) => self.push(Entry::new(
                EntryKind::Info(format!("delegated to {agent}: {description}")),
            )),
            EventKind::TurnCompleted { reason, .. } => {
                self.finish_streaming();
                self.finish_reasoning();
                if reason == "cancelled" {
                    self.push(Entry::new(EntryKind::Info("turn interrupted".into())));
                } else if reason == "max_steps" {
                    self.push(Entry::new(EntryKind::Info(
                        "the turn reached its step limit".into(),
                    )));
                } else if reason == "cut_off" {
                    self.push(Entry::new(EntryKind::Info(
                        "the answer was cut off at the output limit".into(),
                    )));
                } else if reason == "refused" {
                    self.push(Entry::new(EntryKind::Info(
                        "the model refused to answer".into(),
                    )));
                }
            }
            _ => {}
        }
    }

    /// Ties a task just spawned to the `task` call that started it (the
    /// running one with its description); false when there is none.
    fn link_task(&mut self, task_id: &str, description: &str, waiting: bool) -> bool {
        let found = self.entries.iter().rposition(|e| {
            matches!(&e.kind, EntryKind::Tool(t)
                if t.name == "task" && t.running() && t.task.is_none()
                    && t.arg("description").as_deref() == Some(description))
        });
        let Some(index) = found else {
            return false;
        };
        self.change(index, |kind| {
            if let EntryKind::Tool(tool) = kind {
                tool.task = Some(TaskId::from(task_id));
                tool.task_activity = Some(if waiting {
                    Activity::Waiting
                } else {
                    Activity::Queued
                });
            }
        });
        true
    }

    /// Shows what a task is doing on the `task` call that started it.
    pub fn set_task_activity(&mut self, task_id: &TaskId, activity: Activity) {
        let found = self.entries.iter().rposition(
            |e| matches!(&e.kind, EntryKind::Tool(t) if t.task.as_ref() == Some(task_id)),
        );
        if let Some(index) = found
            && !matches!(&self.entries[index].kind, EntryKind::Tool(t) if t.task_activity == Some(activity))
        {
            self.change(index, |kind| {
                if let EntryKind::Tool(tool) = kind {
                    tool.task_activity = Some(activity);
                }
            });
        }
    }

    /// Shows entry `index` in full on its own, or folds it again.
    pub fn toggle_expanded(&mut self, index: usize) {
        if let Some(entry) = self.entries.get_mut(index) {
            entry.expanded = !entry.expanded;
            entry.touch();
        }
    }

    /// Draws entry `index` again (its selection mark changed).
    pub fn redraw(&mut self, index: usize) {
        if let Some(entry) = self.entries.get_mut(index) {
            entry.touch();
        }
    }

    /// Takes the messages queued for the session out (they were handed
    /// back); returns how many were there.
    pub fn drop_queued(&mut self, ids: &[MessageId]) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| {
            !(e.is_queued() && e.message_id.as_ref().is_some_and(|id| ids.contains(id)))
        });
        let dropped = before - self.entries.len();
        if dropped > 0 {
            self.changed_from = Some(0);
        }
        dropped
    }

    fn tool_index(&self, call_id: &CallId) -> Option<usize> {
        self.entries.iter().rposition(
            |e| matches!(&e.kind, EntryKind::Tool(t) if t.call_id == *call_id && t.running()),
        )
    }

    /// The last entry that is not a queued message.
    fn last_shown(&self) -> Option<usize> {
        self.entries.iter().rposition(|e| !e.is_queued())
    }

    fn append_text(&mut self, delta: &str) {
        let last = self.last_shown();
        if let Some(index) = last
            && matches!(
                self.entries[index].kind,
                EntryKind::Assistant {
                    streaming: true,
                    ..
                }
            )
        {
            self.change(index, |kind| {
                if let EntryKind::Assistant { text, .. } = kind {
                    text.push_str(delta);
                }
            });
            return;
        }
        self.push(Entry::new(EntryKind::Assistant {
            text: delta.to_owned(),
            streaming: true,
        }));
    }

    fn append_reasoning(&mut self, delta: &str) {
        if let Some(index) = self.last_shown()
            && matches!(
                self.entries[index].kind,
                EntryKind::Reasoning {
                    streaming: true,
                    ..
                }
            )
        {
            self.change(index, |kind| {
                if let EntryKind::Reasoning { text, .. } = kind {
                    text.push_str(delta);
                }
            });
            return;
        }
        self.push(Entry::new(EntryKind::Reasoning {
            text: delta.to_owned(),
            streaming: true,
        }));
    }

    /// Ends the streaming reasoning entry, if one is open.
    fn finish_reasoning(&mut self) {
        if let Some(index) = self.reasoning_index() {
            self.change(index, |kind| {
                if let EntryKind::Reasoning { streaming, .. } = kind {
                    *streaming = false;
                }
            });
        }
    }

    /// The reasoning shown live for the answer being written: an untagged
    /// reasoning entry with nothing after it but that answer's own text,
    /// messages queued meanwhile and baton's info lines.
    fn reasoning_index(&self) -> Option<usize> {
        for (index, entry) in self.entries.iter().enumerate().rev() {
            match &entry.kind {
                EntryKind::Reasoning { .. } if entry.message_id.is_none() => return Some(index),
                EntryKind::Assistant { .. } if entry.message_id.is_none() => {}
                EntryKind::User { queued: true, .. } | EntryKind::Info(_) => {}
                _ => return None,
            }
        }
        None
    }

    /// Ends the streaming text entry, if one is open.
    fn finish_streaming(&mut self) {
        if let Some(index) = self.streaming_index() {
            self.change(index, |kind| {
                if let EntryKind::Assistant { streaming, .. } = kind {
                    *streaming = false;
                }
            });
        }
    }

    fn streaming_index(&self) -> Option<usize> {
        self.entries.iter().rposition(|e| {
            matches!(
                e.kind,
                EntryKind::Assistant {
                    streaming: true,
                    ..
                }
            )
        })
    }

    fn message_completed(&mut self, id: &MessageId, role: Role, text: &str) {
        if !self.seen.insert(id.clone()) {
            return;
        }
        if role == Role::Assistant
            && let Some(index) = self.reasoning_index()
        {
            // The reasoning shown live belongs to this answer.
            self.finish_reasoning();
            self.entries[index].message_id = Some(id.clone());
        }
        match role {
            Role::Assistant => match self.streaming_index() {
                Some(index) => {
                    self.change(index, |kind| {
                        *kind = EntryKind::Assistant {
                            text: text.to_owned(),
                            streaming: false,
                        }
                    });
                    self.entries[index].message_id = Some(id.clone());
                }
                None if !text.trim().is_empty() => self.push(Entry::with_id(
                    EntryKind::Assistant {
                        text: text.to_owned(),
                        streaming: false,
                    },
                    id,
                )),
                None => {}
            },
            // A note from the engine to the model, or a compaction (shown
            // by its own event).
            Role::User if text.trim().is_empty() => {}
            Role::User if !self.delivering.is_empty() => {
                let sources = std::mem::take(&mut self.delivering);
                let kind = notice_kind(&sources[0]);
                self.push(Entry::with_id(
                    EntryKind::Notice {
                        kind,
                        source_id: sources.join(", "),
                        text: text.to_owned(),
                    },
                    id,
                ));
            }
            Role::User => {
                // The queued entry of this message: by its id, else (an
                // engine that does not name it) by its text.
                let queued = self
                    .entries
                    .iter()
                    .position(|e| e.is_queued() && e.message_id.as_ref() == Some(id))
                    .or_else(|| {
                        self.entries.iter().position(|e| {
                            matches!(&e.kind, EntryKind::User { text: t, queued: true } if t == text)
                        })
                    });
                match queued {
                    Some(index) => {
                        // Taken: it moves to where the conversation is now.
                        let mut entry = self.entries.remove(index);
                        entry.kind = EntryKind::User {
                            text: text.to_owned(),
                            queued: false,
                        };
                        entry.message_id = Some(id.clone());
                        entry.touch();
                        self.changed_from = Some(self.changed_from.map_or(index, |c| c.min(index)));
                        self.finish_streaming();
                        self.push(entry);
                    }
                    None => self.push(Entry::with_id(
                        EntryKind::User {
                            text: text.to_owned(),
                            queued: false,
                        },
                        id,
                    )),
                }
            }
            Role::Tool => {}
        }
    }
}

/// How a compaction reads in the conversation.
fn compacted_line(trigger: &str, summarized: u64, before: u64, after: u64) -> String {
    let why = match trigger {
        "manual" => "as asked",
        "overflow" => "the provider said it was too long",
        _ => "the context window was filling up",
    };
    format!(
        "conversation compacted ({why}): {summarized} earlier messages summarized, about \
         {before} → {after} tokens"
    )
}

/// Whether a notice is about a task or a shell, or a message from an
/// agent, from its source id.
fn notice_kind(source: &str) -> NoticeKind {
    if source.starts_with("message:") {
        NoticeKind::Message
    } else if source.starts_with("task_") {
        NoticeKind::Task
    } else if source.starts_with("sh_") {
        NoticeKind::Shell
    } else {
        NoticeKind::System
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::SessionId;

    fn completed(id: &str, role: Role, text: &str) -> EventKind {
        EventKind::MessageCompleted {
            message_id: MessageId::from(id),
            role,
            text: text.into(),
        }
    }

    fn kinds(c: &Conversation) -> Vec<EntryKind> {
        c.entries().iter().map(|e| e.kind.clone()).collect()
    }

    #[test]
    fn streamed_text_becomes_one_final_message() {
        let mut c = Conversation::default();
        c.apply(&EventKind::TextDelta {
            delta: "Hel".into(),
        });
        c.apply(&EventKind::TextDelta { delta: "lo".into() });
        assert_eq!(
            kinds(&c),
            vec![EntryKind::Assistant {
                text: "Hello".into(),
                streaming: true
            }]
        );
        c.apply(&completed("m1", Role::Assistant, "Hello!"));
        assert_eq!(
            kinds(&c),
            vec![EntryKind::Assistant {
                text: "Hello!".into(),
                streaming: false
            }]
        );
    }

    #[test]
    fn a_queued_message_moves_to_where_it_is_taken() {
        let mut c = Conversation::default();
        c.apply(&queued("u1", "first"));
        c.apply(&completed("u1", Role::User, "first"));
        c.apply(&EventKind::TextDelta {
            delta: "working".into(),
        });
        c.apply(&queued("u2", "second"));
        assert_eq!(c.queued(), 1);
        c.apply(&completed("a1", Role::Assistant, "working"));
        c.apply(&completed("u2", Role::User, "second"));
        assert_eq!(c.queued(), 0);
        assert_eq!(
            texts(&c),
            ["user first false", "assistant working", "user second false"]
        );
    }

    fn queued(id: &str, text: &str) -> EventKind {
        EventKind::MessageQueued {
            message_id: MessageId::from(id),
            text: text.into(),
        }
    }

    fn texts(c: &Conversation) -> Vec<String> {
        kinds(c)
            .into_iter()
            .map(|k| match k {
                EntryKind::User { text, queued } => format!("user {text} {queued}"),
                EntryKind::Assistant { text, .. } => format!("assistant {text}"),
                EntryKind::Tool(t) => format!("tool {}", t.name),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_hook_that_blocked_or_failed_shows_and_one_that_passed_does_not() {
        let mut c = Conversation::default();
        let hook = |outcome: &str, message: Option<&str>| EventKind::HookCompleted {
            event: "PreToolUse".into(),
            command: "./check.sh".into(),
            outcome: outcome.into(),
            exit_code: Some(2),
            message: message.map(Into::into),
            duration_ms: 5,
        };
        c.apply(&hook("ok", None));
        c.apply(&hook("blocked", Some("no rm -rf\n")));
        c.apply(&hook("timed_out", None));
        assert_eq!(
            kinds(&c),
            [
                EntryKind::Info("PreToolUse hook `./check.sh` blocked it: no rm -rf".into()),
                EntryKind::Info("PreToolUse hook `./check.sh` timed out and was stopped".into()),
            ]
        );
    }

    #[test]
    fn a_message_sent_mid_stream_does_not_split_the_answer() {
        let mut c = Conversation::default();
        c.apply(&EventKind::TextDelta {
            delta: "The quick br".into(),
        });
        c.apply(&queued("u9", "also check the tests"));
        c.apply(&EventKind::TextDelta {
            delta: "own fox".into(),
        });
        // One answer, whole, and the queued message below it.
        assert_eq!(
            texts(&c),
            [
                "assistant The quick brown fox",
                "user also check the tests true"
            ]
        );
        c.apply(&EventKind::ToolStarted {
            call_id: CallId::from("c1"),
            name: "bash".into(),
            arguments: "{}".into(),
        });
        assert_eq!(
            texts(&c),
            [
                "assistant The quick brown fox",
                "tool bash",
                "user also check the tests true"
            ]
        );
    }

    #[test]
    fn queued_messages_are_matched_by_id_and_withdrawn_ones_leave() {
        let mut c = Conversation::default();
        c.apply(&queued("u1", "same"));
        c.apply(&queued("u2", "same"));
        c.apply(&completed("u2", Role::User, "same"));
        // The second was taken: the first still waits.
        assert_eq!(texts(&c), ["user same false", "user same true"]);
        c.apply(&EventKind::MessageWithdrawn {
            message_ids: vec![MessageId::from("u1")],
        });
        assert_eq!(texts(&c), ["user same false"]);
    }

    #[test]
    fn live_output_fills_a_running_call_and_gives_way_to_its_output() {
        let mut c = Conversation::default();
        c.apply(&EventKind::ToolStarted {
            call_id: CallId::from("c1"),
            name: "bash".into(),
            arguments: r#"{"command":"seq 3"}"#.into(),
        });
        for delta in ["1\n", "2\n"] {
            c.apply(&EventKind::ToolOutput {
                call_id: CallId::from("c1"),
                delta: delta.into(),
            });
        }
        let EntryKind::Tool(tool) = &c.entries()[0].kind else {
            panic!("not a tool entry");
        };
        assert_eq!(tool.live, "1\n2\n");
        assert!(tool.running());
        c.apply(&EventKind::ToolCompleted {
            call_id: CallId::from("c1"),
            name: "bash".into(),
            is_error: false,
            output: "1\n2\n3\nexit code 0".into(),
        });
        let EntryKind::Tool(tool) = &c.entries()[0].kind else {
            panic!("not a tool entry");
        };
        assert!(tool.live.is_empty());
        assert_eq!(tool.output.as_deref(), Some("1\n2\n3\nexit code 0"));
    }

    #[test]
    fn live_output_keeps_only_its_end_from_a_line_start() {
        let mut tool = ToolEntry::new(CallId::from("c"), "bash".into(), "{}".into());
        let line = "x".repeat(99) + "\n";
        for _ in 0..2000 {
            tool.append_live(&line);
        }
        assert!(tool.live.len() <= LIVE_KEEP);
        assert!(tool.live.starts_with('x') && tool.live.len().is_multiple_of(100));
    }

    #[test]
    fn a_task_call_is_tied_to_its_task_live_and_from_history() {
        let mut c = Conversation::default();
        c.apply(&EventKind::ToolStarted {
            call_id: CallId::from("c1"),
            name: "task".into(),
            arguments: r#"{"description":"fix the typo","prompt":"p"}"#.into(),
        });
        c.apply(&EventKind::TaskSpawned {
            task_id: "task_1".into(),
            child_session_id: baton_protocol::SessionId::from("s2"),
            agent: "general".into(),
            model: "m/m".into(),
            description: "fix the typo".into(),
            name: None,
            after: Vec::new(),
        });
        c.set_task_activity(&TaskId::from("task_1"), Activity::Running);
        let EntryKind::Tool(tool) = &c.entries()[0].kind else {
            panic!("not a tool entry");
        };
        assert_eq!(tool.task.as_ref().map(TaskId::as_str), Some("task_1"));
        assert_eq!(tool.task_activity, Some(Activity::Running));
        assert_eq!(
            started_task("Task task_7 started: agent general, model m/m"),
            Some(TaskId::from("task_7"))
        );
        assert_eq!(started_task("no such task"), None);
    }

    #[test]
    fn tool_calls_fill_in_their_output() {
        let mut c = Conversation::default();
        c.apply(&EventKind::ToolStarted {
            call_id: CallId::from("c1"),
            name: "bash".into(),
            arguments: r#"{"command":"ls"}"#.into(),
        });
        assert_eq!(c.running_tools().count(), 1);
        c.apply(&EventKind::ToolCompleted {
            call_id: CallId::from("c1"),
            name: "bash".into(),
            is_error: false,
            output: "a\nb".into(),
        });
        assert_eq!(c.running_tools().count(), 0);
        let EntryKind::Tool(tool) = &c.entries()[0].kind else {
            panic!("not a tool entry");
        };
        assert_eq!(tool.output.as_deref(), Some("a\nb"));
        assert_eq!(tool.arg("command").as_deref(), Some("ls"));
    }

    #[test]
    fn delivered_notices_show_as_notices() {
        let mut c = Conversation::default();
        c.apply(&EventKind::NotificationDelivered {
            source_id: "task_1".into(),
        });
        c.apply(&completed("n1", Role::User, "task task_1 completed: done"));
        assert!(matches!(
            &c.entries()[0].kind,
            EntryKind::Notice { kind: NoticeKind::Task, source_id, .. } if source_id == "task_1"
        ));
    }

    #[test]
    fn history_and_live_events_merge_without_duplicates() {
        let session = SessionId::from("s");
        let mut user = Message::new(
            session.clone(),
            Role::User,
            vec![Part::Text { text: "hi".into() }],
        );
        user.id = MessageId::from("u1");
        let mut answer = Message::new(
            session,
            Role::Assistant,
            vec![Part::Text {
                text: "hello".into(),
            }],
        );
        answer.id = MessageId::from("a1");
        let mut c = Conversation::default();
        // Live events arrived while the history loaded: one of them is
        // also in the history.
        c.apply(&completed("a1", Role::Assistant, "hello"));
        c.apply(&EventKind::TextDelta {
            delta: "more".into(),
        });
        c.load_history(&[user, answer]);
        let texts: Vec<_> = kinds(&c)
            .into_iter()
            .map(|k| match k {
                EntryKind::User { text, .. } | EntryKind::Assistant { text, .. } => text,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, ["hi", "hello", "more"]);
    }

    fn reasoning(text: &str, streaming: bool) -> EntryKind {
        EntryKind::Reasoning {
            text: text.into(),
            streaming,
        }
    }

    #[test]
    fn reasoning_streams_before_the_answer_and_is_tied_to_it() {
        let mut c = Conversation::default();
        c.apply(&EventKind::ReasoningDelta {
            delta: "Let me ".into(),
        });
        c.apply(&EventKind::ReasoningDelta {
            delta: "think.".into(),
        });
        assert_eq!(kinds(&c), vec![reasoning("Let me think.", true)]);
        c.apply(&EventKind::TextDelta {
            delta: "Done".into(),
        });
        c.apply(&completed("a1", Role::Assistant, "Done"));
        assert_eq!(
            kinds(&c),
            vec![
                reasoning("Let me think.", false),
                EntryKind::Assistant {
                    text: "Done".into(),
                    streaming: false
                }
            ]
        );
        assert_eq!(c.entries()[0].message_id, Some(MessageId::from("a1")));

        // An answer without reasoning does not take an older one.
        c.apply(&completed("u1", Role::User, "next"));
        c.apply(&completed("a2", Role::Assistant, "plain"));
        assert_eq!(c.entries()[0].message_id, Some(MessageId::from("a1")));

        // The stored history shows the reasoning once.
        let session = SessionId::from("ses_1");
        let mut answer = Message::new(
            session,
            Role::Assistant,
            vec![
                Part::Reasoning {
                    text: "Let me think.".into(),
                    signature: Some("sig".into()),
                    data: None,
                    item_id: None,
                    origin: "anthropic".into(),
                },
                Part::Text {
                    text: "Done".into(),
                },
            ],
        );
        answer.id = MessageId::from("a1");
        let mut fresh = Conversation::default();
        fresh.apply(&EventKind::ReasoningDelta {
            delta: "Let me think.".into(),
        });
        fresh.apply(&completed("a1", Role::Assistant, "Done"));
        fresh.load_history(&[answer]);
        let shown: Vec<_> = kinds(&fresh)
            .into_iter()
            .filter(|k| matches!(k, EntryKind::Reasoning { .. }))
            .collect();
        assert_eq!(shown, vec![reasoning("Let me think.", false)]);
    }

    #[test]
    fn hidden_reasoning_is_not_shown_and_a_tool_call_ends_reasoning() {
        let mut c = Conversation::default();
        let mut answer = Message::new(
            SessionId::from("ses_1"),
            Role::Assistant,
            vec![Part::Reasoning {
                text: String::new(),
                signature: None,
                data: Some("opaque".into()),
                item_id: None,
                origin: "anthropic".into(),
            }],
        );
        answer.id = MessageId::from("a0");
        c.load_history(&[answer]);
        assert!(c.is_empty());
        c.apply(&EventKind::ReasoningDelta {
            delta: "look first".into(),
        });
        c.apply(&EventKind::ToolStarted {
            call_id: CallId::from("c1"),
            name: "read".into(),
            arguments: "{}".into(),
        });
        assert_eq!(kinds(&c)[0], reasoning("look first", false));
    }
}
