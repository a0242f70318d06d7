//! One session's conversation as the screen shows it: built from its
//! stored messages, then kept current from its events.

use baton_protocol::{CallId, EventKind, Message, MessageId, NoticeKind, Part, Role};
use std::collections::HashSet;

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
}

impl ToolEntry {
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
    /// live events without showing anything twice).
    pub message_id: Option<MessageId>,
    /// Bumped on every change, so the view knows its cached drawing is old.
    pub version: u64,
}

impl Entry {
    fn new(kind: EntryKind) -> Self {
        Self {
            kind,
            message_id: None,
            version: 0,
        }
    }

    fn with_id(kind: EntryKind, id: &MessageId) -> Self {
        Self {
            message_id: Some(id.clone()),
            ..Self::new(kind)
        }
    }

    fn touch(&mut self) {
        self.version += 1;
    }
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

    fn push(&mut self, entry: Entry) {
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
                    self.entries.push(Entry::with_id(
                        EntryKind::Tool(ToolEntry {
                            call_id: call.call_id.clone(),
                            name: call.name.clone(),
                            arguments: call.arguments.clone(),
                            output: None,
                            is_error: false,
                        }),
                        &message.id,
                    ));
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
                        tool.output = Some(output.clone());
                        tool.is_error = *is_error;
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

    /// Applies one of the session's events.
    pub fn apply(&mut self, event: &EventKind) {
        match event {
            EventKind::MessageQueued { text, .. } => self.push(Entry::new(EntryKind::User {
                text: text.clone(),
                queued: true,
            })),
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
                self.push(Entry::new(EntryKind::Tool(ToolEntry {
                    call_id: call_id.clone(),
                    name: name.clone(),
                    arguments: arguments.clone(),
                    output: None,
                    is_error: false,
                })));
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
                            tool.output = Some(output.clone());
                            tool.is_error = *is_error;
                        }
                    });
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
                agent, description, ..
            } => self.push(Entry::new(EntryKind::Info(format!(
                "delegated to {agent}: {description}"
            )))),
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

    fn tool_index(&self, call_id: &CallId) -> Option<usize> {
        self.entries.iter().rposition(
            |e| matches!(&e.kind, EntryKind::Tool(t) if t.call_id == *call_id && t.running()),
        )
    }

    fn append_text(&mut self, delta: &str) {
        let last = self.entries.len().checked_sub(1);
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
        if let Some(index) = self.entries.len().checked_sub(1)
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
                let queued = self.entries.iter().position(
                    |e| matches!(&e.kind, EntryKind::User { text: t, queued: true } if t == text),
                );
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

/// Whether a notice is about a task or a shell, from its source id.
fn notice_kind(source: &str) -> NoticeKind {
    if source.starts_with("task_") {
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
        c.apply(&EventKind::MessageQueued {
            message_id: MessageId::from("q1"),
            text: "first".into(),
        });
        c.apply(&completed("u1", Role::User, "first"));
        c.apply(&EventKind::TextDelta {
            delta: "working".into(),
        });
        c.apply(&EventKind::MessageQueued {
            message_id: MessageId::from("q2"),
            text: "second".into(),
        });
        assert_eq!(c.queued(), 1);
        c.apply(&completed("a1", Role::Assistant, "working"));
        c.apply(&completed("u2", Role::User, "second"));
        assert_eq!(c.queued(), 0);
        let texts: Vec<_> = kinds(&c)
            .into_iter()
            .map(|k| match k {
                EntryKind::User { text, queued } => format!("user {text} {queued}"),
                EntryKind::Assistant { text, .. } => format!("assistant {text}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            ["user first false", "assistant working", "user second false"]
        );
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
