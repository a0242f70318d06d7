//! A [`ToolContext`] over a temporary directory, for unit tests.

use crate::{BashSettings, PathPolicy, Todo, ToolContext};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub(crate) struct TestContext {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    policy: PathPolicy,
    pub(crate) cancel: CancellationToken,
    pub(crate) bash: BashSettings,
    pub(crate) todos: Mutex<Option<Vec<Todo>>>,
}

impl TestContext {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        TestContext {
            _dir: dir,
            policy: PathPolicy::new(root.clone()),
            root,
            cancel: CancellationToken::new(),
            bash: BashSettings::default(),
            todos: Mutex::new(None),
        }
    }

    /// Writes a file below the root, creating parent directories.
    pub(crate) fn file(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub(crate) fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative)).unwrap()
    }
}

impl ToolContext for TestContext {
    fn working_dir(&self) -> &Path {
        &self.root
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
        *self.todos.lock().unwrap() = Some(todos);
    }
}
