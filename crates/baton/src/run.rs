//! `baton run`: one prompt, headless, until the session is quiet; in this
//! process, or through a running `baton serve` (`--attach URL`). Both go
//! through the same client interface, so both print the same events.

use crate::cli::{Format, RunArgs};
use crate::exit::{CmdResult, Failure, INTERRUPTED};
use crate::output::Printer;
use crate::setup;
use baton_client::{Client, EventsFrom, LocalClient, RemoteClient, SessionFilter, StreamItem};
use baton_protocol::api::CreateSession;
use baton_protocol::{EventKind, SessionId};
use futures::StreamExt;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// How long a cancelled run may take to stop before baton exits anyway.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `baton run`.
pub async fn run(args: RunArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let prompt = prompt_text(&args.prompt)?;
    let client: Box<dyn Client> = match &args.attach {
        Some(url) => {
            if args.yes {
                return Err(Failure::usage(
                    "--yes applies to runs in this process; a server's permission requests are \
                     answered through its API (POST /v1/permissions/ID)",
                ));
            }
            Box::new(RemoteClient::new(url, setup::server_token()?)?)
        }
        None => Box::new(LocalClient::new(
            setup::engine_for(&cwd, args.yes).await?,
            cwd.clone(),
        )),
    };
    let picked = pick_session(client.as_ref(), &args, &cwd).await;
    let result = match picked {
        Ok((session, new)) => drive(client.as_ref(), &session, new, &prompt, args.format).await,
        Err(e) => Err(e),
    };
    client.close().await;
    result
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

/// A new session, or the one `--session` / `--continue` names; and
/// whether it is new.
async fn pick_session(
    client: &dyn Client,
    args: &RunArgs,
    cwd: &Path,
) -> Result<(SessionId, bool), Failure> {
    let existing = if let Some(prefix) = &args.session {
        Some(resolve_prefix(client, prefix).await?)
    } else if args.continue_last {
        match latest_here(client, cwd).await? {
            Some(id) => Some(id),
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
        return Ok((id, false));
    }
    let session = client
        .create_session(CreateSession {
            agent: args.agent.clone(),
            model: args.model.clone(),
            title: None,
            cwd: Some(cwd.to_string_lossy().into_owned()),
        })
        .await?;
    Ok((session.id, true))
}

/// The most recent top-level session in a directory.
pub async fn latest_here(client: &dyn Client, cwd: &Path) -> Result<Option<SessionId>, Failure> {
    let here = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let latest = client
        .sessions(SessionFilter {
            cwd: Some(here.to_string_lossy().into_owned()),
            roots_only: true,
            limit: Some(1),
            ..SessionFilter::default()
        })
        .await?;
    Ok(latest.into_iter().next().map(|s| s.id))
}

/// The session a unique id prefix names.
pub async fn resolve_prefix(client: &dyn Client, prefix: &str) -> Result<SessionId, Failure> {
    let exact = SessionId::from(prefix);
    if client.session(&exact).await.is_ok() {
        return Ok(exact);
    }
    let matches: Vec<SessionId> = client
        .sessions(SessionFilter::default())
        .await?
        .into_iter()
        .map(|s| s.id)
        .filter(|id| id.as_str().starts_with(prefix))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::usage(format!("no session `{prefix}`"))),
        _ => Err(Failure::usage(format!(
            "`{prefix}` names {} sessions; give more of the id",
            matches.len()
        ))),
    }
}

/// Sends the prompt and prints the session tree's events until the
/// session is quiet again. The first Ctrl+C cancels the session; a second
/// one exits at once.
pub async fn drive(
    client: &dyn Client,
    session: &SessionId,
    new: bool,
    prompt: &str,
    format: Format,
) -> CmdResult {
    // One listener for the whole run: a Ctrl+C that lands while an event is
    // being printed is kept for the next turn of the loop, never lost.
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Failure::run(format!("cannot listen for Ctrl+C: {e}")))?;
    // A new session's stream starts at its beginning (its creation is
    // replayed); a continued one's from now on.
    let mut events = client
        .events(EventsFrom {
            session: Some(session.clone()),
            after: new.then_some(0),
        })
        .await?;
    let accepted = client.send_message(session, prompt).await?;
    let mut printer = Printer::new(format, session.clone());
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
                client.cancel(session).await?;
                grace.as_mut().reset(tokio::time::Instant::now() + CANCEL_GRACE);
            }
            () = &mut grace => {
                eprintln!("baton: work did not stop within {} s; exiting", CANCEL_GRACE.as_secs());
                return Ok(ExitCode::from(INTERRUPTED));
            }
            item = events.next() => match item {
                Some(Ok(StreamItem::Event(ev))) => {
                    printer.event(&ev);
                    // What the prompt started is done.
                    if ev.session_id == *session
                        && ev.seq > accepted.seq
                        && matches!(ev.kind, EventKind::SessionQuiet {})
                    {
                        break;
                    }
                }
                Some(Ok(StreamItem::Resync(r))) => {
                    tracing::warn!("output fell behind: events {}..{} were skipped", r.after + 1, r.next);
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Err(Failure::run("the event stream ended before the session was done")),
            },
        }
    }
    if interrupted || printer.cancelled {
        return Ok(ExitCode::from(INTERRUPTED));
    }
    match printer.failure {
        Some(message) => Err(Failure::run(message)),
        None => Ok(ExitCode::SUCCESS),
    }
}
