//! The engine-wide table of shells.

use super::shell::{Outcome, ShellSetup, lock};
use super::{Shell, ShellEvents, ShellInfo, ShellRead, ShellStatus, process};
use crate::{LiveOutput, ToolError};
use baton_protocol::ShellId;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How many ended background shells stay readable; older ones are
/// forgotten (their log files stay).
const KEPT_ENDED_SHELLS: usize = 128;

/// Every shell of the engine, all sessions together. Shared (`Send +
/// Sync`); each shell is watched by a tokio task of its own, so nothing
/// here blocks for long.
pub struct ShellManager {
    /// `None`: shells are not logged to files (a manager for foreground
    /// commands only).
    log_dir: Option<PathBuf>,
    ring_capacity: usize,
    events: Arc<dyn ShellEvents>,
    shells: Mutex<HashMap<String, Arc<Shell>>>,
}

impl std::fmt::Debug for ShellManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellManager")
            .field("log_dir", &self.log_dir)
            .field("ring_capacity", &self.ring_capacity)
            .field("shells", &lock(&self.shells).len())
            .finish()
    }
}

/// What to run.
pub(crate) struct ShellSpec<'a> {
    /// The shell program, run as `{shell} -c command`.
    pub(crate) shell: &'a str,
    /// The command line.
    pub(crate) command: &'a str,
    /// Where it runs.
    pub(crate) working_dir: &'a Path,
    /// The session it belongs to.
    pub(crate) session_id: &'a str,
    /// What the model said it does.
    pub(crate) description: Option<&'a str>,
    /// The sandbox it runs in.
    pub(crate) sandbox: &'a crate::SandboxSettings,
}

/// A foreground shell being waited for by a `bash` call. Dropping it
/// forgets the shell unless it moved to the background; if it is still
/// running then (the call was abandoned), its process group is killed.
pub(crate) struct Foreground<'m> {
    manager: &'m ShellManager,
    shell: Arc<Shell>,
    moved: bool,
}

/// A foreground shell that is now a background one.
pub(crate) struct Moved {
    /// The shell as it is now.
    pub(crate) info: ShellInfo,
    /// What it printed before the move (head and tail).
    pub(crate) output_so_far: String,
}

impl ShellManager {
    /// A manager that logs every shell's output to `<log_dir>/<shell
    /// id>.log` (creating the directory when needed), keeps the last
    /// `ring_capacity` bytes of each in memory, and tells `events` about
    /// background shells.
    pub fn new(log_dir: PathBuf, ring_capacity: usize, events: Arc<dyn ShellEvents>) -> Self {
        ShellManager {
            log_dir: Some(log_dir),
            ring_capacity,
            events,
            shells: Mutex::new(HashMap::new()),
        }
    }

    /// A manager for foreground commands only, where the context offers no
    /// shells: no log files, no ring (nobody reads it; the `bash` result
    /// comes from the head-and-tail capture), nobody to tell.
    pub(crate) fn detached() -> Self {
        ShellManager {
            log_dir: None,
            ring_capacity: 0,
            events: Arc::new(NoEvents),
            shells: Mutex::new(HashMap::new()),
        }
    }

    /// The shell `id` (foreground or background, running or ended).
    pub fn get(&self, id: &str) -> Option<ShellInfo> {
        self.find(id).map(|shell| shell.info())
    }

    /// The background shells (of `session_id`, or of all sessions), oldest
    /// first.
    pub fn list(&self, session_id: Option<&str>) -> Vec<ShellInfo> {
        let mut infos: Vec<ShellInfo> = lock(&self.shells)
            .values()
            .filter(|shell| session_id.is_none_or(|session| shell.session_id() == session))
            .map(|shell| shell.info())
            .filter(|info| info.background)
            .collect();
        infos.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        infos
    }

    /// How many background shells of `session_id` are still running.
    pub fn running_background(&self, session_id: &str) -> usize {
        lock(&self.shells)
            .values()
            .filter(|shell| {
                shell.session_id() == session_id && shell.is_background() && shell.is_running()
            })
            .count()
    }

    /// New output since the last `read_new` of this shell (a cursor per
    /// shell), only the lines matching `filter` if given. While the shell
    /// runs, an incomplete last character (with a filter: an incomplete
    /// last line) is left for the next read.
    pub fn read_new(
        &self,
        id: &str,
        filter: Option<&regex::Regex>,
    ) -> Result<ShellRead, ToolError> {
        Ok(self.find_or_fail(id)?.read_new(filter))
    }

    /// All output still held in memory, for user interfaces; does not move
    /// the cursor of [`ShellManager::read_new`].
    pub fn snapshot(&self, id: &str) -> Result<ShellRead, ToolError> {
        Ok(self.find_or_fail(id)?.snapshot())
    }

    /// Stops the shell's process group (SIGTERM, then SIGKILL after a short
    /// grace). Returns once the group is dead and, for a background shell,
    /// [`ShellEvents::ended`] was called. A shell that already ended is
    /// returned as it is.
    pub async fn kill(&self, id: &str) -> Result<ShellInfo, ToolError> {
        let shell = self.find_or_fail(id)?;
        shell.request_kill();
        shell.finished().await;
        Ok(shell.info())
    }

    /// Kills every running shell of `session_id`, background and
    /// foreground. Returns how many there were.
    pub async fn kill_session(&self, session_id: &str) -> usize {
        self.kill_where(|shell| shell.session_id() == session_id)
            .await
    }

    /// Kills every running shell (engine shutdown).
    pub async fn kill_all(&self) {
        let killed = self.kill_where(|_| true).await;
        tracing::debug!(killed, "killed all shells");
    }

    async fn kill_where(&self, pick: impl Fn(&Shell) -> bool) -> usize {
        let running: Vec<Arc<Shell>> = lock(&self.shells)
            .values()
            .filter(|shell| pick(shell) && shell.is_running())
            .cloned()
            .collect();
        for shell in &running {
            shell.request_kill();
        }
        futures::future::join_all(running.iter().map(|shell| shell.finished())).await;
        running.len()
    }

    /// Starts a background shell. [`ShellEvents::backgrounded`] has been
    /// called when this returns.
    pub(crate) fn start_background(&self, spec: ShellSpec<'_>) -> Result<ShellInfo, ToolError> {
        let shell = self.start(spec, None, true)?;
        Ok(shell.info())
    }

    /// Starts a foreground shell whose output is also kept, head and tail,
    /// up to `max_output_bytes`, and handed to `live` as it arrives while
    /// the shell is in the foreground.
    pub(crate) fn start_foreground(
        &self,
        spec: ShellSpec<'_>,
        max_output_bytes: usize,
        live: Option<Arc<dyn LiveOutput>>,
    ) -> Result<Foreground<'_>, ToolError> {
        let shell = self.start(spec, Some((max_output_bytes, live)), false)?;
        Ok(Foreground {
            manager: self,
            shell,
            moved: false,
        })
    }

    /// The one way shells start: log file, process, table entry, event,
    /// supervising task.
    fn start(
        &self,
        spec: ShellSpec<'_>,
        capture: Option<(usize, Option<Arc<dyn LiveOutput>>)>,
        background: bool,
    ) -> Result<Arc<Shell>, ToolError> {
        let id = ShellId::generate();
        let (log_path, log) = self.create_log(&id)?;
        let spawned = match process::spawn(spec.shell, spec.command, spec.working_dir, spec.sandbox)
        {
            Ok(spawned) => spawned,
            Err(err) => {
                if log.is_some() {
                    remove_log(&log_path);
                }
                return Err(err);
            }
        };
        let shell = Arc::new(Shell::new(ShellSetup {
            id: id.clone(),
            session_id: spec.session_id.to_owned(),
            command: spec.command.to_owned(),
            description: spec.description.map(str::to_owned),
            pid: spawned.pid(),
            refusals: spawned.refusals(),
            log_path,
            log,
            ring_capacity: self.ring_capacity,
            capture,
            background,
        }));
        {
            let mut shells = lock(&self.shells);
            forget_old_ended(&mut shells);
            shells.insert(id.to_string(), Arc::clone(&shell));
        }
        tracing::debug!(shell = %id, command = spec.command, background, "shell started");
        if background {
            // Before the task that may report its end exists.
            self.events.backgrounded(&shell.info());
        }
        tokio::spawn(process::supervise(
            Arc::clone(&shell),
            spawned,
            Arc::clone(&self.events),
        ));
        Ok(shell)
    }

    fn create_log(&self, id: &ShellId) -> Result<(PathBuf, Option<BufWriter<File>>), ToolError> {
        let Some(dir) = &self.log_dir else {
            return Ok((PathBuf::new(), None));
        };
        std::fs::create_dir_all(dir)
            .map_err(|err| ToolError::io("create the shell log directory", dir, err))?;
        let path = dir.join(format!("{id}.log"));
        // A command's output is as private as the conversation it is in.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|err| ToolError::io("create the shell log", &path, err))?;
        Ok((path, Some(BufWriter::with_capacity(64 * 1024, file))))
    }

    fn find(&self, id: &str) -> Option<Arc<Shell>> {
        lock(&self.shells).get(id).cloned()
    }

    fn find_or_fail(&self, id: &str) -> Result<Arc<Shell>, ToolError> {
        self.find(id)
            .ok_or_else(|| ToolError::Failed(format!("there is no shell `{id}`")))
    }

    /// Drops a foreground shell from the table, with its log file.
    fn forget(&self, shell: &Shell) {
        lock(&self.shells).remove(shell.id().as_str());
        if self.log_dir.is_some() {
            remove_log(shell.log_path());
        }
    }
}

/// Keeps at most [`KEPT_ENDED_SHELLS`] ended background shells (below the
/// one about to be added), forgetting those that ended first.
fn forget_old_ended(shells: &mut HashMap<String, Arc<Shell>>) {
    let mut ended: Vec<(std::time::SystemTime, String)> = shells
        .values()
        .map(|shell| shell.info())
        .filter(|info| info.background && info.status != ShellStatus::Running)
        .map(|info| (info.ended_at.unwrap_or(info.started_at), info.id.0))
        .collect();
    if ended.len() < KEPT_ENDED_SHELLS {
        return;
    }
    ended.sort();
    let excess = ended.len() + 1 - KEPT_ENDED_SHELLS;
    for (_, id) in ended.into_iter().take(excess) {
        shells.remove(&id);
    }
}

fn remove_log(path: &Path) {
    if let Err(err) = std::fs::remove_file(path)
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %err, "cannot remove a shell log");
    }
}

impl Foreground<'_> {
    /// The shell's id.
    pub(crate) fn id(&self) -> &ShellId {
        self.shell.id()
    }

    /// Waits until the command ended.
    pub(crate) async fn finished(&self) {
        self.shell.finished().await;
    }

    /// How it ended and what it printed, once it ended.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.shell.outcome()
    }

    /// Stops the command's process group and waits until it ended.
    pub(crate) async fn stop(&self) {
        self.shell.request_kill();
        self.shell.finished().await;
    }

    /// Moves the command to the background. `None`: it already ended
    /// (use [`Foreground::outcome`]).
    pub(crate) async fn move_to_background(&mut self) -> Option<Moved> {
        let (info, output_so_far) = self
            .shell
            .move_to_background(self.manager.events.as_ref())
            .await?;
        self.moved = true;
        Some(Moved {
            info,
            output_so_far,
        })
    }
}

impl Drop for Foreground<'_> {
    fn drop(&mut self) {
        if self.moved {
            return;
        }
        if self.shell.is_running() {
            tracing::debug!(shell = %self.shell.id(), "killing an abandoned command's process group");
            self.shell.kill_now();
        }
        self.manager.forget(&self.shell);
    }
}

/// Nobody listens: for [`ShellManager::detached`], whose shells never go
/// to the background.
struct NoEvents;

impl ShellEvents for NoEvents {
    fn backgrounded(&self, _info: &ShellInfo) {}

    fn ended(&self, _info: &ShellInfo, _tail: &str) {}
}
