//! One shell: what is known about it, its output, and the hand-over from
//! foreground to background.

use super::process_group::{GroupSignal, signal_group};
use super::ring::{Ring, Take};
use super::{HeadTail, ShellEvents, ShellInfo, ShellRead, ShellStatus, TAIL_BYTES, TAIL_LINES};
use crate::LiveOutput;
use crate::sandbox::Refusals;
use baton_protocol::ShellId;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How a shell's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It ended by itself, with this status.
    Exited(ExitStatus),
    /// It was stopped on request.
    Killed,
}

/// What stays fixed for a shell's whole life.
pub(super) struct ShellSetup {
    pub(super) id: ShellId,
    pub(super) session_id: String,
    pub(super) command: String,
    pub(super) description: Option<String>,
    pub(super) pid: Option<u32>,
    /// What its sandbox allows, when it runs in one.
    pub(super) refusals: Option<Arc<Refusals>>,
    pub(super) log_path: PathBuf,
    pub(super) log: Option<BufWriter<File>>,
    pub(super) ring_capacity: usize,
    /// `Some((max bytes, live))`: a foreground shell whose caller wants a
    /// bounded copy of all its output (head and tail), and maybe to hear
    /// it as it arrives.
    pub(super) capture: Option<(usize, Option<Arc<dyn LiveOutput>>)>,
    pub(super) background: bool,
}

/// One shell, shared by the manager, the task that supervises its process
/// and the `bash` call that started it.
pub(crate) struct Shell {
    id: ShellId,
    session_id: String,
    command: String,
    description: Option<String>,
    pid: Option<u32>,
    refusals: Option<Arc<Refusals>>,
    log_path: PathBuf,
    started_at: SystemTime,
    state: Mutex<State>,
    output: Mutex<Output>,
    kill: CancellationToken,
    done: watch::Sender<bool>,
    /// Serialises "move to the background" against "it ended", so that
    /// [`ShellEvents::backgrounded`] always comes before
    /// [`ShellEvents::ended`], and `ended` is called exactly when the shell
    /// was in the background as it ended.
    handover: tokio::sync::Mutex<()>,
}

struct State {
    status: ShellStatus,
    exit_code: Option<i32>,
    ended_at: Option<SystemTime>,
    background: bool,
    ending: Option<(Ending, bool)>,
}

struct Output {
    ring: Ring,
    /// Where the next [`Shell::read_new`] starts (an absolute offset).
    cursor: u64,
    log: Option<BufWriter<File>>,
    capture: Option<HeadTail>,
    /// Who hears the output as it arrives, while in the foreground.
    live: Option<Arc<dyn LiveOutput>>,
}

/// A foreground shell's end, for the `bash` result.
pub(crate) struct Outcome {
    /// How its main process ended.
    pub(crate) ending: Ending,
    /// Its output, head and tail kept, with a note when reading stopped
    /// early.
    pub(crate) output: String,
    /// When it ran in a sandbox that refused a write: a note saying so.
    pub(crate) sandbox_note: Option<String>,
}

/// Locks a mutex whose data stays consistent even if a holder panicked
/// (every update is a plain assignment or append).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shell {
    pub(super) fn new(setup: ShellSetup) -> Shell {
        Shell {
            id: setup.id,
            session_id: setup.session_id,
            command: setup.command,
            description: setup.description,
            pid: setup.pid,
            refusals: setup.refusals,
            log_path: setup.log_path,
            started_at: SystemTime::now(),
            state: Mutex::new(State {
                status: ShellStatus::Running,
                exit_code: None,
                ended_at: None,
                background: setup.background,
                ending: None,
            }),
            output: Mutex::new(Output {
                ring: Ring::new(setup.ring_capacity),
                cursor: 0,
                log: setup.log,
                capture: setup.capture.as_ref().map(|(max, _)| HeadTail::new(*max)),
                live: setup.capture.and_then(|(_, live)| live),
            }),
            kill: CancellationToken::new(),
            done: watch::Sender::new(false),
            handover: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn id(&self) -> &ShellId {
        &self.id
    }

    pub(super) fn session_id(&self) -> &str {
        &self.session_id
    }

    pub(super) fn log_path(&self) -> &std::path::Path {
        &self.log_path
    }

    /// What is known about it now.
    pub(crate) fn info(&self) -> ShellInfo {
        self.info_from(&lock(&self.state))
    }

    fn info_from(&self, state: &State) -> ShellInfo {
        ShellInfo {
            id: self.id.clone(),
            session_id: self.session_id.clone(),
            command: self.command.clone(),
            description: self.description.clone(),
            status: state.status,
            exit_code: state.exit_code,
            pid: self.pid,
            log_path: self.log_path.clone(),
            started_at: self.started_at,
            ended_at: state.ended_at,
            background: state.background,
        }
    }

    pub(super) fn is_running(&self) -> bool {
        lock(&self.state).status == ShellStatus::Running
    }

    pub(super) fn is_background(&self) -> bool {
        lock(&self.state).background
    }

    /// Fires when the shell should be stopped.
    pub(super) fn kill_requested(&self) -> &CancellationToken {
        &self.kill
    }

    /// Asks the supervising task to stop the process group (SIGTERM, then
    /// SIGKILL after a grace period). Does nothing once it ended.
    pub(crate) fn request_kill(&self) {
        self.kill.cancel();
    }

    /// Kills the process group with SIGKILL at once (the caller is going
    /// away and cannot wait), and lets the supervising task finish the job.
    pub(super) fn kill_now(&self) {
        if let Some(pgid) = self.pid {
            signal_group(pgid, GroupSignal::Kill);
        }
        self.kill.cancel();
    }

    /// Waits until the shell ended: its output read, its log flushed and
    /// (for a background shell) [`ShellEvents::ended`] called.
    pub(crate) async fn finished(&self) {
        let mut done = self.done.subscribe();
        // The sender lives in `self`, so the wait cannot fail.
        let _ = done.wait_for(|ended| *ended).await;
    }

    /// Takes more output: into the ring, the log file and (in the
    /// foreground) the capture and whoever hears it live.
    pub(super) fn push(&self, bytes: &[u8]) {
        let mut output = lock(&self.output);
        output.ring.push(bytes);
        if let Some(capture) = &mut output.capture {
            capture.push(bytes);
        }
        if let Some(live) = &output.live {
            live.output(bytes);
        }
        output.write_log(bytes, &self.id);
    }

    /// New output since the last call, only the lines matching `filter` if
    /// given. While the shell runs, an incomplete character (and with a
    /// filter, an incomplete line) waits for the next call.
    pub(super) fn read_new(&self, filter: Option<&regex::Regex>) -> ShellRead {
        let (status, exit_code) = self.status();
        let take = match (status, filter) {
            (ShellStatus::Running, Some(_)) => Take::WholeLines,
            (ShellStatus::Running, None) => Take::WholeChars,
            _ => Take::All,
        };
        let chunk = {
            let mut output = lock(&self.output);
            output.flush_log(&self.id);
            let chunk = output.ring.read_from(output.cursor, take);
            output.cursor = chunk.next;
            chunk
        };
        let text = String::from_utf8_lossy(&chunk.bytes);
        let output = match filter {
            Some(filter) => text
                .split_inclusive('\n')
                .filter(|line| filter.is_match(line.trim_end_matches(['\n', '\r'])))
                .collect(),
            None => text.into_owned(),
        };
        ShellRead {
            sandbox_note: self.sandbox_note(&output),
            output,
            dropped_bytes: chunk.dropped,
            status,
            exit_code,
        }
    }

    /// The note for `output` when the shell runs in a sandbox and the
    /// output shows it refused a write.
    fn sandbox_note(&self, output: &str) -> Option<String> {
        self.refusals.as_ref()?.note(output)
    }

    /// All output still held in memory; `dropped_bytes` is what fell out.
    pub(super) fn snapshot(&self) -> ShellRead {
        let (status, exit_code) = self.status();
        let (chunk, dropped_bytes) = {
            let output = lock(&self.output);
            let start = output.ring.start();
            (output.ring.read_from(start, Take::All), start)
        };
        let output = String::from_utf8_lossy(&chunk.bytes).into_owned();
        ShellRead {
            sandbox_note: self.sandbox_note(&output),
            output,
            dropped_bytes,
            status,
            exit_code,
        }
    }

    fn status(&self) -> (ShellStatus, Option<i32>) {
        let state = lock(&self.state);
        (state.status, state.exit_code)
    }

    /// Records the end: flushes and closes the log, tells the engine (for a
    /// background shell), then sets the status and wakes everyone waiting.
    /// The status changes only after [`ShellEvents::ended`] returned, so a
    /// shell no longer counted as running has always been reported.
    /// `complete`: whether the output was read to end-of-file.
    pub(super) async fn finish(&self, ending: Ending, complete: bool, events: &dyn ShellEvents) {
        {
            let mut output = lock(&self.output);
            output.flush_log(&self.id);
            output.log = None;
        }
        let (status, exit_code) = match ending {
            Ending::Exited(status) => (ShellStatus::Exited, status.code()),
            Ending::Killed => (ShellStatus::Killed, None),
        };
        let ended_at = SystemTime::now();
        let (info, background) = {
            let _handover = self.handover.lock().await;
            let mut state = lock(&self.state);
            // From here on it can no longer move to the background.
            state.ending = Some((ending, complete));
            let mut info = self.info_from(&state);
            (info.status, info.exit_code, info.ended_at) = (status, exit_code, Some(ended_at));
            (info, state.background)
        };
        if background {
            let (mut tail, held) = {
                let output = lock(&self.output);
                let held = output.ring.read_from(output.ring.start(), Take::All);
                (output.ring.tail(TAIL_LINES, TAIL_BYTES), held)
            };
            // Judged on all the output still held, not only the tail.
            if let Some(note) = self.sandbox_note(&String::from_utf8_lossy(&held.bytes)) {
                if !tail.is_empty() && !tail.ends_with('\n') {
                    tail.push('\n');
                }
                tail.push_str(&note);
            }
            events.ended(&info, &tail);
        }
        {
            let mut state = lock(&self.state);
            (state.status, state.exit_code, state.ended_at) = (status, exit_code, Some(ended_at));
        }
        self.done.send_replace(true);
    }

    /// Makes a running foreground shell a background one: it is listed from
    /// now on, reads start after the output so far, and
    /// [`ShellEvents::backgrounded`] is called. Returns its info and the
    /// output so far (head and tail), or `None` if it already ended.
    pub(super) async fn move_to_background(
        &self,
        events: &dyn ShellEvents,
    ) -> Option<(ShellInfo, String)> {
        let _handover = self.handover.lock().await;
        let info = {
            let mut state = lock(&self.state);
            if state.ending.is_some() {
                return None;
            }
            state.background = true;
            self.info_from(&state)
        };
        let so_far = {
            let mut output = lock(&self.output);
            output.cursor = output.ring.end();
            // Its call returns now; what it prints from here on is read
            // with `shell_output`.
            output.live = None;
            output
                .capture
                .take()
                .map(|capture| capture.render())
                .unwrap_or_default()
        };
        events.backgrounded(&info);
        Some((info, so_far))
    }

    /// How a foreground shell ended and what it printed, once it ended.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        let (ending, complete) = lock(&self.state).ending?;
        let mut output = lock(&self.output)
            .capture
            .as_ref()
            .map(HeadTail::render)
            .unwrap_or_default();
        if !complete {
            output.push_str(
                "\n(stopped reading output: a process that left the command's process group \
                 still holds it open)",
            );
        }
        let sandbox_note = self.sandbox_note(&output);
        Some(Outcome {
            ending,
            output,
            sandbox_note,
        })
    }
}

impl Output {
    fn write_log(&mut self, bytes: &[u8], id: &ShellId) {
        if let Some(log) = &mut self.log
            && let Err(err) = log.write_all(bytes)
        {
            tracing::warn!(shell = %id, %err, "cannot write the shell's log; no longer logging it");
            self.log = None;
        }
    }

    fn flush_log(&mut self, id: &ShellId) {
        if let Some(log) = &mut self.log
            && let Err(err) = log.flush()
        {
            tracing::warn!(shell = %id, %err, "cannot write the shell's log; no longer logging it");
            self.log = None;
        }
    }
}
