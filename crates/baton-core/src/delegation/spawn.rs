//! Starting tasks: create the child session, run it now or queue it for a
//! slot, resume an ended one with a message, cancel one.

use super::table::TaskEntry;
use super::{Delegation, is_active};
use crate::error::EngineError;
use crate::hooks::{Fire, HookEvent};
use crate::lineage::Lineage;
use baton_protocol::{EventKind, SessionId, SessionStatus, TaskId, Usage};
use baton_store::{SessionRecord, TaskRecord};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::OwnedSemaphorePermit;

/// What the `task` tool asks for.
#[derive(Debug, Clone)]
pub(crate) struct TaskRequest {
    /// A short description (shown in status lists and notices).
    pub(crate) description: String,
    /// The full instructions for the sub-agent.
    pub(crate) prompt: String,
    /// The sub-agent (default `general`).
    pub(crate) agent: Option<String>,
    /// Its model (default: the parent's).
    pub(crate) model: Option<String>,
    /// Whether the parent goes on without waiting (default `true`).
    pub(crate) background: bool,
    /// Run in a git worktree of its own instead of the parent's tree.
    pub(crate) worktree: bool,
    /// Globs of paths the task claims while it runs.
    pub(crate) files: Vec<String>,
    /// How hard its model should reason (default: its agent's, else the
    /// config's).
    pub(crate) reasoning_effort: Option<baton_protocol::ReasoningEffort>,
    /// The sandbox its commands may have: what the task asked for, capped
    /// by its parent's (its agent may narrow it further).
    pub(crate) sandbox: baton_protocol::SandboxMode,
    /// A name for it, unique among the parent's tasks (for `after`).
    pub(crate) name: Option<String>,
    /// Names or ids of the parent's tasks it comes after.
    pub(crate) after: Vec<String>,
    /// What it may spend (the config's defaults fill what it leaves out).
    pub(crate) budget: baton_protocol::api::Budget,
}

impl Delegation {
    /// Starts a task for `parent`: creates the child session and returns at
    /// once with the task (status `running`, or `queued` when the running
    /// limit is reached).
    pub(crate) async fn spawn(
        self: &Arc<Self>,
        parent: &SessionId,
        req: TaskRequest,
    ) -> Result<TaskRecord, EngineError> {
        self.services.check_open()?;
        let parent_handle = self.host.live(parent)?;
        let lineage = parent_handle.lineage().clone();
        let max_depth = self.services.config.tasks.max_depth;
        if lineage.depth() + 1 > max_depth {
            return Err(EngineError::Invalid(format!(
                "delegation is nested too deep: the limit is {max_depth} levels"
            )));
        }
        let agent_name = req.agent.clone().unwrap_or_else(|| "general".to_owned());
        let allowed = self.delegable(&lineage);
        let agent = self
            .services
            .agents
            .get(&agent_name)
            .filter(|a| allowed.contains(&a.name))
            .cloned()
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "`{agent_name}` is not a sub-agent you can delegate to; available: {}",
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                ))
            })?;
        let after = self.dependencies(parent, req.name.as_deref(), &req.after)?;
        let parent_record = self.services.session_record(parent).await?;
        let model = req
            .model
            .as_deref()
            .map(|m| self.services.resolve_model(m))
            .or_else(|| self.services.agent_model(&agent))
            .unwrap_or(parent_record.model.clone());
        self.services.check_model(&model)?;
        let parent_cwd = std::path::PathBuf::from(&parent_record.cwd);
        // Held from the overlap check until the task is in the table, so two
        // spawns claiming the same files cannot both win.
        let _claims_gate = if req.files.is_empty() {
            None
        } else {
            Some(self.claims_gate.lock().await)
        };
        let claim = self.claim_for(&parent_cwd, &req).await?;
        let id = TaskId::generate();
        let (cwd, worktree) = if req.worktree {
            let dest = self.services.worktrees_dir.join(id.as_str());
            let branch = crate::worktree::branch_for(id.as_str());
            let created = {
                let _git = self.git_gate.lock().await;
                crate::worktree::create(&parent_cwd, &dest, &branch).await
            };
            let (wt, cwd) = created.map_err(|e| EngineError::Invalid(e.to_string()))?;
            (
                cwd.to_string_lossy().into_owned(),
                Some(worktree_record(&wt)),
            )
        } else {
            (parent_record.cwd.clone(), None)
        };
        let sandbox = agent
            .sandbox
            .map_or(req.sandbox, |narrower| narrower.min(req.sandbox));
        let now = baton_protocol::now();
        let initial = if after.is_empty() {
            SessionStatus::Queued
        } else {
            SessionStatus::Waiting
        };
        let child = SessionRecord {
            id: SessionId::generate(),
            parent_id: Some(parent.clone()),
            agent: agent.name.clone(),
            model: model.clone(),
            title: req.description.clone(),
            cwd,
            status: initial,
            created_at: now,
            updated_at: now,
            usage: Usage::default(),
            tool_calls: 0,
            reasoning_effort: req.reasoning_effort,
            sandbox: Some(sandbox),
        };
        let record = TaskRecord {
            id,
            parent_session_id: parent.clone(),
            child_session_id: child.id.clone(),
            description: req.description.clone(),
            prompt: req.prompt.clone(),
            agent: agent.name.clone(),
            model,
            status: initial,
            background: req.background,
            created_at: now,
            started_at: None,
            ended_at: None,
            result: None,
            files: claim
                .as_ref()
                .map(|c| c.patterns().to_vec())
                .unwrap_or_default(),
            worktree,
            name: req.name.clone(),
            after: after.iter().map(|e| e.record().id).collect(),
            budget: req.budget.or(self.services.config.tasks.default_budget()),
        };
        self.services.create_record(&child).await?;
        // Owned by this process from the start, so that no other process
        // takes a queued child for an orphan.
        self.services
            .store
            .set_owner(&child.id, Some(std::process::id()))
            .await?;
        self.services.store.create_task(&record).await?;
        let entry = TaskEntry::new(record.clone(), claim);
        // From here on the task is the parent's work until it ends: every
        // failure below ends it (failed), which ends that work.
        entry.lock().parent_work = Some(parent_handle.work());
        self.table.insert(entry.clone());
        self.services.emit(
            parent,
            EventKind::TaskSpawned {
                task_id: record.id.to_string(),
                child_session_id: child.id.clone(),
                agent: record.agent.clone(),
                model: record.model.clone(),
                description: record.description.clone(),
                name: record.name.clone(),
                after: record.after.iter().map(ToString::to_string).collect(),
            },
        );
        if !after.is_empty() {
            self.wait_then_start(&entry, after, req.prompt);
            return Ok(entry.record());
        }
        match self.start_or_queue(&entry, req.prompt).await {
            Ok(started) => Ok(started),
            Err(e) => {
                tracing::error!(task = %record.id, "the task could not start: {e}");
                self.finish(&entry, Some(SessionStatus::Failed)).await;
                Err(e)
            }
        }
    }

    /// The sub-agents a session may delegate to: every sub-agent its rules
    /// do not deny as a `task` agent, sorted by name.
    pub(crate) fn delegable(&self, lineage: &Lineage) -> Vec<String> {
        self.services
            .agents
            .subagents()
            .filter(|a| {
                lineage.policy.decide("task", Some(&a.name)).action != crate::agents::Action::Deny
            })
            .map(|a| a.name.clone())
            .collect()
    }

    /// Runs the task now if a slot is free, else queues it (FIFO) to start
    /// by itself. Returns the record as it stands.
    pub(super) async fn start_or_queue(
        self: &Arc<Self>,
        entry: &Arc<TaskEntry>,
        message: String,
    ) -> Result<TaskRecord, EngineError> {
        match self.table.limit.clone().try_acquire_owned() {
            Ok(permit) => self.start_run(entry, permit, message).await?,
            Err(_) => self.queue(entry, message),
        }
        Ok(entry.record())
    }

    /// Queues a run: it starts when a slot frees, unless it is cancelled
    /// first (then it never starts and ends `cancelled`).
    fn queue(self: &Arc<Self>, entry: &Arc<TaskEntry>, message: String) {
        {
            let mut s = entry.lock();
            s.record.status = SessionStatus::Queued;
            s.record.ended_at = None;
        }
        let cancel = entry.new_queue_cancel();
        let limit = self.table.limit.clone();
        let me = Arc::downgrade(self);
        let entry = entry.clone();
        self.watchers.spawn(async move {
            let permit = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                p = limit.acquire_owned() => p.ok(),
            };
            let Some(me) = me.upgrade() else { return };
            match permit {
                Some(permit) if !me.services.closing.is_cancelled() => {
                    if let Err(e) = me.start_run(&entry, permit, message).await {
                        tracing::error!("queued task could not start: {e}");
                        me.finish(&entry, Some(SessionStatus::Failed)).await;
                    }
                }
                _ => me.finish(&entry, Some(SessionStatus::Cancelled)).await,
            }
        });
    }

    /// Marks the task running, hands the child its message and watches it.
    /// A run cancelled before this point never starts.
    async fn start_run(
        self: &Arc<Self>,
        entry: &Arc<TaskEntry>,
        permit: OwnedSemaphorePermit,
        message: String,
    ) -> Result<(), EngineError> {
        let record = {
            let mut s = entry.lock();
            if s.cancel_requested {
                None
            } else {
                s.record.status = SessionStatus::Running;
                s.record.started_at = Some(baton_protocol::now());
                s.record.ended_at = None;
                s.started = Instant::now();
                Some(s.record.clone())
            }
        };
        let Some(record) = record else {
            drop(permit);
            self.finish(entry, Some(SessionStatus::Cancelled)).await;
            return Ok(());
        };
        self.services.store.update_task(&record).await?;
        if !record.budget.is_unlimited() {
            // What earlier runs spent counts (tokens and cost are stored;
            // model calls are counted by this process).
            let used = self
                .services
                .store
                .usage_with_descendants(&record.child_session_id)
                .await?;
            let spent_already = {
                let mut s = entry.lock();
                s.spent = super::budget::Spent::from_usage(&used, s.spent.steps);
                let why = super::budget::reached(&record.budget, &s.spent);
                s.over_budget = why.is_some();
                if why.is_some() {
                    s.reason = why;
                    s.cancel_requested = true;
                }
                s.over_budget
            };
            if spent_already {
                // Resumed with nothing left to spend: it does not run.
                drop(permit);
                self.finish(entry, None).await;
                return Ok(());
            }
        }
        self.services.emit(
            &record.parent_session_id,
            EventKind::TaskStarted {
                task_id: record.id.to_string(),
            },
        );
        self.subagent_start_hooks(&record).await;
        let child = record.child_session_id.clone();
        // Followed from the moment the message counts as the child's work.
        let (_, mut quiet) = self.host.send(&child, message).await?;
        let me = Arc::downgrade(self);
        let entry = entry.clone();
        self.watchers.spawn(async move {
            // The child is busy from the moment it got the message; it is
            // done when it is quiet: its turn over, its own tasks and shells
            // ended.
            let _ = quiet.wait_for(|n| *n == 0).await;
            if let Some(me) = me.upgrade() {
                me.finish(&entry, None).await;
            }
            // The slot frees once the end is stored and announced, so a
            // queued task's `task.started` comes after this `task.completed`.
            drop(permit);
        });
        Ok(())
    }

    /// SubagentStart: the task's hooks run (announced on the parent, in
    /// the child's working directory) before the child gets its prompt.
    /// They only watch: what they say changes nothing.
    async fn subagent_start_hooks(&self, record: &TaskRecord) {
        if !self.services.hooks.any(HookEvent::SubagentStart) {
            return;
        }
        let cwd = match self.services.session_record(&record.child_session_id).await {
            Ok(child) => std::path::PathBuf::from(child.cwd),
            Err(e) => {
                tracing::warn!("SubagentStart hooks skipped: {e}");
                return;
            }
        };
        let mut fields = serde_json::Map::new();
        fields.insert("agent_id".into(), json!(record.child_session_id.as_str()));
        fields.insert("agent_type".into(), json!(record.agent));
        fields.insert("task_id".into(), json!(record.id.as_str()));
        fields.insert("description".into(), json!(record.description));
        fields.insert("prompt".into(), json!(record.prompt));
        let fire = Fire {
            event: HookEvent::SubagentStart,
            session: &record.parent_session_id,
            cwd: &cwd,
            subject: Some(&record.agent),
            fields,
        };
        self.services.hooks.fire(&self.services, fire).await;
    }

    /// A task of `parent`, or a clear error.
    pub(super) fn owned_entry(
        &self,
        parent: &SessionId,
        id: &str,
    ) -> Result<Arc<TaskEntry>, EngineError> {
        let entry = self
            .table
            .get(&TaskId::from(id))
            .filter(|e| e.lock().record.parent_session_id == *parent);
        entry.ok_or_else(|| {
            let mine: Vec<String> = self
                .table
                .all_of(parent)
                .iter()
                .map(|e| e.lock().record.id.to_string())
                .collect();
            EngineError::Invalid(format!(
                "no task `{id}` of this session; its tasks: {}",
                if mine.is_empty() {
                    "none".to_owned()
                } else {
                    mine.join(", ")
                }
            ))
        })
    }

    /// `task_send`: steers a running child (taken before its next model
    /// call) or resumes a finished one with the message. Either way the
    /// message is stored before this returns.
    pub(crate) async fn send(
        self: &Arc<Self>,
        parent: &SessionId,
        id: &str,
        message: String,
    ) -> Result<String, EngineError> {
        let entry = self.owned_entry(parent, id)?;
        let record = entry.record();
        if is_active(record.status) {
            if record.status == SessionStatus::Queued {
                return Err(EngineError::Invalid(format!(
                    "task {id} is queued and has not started; it will read its prompt first \
                     (cancel it and start a new one to change what it does)"
                )));
            }
            self.host.send(&record.child_session_id, message).await?;
            return Ok(format!(
                "Sent to task {id}; it reads the message before its next model call."
            ));
        }
        let parent_handle = self.host.live(parent)?;
        if let Some(w) = &record.worktree {
            let _git = self.git_gate.lock().await;
            crate::worktree::ensure(&worktree_of(w))
                .await
                .map_err(|e| EngineError::Invalid(e.to_string()))?;
        }
        self.host.open(&record.child_session_id).await?;
        // Its claims come back with it, unless someone else holds them now.
        let _claims_gate = if record.files.is_empty() {
            None
        } else {
            let gate = self.claims_gate.lock().await;
            let cwd = std::path::PathBuf::from(self.services.session_record(parent).await?.cwd);
            let again = TaskRequest {
                description: record.description.clone(),
                prompt: String::new(),
                agent: None,
                model: None,
                background: true,
                worktree: false,
                files: record.files.clone(),
                reasoning_effort: None,
                // Not used: only the claims are checked.
                sandbox: baton_protocol::SandboxMode::ReadOnly,
                name: None,
                after: Vec::new(),
                budget: Default::default(),
            };
            let claim = self.claim_for(&cwd, &again).await?;
            entry.lock().claim = claim;
            Some(gate)
        };
        {
            let mut s = entry.lock();
            s.parent_work = Some(parent_handle.work());
            s.cancel_requested = false;
        }
        // A task that never started (cancelled or interrupted while
        // queued) has not read its prompt yet.
        let message = if record.started_at.is_none() {
            format!("{}\n\n{message}", record.prompt)
        } else {
            message
        };
        let now = match self.start_or_queue(&entry, message).await {
            Ok(now) => now,
            Err(e) => {
                self.finish(&entry, Some(SessionStatus::Failed)).await;
                return Err(e);
            }
        };
        Ok(format!(
            "Task {id} was {} and is now {} with your message; you get a notice when it ends.",
            record.status, now.status
        ))
    }

    /// `task_cancel`: cancels the child and everything under it; a queued
    /// task never starts.
    pub(crate) fn cancel(&self, parent: &SessionId, id: &str) -> Result<String, EngineError> {
        let entry = self.owned_entry(parent, id)?;
        let status = entry.record().status;
        if !is_active(status) {
            return Ok(format!(
                "Task {id} already ended ({status}); nothing to cancel."
            ));
        }
        if let Some(child) = entry.request_cancel() {
            self.host.cancel_tree(&child);
        }
        Ok(format!(
            "Cancelling task {id} and everything under it; you get a notice when it has stopped."
        ))
    }
}

fn worktree_record(wt: &crate::worktree::Worktree) -> baton_store::WorktreeRecord {
    baton_store::WorktreeRecord {
        repo_root: wt.repo_root.to_string_lossy().into_owned(),
        path: wt.path.to_string_lossy().into_owned(),
        branch: wt.branch.clone(),
        base: wt.base.clone(),
    }
}

pub(super) fn worktree_of(record: &baton_store::WorktreeRecord) -> crate::worktree::Worktree {
    crate::worktree::Worktree {
        repo_root: record.repo_root.clone().into(),
        path: record.path.clone().into(),
        branch: record.branch.clone(),
        base: record.base.clone(),
    }
}
