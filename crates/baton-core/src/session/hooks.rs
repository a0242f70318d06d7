//! Where a session runs its hooks: before and after each tool call, on a
//! person's message, at a turn's end, on a permission ask, at the actor's
//! start (see [`crate::hooks`] for what a hook is and what it may say).

use super::SessionActor;
use crate::hooks::{Fire, HookEvent, Verdict, tool_fields};
use baton_protocol::{ContextTopic, ToolCall};
use baton_store::InputRecord;
use baton_tools::ToolOutcome;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// How many times in a turn a Stop (or SubagentStop) hook may send the
/// agent back to work before its block is ignored.
pub(super) const MAX_STOP_BLOCKS: u32 = 3;

impl SessionActor {
    /// Runs the hooks of `event` for this session.
    async fn hooks(
        &self,
        event: HookEvent,
        subject: Option<&str>,
        fields: Map<String, Value>,
    ) -> Verdict {
        if !self.services.hooks.any(event) {
            return Verdict::default();
        }
        let cwd = PathBuf::from(&self.record.cwd);
        self.services
            .hooks
            .fire(
                &self.services,
                Fire {
                    event,
                    session: &self.record.id,
                    cwd: &cwd,
                    subject,
                    fields,
                },
            )
            .await
    }

    /// PreToolUse: what the hooks decided about a call before it runs.
    pub(super) async fn pre_tool_hooks(&self, call: &ToolCall) -> Verdict {
        let fields = tool_fields(&call.name, &call.arguments);
        self.hooks(HookEvent::PreToolUse, Some(&call.name), fields)
            .await
    }

    /// PostToolUse: a blocking hook's reason and any added context follow
    /// the call's output, so the model reads them with it.
    pub(super) async fn post_tool_hooks(
        &self,
        call: &ToolCall,
        mut outcome: ToolOutcome,
    ) -> ToolOutcome {
        if !self.services.hooks.any(HookEvent::PostToolUse) {
            return outcome;
        }
        let mut fields = tool_fields(&call.name, &call.arguments);
        fields.insert(
            "tool_response".into(),
            json!({ "output": outcome.output, "is_error": outcome.is_error }),
        );
        let verdict = self
            .hooks(HookEvent::PostToolUse, Some(&call.name), fields)
            .await;
        if let Some(why) = verdict.blocked {
            outcome
                .output
                .push_str(&format!("\n\nA PostToolUse hook objected: {why}"));
        }
        for context in verdict.context {
            outcome.output.push_str(&format!("\n\n{context}"));
        }
        outcome
    }

    /// UserPromptSubmit, for a person's message to a top-level session:
    /// `Err(why)` when a hook refused it, else the context to add after it.
    pub(super) async fn prompt_hooks(&self, input: &InputRecord) -> Result<Vec<String>, String> {
        if self.record.parent_id.is_some() {
            return Ok(Vec::new());
        }
        let mut fields = Map::new();
        fields.insert("prompt".into(), json!(input.text));
        let verdict = self.hooks(HookEvent::UserPromptSubmit, None, fields).await;
        match verdict.blocked {
            Some(why) => Err(why),
            None => Ok(verdict.context),
        }
    }

    /// Stop (a top-level session) or SubagentStop (a task's session) at
    /// the end of a turn: the reason a hook gives for going on, if one
    /// blocked. `blocks` is how often hooks did so in this turn already.
    pub(super) async fn stop_hooks(&self, blocks: u32) -> Option<String> {
        let mut fields = Map::new();
        fields.insert("stop_hook_active".into(), json!(blocks > 0));
        let event = if let Some(parent) = &self.record.parent_id {
            // As for SubagentStart: the session is the parent's, the agent
            // is the task's session.
            fields.insert("session_id".into(), json!(parent.as_str()));
            fields.insert("agent_id".into(), json!(self.record.id.as_str()));
            fields.insert("agent_type".into(), json!(self.agent.name));
            HookEvent::SubagentStop
        } else {
            HookEvent::Stop
        };
        let why = self.hooks(event, None, fields).await.blocked?;
        if blocks >= MAX_STOP_BLOCKS {
            self.report_error(&format!(
                "a {event} hook blocked the end of the turn {MAX_STOP_BLOCKS} times; the turn \
                 ends anyway: {why}"
            ));
            return None;
        }
        Some(why)
    }

    /// Notification, when a call needs permission: run beside the ask (it
    /// never delays it), counted as the session's work until it is done.
    pub(super) fn notify_hooks(&self, what: &str) {
        if !self.services.hooks.any(HookEvent::Notification) {
            return;
        }
        let services = self.services.clone();
        let session = self.record.id.clone();
        let cwd = PathBuf::from(&self.record.cwd);
        let work = self.control.work();
        let mut fields = Map::new();
        fields.insert(
            "message".into(),
            json!(format!("baton needs your permission: {what}")),
        );
        fields.insert("notification_type".into(), json!("permission_prompt"));
        tokio::spawn(async move {
            let fire = Fire {
                event: HookEvent::Notification,
                session: &session,
                cwd: &cwd,
                subject: None,
                fields,
            };
            services.hooks.fire(&services, fire).await;
            drop(work);
        });
    }

    /// SessionStart, when the actor starts: what the hooks print is added
    /// as context the model reads. Counted as the session's work.
    pub(super) async fn start_hooks(&mut self) {
        if !self.services.hooks.any(HookEvent::SessionStart) {
            return;
        }
        let _work = self.control.work();
        let source = if self.history.is_empty() {
            "startup"
        } else {
            "resume"
        };
        let mut fields = Map::new();
        fields.insert("source".into(), json!(source));
        let verdict = self
            .hooks(HookEvent::SessionStart, Some(source), fields)
            .await;
        for context in verdict.context {
            let text = format!("A SessionStart hook says:\n{context}");
            if let Err(e) = self.append_context(ContextTopic::Note, text).await {
                self.report_error(&format!("could not store a hook's context: {e}"));
            }
        }
    }
}
