//! Delegation: tasks run by child sessions, in the background by default.
//!
//! A task is a child session (its own actor) plus a record. Its parent is
//! told when it ends through a stored notice, delivered exactly once: into
//! the parent's conversation, or, when the parent is waiting for it
//! (`task_wait`, `task` with `background: false`), as that call's result.

use crate::claims::Claim;
use crate::engine::Shared;
use crate::error::EngineError;
use baton_protocol::api::TaskView;
use baton_protocol::{
    EventKind, NoticeId, NoticeKind, Role, SessionId, SessionStatus, TaskId, Usage,
};
use baton_store::{NoticeRecord, SessionRecord, TaskRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
}

/// The tasks this process knows, and the limit on how many run at once.
pub(crate) struct TaskTable {
    limit: Arc<Semaphore>,
    /// Taken while a task's claims are checked and recorded.
    claims_gate: tokio::sync::Mutex<()>,
    /// Taken around git worktree changes, which git does not let run
    /// side by side in one repository.
    git_gate: tokio::sync::Mutex<()>,
    entries: Mutex<HashMap<TaskId, Arc<TaskEntry>>>,
    watchers: TaskTracker,
}

/// One task in memory.
pub(crate) struct TaskEntry {
    state: Mutex<TaskState>,
    /// Counts the task's ends; waiters watch it move.
    ends: watch::Sender<u64>,
    /// Cancels a queued task's wait for a slot.
    queue_cancel: Mutex<CancellationToken>,
}

struct TaskState {
    /// The paths it claims (while it is active), compiled.
    claim: Option<Arc<Claim>>,
    record: TaskRecord,
    /// Calls of the parent waiting for this task right now.
    waiters: usize,
    /// When the current (or last) run started.
    started: Instant,
    /// Figures of the last end, for status and notices.
    figures: Figures,
}

/// Usage of a task's child session tree, and where its work is.
#[derive(Debug, Clone, Default)]
struct Figures {
    usage: Usage,
    tool_calls: u64,
    seconds: f64,
    /// For a worktree task: its branch and what changed there.
    worktree_note: Option<String>,
}

impl TaskEntry {
    fn lock(&self) -> MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self) -> TaskRecord {
        self.lock().record.clone()
    }
}

fn is_active(status: SessionStatus) -> bool {
    matches!(
        status,
        SessionStatus::Queued | SessionStatus::Running | SessionStatus::AwaitingPermission
    )
}

impl TaskTable {
    pub(crate) fn new(max_running: usize) -> Self {
        Self {
            limit: Arc::new(Semaphore::new(max_running)),
            claims_gate: tokio::sync::Mutex::new(()),
            git_gate: tokio::sync::Mutex::new(()),
            entries: Mutex::new(HashMap::new()),
            watchers: TaskTracker::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TaskId, Arc<TaskEntry>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, id: &TaskId) -> Option<Arc<TaskEntry>> {
        self.lock().get(id).cloned()
    }

    /// Child sessions of a parent's tasks that are queued or running.
    pub(crate) fn running_children(&self, parent: &SessionId) -> Vec<SessionId> {
        self.lock()
            .values()
            .filter_map(|e| {
                let s = e.lock();
                (s.record.parent_session_id == *parent && is_active(s.record.status))
                    .then(|| s.record.child_session_id.clone())
            })
            .collect()
    }

    /// Loads a session's stored tasks this process does not know yet (they
    /// ran before a restart), so the session can see and resume them.
    pub(crate) fn adopt(&self, stored: Vec<TaskRecord>) {
        let mut entries = self.lock();
        for record in stored {
            entries.entry(record.id.clone()).or_insert_with(|| {
                Arc::new(TaskEntry {
                    state: Mutex::new(TaskState {
                        claim: None,
                        record,
                        waiters: 0,
                        started: Instant::now(),
                        figures: Figures::default(),
                    }),
                    ends: watch::channel(0).0,
                    queue_cancel: Mutex::new(CancellationToken::new()),
                })
            });
        }
    }

    /// Waits for every task watcher to finish (engine shutdown).
    pub(crate) async fn wait_watchers(&self) {
        self.watchers.close();
        self.watchers.wait().await;
    }
}

/// Starts a task for `parent`: creates the child session and returns at
/// once with the task (status `running`, or `queued` when the running
/// limit is reached).
pub(crate) async fn spawn(
    shared: &Arc<Shared>,
    parent: &SessionId,
    req: TaskRequest,
) -> Result<TaskRecord, EngineError> {
    if shared.closing.is_cancelled() {
        return Err(EngineError::ShuttingDown);
    }
    let depth = shared.with_session(parent, |h| h.lineage.depth())?;
    if depth + 1 > shared.config.tasks.max_depth {
        return Err(EngineError::Invalid(format!(
            "delegation is nested too deep: the limit is {} levels",
            shared.config.tasks.max_depth
        )));
    }
    let agent_name = req.agent.clone().unwrap_or_else(|| "general".to_owned());
    let allowed = shared.with_session(parent, |h| delegable(shared, &h.lineage))?;
    let agent = shared
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
    let lookup = parent.clone();
    let parent_record = shared
        .db(move |s| s.get_session(&lookup))
        .await?
        .ok_or_else(|| EngineError::UnknownSession(parent.to_string()))?;
    let model = req
        .model
        .as_deref()
        .map(|m| shared.resolve_model(m))
        .or_else(|| shared.agent_model(&agent))
        .unwrap_or(parent_record.model.clone());
    shared.check_model(&model)?;
    let parent_cwd = std::path::PathBuf::from(&parent_record.cwd);
    // Held from the overlap check until the task is in the table, so two
    // spawns claiming the same files cannot both win.
    let _claims_gate = if req.files.is_empty() {
        None
    } else {
        Some(shared.tasks.claims_gate.lock().await)
    };
    let claim = claim_for(shared, &parent_cwd, &req).await?;
    let id = TaskId::generate();
    let (cwd, worktree) = if req.worktree {
        let dest = shared.worktrees_dir.join(id.as_str());
        let branch = crate::worktree::branch_for(id.as_str());
        let created = {
            let _git = shared.tasks.git_gate.lock().await;
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
    let now = baton_protocol::now();
    let child = SessionRecord {
        id: SessionId::generate(),
        parent_id: Some(parent.clone()),
        agent: agent.name.clone(),
        model: model.clone(),
        title: req.description.clone(),
        cwd,
        status: SessionStatus::Queued,
        created_at: now,
        updated_at: now,
        usage: Usage::default(),
    };
    let record = TaskRecord {
        id,
        parent_session_id: parent.clone(),
        child_session_id: child.id.clone(),
        description: req.description.clone(),
        prompt: req.prompt.clone(),
        agent: agent.name.clone(),
        model,
        status: SessionStatus::Queued,
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
    };
    shared.create_record(child.clone()).await?;
    let stored = record.clone();
    shared.db(move |s| s.create_task(&stored)).await?;
    shared.ensure_live(&child.id).await?;
    let entry = Arc::new(TaskEntry {
        state: Mutex::new(TaskState {
            claim,
            record: record.clone(),
            waiters: 0,
            started: Instant::now(),
            figures: Figures::default(),
        }),
        ends: watch::channel(0).0,
        queue_cancel: Mutex::new(CancellationToken::new()),
    });
    shared.tasks.lock().insert(record.id.clone(), entry.clone());
    shared.with_session(parent, |h| h.begin_work())?;
    shared.emit(
        parent,
        EventKind::TaskSpawned {
            task_id: record.id.to_string(),
            child_session_id: child.id.clone(),
            agent: record.agent.clone(),
            model: record.model.clone(),
            description: record.description.clone(),
        },
    );
    let started = start_or_queue(shared, &entry, req.prompt).await?;
    Ok(started)
}

/// The sub-agents a session may delegate to: every sub-agent its rules
/// do not deny as a `task` agent, sorted by name.
pub(crate) fn delegable(shared: &Shared, lineage: &crate::lineage::Lineage) -> Vec<String> {
    shared
        .agents
        .subagents()
        .filter(|a| {
            lineage.policy.decide("task", Some(&a.name)).action != crate::agents::Action::Deny
        })
        .map(|a| a.name.clone())
        .collect()
}

/// Compiles a task's `files` and refuses them when a running task claims
/// any of the same paths.
async fn claim_for(
    shared: &Shared,
    cwd: &std::path::Path,
    req: &TaskRequest,
) -> Result<Option<Arc<Claim>>, EngineError> {
    if req.files.is_empty() {
        return Ok(None);
    }
    if req.worktree {
        return Err(EngineError::Invalid(
            "`files` cannot be combined with isolation \"worktree\": a worktree task has its own \
             copy of every file, so it needs no claims"
                .into(),
        ));
    }
    let claim = Arc::new(Claim::new(cwd, &req.files).map_err(EngineError::Invalid)?);
    let held = active_claims(shared);
    let mine = claim.clone();
    let conflict = tokio::task::spawn_blocking(move || {
        held.into_iter()
            .find(|(_, other)| other.overlaps(&mine))
            .map(|(holder, _)| holder)
    })
    .await
    .map_err(|e| EngineError::Invalid(format!("claim check failed: {e}")))?;
    match conflict {
        Some(holder) => Err(EngineError::Invalid(format!(
            "`files` overlaps the files claimed by {holder}, which is still running; wait for \
             it to end (task_wait), narrow `files`, or leave `files` out"
        ))),
        None => Ok(Some(claim)),
    }
}

/// Claims of active tasks, with a description of their holder.
fn active_claims(shared: &Shared) -> Vec<(String, Arc<Claim>)> {
    shared
        .tasks
        .lock()
        .values()
        .filter_map(|e| {
            let s = e.lock();
            let claim = s.claim.clone().filter(|_| is_active(s.record.status))?;
            Some((holder_text(&s.record), claim))
        })
        .collect()
}

/// `task task_x "description" (files: a, b)`.
fn holder_text(record: &TaskRecord) -> String {
    format!(
        "task {} \"{}\" (files: {})",
        record.id,
        record.description,
        record.files.join(", ")
    )
}

/// The active task, other than `session`'s own and its ancestors', whose
/// claim covers `path`.
pub(crate) fn claim_holder(
    shared: &Shared,
    lineage: &crate::lineage::Lineage,
    session: &SessionId,
    path: &std::path::Path,
) -> Option<String> {
    shared.tasks.lock().values().find_map(|e| {
        let s = e.lock();
        let claim = s.claim.as_ref()?;
        let mine = lineage.includes(session, &s.record.child_session_id);
        (is_active(s.record.status) && !mine && claim.covers(path)).then(|| holder_text(&s.record))
    })
}

fn worktree_record(wt: &crate::worktree::Worktree) -> baton_store::WorktreeRecord {
    baton_store::WorktreeRecord {
        repo_root: wt.repo_root.to_string_lossy().into_owned(),
        path: wt.path.to_string_lossy().into_owned(),
        branch: wt.branch.clone(),
        base: wt.base.clone(),
    }
}

fn worktree_of(record: &baton_store::WorktreeRecord) -> crate::worktree::Worktree {
    crate::worktree::Worktree {
        repo_root: record.repo_root.clone().into(),
        path: record.path.clone().into(),
        branch: record.branch.clone(),
        base: record.base.clone(),
    }
}

/// Runs the task now if a slot is free, else queues it (FIFO) to start
/// by itself. Returns the record as it stands.
async fn start_or_queue(
    shared: &Arc<Shared>,
    entry: &Arc<TaskEntry>,
    message: String,
) -> Result<TaskRecord, EngineError> {
    match shared.tasks.limit.clone().try_acquire_owned() {
        Ok(permit) => {
            start_run(shared, entry, permit, message).await?;
        }
        Err(_) => {
            {
                let mut s = entry.lock();
                s.record.status = SessionStatus::Queued;
                s.record.ended_at = None;
            }
            let cancel = CancellationToken::new();
            *entry.queue_cancel.lock().unwrap_or_else(|p| p.into_inner()) = cancel.clone();
            let limit = shared.tasks.limit.clone();
            let weak = shared.me.clone();
            let entry2 = entry.clone();
            shared.tasks.watchers.spawn(async move {
                let permit = tokio::select! {
                    () = cancel.cancelled() => None,
                    p = limit.acquire_owned() => p.ok(),
                };
                let Some(shared) = weak.upgrade() else { return };
                match permit {
                    Some(permit) if !shared.closing.is_cancelled() => {
                        if let Err(e) = start_run(&shared, &entry2, permit, message).await {
                            tracing::error!("queued task could not start: {e}");
                            finish(&shared, &entry2, Some(SessionStatus::Failed), None).await;
                        }
                    }
                    _ => finish(&shared, &entry2, Some(SessionStatus::Cancelled), None).await,
                }
            });
        }
    }
    Ok(entry.record())
}

/// Marks the task running, hands the child its message and watches it.
async fn start_run(
    shared: &Arc<Shared>,
    entry: &Arc<TaskEntry>,
    permit: OwnedSemaphorePermit,
    message: String,
) -> Result<(), EngineError> {
    let record = {
        let mut s = entry.lock();
        s.record.status = SessionStatus::Running;
        s.record.started_at = Some(baton_protocol::now());
        s.record.ended_at = None;
        s.started = Instant::now();
        s.record.clone()
    };
    let stored = record.clone();
    shared.db(move |s| s.update_task(&stored)).await?;
    let child = record.child_session_id.clone();
    let mut quiet = shared.with_session(&child, |h| {
        let quiet = h.quiet();
        h.send(message).map(|_| quiet)
    })??;
    let weak = shared.me.clone();
    let entry = entry.clone();
    shared.tasks.watchers.spawn(async move {
        // The child is busy from the moment it got the message; it is done
        // when it is quiet: its turn over, its own tasks and shells ended.
        let _ = quiet.wait_for(|n| *n == 0).await;
        drop(permit);
        if let Some(shared) = weak.upgrade() {
            finish(&shared, &entry, None, Some(&child)).await;
        }
    });
    Ok(())
}

/// Records how a task ended and tells its parent, exactly once.
/// `forced`: the end status when the child never ran (cancelled while
/// queued); otherwise it is read from the child session.
async fn finish(
    shared: &Arc<Shared>,
    entry: &Arc<TaskEntry>,
    forced: Option<SessionStatus>,
    child: Option<&SessionId>,
) {
    let (parent, child_id, started, task_id) = {
        let s = entry.lock();
        (
            s.record.parent_session_id.clone(),
            s.record.child_session_id.clone(),
            s.started,
            s.record.id.clone(),
        )
    };
    let lookup = child.cloned().unwrap_or(child_id.clone());
    let never_ran = forced;
    let summary = shared
        .db(move |s| {
            if let Some(status) = never_ran {
                s.set_status(&lookup, status)?;
            }
            let record = s.get_session(&lookup)?;
            let answer = s
                .messages(&lookup)?
                .into_iter()
                .rev()
                .find(|m| m.role == Role::Assistant && !m.text().trim().is_empty())
                .map(|m| m.text());
            let usage = s.usage_with_descendants(&lookup)?;
            let tool_calls = s.tool_calls_with_descendants(&lookup)?;
            Ok((record.map(|r| r.status), answer, usage, tool_calls))
        })
        .await;
    let (child_status, answer, usage, tool_calls) = match summary {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(task = %task_id, "cannot read the finished task: {e}");
            (Some(SessionStatus::Failed), None, Usage::default(), 0)
        }
    };
    let cancelled = shared
        .with_session(&child_id, |h| h.was_cancelled())
        .unwrap_or(false);
    let status = forced.unwrap_or(match child_status {
        _ if cancelled => SessionStatus::Cancelled,
        Some(SessionStatus::Failed) => SessionStatus::Failed,
        Some(SessionStatus::Cancelled) => SessionStatus::Cancelled,
        _ => SessionStatus::Completed,
    });
    if status == SessionStatus::Cancelled && child_status != Some(SessionStatus::Cancelled) {
        let id = child_id.clone();
        if let Err(e) = shared
            .db(move |s| s.set_status(&id, SessionStatus::Cancelled))
            .await
        {
            tracing::warn!("cannot store the cancelled child's status: {e}");
        }
    }
    let worktree = entry.lock().record.worktree.clone();
    let worktree_note = match worktree {
        Some(w) => {
            let description = entry.lock().record.description.clone();
            let _git = shared.tasks.git_gate.lock().await;
            Some(finish_worktree(&w, &task_id, &description).await)
        }
        None => None,
    };
    let figures = Figures {
        usage,
        tool_calls,
        seconds: started.elapsed().as_secs_f64(),
        worktree_note,
    };
    let (record, consumed) = {
        let mut s = entry.lock();
        s.record.status = status;
        s.record.ended_at = Some(baton_protocol::now());
        s.record.result = answer.clone();
        s.figures = figures.clone();
        (s.record.clone(), s.waiters > 0)
    };
    let notice = NoticeRecord {
        id: NoticeId::generate(),
        session_id: parent.clone(),
        kind: NoticeKind::Task,
        source_id: record.id.to_string(),
        text: notice_text(&record, &figures, shared.config.tasks.notice_result_chars),
        created_at: baton_protocol::now(),
    };
    let stored = (record.clone(), notice.clone());
    let via = format!("tool:{}", record.id);
    let saved = shared
        .db(move |s| {
            s.update_task(&stored.0)?;
            s.add_notice(&stored.1)?;
            if consumed {
                s.consume_notice(&stored.1.id, &via)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = saved {
        tracing::error!(task = %record.id, "cannot store the task's end: {e}");
    }
    // Waiters see the end; otherwise the parent gets the notice.
    entry.ends.send_modify(|n| *n += 1);
    let _ = shared.with_session(&parent, |h| {
        if !consumed {
            h.deliver(notice);
        }
        h.end_work();
    });
    shared.emit(
        &parent,
        EventKind::TaskCompleted {
            task_id: record.id.to_string(),
            status,
        },
    );
}

/// Commits what a worktree task changed on its branch and describes it;
/// removes the worktree when nothing changed.
async fn finish_worktree(
    record: &baton_store::WorktreeRecord,
    task: &TaskId,
    description: &str,
) -> String {
    let wt = worktree_of(record);
    match crate::worktree::finish(&wt, &format!("baton {task}: {description}")).await {
        Ok(outcome) if outcome.changed => format!(
            "Its changes are on branch `{}` (worktree {}), not in your tree:\n{}\nMerge them \
             with `git merge {}` when you want them.",
            wt.branch,
            wt.path.display(),
            outcome.diff_stat,
            wt.branch
        ),
        Ok(_) => format!(
            "It changed no files; its worktree and branch `{}` were removed.",
            wt.branch
        ),
        Err(e) => {
            tracing::warn!(task = %task, "cannot finish the task's worktree: {e}");
            format!(
                "Its worktree {} (branch `{}`) could not be finished: {e}",
                wt.path.display(),
                wt.branch
            )
        }
    }
}

/// The notice a parent reads when a task ends.
fn notice_text(record: &TaskRecord, f: &Figures, cap: usize) -> String {
    let mut text = format!(
        "Task {} \"{}\" ({} on {}) {} after {:.1} s: {} tokens in, {} out, ${:.4}, {} tool calls.",
        record.id,
        record.description,
        record.agent,
        record.model,
        record.status,
        f.seconds,
        f.usage.input_tokens,
        f.usage.output_tokens,
        f.usage.cost_usd,
        f.tool_calls
    );
    match &record.result {
        Some(result) => {
            text.push_str("\nResult:\n");
            let chars = result.chars().count();
            if chars > cap {
                text.extend(result.chars().take(cap));
                text.push_str(&format!(
                    "\n[Result cut at {cap} of {chars} characters: task_output with task_id={} \
                     gives all of it.]",
                    record.id
                ));
            } else {
                text.push_str(result);
            }
        }
        None => text.push_str("\nIt gave no answer."),
    }
    if let Some(note) = &f.worktree_note {
        text.push('\n');
        text.push_str(note);
    }
    text
}

/// A task of `parent`, or a clear error.
fn owned_entry(
    shared: &Shared,
    parent: &SessionId,
    id: &str,
) -> Result<Arc<TaskEntry>, EngineError> {
    let entry = shared
        .tasks
        .get(&TaskId::from(id))
        .filter(|e| e.lock().record.parent_session_id == *parent);
    entry.ok_or_else(|| {
        let mine: Vec<String> = shared
            .tasks
            .lock()
            .values()
            .filter_map(|e| {
                let s = e.lock();
                (s.record.parent_session_id == *parent).then(|| s.record.id.to_string())
            })
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

/// The tasks of `parent`, or the named ones, in the order they were made.
fn entries_of(
    shared: &Shared,
    parent: &SessionId,
    ids: Option<&[String]>,
) -> Result<Vec<Arc<TaskEntry>>, EngineError> {
    match ids {
        Some(ids) if !ids.is_empty() => ids
            .iter()
            .map(|id| owned_entry(shared, parent, id))
            .collect(),
        _ => {
            let mut all: Vec<Arc<TaskEntry>> = shared
                .tasks
                .lock()
                .values()
                .filter(|e| e.lock().record.parent_session_id == *parent)
                .cloned()
                .collect();
            all.sort_by_key(|e| e.lock().record.created_at);
            Ok(all)
        }
    }
}

/// One live task as `task_status` and the API show it.
fn status_view(shared: &Shared, entry: &TaskEntry) -> TaskView {
    // Read the entry, then let go of it before asking anyone else.
    let (record, elapsed) = {
        let s = entry.lock();
        let elapsed = if is_active(s.record.status) {
            s.started.elapsed().as_secs_f64()
        } else {
            s.figures.seconds
        };
        (s.record.clone(), elapsed)
    };
    let doing = if is_active(record.status) {
        shared
            .with_session(&record.child_session_id, |h| h.doing())
            .unwrap_or_else(|_| "starting".into())
    } else {
        "finished".into()
    };
    view_of(shared, record, elapsed, doing)
}

/// A task this process does not hold in memory (its parent is not
/// live), from what the store says.
pub(crate) fn stored_view(shared: &Shared, record: TaskRecord) -> TaskView {
    let elapsed = match (record.started_at, record.ended_at) {
        (Some(start), Some(end)) => (end - start).num_milliseconds().max(0) as f64 / 1000.0,
        _ => 0.0,
    };
    let doing = if is_active(record.status) {
        "starting".to_owned()
    } else {
        "finished".to_owned()
    };
    view_of(shared, record, elapsed, doing)
}

fn view_of(shared: &Shared, record: TaskRecord, elapsed: f64, doing: String) -> TaskView {
    let usage = shared
        .store
        .usage_with_descendants(&record.child_session_id)
        .unwrap_or_default();
    // A running task whose sub-agent waits for a person shows that.
    let status = match shared.store.get_session(&record.child_session_id) {
        Ok(Some(child))
            if record.status == SessionStatus::Running
                && child.status == SessionStatus::AwaitingPermission =>
        {
            SessionStatus::AwaitingPermission
        }
        _ => record.status,
    };
    let active = is_active(record.status);
    TaskView {
        provider: record
            .model
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
        isolation: if record.worktree.is_some() {
            "worktree"
        } else {
            "shared"
        }
        .to_owned(),
        branch: record.worktree.as_ref().map(|w| w.branch.clone()),
        // Claims hold only while the task is active.
        claims: if active { record.files } else { Vec::new() },
        elapsed_s: (elapsed * 10.0).round() / 10.0,
        tokens_in: usage.input_tokens,
        tokens_out: usage.output_tokens,
        cost_usd: usage.cost_usd,
        doing,
        result: record.result,
        task_id: record.id,
        parent_session_id: record.parent_session_id,
        child_session_id: record.child_session_id,
        description: record.description,
        status,
        agent: record.agent,
        model: record.model,
        created_at: record.created_at,
    }
}

/// A task of any session: from memory when this process runs it, else
/// from the store.
pub(crate) fn view(shared: &Shared, record: TaskRecord) -> TaskView {
    match shared.tasks.get(&record.id) {
        Some(entry) => status_view(shared, &entry),
        None => stored_view(shared, record),
    }
}

/// `task_status`: the session's tasks (or the named ones). Results are
/// left out: they reach the model as notices.
pub(crate) fn status(
    shared: &Shared,
    parent: &SessionId,
    ids: Option<&[String]>,
) -> Result<Vec<TaskView>, EngineError> {
    Ok(entries_of(shared, parent, ids)?
        .iter()
        .map(|e| TaskView {
            result: None,
            ..status_view(shared, e)
        })
        .collect())
}

/// `task_output`: the final answer, or the progress so far.
pub(crate) async fn output(
    shared: &Arc<Shared>,
    parent: &SessionId,
    id: &str,
) -> Result<String, EngineError> {
    let entry = owned_entry(shared, parent, id)?;
    let record = entry.record();
    if !is_active(record.status) {
        return Ok(format!(
            "Task {} {}.\n{}",
            record.id,
            record.status,
            record.result.as_deref().unwrap_or("It gave no answer.")
        ));
    }
    let child = record.child_session_id.clone();
    let last = shared
        .db(move |s| {
            Ok(s.messages(&child)?
                .into_iter()
                .rev()
                .find(|m| m.role == Role::Assistant && !m.text().trim().is_empty())
                .map(|m| m.text()))
        })
        .await?;
    let doing = shared
        .with_session(&record.child_session_id, |h| h.doing())
        .unwrap_or_default();
    Ok(format!(
        "Task {} is {} (now: {doing}).\nLatest from the sub-agent:\n{}",
        record.id,
        record.status,
        last.as_deref().unwrap_or("(nothing yet)")
    ))
}

/// How a wait ended.
pub(crate) struct WaitOutcome {
    /// Results of tasks that ended while waited for (their notices were
    /// consumed: this is how the parent learns of them).
    pub(crate) ended: Vec<String>,
    /// Tasks that had ended before the wait began (their results came or
    /// come as notices).
    pub(crate) already: Vec<String>,
    /// Tasks still running when the wait stopped.
    pub(crate) still_running: Vec<String>,
    /// Why the wait stopped early, if it did.
    pub(crate) interrupted: Option<&'static str>,
}

/// Waits for all (or, with `any`, one) of the tasks to end, at most
/// `timeout`, stopping early on `cancel` or `to_background`.
pub(crate) async fn wait(
    shared: &Arc<Shared>,
    parent: &SessionId,
    ids: Option<&[String]>,
    any: bool,
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    to_background: Option<&CancellationToken>,
) -> Result<WaitOutcome, EngineError> {
    let entries = entries_of(shared, parent, ids)?;
    let mut outcome = WaitOutcome {
        ended: Vec::new(),
        already: Vec::new(),
        still_running: Vec::new(),
        interrupted: None,
    };
    let mut waiting: Vec<(Arc<TaskEntry>, u64)> = Vec::new();
    for entry in entries {
        let mut s = entry.lock();
        if is_active(s.record.status) {
            s.waiters += 1;
            let generation = *entry.ends.borrow();
            drop(s);
            waiting.push((entry, generation));
        } else {
            outcome.already.push(format!(
                "Task {} already {}; its result came as a notice (task_output shows it again).",
                s.record.id, s.record.status
            ));
        }
    }
    if !waiting.is_empty() {
        let ends = waiting.iter().map(|(e, generation)| {
            let mut rx = e.ends.subscribe();
            let generation = *generation;
            Box::pin(async move {
                let _ = rx.wait_for(|n| *n > generation).await;
            })
        });
        let ends: Vec<_> = ends.collect();
        let all_or_any = async {
            if any {
                futures::future::select_all(ends).await;
            } else {
                futures::future::join_all(ends).await;
            }
        };
        let never = CancellationToken::new();
        let background = to_background.unwrap_or(&never);
        let limit = timeout.unwrap_or(Duration::MAX);
        tokio::select! {
            () = all_or_any => {}
            () = tokio::time::sleep(limit) => outcome.interrupted = Some("timed out"),
            () = cancel.cancelled() => outcome.interrupted = Some("cancelled"),
            () = background.cancelled() => outcome.interrupted = Some("moved to the background"),
        }
    }
    for (entry, generation) in waiting {
        let mut s = entry.lock();
        s.waiters = s.waiters.saturating_sub(1);
        if *entry.ends.borrow() > generation {
            // Ended while we waited: its notice was consumed for us.
            outcome.ended.push(notice_text(
                &s.record,
                &s.figures,
                shared.config.tasks.notice_result_chars,
            ));
        } else {
            outcome.still_running.push(s.record.id.to_string());
        }
    }
    Ok(outcome)
}

/// `task_send`: steers a running child (taken before its next model
/// call) or resumes a finished one with the message.
pub(crate) async fn send(
    shared: &Arc<Shared>,
    parent: &SessionId,
    id: &str,
    message: String,
) -> Result<String, EngineError> {
    let entry = owned_entry(shared, parent, id)?;
    let record = entry.record();
    if is_active(record.status) {
        if record.status == SessionStatus::Queued {
            return Err(EngineError::Invalid(format!(
                "task {id} is queued and has not started; it will read its prompt first \
                 (cancel it and start a new one to change what it does)"
            )));
        }
        shared.with_session(&record.child_session_id, |h| h.send(message))??;
        return Ok(format!(
            "Sent to task {id}; it reads the message before its next model call."
        ));
    }
    if let Some(w) = &record.worktree {
        let _git = shared.tasks.git_gate.lock().await;
        crate::worktree::ensure(&worktree_of(w))
            .await
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
    }
    shared.ensure_live(&record.child_session_id).await?;
    // Its claims come back with it, unless someone else holds them now.
    let _claims_gate = if record.files.is_empty() {
        None
    } else {
        let gate = shared.tasks.claims_gate.lock().await;
        let lookup = parent.clone();
        let cwd = shared
            .db(move |s| s.get_session(&lookup))
            .await?
            .map(|r| std::path::PathBuf::from(r.cwd))
            .ok_or_else(|| EngineError::UnknownSession(parent.to_string()))?;
        let again = TaskRequest {
            description: record.description.clone(),
            prompt: String::new(),
            agent: None,
            model: None,
            background: true,
            worktree: false,
            files: record.files.clone(),
        };
        let claim = claim_for(shared, &cwd, &again).await?;
        entry.lock().claim = claim;
        Some(gate)
    };
    shared.with_session(parent, |h| h.begin_work())?;
    let now = start_or_queue(shared, &entry, message).await?;
    Ok(format!(
        "Task {id} was {} and is now {} with your message; you get a notice when it ends.",
        record.status, now.status
    ))
}

/// `task_cancel`: cancels the child and everything under it.
pub(crate) fn cancel(
    shared: &Arc<Shared>,
    parent: &SessionId,
    id: &str,
) -> Result<String, EngineError> {
    let entry = owned_entry(shared, parent, id)?;
    let record = entry.record();
    match record.status {
        SessionStatus::Queued => {
            entry
                .queue_cancel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .cancel();
        }
        s if is_active(s) => shared.cancel_tree(&record.child_session_id),
        other => {
            return Ok(format!(
                "Task {id} already ended ({other}); nothing to cancel."
            ));
        }
    }
    Ok(format!(
        "Cancelling task {id} and everything under it; you get a notice when it has stopped."
    ))
}

/// The system prompt, plus the session's running tasks if it has any.
pub(crate) fn with_running_tasks(shared: &Shared, session: &SessionId, system: &str) -> String {
    let running: Vec<String> = shared
        .tasks
        .lock()
        .values()
        .filter_map(|e| {
            let s = e.lock();
            (s.record.parent_session_id == *session && is_active(s.record.status)).then(|| {
                format!(
                    "- {} \"{}\" ({}, {}, {:.0} s)",
                    s.record.id,
                    s.record.description,
                    s.record.agent,
                    s.record.status,
                    s.started.elapsed().as_secs_f64()
                )
            })
        })
        .collect();
    if running.is_empty() {
        return system.to_owned();
    }
    format!(
        "{system}\n<running-tasks>\nThese tasks you delegated are still running; each one's \
         result arrives as a notice when it ends. Don't redo their work.\n{}\n</running-tasks>\n",
        running.join("\n")
    )
}
