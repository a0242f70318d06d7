//! `baton` with no command: the terminal UI, over an engine in this
//! process or a `baton serve` (`--attach URL`).

use crate::cli::TuiArgs;
use crate::exit::{CmdResult, Failure};
use crate::run::{latest_here, resolve_prefix};
use crate::setup;
use baton_client::{Client, LocalClient, RemoteClient};
use baton_protocol::SessionId;
use baton_tui::TuiOptions;
use baton_tui::state::Setup;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs the terminal UI until the person quits.
pub async fn tui(args: TuiArgs) -> CmdResult {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "baton's terminal UI needs a terminal; for scripts use `baton run PROMPT`",
        ));
    }
    let cwd = setup::current_dir()?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let client: Arc<dyn Client> = match &args.attach {
        Some(url) => Arc::new(RemoteClient::new(url, setup::server_token()?)?),
        None => {
            let engine = setup::answering_engine(setup::load_config(&cwd)?, &cwd).await?;
            Arc::new(LocalClient::new(engine, cwd.clone()))
        }
    };
    let (open, notice) = match pick(client.as_ref(), &args, &cwd).await {
        Ok(picked) => picked,
        Err(e) => {
            client.close().await;
            return Err(e);
        }
    };
    let options = TuiOptions {
        setup: Setup {
            cwd,
            remote: args.attach.is_some(),
            agent: args.agent.clone(),
            model: args.model.clone(),
        },
        open,
        notice,
    };
    baton_tui::run(client, options).await.map_err(|e| match e {
        // The terminal is already restored: one line says what happened
        // and where the rest is.
        baton_tui::TuiError::Panicked(_) => Failure::run(match setup::baton_home() {
            Ok(home) => format!(
                "{e}; the details are in {}",
                home.join("logs/tui.log").display()
            ),
            Err(_) => e.to_string(),
        }),
        e => Failure::run(e.to_string()),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The tree to open (the root of `--session`'s tree, or the latest here
/// for `--continue`) and a note for the person.
async fn pick(
    client: &dyn Client,
    args: &TuiArgs,
    cwd: &std::path::Path,
) -> Result<(Option<SessionId>, Option<String>), Failure> {
    if let Some(prefix) = &args.session {
        let mut id = resolve_prefix(client, prefix).await?;
        // A sub-agent's session opens with its whole tree.
        while let Some(parent) = client.session(&id).await?.parent_id {
            id = parent;
        }
        return Ok((Some(id), None));
    }
    if args.continue_last {
        return Ok(match latest_here(client, cwd).await? {
            Some(id) => (Some(id), None),
            None => (
                None,
                Some("no earlier session in this directory: starting a new one".into()),
            ),
        });
    }
    Ok((None, None))
}
