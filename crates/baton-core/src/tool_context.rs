//! The engine's side of the tools' [`ToolContext`].

use baton_tools::{BashSettings, PathPolicy, Todo, ToolContext};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What tools of one session see during one turn.
pub struct SessionToolContext {
    pub(crate) working_dir: PathBuf,
    pub(crate) policy: PathPolicy,
    pub(crate) cancel: CancellationToken,
    pub(crate) bash: BashSettings,
    pub(crate) todos: Arc<Mutex<Vec<Todo>>>,
}

impl ToolContext for SessionToolContext {
    fn working_dir(&self) -> &Path {
        &self.working_dir
    }

    fn path_policy(&self) -> &PathPolicy {
        &self.policy
    }

    fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    fn bash_settings(&self) -> &BashSettings {
        &self.bash
    }

    fn set_todos(&self, todos: Vec<Todo>) {
        *self.todos.lock().unwrap_or_else(|p| p.into_inner()) = todos;
    }
}
