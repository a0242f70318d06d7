//! `baton acp`: baton as an ACP agent for editors, on stdin and stdout.
//! Logs go to stderr (the editor's agent log); stdout carries only the
//! protocol.

use crate::cli::AcpArgs;
use crate::exit::{CmdResult, Failure};
use crate::setup;
use baton_client::{Client, LocalClient, RemoteClient};
use std::process::ExitCode;
use std::sync::Arc;

/// Runs `baton acp` until the editor closes the connection.
pub async fn acp(args: AcpArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let client: Arc<dyn Client> = match &args.attach {
        Some(url) => Arc::new(RemoteClient::new(url, setup::server_token()?)?),
        None => {
            // Every `ask` goes to the editor, which answers it.
            let engine = setup::answering_engine(setup::load_config(&cwd)?, &cwd).await?;
            Arc::new(LocalClient::new(engine, cwd))
        }
    };
    baton_acp::serve(client)
        .await
        .map_err(|e| Failure::run(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}
