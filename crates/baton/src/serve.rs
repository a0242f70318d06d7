//! `baton serve`: one engine for many clients, over HTTP.

use crate::cli::ServeArgs;
use crate::exit::{CmdResult, Failure};
use crate::setup;
use std::io::Write;
use std::process::ExitCode;

/// Runs `baton serve` until Ctrl+C or SIGTERM, then stops the engine's
/// work cleanly.
pub async fn serve(args: ServeArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let addrs = baton_server::check_bind(&args.addr, args.allow_remote)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    let home = setup::baton_home()?;
    let token = baton_server::token::resolve(std::env::var("BATON_SERVER_TOKEN").ok(), &home)
        .map_err(|e| Failure::run(e.to_string()))?;
    let config = setup::load_config(&cwd)?;
    let cors_origins = config.server.cors_origins.clone();
    // Someone can always answer a permission request through the API.
    let engine = setup::answering_engine(config, &cwd).await?;
    let listener = tokio::net::TcpListener::bind(&addrs[..])
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", args.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::run(format!("cannot read the address listened on: {e}")))?;
    // The first line is the URL, for people and for scripts that start us.
    println!("http://{local}");
    let _ = std::io::stdout().flush();
    if std::env::var_os("BATON_SERVER_TOKEN").is_none() {
        eprintln!(
            "baton: clients authenticate with the token in {}",
            home.join("server.token").display()
        );
    }
    let mut server_config = baton_server::ServerConfig::new(token, cwd);
    server_config.cors_origins = cors_origins;
    server_config.any_host = args.allow_remote;
    let served = baton_server::serve(listener, engine.clone(), server_config, stop_signal()).await;
    engine.shutdown().await;
    served.map_err(|e| Failure::run(format!("the server failed: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl+C or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!("cannot listen for Ctrl+C or SIGTERM; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    eprintln!("baton: stopping the server");
}
