//! baton's events as ACP session updates.
//!
//! One [`Translator`] per session tree turns the tree's event stream into
//! `session/update` notifications. It is pure (no I/O), so what the client
//! sees for a given stream of events is decided here and unit-tested here.
//!
//! With a client that understands sub-agent sessions, every sub-agent is a
//! child session: announced with `subagent_update` on its parent before any
//! of its own traffic, its messages and tool calls sent under its own id,
//! its state kept current on the parent. Without that capability only the
//! root's own traffic goes out, and each task is summarised as a tool call
//! of the root.

use crate::tools::{self, ToolShape};
use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, IdleStateUpdate, IdleStopReason, MessageId as AcpMessageId,
    RequiresActionStateUpdate, RunningStateUpdate, SessionCancelCapabilities,
    SessionId as AcpSessionId, SessionMessage, SessionNotification, SessionUpdate, StateUpdate,
    SubagentSessionCapabilities, SubagentUpdate, TextContent, ToolCall, ToolCallContent,
    ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields,
};
use baton_protocol::{Event, EventKind, SessionId, SessionStatus};
use std::collections::HashMap;

/// How much of a running command's output a tool call keeps for the
/// client (its end, where the news is).
const LIVE_OUTPUT_CAP: usize = 32 * 1024;

/// A delegated task as the translator knows it.
#[derive(Debug, Clone)]
pub(crate) struct TaskInfo {
    /// The session that delegated it.
    pub parent: SessionId,
    /// The sub-agent's session.
    pub child: SessionId,
}

/// A tool call under way.
#[derive(Debug, Default)]
struct CallInfo {
    shape: ToolShape,
    output: String,
}

/// Turns one session tree's events into ACP updates.
#[derive(Debug)]
pub(crate) struct Translator {
    root: SessionId,
    subagents: bool,
    /// Every session of the tree the client knows, with its parent (the
    /// root has none).
    sessions: HashMap<SessionId, Option<SessionId>>,
    tasks: HashMap<String, TaskInfo>,
    calls: HashMap<String, CallInfo>,
}

impl Translator {
    /// A translator for the tree under `root`; `subagents` says whether
    /// the client advertised `clientCapabilities.subagents`.
    pub(crate) fn new(root: SessionId, subagents: bool) -> Self {
        let mut sessions = HashMap::new();
        sessions.insert(root.clone(), None);
        Self {
            root,
            subagents,
            sessions,
            tasks: HashMap::new(),
            calls: HashMap::new(),
        }
    }

    /// The task a delegated session runs, if the translator saw it start.
    pub(crate) fn task_of(&self, child: &SessionId) -> Option<&str> {
        self.tasks
            .iter()
            .find(|(_, t)| &t.child == child)
            .map(|(id, _)| id.as_str())
    }

    /// A task the translator saw start.
    pub(crate) fn task(&self, task_id: &str) -> Option<&TaskInfo> {
        self.tasks.get(task_id)
    }

    /// The session a permission request of `asking` is shown on: the
    /// asking session itself when the client sees sub-agents, else the
    /// root.
    pub(crate) fn shown_on(&self, asking: &SessionId) -> SessionId {
        if self.subagents && self.sessions.contains_key(asking) {
            asking.clone()
        } else {
            self.root.clone()
        }
    }

    /// The title and kind of a call the translator saw start.
    pub(crate) fn call_shape(&self, call_id: &str) -> Option<&ToolShape> {
        self.calls.get(call_id).map(|c| &c.shape)
    }

    /// Announces a sub-agent that existed before the client attached
    /// (`session/load` of a tree with tasks): the same `subagent_update` a
    /// live spawn sends, with its current state.
    pub(crate) fn known_task(
        &mut self,
        task_id: &str,
        info: TaskInfo,
        title: &str,
        status: SessionStatus,
    ) -> Vec<SessionNotification> {
        self.tasks.insert(task_id.to_owned(), info.clone());
        if !self.subagents {
            return Vec::new();
        }
        let mut out = self.announce(&info.child, &info.parent);
        out.push(
            self.on(
                &info.parent,
                SessionUpdate::SubagentUpdate(
                    SubagentUpdate::new(acp_id(&info.child))
                        .title(title.to_owned())
                        .state(state_of(status)),
                ),
            ),
        );
        out
    }

    /// The updates for one event of the tree, in the order to send them.
    pub(crate) fn event(&mut self, ev: &Event) -> Vec<SessionNotification> {
        let session = &ev.session_id;
        match &ev.kind {
            EventKind::SessionCreated {
                parent_id: Some(parent),
                agent,
                ..
            } => {
                if !self.sessions.contains_key(parent) {
                    return Vec::new();
                }
                self.announce_as(session, parent, Some(format!("{agent} sub-agent")))
            }
            EventKind::TaskSpawned {
                task_id,
                child_session_id,
                agent,
                model,
                description,
                ..
            } => {
                self.tasks.insert(
                    task_id.clone(),
                    TaskInfo {
                        parent: session.clone(),
                        child: child_session_id.clone(),
                    },
                );
                if self.subagents {
                    if !self.sessions.contains_key(session) {
                        return Vec::new();
                    }
                    let mut out = self.announce(child_session_id, session);
                    out.push(
                        self.on(
                            session,
                            SessionUpdate::SubagentUpdate(
                                SubagentUpdate::new(acp_id(child_session_id))
                                    .title(description.clone())
                                    .description(format!("{agent} sub-agent on {model}")),
                            ),
                        ),
                    );
                    out
                } else if session == &self.root {
                    vec![
                        self.on(
                            session,
                            SessionUpdate::ToolCall(
                                ToolCall::new(task_id.clone(), format!("{agent}: {description}"))
                                    .kind(agent_client_protocol::v1::schema::ToolKind::Think)
                                    .status(ToolCallStatus::Pending)
                                    .raw_input(serde_json::json!({
                                        "agent": agent,
                                        "model": model,
                                        "description": description,
                                        "session_id": child_session_id.as_str(),
                                    })),
                            ),
                        ),
                    ]
                } else {
                    Vec::new()
                }
            }
            EventKind::TaskStarted { task_id } => {
                let Some(task) = self.tasks.get(task_id).cloned() else {
                    return Vec::new();
                };
                if self.subagents {
                    self.child_state(&task, StateUpdate::Running(RunningStateUpdate::new()))
                } else if task.parent == self.root {
                    vec![self.on(
                        &self.root.clone(),
                        SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                            task_id.clone(),
                            ToolCallUpdateFields::new().status(ToolCallStatus::InProgress),
                        )),
                    )]
                } else {
                    Vec::new()
                }
            }
            EventKind::SessionStatus { status } if session != &self.root => {
                let Some(task_id) = self.task_of(session).map(str::to_owned) else {
                    return Vec::new();
                };
                let Some(task) = self.tasks.get(&task_id).cloned() else {
                    return Vec::new();
                };
                if self.subagents {
                    self.child_state(&task, state_of(*status))
                } else {
                    Vec::new()
                }
            }
            _ if !self.visible(session) => Vec::new(),
            EventKind::TextDelta { delta } => vec![self.on(
                session,
                SessionUpdate::AgentMessageChunk(ContentChunk::new(text(delta))),
            )],
            EventKind::ReasoningDelta { delta } => vec![self.on(
                session,
                SessionUpdate::AgentThoughtChunk(ContentChunk::new(text(delta))),
            )],
            EventKind::ToolStarted {
                call_id,
                name,
                arguments,
            } => {
                let shape = tools::shape(name, arguments);
                let call = shape.tool_call(call_id.as_str().to_owned());
                self.calls.insert(
                    call_id.as_str().to_owned(),
                    CallInfo {
                        shape,
                        output: String::new(),
                    },
                );
                vec![self.on(session, SessionUpdate::ToolCall(call))]
            }
            EventKind::ToolOutput { call_id, delta } => {
                let Some(call) = self.calls.get_mut(call_id.as_str()) else {
                    return Vec::new();
                };
                call.output.push_str(delta);
                keep_end(&mut call.output, LIVE_OUTPUT_CAP);
                let content = call.shape.content_with(&call.output);
                vec![self.on(
                    session,
                    SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                        call_id.as_str().to_owned(),
                        ToolCallUpdateFields::new().content(content),
                    )),
                )]
            }
            EventKind::ToolCompleted {
                call_id,
                is_error,
                output,
                ..
            } => {
                let call = self.calls.remove(call_id.as_str()).unwrap_or_default();
                let status = if *is_error {
                    ToolCallStatus::Failed
                } else {
                    ToolCallStatus::Completed
                };
                vec![
                    self.on(
                        session,
                        SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                            call_id.as_str().to_owned(),
                            ToolCallUpdateFields::new()
                                .status(status)
                                .content(call.shape.content_with(output))
                                .raw_output(serde_json::json!({ "output": output })),
                        )),
                    ),
                ]
            }
            EventKind::MessageQueued {
                message_id,
                text: body,
            } if session != &self.root => {
                // A message to a sub-agent comes from its parent (the task's
                // prompt, `task_send`): one view in each transcript.
                let Some(Some(parent)) = self.sessions.get(session).cloned() else {
                    return Vec::new();
                };
                let incoming = message_id.as_str().to_owned();
                let outgoing = format!("{incoming}-sent");
                vec![
                    self.on(
                        &parent,
                        SessionUpdate::SessionMessage(
                            SessionMessage::new(outgoing.clone())
                                .sender_session_id(acp_id(&parent))
                                .recipient_session_id(acp_id(session))
                                .recipient_message_id(AcpMessageId::new(incoming.clone()))
                                .content(vec![text(body)]),
                        ),
                    ),
                    self.on(
                        session,
                        SessionUpdate::SessionMessage(
                            SessionMessage::new(incoming.clone())
                                .sender_session_id(acp_id(&parent))
                                .recipient_session_id(acp_id(session))
                                .sender_message_id(AcpMessageId::new(outgoing.clone()))
                                .content(vec![text(body)]),
                        ),
                    ),
                ]
            }
            EventKind::SessionUpdated { agent, title, .. } => {
                let mut out = Vec::new();
                if let Some(title) = title {
                    out.push(
                        self.on(
                            session,
                            SessionUpdate::SessionInfoUpdate(
                                agent_client_protocol::v1::schema::SessionInfoUpdate::new()
                                    .title(title.clone()),
                            ),
                        ),
                    );
                }
                // The root's modes are the agents it can run.
                if *session == self.root {
                    out.push(self.on(
                        session,
                        SessionUpdate::CurrentModeUpdate(
                            agent_client_protocol::v1::schema::CurrentModeUpdate::new(
                                agent.clone(),
                            ),
                        ),
                    ));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// A task ended: without sub-agent sessions, its tool call on the root
    /// closes with its result. (With them, the child's state already went
    /// idle from its own status, and the result arrives as a message when
    /// the parent reads it.)
    pub(crate) fn task_ended(
        &self,
        task_id: &str,
        status: SessionStatus,
        result: Option<&str>,
    ) -> Vec<SessionNotification> {
        let Some(task) = self.tasks.get(task_id) else {
            return Vec::new();
        };
        if self.subagents || task.parent != self.root {
            return Vec::new();
        }
        let done = if status == SessionStatus::Completed {
            ToolCallStatus::Completed
        } else {
            ToolCallStatus::Failed
        };
        let summary = result.map_or_else(|| format!("the task ended {status}"), str::to_owned);
        vec![
            self.on(
                &self.root,
                SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                    task_id.to_owned(),
                    ToolCallUpdateFields::new()
                        .status(done)
                        .content(vec![ToolCallContent::from(text(&summary))]),
                )),
            ),
        ]
    }

    /// A task's result was handed to its parent: with sub-agent sessions,
    /// a message from the child in the parent's transcript.
    pub(crate) fn result_delivered(&self, task_id: &str, result: &str) -> Vec<SessionNotification> {
        let Some(task) = self.tasks.get(task_id) else {
            return Vec::new();
        };
        if !self.subagents || !self.sessions.contains_key(&task.parent) {
            return Vec::new();
        }
        vec![
            self.on(
                &task.parent,
                SessionUpdate::SessionMessage(
                    SessionMessage::new(format!("{task_id}-result"))
                        .sender_session_id(acp_id(&task.child))
                        .recipient_session_id(acp_id(&task.parent))
                        .content(vec![text(result)]),
                ),
            ),
        ]
    }

    /// Whether a session's own traffic goes to the client.
    fn visible(&self, session: &SessionId) -> bool {
        session == &self.root || (self.subagents && self.sessions.contains_key(session))
    }

    /// The first `subagent_update` for a child, on its parent; nothing if
    /// the client already knows it (or does not see sub-agents).
    fn announce(&mut self, child: &SessionId, parent: &SessionId) -> Vec<SessionNotification> {
        self.announce_as(child, parent, None)
    }

    /// The same, with the child's description when it is known.
    fn announce_as(
        &mut self,
        child: &SessionId,
        parent: &SessionId,
        description: Option<String>,
    ) -> Vec<SessionNotification> {
        if !self.subagents || self.sessions.contains_key(child) {
            return Vec::new();
        }
        self.sessions.insert(child.clone(), Some(parent.clone()));
        let mut update = SubagentUpdate::new(acp_id(child)).capabilities(
            SubagentSessionCapabilities::new().cancel(SessionCancelCapabilities::new()),
        );
        if let Some(description) = description {
            update = update.description(description);
        }
        vec![self.on(parent, SessionUpdate::SubagentUpdate(update))]
    }

    /// A child's state, on its parent.
    fn child_state(&self, task: &TaskInfo, state: StateUpdate) -> Vec<SessionNotification> {
        if !self.sessions.contains_key(&task.child) {
            return Vec::new();
        }
        vec![self.on(
            &task.parent,
            SessionUpdate::SubagentUpdate(SubagentUpdate::new(acp_id(&task.child)).state(state)),
        )]
    }

    fn on(&self, session: &SessionId, update: SessionUpdate) -> SessionNotification {
        SessionNotification::new(acp_id(session), update)
    }
}

/// A baton session id as an ACP one (the same string).
pub(crate) fn acp_id(id: &SessionId) -> AcpSessionId {
    AcpSessionId::new(id.as_str().to_owned())
}

/// A text content block.
pub(crate) fn text(s: &str) -> ContentBlock {
    ContentBlock::Text(TextContent::new(s))
}

/// A sub-agent's status as its ACP state.
fn state_of(status: SessionStatus) -> StateUpdate {
    let idle = |reason| StateUpdate::Idle(IdleStateUpdate::new().stop_reason(reason));
    match status {
        SessionStatus::Running | SessionStatus::Queued | SessionStatus::Waiting => {
            StateUpdate::Running(RunningStateUpdate::new())
        }
        SessionStatus::AwaitingPermission => {
            StateUpdate::RequiresAction(RequiresActionStateUpdate::new())
        }
        SessionStatus::Idle | SessionStatus::Completed => idle(IdleStopReason::EndTurn),
        SessionStatus::Cancelled | SessionStatus::Interrupted => idle(IdleStopReason::Cancelled),
        SessionStatus::Failed => idle(IdleStopReason::Error(Default::default())),
    }
}

/// Keeps the last `cap` bytes of `s`, cut at a character boundary.
fn keep_end(s: &mut String, cap: usize) {
    if s.len() <= cap {
        return;
    }
    let mut start = s.len() - cap;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s.drain(..start);
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::CallId;

    fn ev(seq: u64, session: &str, kind: EventKind) -> Event {
        Event {
            seq,
            ts: baton_protocol::now(),
            session_id: SessionId::from(session),
            kind,
        }
    }

    fn json(n: &SessionNotification) -> serde_json::Value {
        serde_json::to_value(n).unwrap_or_default()
    }

    fn spawn_events() -> Vec<Event> {
        vec![
            ev(
                1,
                "ses_child",
                EventKind::SessionCreated {
                    parent_id: Some(SessionId::from("ses_root")),
                    agent: "general".into(),
                    model: "mock/m".into(),
                    cwd: "/p".into(),
                },
            ),
            ev(
                2,
                "ses_root",
                EventKind::TaskSpawned {
                    task_id: "task_1".into(),
                    child_session_id: SessionId::from("ses_child"),
                    agent: "general".into(),
                    model: "mock/m".into(),
                    description: "run the tests".into(),
                    name: None,
                    after: Vec::new(),
                },
            ),
            ev(
                3,
                "ses_root",
                EventKind::TaskStarted {
                    task_id: "task_1".into(),
                },
            ),
            ev(
                4,
                "ses_child",
                EventKind::TextDelta {
                    delta: "working".into(),
                },
            ),
        ]
    }

    #[test]
    fn a_sub_agent_is_announced_on_its_parent_before_any_of_its_traffic() {
        let mut t = Translator::new(SessionId::from("ses_root"), true);
        let out: Vec<serde_json::Value> = spawn_events()
            .iter()
            .flat_map(|e| t.event(e))
            .map(|n| json(&n))
            .collect();
        assert_eq!(out[0]["sessionId"], "ses_root");
        assert_eq!(out[0]["update"]["sessionUpdate"], "subagent_update");
        assert_eq!(out[0]["update"]["sessionId"], "ses_child");
        assert!(out[0]["update"]["capabilities"]["cancel"].is_object());
        assert_eq!(out[1]["update"]["title"], "run the tests");
        assert_eq!(out[2]["update"]["state"]["state"], "running", "{}", out[2]);
        let last = out.last().unwrap_or(&serde_json::Value::Null);
        assert_eq!(last["sessionId"], "ses_child");
        assert_eq!(last["update"]["sessionUpdate"], "agent_message_chunk");
        assert_eq!(last["update"]["content"]["text"], "working");
    }

    #[test]
    fn without_the_capability_a_task_is_a_tool_call_of_the_root() {
        let mut t = Translator::new(SessionId::from("ses_root"), false);
        let out: Vec<serde_json::Value> = spawn_events()
            .iter()
            .flat_map(|e| t.event(e))
            .map(|n| json(&n))
            .collect();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0]["update"]["sessionUpdate"], "tool_call");
        assert_eq!(out[0]["update"]["toolCallId"], "task_1");
        assert_eq!(out[0]["update"]["title"], "general: run the tests");
        assert_eq!(out[1]["update"]["status"], "in_progress");
        let ended = t.task_ended("task_1", SessionStatus::Completed, Some("all green"));
        let ended = json(&ended[0]);
        assert_eq!(ended["update"]["status"], "completed");
        assert_eq!(
            ended["update"]["content"][0]["content"]["text"],
            "all green"
        );
    }

    #[test]
    fn a_command_streams_its_output_and_ends_with_its_result() {
        let mut t = Translator::new(SessionId::from("ses_root"), false);
        let call = CallId::from("call_1");
        let started = t.event(&ev(
            1,
            "ses_root",
            EventKind::ToolStarted {
                call_id: call.clone(),
                name: "bash".into(),
                arguments: r#"{"command":"seq 3"}"#.into(),
            },
        ));
        let started = json(&started[0]);
        assert_eq!(started["update"]["kind"], "execute");
        assert_eq!(started["update"]["status"], "in_progress");
        assert_eq!(started["update"]["title"], "seq 3");
        for (seq, delta) in [(2, "1\n"), (3, "2\n")] {
            t.event(&ev(
                seq,
                "ses_root",
                EventKind::ToolOutput {
                    call_id: call.clone(),
                    delta: delta.into(),
                },
            ));
        }
        let done = t.event(&ev(
            4,
            "ses_root",
            EventKind::ToolCompleted {
                call_id: call,
                name: "bash".into(),
                is_error: false,
                output: "1\n2\n3\n".into(),
            },
        ));
        let done = json(&done[0]);
        assert_eq!(done["update"]["status"], "completed");
        assert_eq!(done["update"]["content"][0]["content"]["text"], "1\n2\n3\n");
    }

    #[test]
    fn an_edit_is_a_diff() {
        let mut t = Translator::new(SessionId::from("ses_root"), false);
        let out = t.event(&ev(
            1,
            "ses_root",
            EventKind::ToolStarted {
                call_id: CallId::from("call_1"),
                name: "edit".into(),
                arguments: r#"{"path":"/p/a.txt","old_string":"old","new_string":"new"}"#.into(),
            },
        ));
        let out = json(&out[0]);
        assert_eq!(out["update"]["kind"], "edit");
        assert_eq!(out["update"]["content"][0]["type"], "diff");
        assert_eq!(out["update"]["content"][0]["oldText"], "old");
        assert_eq!(out["update"]["content"][0]["newText"], "new");
        assert_eq!(out["update"]["locations"][0]["path"], "/p/a.txt");
    }

    #[test]
    fn a_message_to_a_sub_agent_shows_in_both_transcripts() {
        let mut t = Translator::new(SessionId::from("ses_root"), true);
        for e in spawn_events() {
            t.event(&e);
        }
        let out = t.event(&ev(
            9,
            "ses_child",
            EventKind::MessageQueued {
                message_id: baton_protocol::MessageId::from("msg_1"),
                text: "skip the docs".into(),
            },
        ));
        let out: Vec<_> = out.iter().map(json).collect();
        assert_eq!(out[0]["sessionId"], "ses_root");
        assert_eq!(out[0]["update"]["sessionUpdate"], "session_message");
        assert_eq!(out[0]["update"]["recipientSessionId"], "ses_child");
        assert_eq!(out[1]["sessionId"], "ses_child");
        assert_eq!(out[1]["update"]["senderSessionId"], "ses_root");
        assert_eq!(out[1]["update"]["content"][0]["text"], "skip the docs");
    }

    #[test]
    fn keeping_the_end_cuts_at_a_character() {
        let mut s = "ééé".to_owned();
        keep_end(&mut s, 3);
        assert_eq!(s, "é");
    }
}
