//! Delegation: tasks run by child sessions, in the background by default.
//!
//! A task is a child session (its own actor) plus a record. Its parent is
//! told when it ends through a stored notice, delivered exactly once: into
//! the parent's conversation, or, when the parent is waiting for it
//! (`task_wait`, `task` with `background: false`), as that call's result.
//!
//! Split by concern: [`table`] holds the tasks in memory and the one
//! atomic step that ends a task; [`spawn`] starts, queues, resumes and
//! cancels them; [`after`] holds a task back until the tasks it comes
//! after have ended; [`budget`] stops a task that spent what it may;
//! [`messages`] carries what a sub-agent tells its parent or siblings;
//! [`end`] reads how a child ended and tells its parent; [`views`] and
//! [`wait`] answer questions about them; [`tools`] are the
//! tools the model sees. Sessions are reached only through the narrow
//! [`Host`] handle, never through the engine.

mod after;
mod budget;
mod claim_check;
mod end;
mod messages;
mod spawn;
mod table;
mod tools;
mod views;
mod wait;

pub(crate) use spawn::TaskRequest;
pub(crate) use table::TaskTable;
pub(crate) use views::{ChildFigures, view_of};

use crate::host::Host;
use crate::services::Services;
use baton_protocol::SessionStatus;
use std::sync::Arc;
use tokio_util::task::TaskTracker;

/// The delegation part of the engine: its task table, and what it needs to
/// reach sessions and shared services.
pub(crate) struct Delegation {
    pub(crate) services: Arc<Services>,
    /// Sessions, weakly: the engine owns the sessions, not the tasks.
    pub(crate) host: Host,
    /// The tasks this process knows and the limit on how many run at once.
    pub(crate) table: TaskTable,
    /// Taken while a task's claims are checked and recorded.
    claims_gate: tokio::sync::Mutex<()>,
    /// Taken around git worktree changes, which git does not let run
    /// side by side in one repository.
    git_gate: tokio::sync::Mutex<()>,
    /// The watchers of queued and running tasks.
    watchers: TaskTracker,
}

impl Delegation {
    pub(crate) fn new(services: Arc<Services>, host: Host) -> Self {
        let max_running = services.config.tasks.max_running.max(1);
        Self {
            services,
            host,
            table: TaskTable::new(max_running),
            claims_gate: tokio::sync::Mutex::new(()),
            git_gate: tokio::sync::Mutex::new(()),
            watchers: TaskTracker::new(),
        }
    }

    /// Waits for every task watcher to finish (engine shutdown).
    pub(crate) async fn wait_watchers(&self) {
        self.watchers.close();
        self.watchers.wait().await;
    }
}

/// Whether a task in this status still has to end.
pub(crate) fn is_active(status: SessionStatus) -> bool {
    matches!(
        status,
        SessionStatus::Waiting
            | SessionStatus::Queued
            | SessionStatus::Running
            | SessionStatus::AwaitingPermission
    )
}
