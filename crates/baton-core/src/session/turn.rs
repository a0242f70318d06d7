//! The agent loop: one turn of a session, from the person's message to the
//! model's final answer.

use super::compact::Trigger;
use super::live::LiveSink;
use super::tool_context::{CallContext, SessionToolContext};
use super::{Inbound, SessionActor, WorkGuard};
use crate::error::EngineError;
use baton_llm::{ChatRequest, StopReason, StreamEvent, stream_with_retry};
use baton_protocol::{
    CallId, ContextTopic, EventKind, Message, Part, Role, SessionStatus, ToolCall, Usage,
};
use baton_store::{InputRecord, NoticeRecord};
use baton_tools::{BashSettings, PathPolicy, ToolOutcome};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Tool output longer than this is cut in `tool.completed` events (the
/// model still gets all of it).
const EVENT_OUTPUT_CAP: usize = 2_000;

/// The result of a call a cancel kept from starting.
const NOT_STARTED: &str = "cancelled: the run was interrupted before this call started";

/// The note after an answer the person interrupted.
const INTERRUPTED: &str = "The person interrupted your previous answer at this point; it was \
                           not finished. Do not continue it unless they ask you to.";

/// How many times in a turn an answer cut off at the output limit is
/// continued before the turn ends as cut off.
const MAX_CONTINUATIONS: u32 = 2;

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TurnEnd {
    /// The model answered without calling tools.
    EndTurn,
    /// The step limit was reached.
    MaxSteps,
    /// The answer hit the output limit more often than it may be continued.
    CutOff,
    /// The model (or the provider's filter) refused to answer.
    Refused,
    /// Someone cancelled.
    Cancelled,
    /// A UserPromptSubmit hook refused every message the turn was for.
    Blocked,
    /// The provider or the store failed.
    Error,
}

impl TurnEnd {
    fn as_str(self) -> &'static str {
        match self {
            Self::EndTurn => "end_turn",
            Self::MaxSteps => "max_steps",
            Self::CutOff => "cut_off",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
            Self::Blocked => "blocked",
            Self::Error => "error",
        }
    }

    fn status(self) -> SessionStatus {
        match self {
            Self::EndTurn | Self::Blocked => SessionStatus::Idle,
            Self::MaxSteps | Self::CutOff | Self::Refused | Self::Error => SessionStatus::Failed,
            Self::Cancelled => SessionStatus::Cancelled,
        }
    }
}

/// What one model call produced.
enum StepResult {
    Answer {
        /// Reasoning parts, kept ahead of the text.
        reasoning: Vec<Part>,
        text: String,
        calls: Vec<ToolCall>,
        usage: Usage,
        stop: StopReason,
    },
    /// Someone interrupted the call; the answer's text streamed so far
    /// (since the last retry).
    Cancelled(String),
    Failed(String),
    /// The provider refused the request as longer than the model's window.
    TooLong(String),
}

impl SessionActor {
    /// Runs one turn for the given messages and notices (and whatever
    /// arrives while it runs, taken at step boundaries, whose units of
    /// work join `work`).
    pub(super) async fn run_turn(
        &mut self,
        messages: Vec<(u64, InputRecord)>,
        notices: Vec<NoticeRecord>,
        work: &mut Vec<WorkGuard>,
    ) {
        let last = messages.iter().map(|m| m.0).max().unwrap_or(0);
        let cancel = self.control.new_turn_token(last);
        self.set_status(SessionStatus::Running).await;
        self.services
            .emit(&self.record.id, EventKind::TurnStarted {});
        let mut usage = Usage::default();
        let mut steps = 0u32;
        let first = Inbox {
            messages: messages.into_iter().map(|m| m.1).collect(),
            notices,
        };
        let end = self
            .turn_loop(first, &cancel, &mut usage, &mut steps, work)
            .await;
        if end == TurnEnd::MaxSteps {
            self.report_error(&format!(
                "stopped after {steps} model calls: the step limit ({}) was reached",
                self.max_steps()
            ));
        }
        self.control.set_doing("idle");
        self.set_status(end.status()).await;
        self.services.emit(
            &self.record.id,
            EventKind::TurnCompleted {
                steps,
                usage,
                reason: end.as_str().to_owned(),
            },
        );
    }

    /// Adds what arrived to the conversation: notices first (they
    /// happened earlier), then messages, each after its UserPromptSubmit
    /// hooks. Returns whether there is anything to answer: a notice, or a
    /// message no hook refused.
    async fn take(&mut self, inbox: Inbox) -> Result<bool, EngineError> {
        let mut answerable = !inbox.notices.is_empty();
        self.deliver_notices(inbox.notices).await?;
        for input in inbox.messages {
            let hooks = self.prompt_hooks(&input).await;
            if !self.take_input(input).await? {
                continue;
            }
            match hooks {
                Ok(context) => {
                    answerable = true;
                    for text in context {
                        let text = format!("A UserPromptSubmit hook adds:\n{text}");
                        self.append_context(ContextTopic::Note, text).await?;
                    }
                }
                Err(why) => {
                    // Kept (nothing the person typed is lost), but the model
                    // is told not to act on it, and the person why.
                    let note = format!(
                        "A UserPromptSubmit hook refused the message above, so it is not to be \
                         answered or acted on: {why}"
                    );
                    self.append_context(ContextTopic::Note, note).await?;
                    self.report_error(&format!(
                        "a UserPromptSubmit hook refused the message: {why}"
                    ));
                }
            }
        }
        Ok(answerable)
    }

    /// Everything waiting in the mailbox now; each item's unit of work
    /// joins `work` and ends with the turn.
    fn drain_inbox(&mut self, work: &mut Vec<WorkGuard>) -> Inbox {
        let mut inbox = Inbox::default();
        while let Ok(item) = self.inbox.try_recv() {
            match item {
                Inbound::Message {
                    input, work: unit, ..
                } => {
                    work.push(unit);
                    inbox.messages.push(input);
                }
                Inbound::Notice { notice, work: unit } => {
                    work.push(unit);
                    inbox.notices.push(notice);
                }
                Inbound::Compact { work: unit } => {
                    work.push(unit);
                    self.compact_asked = true;
                }
            }
        }
        inbox
    }

    fn max_steps(&self) -> u32 {
        self.agent
            .max_steps
            .unwrap_or(self.services.config.agent.max_steps)
            .max(1)
    }

    /// The session's own effort (a task's), else its agent's, else the
    /// config's.
    fn reasoning_effort(&self) -> Option<baton_llm::ReasoningEffort> {
        self.record
            .reasoning_effort
            .or(self.agent.reasoning_effort)
            .or(self.services.config.agent.reasoning_effort)
    }

    async fn turn_loop(
        &mut self,
        first: Inbox,
        cancel: &CancellationToken,
        usage: &mut Usage,
        steps: &mut u32,
        work: &mut Vec<WorkGuard>,
    ) -> TurnEnd {
        // What changed around the session is told first, so that what
        // arrived stays the latest word in the conversation.
        let told = match self.restate_environment().await {
            Ok(()) => self.restate_tasks().await,
            Err(e) => Err(e),
        };
        if let Err(e) = told {
            self.report_error(&format!("could not store the session's context: {e}"));
            return TurnEnd::Error;
        }
        match self.take(first).await {
            Ok(true) => {}
            Ok(false) => return TurnEnd::Blocked,
            Err(e) => {
                self.report_error(&format!("could not store the message: {e}"));
                return TurnEnd::Error;
            }
        }
        let ctx = self.tool_context(cancel.clone());
        let mut continuations = 0u32;
        let mut stop_blocks = 0u32;
        let mut overflowed = false;
        loop {
            if cancel.is_cancelled() {
                return TurnEnd::Cancelled;
            }
            // Step boundary: messages and notices that arrived meanwhile
            // join the turn, before the next model call.
            let arrived = self.drain_inbox(work);
            if !arrived.is_empty()
                && let Err(e) = self.restate_tasks().await
            {
                self.report_error(&format!("could not store the task list: {e}"));
                return TurnEnd::Error;
            }
            if let Err(e) = self.take(arrived).await {
                self.report_error(&format!("could not store what arrived: {e}"));
                return TurnEnd::Error;
            }
            // A model chosen meanwhile applies from this call on.
            if let Err(e) = self.take_settings().await {
                self.report_error(&format!("could not read the session's settings: {e}"));
                return TurnEnd::Error;
            }
            if let Some(end) = self.compact_at_boundary(cancel).await {
                return end;
            }
            if *steps >= self.max_steps() {
                return TurnEnd::MaxSteps;
            }
            *steps += 1;
            self.control.set_doing(format!("thinking (step {steps})"));
            self.services.emit(
                &self.record.id,
                EventKind::StepStarted {
                    step: *steps,
                    model: self.record.model.clone(),
                },
            );
            let request = ChatRequest {
                model: self.model.model.clone(),
                system: self.system.clone(),
                // The provider layer repairs what a crash may have left (calls
                // without results) before sending.
                messages: self.history.clone(),
                tools: self.tool_specs.clone(),
                max_tokens: self.services.config.agent.max_output_tokens,
                temperature: self.agent.temperature,
                reasoning: self.reasoning_effort(),
                images: self
                    .model_info
                    .as_ref()
                    .and_then(|info| info.images)
                    .unwrap_or(false),
            };
            let (reasoning, text, calls, step_usage, stop) =
                match self.call_model(request, cancel).await {
                    StepResult::Answer {
                        reasoning,
                        text,
                        calls,
                        usage,
                        stop,
                    } => (reasoning, text, calls, usage, stop),
                    StepResult::Cancelled(partial) => {
                        self.keep_interrupted(partial).await;
                        return TurnEnd::Cancelled;
                    }
                    StepResult::Failed(message) => {
                        self.report_error(&message);
                        return TurnEnd::Error;
                    }
                    StepResult::TooLong(message) if !overflowed => {
                        // Compacted, then tried once more; never a loop.
                        overflowed = true;
                        match self.compact(Trigger::Overflow, cancel).await {
                            Ok(true) => continue,
                            Ok(false) => {
                                self.report_error(&format!(
                                    "{message} (and there is no earlier part to compact)"
                                ));
                                return TurnEnd::Error;
                            }
                            Err(_) if cancel.is_cancelled() => return TurnEnd::Cancelled,
                            Err(e) => {
                                self.report_error(&format!("{message}; {e}"));
                                return TurnEnd::Error;
                            }
                        }
                    }
                    StepResult::TooLong(message) => {
                        self.report_error(&format!(
                            "{message} (even after compacting the conversation)"
                        ));
                        return TurnEnd::Error;
                    }
                };
            *usage += step_usage;
            self.tasks
                .charge(&self.record.id, &self.lineage, &step_usage);
            let mut parts = reasoning;
            if !text.is_empty() {
                parts.push(Part::Text { text });
            }
            parts.extend(calls.iter().cloned().map(Part::ToolCall));
            if parts.is_empty() {
                if stop == StopReason::MaxTokens {
                    self.report_cut_off();
                    return TurnEnd::CutOff;
                }
                // An empty answer ends the turn; storing it would leave a
                // message providers refuse to be sent back. Its usage still
                // counts.
                if let Err(e) = self
                    .services
                    .store
                    .add_usage(&self.record.id, &step_usage)
                    .await
                {
                    tracing::warn!("could not store usage: {e}");
                }
                self.announce_step(*steps, step_usage).await;
                return TurnEnd::EndTurn;
            }
            let mut message = Message::new(self.record.id.clone(), Role::Assistant, parts);
            message.model = Some(self.record.model.clone());
            message.usage = Some(step_usage);
            // Its usage counts toward the session's totals in the same write.
            if let Err(e) = self.store_message(message).await {
                self.report_error(&format!("could not store the answer: {e}"));
                return TurnEnd::Error;
            }
            self.announce_step(*steps, step_usage).await;
            if stop == StopReason::Refusal {
                self.report_error(&format!(
                    "the model refused to answer ({} stopped it: refusal)",
                    self.model.provider
                ));
                return TurnEnd::Refused;
            }
            let cut_off = stop == StopReason::MaxTokens;
            if calls.is_empty() {
                match stop {
                    StopReason::MaxTokens if continuations < MAX_CONTINUATIONS => {
                        continuations += 1;
                        let note = format!(
                            "Your answer was cut off at the output limit ({} tokens). Continue \
                             exactly where it stopped, without repeating what you wrote.",
                            self.services.config.agent.max_output_tokens
                        );
                        if let Err(e) = self.append_context(ContextTopic::Note, note).await {
                            self.report_error(&format!("could not store a note: {e}"));
                            return TurnEnd::Error;
                        }
                        continue;
                    }
                    StopReason::MaxTokens => {
                        self.report_cut_off();
                        return TurnEnd::CutOff;
                    }
                    // The provider paused a long turn: sending the answer
                    // back as it is lets the model go on.
                    StopReason::PauseTurn => continue,
                    _ => {
                        let Some(why) = self.stop_hooks(stop_blocks).await else {
                            return TurnEnd::EndTurn;
                        };
                        stop_blocks += 1;
                        let note = format!(
                            "A hook did not let the turn end yet; go on. Its reason: {why}"
                        );
                        if let Err(e) = self.append_context(ContextTopic::Note, note).await {
                            self.report_error(&format!("could not store a note: {e}"));
                            return TurnEnd::Error;
                        }
                        continue;
                    }
                }
            }
            let results = self.run_step_calls(&calls, cut_off, &ctx, cancel).await;
            // Its results count as the session's tool calls in the same
            // write.
            let message = Message::new(self.record.id.clone(), Role::Tool, results);
            if let Err(e) = self.store_message(message).await {
                self.report_error(&format!("could not store tool results: {e}"));
                return TurnEnd::Error;
            }
        }
    }

    /// At a step boundary: a compaction someone asked for, or one the
    /// window needs. Returns how the turn ends if it cannot go on.
    async fn compact_at_boundary(&mut self, cancel: &CancellationToken) -> Option<TurnEnd> {
        let result = if std::mem::take(&mut self.compact_asked) {
            self.compact(Trigger::Manual, cancel).await.map(|_| ())
        } else {
            self.compact_if_needed(cancel).await
        };
        match result {
            Ok(()) => None,
            Err(_) if cancel.is_cancelled() => Some(TurnEnd::Cancelled),
            Err(e) => {
                self.report_error(&e);
                Some(TurnEnd::Error)
            }
        }
    }

    /// Announces a model call whose answer (and usage) is stored, with the
    /// session's own stored total after it.
    async fn announce_step(&self, step: u32, usage: Usage) {
        let session_usage = match self.services.store.get_session(&self.record.id).await {
            Ok(Some(record)) => record.usage,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("could not read the session's usage: {e}");
                return;
            }
        };
        self.services.emit(
            &self.record.id,
            EventKind::StepCompleted {
                step,
                usage,
                session_usage,
            },
        );
    }

    /// Keeps what the model had written of an answer someone interrupted:
    /// the text, stored as the assistant's message (so it shows in the
    /// history and the model reads it), then a note telling the model the
    /// person stopped it there. An answer with no text yet keeps nothing.
    async fn keep_interrupted(&mut self, partial: String) {
        if partial.trim().is_empty() {
            return;
        }
        let mut message = Message::new(
            self.record.id.clone(),
            Role::Assistant,
            vec![Part::Text { text: partial }],
        );
        message.model = Some(self.record.model.clone());
        let kept = match self.store_message(message).await {
            Ok(()) => {
                self.append_context(ContextTopic::Note, INTERRUPTED.to_owned())
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = kept {
            self.report_error(&format!("could not keep the interrupted answer: {e}"));
        }
    }

    fn report_cut_off(&self) {
        self.report_error(&format!(
            "the answer was cut off at the output limit ({} tokens) {MAX_CONTINUATIONS} times \
             after being continued; raise [agent] max_output_tokens or ask for less at once",
            self.services.config.agent.max_output_tokens
        ));
    }

    /// Runs a step's calls. In an answer cut off at the output limit, a
    /// call whose arguments are not complete JSON is not run: its result
    /// tells the model so.
    async fn run_step_calls(
        &self,
        calls: &[ToolCall],
        cut_off: bool,
        ctx: &SessionToolContext,
        cancel: &CancellationToken,
    ) -> Vec<Part> {
        let truncated = |c: &ToolCall| {
            cut_off && serde_json::from_str::<serde_json::Value>(&c.arguments).is_err()
        };
        let runnable: Vec<ToolCall> = calls.iter().filter(|c| !truncated(c)).cloned().collect();
        let mut results = self.run_tools(&runnable, ctx, cancel).await.into_iter();
        calls
            .iter()
            .map(|call| {
                if truncated(call) {
                    let output = "error: this call was cut off at the output limit before its \
                                  arguments were complete, so nothing was run. Send it again in \
                                  smaller pieces (for example, write a long file in several \
                                  edits)."
                        .to_owned();
                    // Shown like any call, so live and stored views agree.
                    self.services.emit(
                        &self.record.id,
                        EventKind::ToolStarted {
                            call_id: call.call_id.clone(),
                            name: call.name.clone(),
                            arguments: call.arguments.clone(),
                        },
                    );
                    self.services.emit(
                        &self.record.id,
                        EventKind::ToolCompleted {
                            call_id: call.call_id.clone(),
                            name: call.name.clone(),
                            is_error: true,
                            output: output.clone(),
                        },
                    );
                    Part::ToolResult {
                        call_id: call.call_id.clone(),
                        name: call.name.clone(),
                        output,
                        is_error: true,
                        images: Vec::new(),
                    }
                } else {
                    results.next().unwrap_or_else(|| Part::ToolResult {
                        call_id: call.call_id.clone(),
                        name: call.name.clone(),
                        output: NOT_STARTED.into(),
                        is_error: true,
                        images: Vec::new(),
                    })
                }
            })
            .collect()
    }

    fn tool_context(&self, cancel: CancellationToken) -> SessionToolContext {
        let cfg = &self.services.config.tools;
        let cwd = PathBuf::from(&self.record.cwd);
        SessionToolContext {
            session_id: self.record.id.to_string(),
            shells: self.services.shells.clone(),
            policy: PathPolicy::new(cwd.clone())
                .allow_outside(cfg.allow_outside_workdir)
                .with_extra_roots(cfg.extra_roots.clone()),
            working_dir: cwd,
            cancel,
            bash: BashSettings {
                default_timeout: Duration::from_millis(cfg.bash_timeout_ms),
                max_timeout: Duration::from_millis(cfg.bash_max_timeout_ms),
                timeout_to_background: cfg.bash_timeout_to_background,
                sandbox: self.sandbox_settings(),
                ..BashSettings::default()
            },
            todos: self.todos.clone(),
            files: self.services.files.clone(),
            tasks: self.tasks.clone(),
            lineage: self.lineage.clone(),
        }
    }

    /// Streams one model call, announcing text as it arrives.
    async fn call_model(&self, request: ChatRequest, cancel: &CancellationToken) -> StepResult {
        // Held for the whole call, retries included: the provider's
        // `max_concurrency` counts calls in flight. Waiters are served in
        // arrival order.
        let _permit = match self.services.provider_limit(&self.model.provider) {
            Some(limit) => tokio::select! {
                biased;
                () = cancel.cancelled() => return StepResult::Cancelled(String::new()),
                permit = limit.acquire_owned() => permit.ok(),
            },
            None => None,
        };
        let policy = self.services.config.retry.policy();
        let mut stream = stream_with_retry(self.provider.clone(), request, policy, cancel.clone());
        let mut reasoning: Vec<Part> = Vec::new();
        let mut text = String::new();
        let mut calls: Vec<ToolCall> = Vec::new();
        let mut usage = Usage::default();
        let mut stop = None;
        loop {
            let item = tokio::select! {
                biased;
                () = cancel.cancelled() => return StepResult::Cancelled(text),
                item = stream.next() => item,
            };
            let Some(item) = item else { break };
            match item {
                Ok(StreamEvent::TextDelta(delta)) => {
                    text.push_str(&delta);
                    self.services
                        .emit(&self.record.id, EventKind::TextDelta { delta });
                }
                Ok(StreamEvent::ReasoningDelta(delta)) => {
                    self.services
                        .emit(&self.record.id, EventKind::ReasoningDelta { delta });
                }
                Ok(StreamEvent::ReasoningCompleted(part)) => reasoning.push(part),
                Ok(StreamEvent::ToolCallStarted { .. } | StreamEvent::ToolCallDelta { .. }) => {}
                Ok(StreamEvent::ToolCallCompleted(call)) => calls.push(call),
                Ok(StreamEvent::Usage(u)) => usage = u,
                Ok(StreamEvent::Retrying {
                    attempt,
                    delay,
                    error,
                }) => {
                    reasoning.clear();
                    text.clear();
                    calls.clear();
                    usage = Usage::default();
                    self.services.emit(
                        &self.record.id,
                        EventKind::LlmRetry {
                            attempt,
                            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                            error,
                        },
                    );
                }
                Ok(StreamEvent::Done { stop_reason }) => stop = Some(stop_reason),
                Err(baton_llm::LlmError::Cancelled) => return StepResult::Cancelled(text),
                Err(e) if e.is_context_too_long() => return StepResult::TooLong(e.to_string()),
                Err(e) => return StepResult::Failed(e.to_string()),
            }
        }
        let Some(stop) = stop else {
            return StepResult::Failed(format!(
                "{}: the response ended without its final event",
                self.model.provider
            ));
        };
        if let Some(info) = &self.model_info {
            usage.cost_usd = info.cost(&usage);
        }
        unique_call_ids(&mut calls);
        StepResult::Answer {
            reasoning,
            text,
            calls,
            usage,
            stop,
        }
    }

    /// Runs the calls of one step: consecutive read-only calls together,
    /// everything else one at a time, results in call order. Calls not run
    /// because of a cancel get a result saying so.
    async fn run_tools(
        &self,
        calls: &[ToolCall],
        ctx: &SessionToolContext,
        cancel: &CancellationToken,
    ) -> Vec<Part> {
        let tools = self.tools.clone();
        let mut outcomes: Vec<Option<ToolOutcome>> = vec![None; calls.len()];
        let mut i = 0;
        while i < calls.len() && !cancel.is_cancelled() {
            let mut end = i + 1;
            if tools.is_read_only(&calls[i].name) {
                while end < calls.len() && tools.is_read_only(&calls[end].name) {
                    end += 1;
                }
            }
            let group = &calls[i..end];
            // Movable calls are registered before their start is announced,
            // so whoever sees the start can move them.
            let contexts: Vec<CallContext<'_>> = group
                .iter()
                .map(|c| CallContext {
                    turn: ctx,
                    call_id: c.call_id.to_string(),
                    to_background: self.movable(c),
                    live: Arc::new(LiveSink::new()),
                })
                .collect();
            for call in group {
                self.control.set_doing(format!(
                    "running {}: {}",
                    call.name,
                    brief(&call.arguments)
                ));
                self.services.emit(
                    &self.record.id,
                    EventKind::ToolStarted {
                        call_id: call.call_id.clone(),
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                    },
                );
            }
            let results = futures::future::join_all(group.iter().zip(&contexts).map(|(c, cx)| {
                let call = self.gated_dispatch(c, cx, cancel);
                cx.live
                    .drive(&self.services, &self.record.id, &c.call_id, call)
            }))
            .await;
            self.forget_movable(group);
            for (offset, (call, outcome)) in group.iter().zip(results).enumerate() {
                self.services.emit(
                    &self.record.id,
                    EventKind::ToolCompleted {
                        call_id: call.call_id.clone(),
                        name: call.name.clone(),
                        is_error: outcome.is_error,
                        output: cap(&outcome.output, EVENT_OUTPUT_CAP),
                    },
                );
                outcomes[i + offset] = Some(outcome);
            }
            i = end;
        }
        calls
            .iter()
            .zip(outcomes)
            .map(|(call, outcome)| {
                let outcome = outcome.unwrap_or_else(|| ToolOutcome::error(NOT_STARTED));
                Part::ToolResult {
                    call_id: call.call_id.clone(),
                    name: call.name.clone(),
                    output: outcome.output,
                    is_error: outcome.is_error,
                    images: outcome.images,
                }
            })
            .collect()
    }
}

/// What arrived in the mailbox, split by kind.
#[derive(Default)]
struct Inbox {
    messages: Vec<InputRecord>,
    notices: Vec<NoticeRecord>,
}

impl Inbox {
    fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.notices.is_empty()
    }
}

/// Tools whose running calls can be moved to the background.
const MOVABLE_TOOLS: &[&str] = &["bash", "task"];

impl SessionActor {
    /// Registers a call that can be moved to the background and returns
    /// its signal; `None` for calls that cannot.
    fn movable(&self, call: &ToolCall) -> Option<CancellationToken> {
        if !MOVABLE_TOOLS.contains(&call.name.as_str()) {
            return None;
        }
        Some(self.services.movable_calls.register(call.call_id.as_str()))
    }

    fn forget_movable(&self, calls: &[ToolCall]) {
        self.services
            .movable_calls
            .forget(calls.iter().map(|c| c.call_id.as_str()));
    }
}

/// A short, one-line view of a call's arguments for status displays.
fn brief(arguments: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(arguments).unwrap_or_default();
    let main = ["command", "description", "path", "pattern"]
        .iter()
        .find_map(|k| value.get(*k).and_then(|v| v.as_str()))
        .unwrap_or(arguments);
    let line = main.lines().next().unwrap_or("");
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Gives calls without an id, or with an id already used in the step, a
/// fresh one, so every result can be matched to its call.
fn unique_call_ids(calls: &mut [ToolCall]) {
    let mut seen = std::collections::HashSet::new();
    for call in calls {
        if call.call_id.as_str().is_empty() || !seen.insert(call.call_id.clone()) {
            call.call_id = CallId::generate();
            seen.insert(call.call_id.clone());
        }
    }
}

/// At most about `max` bytes of `s`: its start and its end (where a
/// command's last lines and exit code are), the middle replaced by a note,
/// cut at line breaks where there are some and never inside a character.
fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let half = max / 2;
    let mut head_end = half;
    while !s.is_char_boundary(head_end) {
        head_end -= 1;
    }
    if let Some(nl) = s[..head_end].rfind('\n') {
        head_end = nl + 1;
    }
    let mut tail_start = s.len() - half;
    while !s.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    if let Some(nl) = s[tail_start..].find('\n')
        && tail_start + nl + 1 < s.len()
    {
        tail_start += nl + 1;
    }
    format!(
        "{}… [{} {}\n{}",
        &s[..head_end],
        tail_start - head_end,
        baton_protocol::OUTPUT_CUT_NOTE,
        &s[tail_start..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_and_empty_call_ids_are_replaced() {
        let call = |id: &str| ToolCall {
            call_id: CallId::from(id),
            name: "read".into(),
            arguments: "{}".into(),
        };
        let mut calls = vec![call("a"), call("a"), call("")];
        unique_call_ids(&mut calls);
        assert_eq!(calls[0].call_id.as_str(), "a");
        assert_ne!(calls[1].call_id.as_str(), "a");
        assert!(!calls[2].call_id.as_str().is_empty());
    }

    /// A tool with a bug: it indexes past the end of its input.
    struct Crasher;

    #[async_trait::async_trait]
    impl baton_tools::Tool for Crasher {
        fn name(&self) -> &'static str {
            "crasher"
        }
        fn description(&self) -> String {
            "Panics.".to_owned()
        }
        fn parameters(&self) -> serde_json::Value {
            serde_json::json!({"type": "object", "properties": {}})
        }
        fn is_read_only(&self) -> bool {
            true
        }
        async fn call(
            &self,
            _args: serde_json::Value,
            _ctx: &dyn baton_tools::ToolContext,
        ) -> Result<String, baton_tools::ToolError> {
            let input: Vec<u8> = Vec::new();
            Ok(format!("{}", input[7]))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tool_that_panics_gives_an_error_result_and_the_turn_goes_on() {
        use crate::{AgentSet, AskMode, Config, Engine, EngineOptions, NewSession};
        use baton_mock_llm::{MockServer, Script};
        let script = r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "failed unexpectedly"
[rules.reply]
text = "The tool broke; carrying on."

[[rules]]
name = "call"
[rules.reply]
tool_calls = [{ id = "c1", name = "crasher", arguments = {} }]
"#;
        let mock = MockServer::start(Script::from_toml(script).unwrap())
            .await
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let engine = Engine::new(EngineOptions {
            home: home.path().to_path_buf(),
            config: Config::single_openai_provider("mock", mock.openai_base_url(), "m"),
            env: Box::new(|_| None),
            store: None,
            agents: AgentSet::builtin(),
            ask_mode: AskMode::Allow,
        })
        .await
        .unwrap();
        engine
            .services()
            .test_tools
            .lock()
            .unwrap()
            .push(std::sync::Arc::new(Crasher));
        let session = engine
            .create_session(NewSession {
                cwd: project.path().to_path_buf(),
                ..NewSession::default()
            })
            .await
            .unwrap()
            .id;
        engine.send_message(&session, "go").await.unwrap();
        engine.wait_quiet(&session).await.unwrap();

        let messages = engine.services().store.messages(&session).await.unwrap();
        let results: Vec<_> = messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter_map(|part| match part {
                Part::ToolResult {
                    output, is_error, ..
                } => Some((output.clone(), *is_error)),
                _ => None,
            })
            .collect();
        assert_eq!(results.len(), 1, "{results:?}");
        let (output, is_error) = &results[0];
        assert!(is_error);
        assert!(
            output.starts_with(
                "The tool `crasher` failed unexpectedly: index out of bounds: the len is 0 but \
                 the index is 7. This is a bug in baton"
            ),
            "{output}"
        );
        // The session answered after the failure and is ready for more.
        assert_eq!(
            messages.last().map(|m| m.text()),
            Some("The tool broke; carrying on.".to_owned())
        );
        let view = engine.session(&session).await.unwrap();
        assert_eq!(view.status, baton_protocol::SessionStatus::Idle);
    }

    #[test]
    fn cap_respects_char_boundaries() {
        let s = "é".repeat(10);
        let c = cap(&s, 5);
        assert!(c.starts_with("é"));
        assert!(c.ends_with("é"));
        assert!(c.contains("more bytes"));
        assert_eq!(cap("short", 10), "short");
    }

    #[test]
    fn cap_keeps_the_start_and_the_end_at_line_breaks() {
        let s: String = (1..=3000).map(|i| format!("n-{i}\n")).collect::<String>() + "exit code 0";
        let c = cap(&s, 1000);
        assert!(c.len() < 1100, "{}", c.len());
        assert!(c.starts_with("n-1\n"));
        assert!(c.ends_with("n-3000\nexit code 0"));
        let note = c.lines().find(|l| l.contains("more bytes")).unwrap();
        assert!(
            note.starts_with('…'),
            "the note has a line of its own: {note}"
        );
    }
}
