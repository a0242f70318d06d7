//! A [`ToolContext`] over a temporary directory, shells that record what
//! the engine would hear, and helpers to watch processes, for unit tests.

use crate::{
    BashSettings, DEFAULT_RING_CAPACITY, FileTracker, PathPolicy, ShellEvents, ShellInfo,
    ShellManager, Todo, ToolContext,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub(crate) struct TestContext {
    _dir: Arc<tempfile::TempDir>,
    pub(crate) root: PathBuf,
    policy: PathPolicy,
    pub(crate) cancel: CancellationToken,
    pub(crate) bash: BashSettings,
    pub(crate) todos: Mutex<Option<Vec<Todo>>>,
    pub(crate) session: String,
    pub(crate) shells: Option<Arc<TestShells>>,
    pub(crate) background: Option<CancellationToken>,
    pub(crate) files: Option<FileTracker>,
    /// Claimed paths (as `claimed_by` receives them) and their holders.
    pub(crate) claims: Mutex<HashMap<PathBuf, String>>,
    /// What calls handed to `live_output`, when the test listens.
    pub(crate) live: Option<Arc<HeardLive>>,
}

/// Live output a context heard, all of it in order.
#[derive(Default)]
pub(crate) struct HeardLive(pub(crate) Mutex<Vec<u8>>);

impl crate::LiveOutput for HeardLive {
    fn output(&self, bytes: &[u8]) {
        self.0.lock().unwrap().extend_from_slice(bytes);
    }
}

impl HeardLive {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl TestContext {
    /// A context without shells.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        TestContext {
            _dir: Arc::new(dir),
            policy: PathPolicy::new(root.clone()),
            root,
            cancel: CancellationToken::new(),
            bash: BashSettings::default(),
            todos: Mutex::new(None),
            session: "ses_test".to_owned(),
            shells: None,
            background: None,
            files: None,
            claims: Mutex::new(HashMap::new()),
            live: None,
        }
    }

    /// A context without shells whose directory is outside every temp
    /// directory (which sandboxed commands may always write).
    pub(crate) fn outside_temp() -> Self {
        TestContext::new().moved_outside_temp()
    }

    /// The same context in a new directory outside every temp directory.
    pub(crate) fn moved_outside_temp(self) -> Self {
        let dir = outside_temp_dir();
        let root = dir.path().canonicalize().unwrap();
        TestContext {
            _dir: Arc::new(dir),
            policy: PathPolicy::new(root.clone()),
            root,
            ..self
        }
    }

    /// A context of `session` tracking its files with `tracker` (which
    /// other contexts may use too), in a directory of its own.
    pub(crate) fn sharing_files(tracker: FileTracker, session: &str) -> Self {
        TestContext {
            session: session.to_owned(),
            files: Some(tracker),
            ..TestContext::new()
        }
    }

    /// Another session in the same directory, with the same file tracker
    /// (if any) and no claims.
    pub(crate) fn another_session(&self, session: &str) -> Self {
        TestContext {
            _dir: self._dir.clone(),
            root: self.root.clone(),
            policy: self.policy.clone(),
            session: session.to_owned(),
            files: self.files.clone(),
            ..TestContext::new()
        }
    }

    /// The context's file tracker (it must have one).
    pub(crate) fn tracker(&self) -> &FileTracker {
        self.files.as_ref().unwrap()
    }

    /// Marks `relative` (below the root) as claimed by `holder`.
    pub(crate) fn claim(&self, relative: &str, holder: &str) {
        self.claims
            .lock()
            .unwrap()
            .insert(self.root.join(relative), holder.to_owned());
    }

    /// A context of session `ses_a` with shells of its own.
    pub(crate) fn with_shells() -> Self {
        TestContext::sharing(TestShells::new(DEFAULT_RING_CAPACITY), "ses_a")
    }

    /// A context of `session` using `shells` (which other contexts may use
    /// too), with a move-to-background trigger.
    pub(crate) fn sharing(shells: Arc<TestShells>, session: &str) -> Self {
        TestContext {
            session: session.to_owned(),
            shells: Some(shells),
            background: Some(CancellationToken::new()),
            ..TestContext::new()
        }
    }

    /// The context's shells (it must have some).
    pub(crate) fn test_shells(&self) -> &Arc<TestShells> {
        self.shells.as_ref().unwrap()
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

    fn session_id(&self) -> &str {
        &self.session
    }

    fn background_requested(&self) -> Option<&CancellationToken> {
        self.background.as_ref()
    }

    fn shells(&self) -> Option<&ShellManager> {
        self.shells.as_ref().map(|shells| &shells.manager)
    }

    fn files(&self) -> Option<&FileTracker> {
        self.files.as_ref()
    }

    fn claimed_by(&self, path: &Path) -> Option<String> {
        self.claims.lock().unwrap().get(path).cloned()
    }

    fn live_output(&self) -> Option<Arc<dyn crate::LiveOutput>> {
        self.live
            .clone()
            .map(|live| live as Arc<dyn crate::LiveOutput>)
    }
}

/// A [`ShellManager`] logging to a temporary directory, with its events
/// recorded.
pub(crate) struct TestShells {
    pub(crate) manager: ShellManager,
    pub(crate) events: Arc<RecordedEvents>,
    pub(crate) log_dir: PathBuf,
    _logs: tempfile::TempDir,
}

impl TestShells {
    pub(crate) fn new(ring_capacity: usize) -> Arc<Self> {
        let logs = tempfile::tempdir().unwrap();
        // Not created yet: the manager creates it.
        let log_dir = logs.path().join("shells");
        let events = Arc::new(RecordedEvents::default());
        Arc::new(TestShells {
            manager: ShellManager::new(log_dir.clone(), ring_capacity, events.clone()),
            events,
            log_dir,
            _logs: logs,
        })
    }
}

/// One call the manager made to its [`ShellEvents`], and when.
#[derive(Debug, Clone)]
pub(crate) enum ShellEvent {
    Backgrounded {
        info: ShellInfo,
        at: Instant,
    },
    Ended {
        info: ShellInfo,
        tail: String,
        at: Instant,
    },
}

impl ShellEvent {
    pub(crate) fn info(&self) -> &ShellInfo {
        match self {
            ShellEvent::Backgrounded { info, .. } | ShellEvent::Ended { info, .. } => info,
        }
    }
}

/// Records every call.
#[derive(Default)]
pub(crate) struct RecordedEvents {
    calls: Mutex<Vec<ShellEvent>>,
}

impl RecordedEvents {
    pub(crate) fn all(&self) -> Vec<ShellEvent> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls about shell `id`, in order.
    pub(crate) fn of(&self, id: &str) -> Vec<ShellEvent> {
        self.all()
            .into_iter()
            .filter(|event| event.info().id.as_str() == id)
            .collect()
    }

    /// The `ended` calls about shell `id`: (info, tail, when).
    pub(crate) fn ended_of(&self, id: &str) -> Vec<(ShellInfo, String, Instant)> {
        self.of(id)
            .into_iter()
            .filter_map(|event| match event {
                ShellEvent::Ended { info, tail, at } => Some((info, tail, at)),
                ShellEvent::Backgrounded { .. } => None,
            })
            .collect()
    }

    /// Waits (up to 10 s) until `ended` was called for shell `id`.
    pub(crate) async fn wait_ended(&self, id: &str) -> (ShellInfo, String, Instant) {
        wait_until(Duration::from_secs(10), "the shell to end", || {
            !self.ended_of(id).is_empty()
        })
        .await;
        self.ended_of(id).remove(0)
    }
}

impl ShellEvents for RecordedEvents {
    fn backgrounded(&self, info: &ShellInfo) {
        self.calls.lock().unwrap().push(ShellEvent::Backgrounded {
            info: info.clone(),
            at: Instant::now(),
        });
    }

    fn ended(&self, info: &ShellInfo, tail: &str) {
        self.calls.lock().unwrap().push(ShellEvent::Ended {
            info: info.clone(),
            tail: tail.to_owned(),
            at: Instant::now(),
        });
    }
}

/// Whether a process exists and is not a zombie waiting to be reaped.
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Polls `condition` until it holds, failing the test after `limit`.
pub(crate) async fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pid a test command wrote to `path`, once it is there.
pub(crate) fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Waits (up to 10 s) for the pid a test command writes to `path`.
pub(crate) async fn wait_for_pid(path: &Path) -> u32 {
    wait_until(Duration::from_secs(10), "a pid file", || {
        read_pid(path).is_some()
    })
    .await;
    read_pid(path).unwrap()
}

/// Waits (up to 5 s) until process `pid` is gone.
pub(crate) async fn wait_dead(pid: u32) {
    wait_until(Duration::from_secs(5), "a process to die", || {
        !process_alive(pid)
    })
    .await;
}

/// A command that starts a grandchild in the background, records its pid
/// in `gc.pid`, prints `started` and then waits.
pub(crate) const SPAWNS_GRANDCHILD: &str =
    "echo started; sh -c 'echo $$ > gc.pid.tmp; mv gc.pid.tmp gc.pid; exec sleep 100' & wait";

/// A command that prints `begun`, waits until the file `go` exists, then
/// prints `finished`.
pub(crate) const WAITS_FOR_GO: &str =
    "echo begun; while [ ! -e go ]; do sleep 0.02; done; echo finished";

/// A new directory outside every temp directory: in the build's target
/// directory (next to the test binary) unless that is in one, else in
/// `/var/tmp`.
pub(crate) fn outside_temp_dir() -> tempfile::TempDir {
    let temp: Vec<PathBuf> = [std::env::temp_dir(), "/tmp".into(), "/dev/shm".into()]
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
    let target = exe.parent().and_then(Path::parent).map(Path::to_path_buf);
    let base = target
        .into_iter()
        .chain([PathBuf::from("/var/tmp")])
        .filter_map(|d| d.canonicalize().ok())
        .find(|d| !temp.iter().any(|t| d.starts_with(t)))
        .expect("a directory outside the temp directories, for sandbox tests");
    tempfile::tempdir_in(base).unwrap()
}
