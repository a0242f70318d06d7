//! One task per session tree the client opened: it follows the tree's
//! event stream, sends the client its updates in order, answers the
//! tree's prompt turns and asks the client for permission.
//!
//! Commands (a prompt, a cancel) come to the task over a channel, so a
//! prompt is sent to the engine by the same task that reads the events:
//! the `message.queued` that opens a prompt turn can never be read before
//! the turn is known.

use crate::permission;
use crate::updates::{TaskInfo, Translator};
use agent_client_protocol::v1::schema::{
    ConfigOptionUpdate, PromptResponse, SessionNotification, SessionUpdate, StopReason,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{Client as AcpClient, Error as AcpError, ErrorCode};
use baton_client::{Client, EventStream, StreamItem};
use baton_protocol::{Event, EventKind, MessageId, Role, SessionId};
use futures::StreamExt;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the connection asks of a tree.
pub(crate) enum Command {
    /// `session/prompt` on the root.
    Prompt {
        /// The prompt, as text.
        text: String,
        /// Answered when the turn it starts ends.
        responder: Box<Responder<PromptResponse>>,
    },
    /// `session/cancel` of a session; the tree acts if it is its root or
    /// one of its sub-agents.
    Cancel(SessionId),
}

/// A prompt turn not answered yet.
struct Pending {
    responder: Responder<PromptResponse>,
    /// The `seq` of its `message.queued`.
    seq: u64,
    message_id: Option<MessageId>,
    /// The session took the message (a turn is answering it).
    taken: bool,
    /// The client cancelled it.
    cancelled: bool,
    /// Why the last turn after it ended, and the last error reported.
    reason: Option<String>,
    error: Option<String>,
}

/// The task that serves one tree.
pub(crate) struct TreeTask {
    client: Arc<dyn Client>,
    cx: ConnectionTo<AcpClient>,
    root: SessionId,
    translator: Translator,
    prompt: Option<Pending>,
}

impl TreeTask {
    /// The task for the tree under `root`.
    pub(crate) fn new(
        client: Arc<dyn Client>,
        cx: ConnectionTo<AcpClient>,
        root: SessionId,
        translator: Translator,
    ) -> Self {
        Self {
            client,
            cx,
            root,
            translator,
            prompt: None,
        }
    }

    /// Serves the tree until the connection or the stream ends.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: EventStream,
    ) -> Result<(), AcpError> {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(command).await,
                    None => return Ok(()),
                },
                item = events.next() => match item {
                    Some(Ok(StreamItem::Event(ev))) => self.event(&ev).await?,
                    Some(Ok(StreamItem::Resync(r))) => tracing::warn!(
                        "acp: events {}..{} of the tree were lost; the client misses their updates",
                        r.after + 1,
                        r.next
                    ),
                    Some(Err(e)) => {
                        self.fail(format!("the engine's event stream failed: {e}"));
                        return Ok(());
                    }
                    None => {
                        self.fail("the engine's event stream ended".into());
                        return Ok(());
                    }
                },
            }
        }
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::Prompt { text, responder } => self.prompt(text, *responder).await,
            Command::Cancel(session) => self.cancel(&session).await,
        }
    }

    async fn prompt(&mut self, text: String, responder: Responder<PromptResponse>) {
        if self.prompt.is_some() {
            respond_error(
                responder,
                AcpError::new(
                    ErrorCode::INVALID_REQUEST,
                    "a prompt is already running in this session; wait for its answer or cancel it",
                ),
            );
            return;
        }
        match self.client.send_message(&self.root, &text).await {
            Ok(accepted) => {
                self.prompt = Some(Pending {
                    responder,
                    seq: accepted.seq,
                    message_id: None,
                    taken: false,
                    cancelled: false,
                    reason: None,
                    error: None,
                });
            }
            Err(e) => respond_error(
                responder,
                AcpError::new(ErrorCode::INVALID_PARAMS, e.to_string()),
            ),
        }
    }

    async fn cancel(&mut self, session: &SessionId) {
        if session == &self.root {
            if let Some(p) = &mut self.prompt {
                p.cancelled = true;
            }
            if let Err(e) = self.client.interrupt(session).await {
                tracing::warn!("acp: could not interrupt {session}: {e}");
            }
        } else if let Some(task) = self.translator.task_of(session).map(str::to_owned)
            && let Err(e) = self.client.cancel_task(&task.as_str().into()).await
        {
            tracing::warn!("acp: could not cancel task {task}: {e}");
        }
    }

    async fn event(&mut self, ev: &Event) -> Result<(), AcpError> {
        let mut out = Vec::new();
        match &ev.kind {
            EventKind::PermissionRequested {
                request_id,
                tool,
                call_id,
                detail,
                pattern,
                agent,
            } => {
                let ask = permission::Ask {
                    request: request_id.clone(),
                    session: self.translator.shown_on(&ev.session_id),
                    call_id: call_id.as_str().to_owned(),
                    shape: self.translator.call_shape(call_id.as_str()).cloned(),
                    tool: tool.clone(),
                    detail: detail.clone(),
                    pattern: pattern.clone(),
                    agent: agent.clone(),
                };
                permission::spawn(&self.cx, self.client.clone(), ask)?;
            }
            EventKind::TaskCompleted { task_id, status } => {
                out.extend(self.translator.event(ev));
                let result = task_result(self.client.as_ref(), task_id).await;
                out.extend(
                    self.translator
                        .task_ended(task_id, *status, result.as_deref()),
                );
                return self.send_then_settle(ev, out);
            }
            EventKind::SessionUpdated { model, .. } if ev.session_id == self.root => {
                // The model can change with the agent, or from another
                // client: the client's model option follows.
                match self.client.models().await {
                    Ok(models) => out.push(SessionNotification::new(
                        crate::updates::acp_id(&self.root),
                        SessionUpdate::ConfigOptionUpdate(ConfigOptionUpdate::new(
                            crate::options::config(model, &models),
                        )),
                    )),
                    Err(e) => tracing::warn!("acp: could not list the models: {e}"),
                }
            }
            EventKind::NotificationDelivered { source_id } => {
                let delivered_to_parent = self
                    .translator
                    .task(source_id)
                    .is_some_and(|TaskInfo { parent, .. }| parent == &ev.session_id);
                if delivered_to_parent
                    && let Some(result) = task_result(self.client.as_ref(), source_id).await
                {
                    out.extend(self.translator.result_delivered(source_id, &result));
                }
            }
            _ => {}
        }
        out.extend(self.translator.event(ev));
        self.send_then_settle(ev, out)
    }

    /// Sends the event's updates, then answers the prompt turn if the
    /// event ends it (so every update of a turn precedes its answer).
    fn send_then_settle(
        &mut self,
        ev: &Event,
        out: Vec<SessionNotification>,
    ) -> Result<(), AcpError> {
        for n in out {
            self.cx.send_notification(n)?;
        }
        if ev.session_id == self.root {
            self.settle(ev);
        }
        Ok(())
    }

    /// Follows the prompt turn through the root's events.
    fn settle(&mut self, ev: &Event) {
        let Some(p) = &mut self.prompt else { return };
        if ev.seq < p.seq {
            return;
        }
        match &ev.kind {
            EventKind::MessageQueued { message_id, .. } if ev.seq == p.seq => {
                p.message_id = Some(message_id.clone());
            }
            EventKind::MessageCompleted {
                message_id,
                role: Role::User,
                ..
            } if p.message_id.as_ref().is_none_or(|id| id == message_id) => p.taken = true,
            EventKind::MessageWithdrawn { message_ids }
                if p.message_id
                    .as_ref()
                    .is_some_and(|id| message_ids.contains(id)) =>
            {
                self.answer(Ok(StopReason::Cancelled));
            }
            EventKind::TurnCompleted { reason, .. } if p.taken => p.reason = Some(reason.clone()),
            EventKind::Error { message } => p.error = Some(message.clone()),
            EventKind::SessionIdle {} if p.taken => {
                let outcome = if p.cancelled {
                    Ok(StopReason::Cancelled)
                } else {
                    stop_reason(p.reason.as_deref(), p.error.as_deref())
                };
                self.answer(outcome);
            }
            _ => {}
        }
    }

    fn answer(&mut self, outcome: Result<StopReason, AcpError>) {
        let Some(p) = self.prompt.take() else { return };
        let sent = match outcome {
            Ok(reason) => p.responder.respond(PromptResponse::new(reason)),
            Err(e) => p.responder.respond_with_error(e),
        };
        if let Err(e) = sent {
            tracing::warn!("acp: could not answer a prompt: {e:?}");
        }
    }

    /// The stream is gone: an open prompt turn gets an error, not silence.
    fn fail(&mut self, why: String) {
        tracing::warn!("acp: {why}");
        self.answer(Err(AcpError::new(ErrorCode::INTERNAL_ERROR, why)));
    }
}

/// A task's result, once it ended.
async fn task_result(client: &dyn Client, task_id: &str) -> Option<String> {
    match client.task(&task_id.into()).await {
        Ok(task) => task.result,
        Err(e) => {
            tracing::warn!("acp: could not read task {task_id}: {e}");
            None
        }
    }
}

/// How a turn that ended for `reason` answers its prompt.
fn stop_reason(reason: Option<&str>, error: Option<&str>) -> Result<StopReason, AcpError> {
    match reason {
        Some("max_steps") => Ok(StopReason::MaxTurnRequests),
        Some("cut_off") => Ok(StopReason::MaxTokens),
        Some("refused" | "blocked") => Ok(StopReason::Refusal),
        Some("cancelled") => Ok(StopReason::Cancelled),
        Some("error") => Err(AcpError::new(
            ErrorCode::INTERNAL_ERROR,
            error.unwrap_or("the turn failed").to_owned(),
        )),
        _ => Ok(StopReason::EndTurn),
    }
}

fn respond_error(responder: Responder<PromptResponse>, error: AcpError) {
    if let Err(e) = responder.respond_with_error(error) {
        tracing::warn!("acp: could not answer a prompt: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_a_turn_ends_answers_its_prompt() {
        let ok = |r| stop_reason(Some(r), None).ok();
        assert_eq!(ok("end_turn"), Some(StopReason::EndTurn));
        assert_eq!(ok("max_steps"), Some(StopReason::MaxTurnRequests));
        assert_eq!(ok("cut_off"), Some(StopReason::MaxTokens));
        assert_eq!(ok("refused"), Some(StopReason::Refusal));
        assert_eq!(ok("blocked"), Some(StopReason::Refusal));
        assert_eq!(ok("cancelled"), Some(StopReason::Cancelled));
        let failed = stop_reason(Some("error"), Some("the provider said no"));
        assert!(failed.is_err_and(|e| e.message.contains("the provider said no")));
    }
}
