//! The `baton` binary: a clap CLI that wires baton's crates together.

// Printing results on stdout is what a CLI is for; the workspace denies it
// elsewhere so that libraries and the TUI never do.
#![allow(clippy::print_stdout)]

mod acp;
mod agents;
mod cli;
mod demo;
mod exit;
mod mcp;
mod mock;
mod output;
mod run;
mod serve;
mod sessions;
mod setup;
mod trust;
mod tui;

use clap::Parser;
use cli::{Cli, Command};
use exit::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_some() {
        setup::init_logging();
    } else if let Err(failure) = setup::init_file_logging() {
        return failure.report();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Failure::run(format!("cannot start the async runtime: {e}")).report(),
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => tui::tui(cli.tui).await,
            Some(Command::Run(args)) => run::run(args).await,
            Some(Command::Sessions(args)) => sessions::sessions(args).await,
            Some(Command::MockLlm(args)) => mock::mock_llm(args).await,
            Some(Command::Demo(args)) => demo::demo(args).await,
            Some(Command::Agents(args)) => agents::agents(args),
            Some(Command::Mcp(args)) => mcp::mcp(args).await,
            Some(Command::Serve(args)) => serve::serve(args).await,
            Some(Command::Acp(args)) => acp::acp(args).await,
            Some(Command::Trust(args)) => trust::trust(args),
        }
    });
    // Background work (stdin readers, aborted streams) must not hold the
    // process open.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
