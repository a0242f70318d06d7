//! The engine's side of background shells: store them, announce them, and
//! tell their session when they end.

use crate::engine::Shared;
use baton_protocol::{EventKind, NoticeId, NoticeKind, SessionId};
use baton_store::{NoticeRecord, ShellRecord};
use baton_tools::{ShellEvents, ShellInfo, ShellStatus};
use std::sync::{Arc, Weak};

/// Hears about shells from the tools' [`baton_tools::ShellManager`].
pub(crate) struct ShellHub {
    shared: Weak<Shared>,
}

impl ShellHub {
    pub(crate) fn new(shared: Weak<Shared>) -> Self {
        Self { shared }
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
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let session = SessionId::from(info.session_id.as_str());
        // Counted before the tool call returns, so the session cannot look
        // quiet while its shell runs.
        let _ = shared.with_session(&session, |h| h.begin_work());
        let row = record(info);
        if let Err(e) = shared.store.create_shell(&row) {
            tracing::error!(shell = %info.id, "cannot store the shell: {e}");
        }
        shared.emit(
            &session,
            EventKind::ShellStarted {
                shell_id: info.id.to_string(),
                command: info.command.clone(),
            },
        );
    }

    fn ended(&self, info: &ShellInfo, tail: &str) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let info = info.clone();
        let tail = tail.to_owned();
        tokio::spawn(async move { announce_end(shared, info, tail).await });
    }
}

async fn announce_end(shared: Arc<Shared>, info: ShellInfo, tail: String) {
    let session = SessionId::from(info.session_id.as_str());
    let notice = NoticeRecord {
        id: NoticeId::generate(),
        session_id: session.clone(),
        kind: NoticeKind::Shell,
        source_id: info.id.to_string(),
        text: notice_text(&info, &tail),
        created_at: baton_protocol::now(),
    };
    let row = record(&info);
    let stored = notice.clone();
    if let Err(e) = shared
        .db(move |s| {
            s.update_shell(&row)?;
            s.add_notice(&stored)
        })
        .await
    {
        tracing::error!(shell = %info.id, "cannot store the shell's end: {e}");
    }
    shared.emit(
        &session,
        EventKind::ShellExited {
            shell_id: info.id.to_string(),
            exit_code: info.exit_code,
        },
    );
    let _ = shared.with_session(&session, |h| {
        h.deliver(notice);
        h.end_work();
    });
}
