//! Running the `git` program: one place that decides its environment, how its
//! output is captured and how a failure becomes a [`WorktreeError`].

use super::WorktreeError;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use tokio::process::Command;
use tracing::debug;

/// Variables that point git at a particular repository, index or object
/// store. Inherited from an outer git process (a hook, `git rebase -x`), they
/// would make every command act on that repository instead of the one named
/// with `-C`, so none of them is passed on.
const REPOSITORY_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// The environment git commands run in, on top of the process's own.
///
/// Production code uses [`GitEnv::default`], which adds nothing. Tests add
/// variables here (an empty global config, a fake `HOME`) instead of changing
/// the process environment, so they can run in parallel without seeing each
/// other's settings or the machine's git configuration.
#[derive(Debug, Clone, Default)]
pub(super) struct GitEnv {
    /// Variables to set (`Some`) or remove (`None`). The variables this
    /// module always clears or sets win over these.
    overrides: Vec<(OsString, Option<OsString>)>,
}

/// One argument of a git command: text or a path.
pub(super) type Arg<'a> = &'a (dyn AsRef<OsStr> + Sync);

impl GitEnv {
    /// Sets `key` to `value` for every command run with this environment.
    #[cfg(test)]
    pub(super) fn set(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.overrides
            .push((key.into(), Some(value.as_ref().to_os_string())));
        self
    }

    /// Removes `key` from the environment of every command run with this one.
    #[cfg(test)]
    pub(super) fn remove(mut self, key: &str) -> Self {
        self.overrides.push((key.into(), None));
        self
    }

    /// Runs `git -C dir args...` and returns its output whatever its exit
    /// status. Fails only when git cannot be started.
    pub(super) async fn run(
        &self,
        dir: &Path,
        args: &[Arg<'_>],
    ) -> Result<GitOutput, WorktreeError> {
        let line = command_line(dir, args);
        debug!(command = %line, "running git");
        let output = self
            .command(dir, args)
            .output()
            .await
            .map_err(|err| spawn_error(&err))?;
        Ok(GitOutput {
            line,
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    /// Runs `git -C dir args...` and fails with [`WorktreeError::Git`] unless
    /// it exits successfully.
    pub(super) async fn ok(
        &self,
        dir: &Path,
        args: &[Arg<'_>],
    ) -> Result<GitOutput, WorktreeError> {
        let output = self.run(dir, args).await?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(output.into_error())
        }
    }

    fn command(&self, dir: &Path, args: &[Arg<'_>]) -> Command {
        let mut command = Command::new("git");
        command.arg("-C").arg(dir).args(args);
        for (key, value) in &self.overrides {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        // Applied last, so that nothing can undo them.
        for var in REPOSITORY_VARS {
            command.env_remove(var);
        }
        // Never ask for credentials on a terminal the agent does not own, and
        // keep git's messages in English: some are matched by this module and
        // all may be read by the model. LC_ALL and LANGUAGE would override
        // LC_MESSAGES.
        command
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("LC_ALL")
            .env_remove("LANGUAGE")
            .env("LC_MESSAGES", "C");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

/// What a finished git command printed, and how it exited.
#[derive(Debug)]
pub(super) struct GitOutput {
    /// The command, for error messages.
    line: String,
    /// How it exited.
    pub(super) status: ExitStatus,
    /// Its standard output, as printed.
    pub(super) stdout: Vec<u8>,
    /// Its standard error, as printed.
    pub(super) stderr: Vec<u8>,
}

impl GitOutput {
    /// The standard output as text, without surrounding whitespace.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim().to_owned()
    }

    /// The standard error as text, without surrounding whitespace.
    pub(super) fn error_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_owned()
    }

    /// The standard output as one path (git prints paths as raw bytes,
    /// followed by a newline).
    pub(super) fn path(&self) -> PathBuf {
        let mut bytes = self.stdout.as_slice();
        while let [rest @ .., b'\n' | b'\r'] = bytes {
            bytes = rest;
        }
        path_from_bytes(bytes)
    }

    /// The failure this output reports, as a [`WorktreeError::Git`].
    pub(super) fn into_error(self) -> WorktreeError {
        let mut message = self.error_text();
        if message.is_empty() {
            message = self.text();
        }
        if message.is_empty() {
            message = format!("git {}", self.status);
        }
        WorktreeError::Git {
            args: self.line,
            message,
        }
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The command as one line, the way a person would type it.
fn command_line(dir: &Path, args: &[Arg<'_>]) -> String {
    let mut line = format!("-C {}", dir.display());
    for arg in args {
        line.push(' ');
        line.push_str(&AsRef::<OsStr>::as_ref(arg).to_string_lossy());
    }
    line
}

/// Says what it means when git cannot be started.
fn spawn_error(err: &io::Error) -> WorktreeError {
    let message = if err.kind() == io::ErrorKind::NotFound {
        "the `git` program was not found; install git (or put it on PATH) to use \
         `isolation: \"worktree\"`, or use isolation \"shared\""
            .to_owned()
    } else {
        format!("could not run `git`: {err}")
    };
    WorktreeError::Io(io::Error::new(err.kind(), message))
}

/// Wraps an I/O error with what was being done, keeping its kind.
pub(super) fn io_context(err: io::Error, what: impl std::fmt::Display) -> WorktreeError {
    WorktreeError::Io(io::Error::new(err.kind(), format!("{what}: {err}")))
}
