//! `baton run`: one prompt, headless, until the session is quiet.

use crate::cli::{Format, RunArgs};
use crate::exit::{CmdResult, Failure, INTERRUPTED};
use crate::output::Printer;
use crate::setup;
use baton_core::{Engine, NewSession};
use baton_protocol::Event;
use baton_protocol::SessionId;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use tokio::sync::broadcast::{self, error::RecvError};

/// How long a cancelled run may take to stop before baton exits anyway.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `baton run`.
pub async fn run(args: RunArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let engine = setup::engine_for(&cwd, args.yes)?;
    let prompt = prompt_text(&args.prompt)?;
    // Subscribed first, so the stream shows the session being created.
    let events = engine.subscribe();
    let session = pick_session(&engine, &args, &cwd).await?;
    drive(&engine, events, &session, &prompt, args.format).await
}

/// The prompt from the arguments, or stdin for `-`.
fn prompt_text(words: &[String]) -> Result<String, Failure> {
    let text = if words.len() == 1 && words[0] == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("cannot read the prompt from stdin: {e}")))?;
        s
    } else {
        words.join(" ")
    };
    if text.trim().is_empty() {
        return Err(Failure::usage("the prompt is empty"));
    }
    Ok(text)
}

/// A new session, or the one `--session` / `--continue` names.
async fn pick_session(engine: &Engine, args: &RunArgs, cwd: &Path) -> Result<SessionId, Failure> {
    let existing = if let Some(prefix) = &args.session {
        Some(
            engine
                .store()
                .resolve_session_id(prefix)
                .map_err(|e| Failure::usage(e.to_string()))?,
        )
    } else if args.continue_last {
        let here = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
        let latest = engine
            .store()
            .list_sessions(&baton_store::SessionQuery {
                cwd: Some(here.to_string_lossy().into_owned()),
                roots_only: true,
                limit: Some(1),
                ..Default::default()
            })
            .map_err(|e| Failure::run(e.to_string()))?;
        match latest.into_iter().next() {
            Some(s) => Some(s.id),
            None => {
                return Err(Failure::usage(
                    "--continue: no earlier session in this directory",
                ));
            }
        }
    } else {
        None
    };
    if let Some(id) = existing {
        if args.model.is_some() || args.agent.is_some() {
            return Err(Failure::usage(
                "--model and --agent apply to new sessions; a continued session keeps its own",
            ));
        }
        engine.open_session(&id).await?;
        return Ok(id);
    }
    let record = engine
        .create_session(NewSession {
            cwd: cwd.to_path_buf(),
            agent: args.agent.clone(),
            model: args.model.clone(),
            title: None,
        })
        .await?;
    Ok(record.id)
}

/// Sends the prompt and prints the session's events until it is quiet.
/// The first Ctrl+C cancels the session; a second one exits at once.
pub async fn drive(
    engine: &Engine,
    mut events: broadcast::Receiver<Event>,
    session: &SessionId,
    prompt: &str,
    format: Format,
) -> CmdResult {
    // One listener for the whole run: a Ctrl+C that lands while an event is
    // being printed is kept for the next turn of the loop, never lost.
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Failure::run(format!("cannot listen for Ctrl+C: {e}")))?;
    engine.send_message(session, prompt)?;
    let mut printer = Printer::new(format, session.clone());
    let quiet = engine.wait_quiet(session);
    tokio::pin!(quiet);
    let mut interrupted = false;
    // After Ctrl+C the tree gets this long to wind down cleanly.
    let grace = tokio::time::sleep(std::time::Duration::MAX);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            biased;
            signal = interrupts.recv() => {
                if signal.is_none() || interrupted {
                    eprintln!("baton: interrupted again, exiting now");
                    return Ok(ExitCode::from(INTERRUPTED));
                }
                interrupted = true;
                eprintln!("baton: cancelling (press Ctrl+C again to exit at once)");
                engine.cancel(session)?;
                grace.as_mut().reset(tokio::time::Instant::now() + CANCEL_GRACE);
            }
            () = &mut grace => {
                eprintln!("baton: work did not stop within {} s; exiting", CANCEL_GRACE.as_secs());
                return Ok(ExitCode::from(INTERRUPTED));
            }
            event = events.recv() => match event {
                Ok(ev) => printer.event(&ev),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("output fell behind: {n} events were skipped");
                }
                Err(RecvError::Closed) => break,
            },
            done = &mut quiet => {
                done?;
                break;
            }
        }
    }
    // Everything the session emitted before it went quiet is buffered.
    while let Ok(ev) = events.try_recv() {
        printer.event(&ev);
    }
    engine.shutdown().await;
    if interrupted || printer.cancelled {
        return Ok(ExitCode::from(INTERRUPTED));
    }
    match printer.failure {
        Some(message) => Err(Failure::run(message)),
        None => Ok(ExitCode::SUCCESS),
    }
}
