//! `baton mock-llm`: the scripted model server, as a process.

use crate::cli::MockArgs;
use crate::exit::{CmdResult, Failure};
use baton_mock_llm::{MockServer, Script};
use std::io::Write;
use std::process::ExitCode;

/// Runs `baton mock-llm`: prints the URL as the first line, then serves
/// until killed.
pub async fn mock_llm(args: MockArgs) -> CmdResult {
    let script = Script::load(&args.script).map_err(|e| Failure::usage(e.to_string()))?;
    let addr = std::net::SocketAddr::new(args.host, args.port);
    let server = MockServer::bind(addr, script)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {addr}: {e}")))?;
    println!("{}", server.url());
    let _ = std::io::stdout().flush();
    server.serve_forever().await;
    Ok(ExitCode::SUCCESS)
}
