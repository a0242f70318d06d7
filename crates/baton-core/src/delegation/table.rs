//! The tasks in memory: one entry per task this process knows, and the
//! running limit.
//!
//! A task's end is decided and published in one step: under the entry's
//! end gate, the end status and whether a waiting call takes the notice
//! are decided, the end is stored, and the waiters are woken. A wait
//! registers and gives up under the same gate, so a wait that times out
//! while a task ends sees either the whole end (and takes its notice) or
//! none of it (and the parent gets the notice).

use super::is_active;
use crate::claims::Claim;
use crate::session::WorkGuard;
use baton_protocol::{SessionId, SessionStatus, TaskId, Usage};
use baton_store::TaskRecord;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

/// The tasks this process knows, and the limit on how many run at once.
pub(crate) struct TaskTable {
    pub(super) limit: Arc<Semaphore>,
    entries: Mutex<HashMap<TaskId, Arc<TaskEntry>>>,
    /// Counts the entries ever added, for their order.
    added: std::sync::atomic::AtomicU64,
}

/// One task in memory.
pub(crate) struct TaskEntry {
    state: Mutex<TaskState>,
    /// Held while a task's end is decided, stored and published, and while
    /// a wait registers or gives up.
    pub(super) end_gate: tokio::sync::Mutex<()>,
    /// Counts the task's ends; waiters watch it move.
    pub(super) ends: watch::Sender<u64>,
    /// Fires when a queued or waiting task is cancelled before it started.
    pub(super) queue_cancel: Mutex<CancellationToken>,
}

pub(super) struct TaskState {
    /// The paths it claims (while it is active), compiled.
    pub(super) claim: Option<Arc<Claim>>,
    pub(super) record: TaskRecord,
    /// Calls of the parent waiting for this task right now.
    pub(super) waiters: usize,
    /// When the current (or last) run started.
    pub(super) started: Instant,
    /// Figures of the last end, for status and notices.
    pub(super) figures: Figures,
    /// The parent's unit of work for this run; ends with the run's end.
    pub(super) parent_work: Option<WorkGuard>,
    /// Someone cancelled this run: it ends `cancelled`, and if it is still
    /// queued it never starts.
    pub(super) cancel_requested: bool,
    /// Why the engine is ending it, for the notice (see [`Figures::reason`]).
    pub(super) reason: Option<String>,
    /// What it has spent (see [`super::budget`]).
    pub(super) spent: super::budget::Spent,
    /// When this process took it into its table, among the others: ties
    /// of `created_at` keep the order tasks were made in.
    pub(super) order: u64,
    /// It reached its budget and was stopped: it ends `failed`.
    pub(super) over_budget: bool,
}

/// Usage of a task's child session tree, and where its work is.
#[derive(Debug, Clone, Default)]
pub(super) struct Figures {
    pub(super) usage: Usage,
    pub(super) tool_calls: u64,
    pub(super) seconds: f64,
    /// For a worktree task: its branch and what changed there.
    pub(super) worktree_note: Option<String>,
    /// Why it ended as it did, when the engine ended it (a dependency
    /// that did not complete).
    pub(super) reason: Option<String>,
}

impl TaskEntry {
    pub(super) fn new(record: TaskRecord, claim: Option<Arc<Claim>>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(TaskState {
                claim,
                record,
                waiters: 0,
                started: Instant::now(),
                figures: Figures::default(),
                parent_work: None,
                cancel_requested: false,
                reason: None,
                spent: super::budget::Spent::default(),
                order: 0,
                over_budget: false,
            }),
            end_gate: tokio::sync::Mutex::new(()),
            ends: watch::channel(0).0,
            queue_cancel: Mutex::new(CancellationToken::new()),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn record(&self) -> TaskRecord {
        self.lock().record.clone()
    }

    /// A fresh signal for a queued run's wait for a slot.
    pub(super) fn new_queue_cancel(&self) -> CancellationToken {
        let token = CancellationToken::new();
        *self.queue_cancel.lock().unwrap_or_else(|p| p.into_inner()) = token.clone();
        token
    }

    /// Marks the run cancelled; a queued run's wait for a slot (or a
    /// waiting one's for its dependencies) stops. The
    /// child session to cancel is returned when the run has started.
    pub(crate) fn request_cancel(&self) -> Option<SessionId> {
        let mut s = self.lock();
        if !is_active(s.record.status) {
            return None;
        }
        s.cancel_requested = true;
        if matches!(
            s.record.status,
            SessionStatus::Queued | SessionStatus::Waiting
        ) {
            self.queue_cancel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .cancel();
            None
        } else {
            Some(s.record.child_session_id.clone())
        }
    }
}

impl TaskTable {
    pub(crate) fn new(max_running: usize) -> Self {
        Self {
            limit: Arc::new(Semaphore::new(max_running)),
            entries: Mutex::new(HashMap::new()),
            added: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<TaskId, Arc<TaskEntry>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, id: &TaskId) -> Option<Arc<TaskEntry>> {
        self.lock().get(id).cloned()
    }

    pub(super) fn insert(&self, entry: Arc<TaskEntry>) {
        let id = {
            let mut s = entry.lock();
            s.order = self.next_order();
            s.record.id.clone()
        };
        self.lock().insert(id, entry);
    }

    fn next_order(&self) -> u64 {
        self.added
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// The task a child session runs, if this process holds it.
    pub(crate) fn of_child(&self, child: &SessionId) -> Option<Arc<TaskEntry>> {
        self.lock()
            .values()
            .find(|e| e.lock().record.child_session_id == *child)
            .cloned()
    }

    /// A parent's tasks that have not ended (queued or running).
    pub(crate) fn active_of(&self, parent: &SessionId) -> Vec<Arc<TaskEntry>> {
        self.lock()
            .values()
            .filter(|e| {
                let s = e.lock();
                s.record.parent_session_id == *parent && is_active(s.record.status)
            })
            .cloned()
            .collect()
    }

    /// Every task of a parent, in the order they were made.
    pub(super) fn all_of(&self, parent: &SessionId) -> Vec<Arc<TaskEntry>> {
        let mut all: Vec<Arc<TaskEntry>> = self
            .lock()
            .values()
            .filter(|e| e.lock().record.parent_session_id == *parent)
            .cloned()
            .collect();
        all.sort_by_key(|e| {
            let s = e.lock();
            (s.record.created_at, s.order)
        });
        all
    }

    /// Loads a session's stored tasks this process does not know yet (they
    /// ran before a restart, or before the session was unloaded), so the
    /// session can see and resume them.
    pub(crate) fn adopt(&self, stored: Vec<TaskRecord>) {
        let mut entries = self.lock();
        for record in stored {
            entries.entry(record.id.clone()).or_insert_with(|| {
                let entry = TaskEntry::new(record, None);
                entry.lock().order = self.next_order();
                entry
            });
        }
    }

    /// Forgets a parent's ended tasks (the parent is being unloaded; they
    /// are adopted again from the store when it is opened). Returns how
    /// many were forgotten; active ones stay.
    pub(crate) fn forget_ended_of(&self, parent: &SessionId) -> usize {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, e| {
            let s = e.lock();
            s.record.parent_session_id != *parent || is_active(s.record.status)
        });
        before - entries.len()
    }

    /// How many tasks are held in memory.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
