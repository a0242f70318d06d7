//! The engine's side of background shells: store them, announce them, and
//! tell their session when they end.
//!
//! The tools call in synchronously and must not be blocked, so the hub
//! counts the shell as its session's work at once (before the `bash` call
//! returns) and hands the store writes to one writer task, in order: a
//! shell is stored before it is announced, and its end (row and notice in
//! one transaction) is stored before it is announced and delivered.

use crate::host::Host;
use crate::services::Services;
use crate::session::WorkGuard;
use baton_protocol::{EventKind, NoticeId, NoticeKind, SessionId};
use baton_store::{NoticeRecord, ShellRecord};
use baton_tools::{ShellEvents, ShellInfo, ShellStatus};
use std::sync::Weak;
use tokio::sync::mpsc;

/// Hears about shells from the tools' [`baton_tools::ShellManager`].
pub(crate) struct ShellHub {
    host: Host,
    writes: mpsc::UnboundedSender<Write>,
}

/// A store write of the writer task, in the order the shells' events came.
enum Write {
    Started {
        info: ShellInfo,
        /// The shell's unit of its session's work, until it ends.
        work: Option<WorkGuard>,
    },
    Ended {
        info: ShellInfo,
        tail: String,
    },
}

impl ShellHub {
    /// A hub whose writer task runs until the engine is gone.
    pub(crate) fn new(services: Weak<Services>, host: Host) -> Self {
        let (writes, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_in_order(services, host.clone(), rx));
        Self { host, writes }
    }
}

/// Stores and announces the shells' starts and ends, one at a time.
async fn write_in_order(
    services: Weak<Services>,
    host: Host,
    mut rx: mpsc::UnboundedReceiver<Write>,
) {
    let mut running: std::collections::HashMap<String, Option<WorkGuard>> =
        std::collections::HashMap::new();
    while let Some(write) = rx.recv().await {
        let Some(services) = services.upgrade() else {
            return;
        };
        match write {
            Write::Started { info, work } => {
                let session = SessionId::from(info.session_id.as_str());
                if let Err(e) = services.store.create_shell(&record(&info)).await {
                    tracing::error!(shell = %info.id, "cannot store the shell: {e}");
                }
                services.emit(
                    &session,
                    EventKind::ShellStarted {
                        shell_id: info.id.to_string(),
                        command: info.command.clone(),
                    },
                );
                running.insert(info.id.to_string(), work);
            }
            Write::Ended { info, tail } => {
                let work = running.remove(info.id.as_str()).flatten();
                announce_end(&services, &host, info, tail).await;
                // The notice holds its own unit of the session's work now.
                drop(work);
            }
        }
    }
}

fn record(info: &ShellInfo) -> ShellRecord {
    ShellRecord {
        id: info.id.clone(),
        session_id: SessionId::from(info.session_id.as_str()),
        command: info.command.clone(),
        description: info.description.clone(),
        status: match info.status {
            ShellStatus::Running => "running",
            ShellStatus::Exited => "exited",
            ShellStatus::Killed => "killed",
        }
        .to_owned(),
        exit_code: info.exit_code,
        pid: info.pid,
        log_path: info.log_path.to_string_lossy().into_owned(),
        started_at: info.started_at.into(),
        ended_at: info.ended_at.map(Into::into),
    }
}

/// What the session's model reads when one of its shells ends.
fn notice_text(info: &ShellInfo, tail: &str) -> String {
    let how = match (info.status, info.exit_code) {
        (ShellStatus::Killed, _) => "was killed".to_owned(),
        (_, Some(code)) => format!("exited with code {code}"),
        (_, None) => "ended by a signal".to_owned(),
    };
    let took = info
        .ended_at
        .and_then(|end| end.duration_since(info.started_at).ok())
        .map(|d| format!(" after {:.1} s", d.as_secs_f64()))
        .unwrap_or_default();
    let tail = if tail.trim().is_empty() {
        "(no output)".to_owned()
    } else {
        tail.trim_end().to_owned()
    };
    format!(
        "Background shell {} (`{}`) {how}{took}. Last output:\n{tail}\n(Full output: shell_output \
         with shell_id={}, or the log {}.)",
        info.id,
        info.command,
        info.id,
        info.log_path.display()
    )
}

impl ShellEvents for ShellHub {
    fn backgrounded(&self, info: &ShellInfo) {
        let session = SessionId::from(info.session_id.as_str());
        // Counted before the tool call returns, so the session cannot look
        // quiet while its shell runs.
        let work = self.host.work(&session);
        let _ = self.writes.send(Write::Started {
            info: info.clone(),
            work,
        });
    }

    fn ended(&self, info: &ShellInfo, tail: &str) {
        let _ = self.writes.send(Write::Ended {
            info: info.clone(),
            tail: tail.to_owned(),
        });
    }
}

async fn announce_end(services: &Services, host: &Host, info: ShellInfo, tail: String) {
    let session = SessionId::from(info.session_id.as_str());
    let notice = NoticeRecord {
        id: NoticeId::generate(),
        session_id: session.clone(),
        kind: NoticeKind::Shell,
        source_id: info.id.to_string(),
        text: notice_text(&info, &tail),
        created_at: baton_protocol::now(),
    };
    if let Err(e) = services.store.end_shell(&record(&info), &notice).await {
        tracing::error!(shell = %info.id, "cannot store the shell's end: {e}");
    }
    services.emit(
        &session,
        EventKind::ShellExited {
            shell_id: info.id.to_string(),
            exit_code: info.exit_code,
        },
    );
    host.deliver(&session, notice).await;
}
