//! The permission gate every tool call passes before it runs.

use super::SessionActor;
use super::tool_context::CallContext;
use crate::agents::Action;
use crate::hooks::HookPermission;
use crate::permissions::{AskMode, Ruling, denial, subject_for};
use baton_protocol::{
    EventKind, PermissionAnswer, PermissionDecision, PermissionId, PermissionRequest,
    SessionStatus, ToolCall,
};
use baton_tools::ToolOutcome;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// What became of a call that needed approval.
enum Approval {
    Granted,
    Refused(String),
}

impl SessionActor {
    /// Runs a call if the session's rules (and, for `ask`, a person or the
    /// headless policy) allow it; otherwise returns an error result that
    /// tells the model why.
    pub(crate) async fn gated_dispatch(
        &self,
        call: &ToolCall,
        cx: &CallContext<'_>,
        cancel: &CancellationToken,
    ) -> ToolOutcome {
        let hooks = self.pre_tool_hooks(call).await;
        if let Some(why) = hooks.blocked {
            return ToolOutcome::error(format!(
                "A PreToolUse hook blocked this call, so it was not run: {why}"
            ));
        }
        let subject = subject_for(&call.name, &call.arguments, Path::new(&self.record.cwd));
        let ruling = self.policy.decide(&call.name, subject.as_deref());
        let what = describe(&call.name, subject.as_deref());
        // A hook may skip an ask or add one; it never widens a `deny`.
        let ask = match (ruling.action, hooks.permission) {
            (Action::Deny, _) => {
                return ToolOutcome::error(format!(
                    "Permission denied: {what} is not allowed ({}). It was not run; do not \
                     retry it. Find another way, or tell the user what you need and why.",
                    rule_text(&ruling)
                ));
            }
            (Action::Ask, Some(HookPermission::Allow)) => false,
            (Action::Ask, _) | (Action::Allow, Some(HookPermission::Ask)) => true,
            (Action::Allow, _) => false,
        };
        if ask {
            let granted =
                self.services
                    .permissions
                    .granted(&self.root, &call.name, subject.as_deref());
            if !granted
                && let Approval::Refused(why) =
                    self.approval(call, subject, &ruling, &what, cancel).await
            {
                return ToolOutcome::error(why);
            }
        }
        let outcome = self.tools.dispatch(&call.name, &call.arguments, cx).await;
        self.post_tool_hooks(call, outcome).await
    }

    /// Gets an answer for a call that needs approval.
    async fn approval(
        &self,
        call: &ToolCall,
        subject: Option<String>,
        ruling: &Ruling,
        what: &str,
        cancel: &CancellationToken,
    ) -> Approval {
        self.notify_hooks(what);
        match self.services.ask_mode {
            AskMode::Allow => return Approval::Granted,
            AskMode::Deny => {
                return Approval::Refused(format!(
                    "Permission denied: {what} needs approval ({}), and this run has no one to \
                     ask (headless, without --yes), so it was not run. Do without it, or say \
                     in your answer what you need and why.",
                    rule_text(ruling)
                ));
            }
            AskMode::Wait => {}
        }
        let pattern = ruling
            .pattern
            .clone()
            .filter(|p| p != "*")
            .or_else(|| subject.clone())
            .unwrap_or_else(|| "*".to_owned());
        let request = PermissionRequest {
            id: PermissionId::generate(),
            session_id: self.record.id.clone(),
            agent: self.agent.name.clone(),
            tool: call.name.clone(),
            call_id: call.call_id.clone(),
            detail: subject.unwrap_or_else(|| call.arguments.clone()),
            pattern,
            created_at: baton_protocol::now(),
        };
        let id = request.id.clone();
        // Stored before it is announced: an answer given to it is then
        // stored too, before the one who answered hears back.
        if let Err(e) = self
            .services
            .store
            .add_permission_request(&request, &self.root)
            .await
        {
            return Approval::Refused(format!(
                "could not ask for permission (the request could not be stored: {e}); {what} was not run"
            ));
        }
        self.asking(true).await;
        let answer = self
            .services
            .permissions
            .ask(request.clone(), self.root.clone());
        self.control
            .set_doing(format!("waiting for permission: {what}"));
        self.services.emit(
            &self.record.id,
            EventKind::PermissionRequested {
                request_id: id.clone(),
                agent: request.agent,
                tool: request.tool,
                call_id: request.call_id,
                detail: request.detail,
                pattern: request.pattern,
            },
        );
        let answer = tokio::select! {
            () = cancel.cancelled() => {
                if let Err(e) = self.services.store.withdraw_permission_request(&id).await {
                    tracing::warn!("could not store the withdrawn permission request: {e}");
                }
                if self.services.permissions.withdraw(&id) {
                    self.services.emit(
                        &self.record.id,
                        EventKind::PermissionResolved {
                            request_id: id,
                            decision: PermissionDecision::Deny,
                        },
                    );
                }
                None
            }
            answer = answer => answer.ok(),
        };
        self.asking(false).await;
        match answer {
            Some(PermissionAnswer::AllowOnce | PermissionAnswer::AllowAlways) => {
                self.control.set_doing(format!("running {}", call.name));
                Approval::Granted
            }
            Some(PermissionAnswer::Deny { reason }) => {
                Approval::Refused(denial(what, reason.as_deref()))
            }
            None => Approval::Refused(
                "cancelled: the session was cancelled while this call waited for permission".into(),
            ),
        }
    }

    /// Counts calls of this session waiting for an answer; the session is
    /// `awaiting_permission` while any is.
    async fn asking(&self, starts: bool) {
        let status = if starts {
            (self.control.asking_begin() == 1).then_some(SessionStatus::AwaitingPermission)
        } else {
            (self.control.asking_end() == 0).then_some(SessionStatus::Running)
        };
        let Some(status) = status else { return };
        match self
            .services
            .store
            .set_status(&self.record.id, status)
            .await
        {
            Ok(()) => {
                self.services
                    .emit(&self.record.id, EventKind::SessionStatus { status });
            }
            Err(e) => self.report_error(&format!("could not store session status: {e}")),
        }
    }
}

/// `bash` `ls -la`, `edit` of `src/a.rs`, `task` with agent `general`.
fn describe(tool: &str, subject: Option<&str>) -> String {
    match (tool, subject) {
        ("bash", Some(s)) => format!("`bash` command `{s}`"),
        ("task", Some(s)) => format!("`task` with agent `{s}`"),
        (_, Some(s)) => format!("`{tool}` of `{s}`"),
        (_, None) => format!("`{tool}`"),
    }
}

/// Which rule decided, for messages.
fn rule_text(ruling: &Ruling) -> String {
    let from = if ruling.source.is_empty() {
        "the defaults".to_owned()
    } else {
        ruling.source.clone()
    };
    match &ruling.pattern {
        Some(p) => format!("rule `{p}` from {from}"),
        None => format!("rule from {from}"),
    }
}
