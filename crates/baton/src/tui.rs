//! `baton` with no command: the terminal UI, over an engine in this
//! process or a `baton serve` (`--attach URL`).

use crate::cli::TuiArgs;
use crate::exit::{CmdResult, Failure};
use crate::run::{latest_here, resolve_prefix};
use crate::setup;
use crate::trust::{Decision, record_decision};
use baton_client::{Client, LocalClient, RemoteClient};
use baton_core::config::ProjectConfig;
use baton_protocol::SessionId;
use baton_tui::TuiOptions;
use baton_tui::state::Setup;
use std::io::IsTerminal;
use std::path::Path;
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
    let mut trust_notice = None;
    let client: Arc<dyn Client> = match &args.attach {
        // The server's own configuration applies there.
        Some(url) => Arc::new(RemoteClient::new(url, setup::server_token()?)?),
        None => {
            let loaded = first_open(&cwd).await?;
            trust_notice = loaded.ignored_message(&cwd);
            let engine = setup::answering_engine(loaded.config, &cwd).await?;
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
        notice: match (trust_notice, notice) {
            (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
            (a, b) => a.or(b),
        },
        first_message: None,
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

/// The project's configuration, after asking whether to trust the project
/// when its config sets what only a trusted one may and the person has not
/// answered before (the question is asked on the plain terminal, before
/// the UI takes the screen; an answer needs Enter).
async fn first_open(cwd: &Path) -> Result<ProjectConfig, Failure> {
    let loaded = setup::load_project_config(cwd)?;
    if loaded.ignored.is_empty() || loaded.config.trust.declined(cwd) {
        return Ok(loaded);
    }
    eprintln!(
        "{} is not trusted. Its {} sets what only a trusted project may:\n  {}\n\
         Trusting it lets its config send your data elsewhere (providers, keys) and widen \
         what agents may do. Without trust those settings are ignored; instructions and \
         agent files still load.",
        cwd.display(),
        loaded.project_file.display(),
        loaded.ignored.join("\n  "),
    );
    eprint!("Trust this directory? [y/N] ");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| Failure::run(format!("cannot read the answer: {e}")))?
    .map_err(|e| Failure::run(format!("cannot read the answer: {e}")))?;
    let yes = matches!(answer.trim().to_lowercase().as_str(), "y" | "yes");
    let decision = if yes {
        Decision::Trust
    } else {
        Decision::Decline
    };
    record_decision(cwd, decision)?;
    if yes {
        setup::load_project_config(cwd)
    } else {
        Ok(loaded)
    }
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
