//! The engine's side of the tools' [`ToolContext`]: one base per turn, one
//! small wrapper per call.

use super::live::LiveSink;
use crate::delegation::Delegation;
use crate::lineage::Lineage;
use baton_protocol::SessionId;
use baton_tools::{
    BashSettings, FileTracker, LiveOutput, PathPolicy, ShellManager, Todo, ToolContext,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What tools of one session see during one turn.
pub struct SessionToolContext {
    pub(crate) session_id: String,
    pub(crate) working_dir: PathBuf,
    pub(crate) policy: PathPolicy,
    pub(crate) cancel: CancellationToken,
    pub(crate) bash: BashSettings,
    pub(crate) todos: Arc<Mutex<Vec<Todo>>>,
    pub(crate) shells: Arc<ShellManager>,
    /// Stale-read checks and per-file write locks, shared by all sessions.
    pub(crate) files: Arc<FileTracker>,
    /// For claim checks: the engine's tasks and the session's ancestors.
    pub(crate) tasks: Arc<Delegation>,
    pub(crate) lineage: Arc<Lineage>,
}

/// One tool call's view: the turn's context plus the call's id, its
/// move-to-background signal and where its live output goes.
pub struct CallContext<'a> {
    pub(crate) turn: &'a SessionToolContext,
    pub(crate) call_id: String,
    pub(crate) to_background: Option<CancellationToken>,
    pub(crate) live: Arc<LiveSink>,
}

impl ToolContext for CallContext<'_> {
    fn working_dir(&self) -> &Path {
        &self.turn.working_dir
    }

    fn path_policy(&self) -> &PathPolicy {
        &self.turn.policy
    }

    fn cancel(&self) -> &CancellationToken {
        &self.turn.cancel
    }

    fn bash_settings(&self) -> &BashSettings {
        &self.turn.bash
    }

    fn set_todos(&self, todos: Vec<Todo>) {
        *self.turn.todos.lock().unwrap_or_else(|p| p.into_inner()) = todos;
    }

    fn session_id(&self) -> &str {
        &self.turn.session_id
    }

    fn call_id(&self) -> &str {
        &self.call_id
    }

    fn background_requested(&self) -> Option<&CancellationToken> {
        self.to_background.as_ref()
    }

    fn shells(&self) -> Option<&ShellManager> {
        Some(&self.turn.shells)
    }

    fn files(&self) -> Option<&FileTracker> {
        Some(&self.turn.files)
    }

    fn claimed_by(&self, path: &Path) -> Option<String> {
        self.turn.tasks.claim_holder(
            &self.turn.lineage,
            &SessionId::from(self.turn.session_id.as_str()),
            path,
        )
    }

    fn live_output(&self) -> Option<Arc<dyn LiveOutput>> {
        Some(self.live.clone())
    }
}
