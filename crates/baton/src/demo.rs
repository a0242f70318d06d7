//! `baton demo`: baton on a scratch project against the built-in scripted
//! model, so a fresh machine can see an agent work with no API key.

use crate::cli::{DemoArgs, Format};
use crate::exit::{CmdResult, Failure};
use crate::run::drive;
use baton_client::{Client, LocalClient};
use baton_core::{Config, Engine, EngineOptions};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::api::CreateSession;
use baton_tui::TuiOptions;
use baton_tui::state::Setup;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

mod project;

use project::{DEMO_FILES, DEMO_PROMPT, DEMO_SCRIPT};

/// The demo in the terminal UI: the orchestrator's first message is sent
/// as if typed, its sub-agents appear as tabs, the person can type along;
/// Ctrl+C twice quits.
async fn in_the_tui(client: LocalClient, project: &Path) -> CmdResult {
    let options = TuiOptions {
        setup: Setup {
            cwd: project.to_path_buf(),
            remote: false,
            agent: None,
            model: None,
        },
        open: None,
        notice: Some(
            "baton demo: a scripted model in a scratch project; the orchestrator delegates to \
             three sub-agents (tabs above). Ctrl+C twice quits."
                .into(),
        ),
        first_message: Some(DEMO_PROMPT.into()),
    };
    // The UI closes the client (and stops the engine) when it ends.
    baton_tui::run(Arc::new(client), options)
        .await
        .map_err(|e| Failure::run(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// The demo as a transcript on stdout (`--format`, or no terminal).
async fn transcript(client: LocalClient, project: &Path, format: Format) -> CmdResult {
    eprintln!(
        "baton demo: a scripted orchestrator delegates to three sub-agents in a scratch project ({})",
        project.display()
    );
    eprintln!("> {DEMO_PROMPT}");
    let result = match client.create_session(CreateSession::default()).await {
        Ok(session) => drive(&client, &session.id, true, DEMO_PROMPT, format).await,
        Err(e) => Err(e.into()),
    };
    client.close().await;
    result
}

/// Runs `baton demo`.
pub async fn demo(args: DemoArgs) -> CmdResult {
    let script = Script::from_toml(DEMO_SCRIPT)
        .map_err(|e| Failure::run(format!("the built-in demo script is broken: {e}")))?;
    let server = MockServer::start(script)
        .await
        .map_err(|e| Failure::run(format!("cannot start the demo model: {e}")))?;
    let project = tempfile::Builder::new()
        .prefix("baton-demo-")
        .tempdir()
        .map_err(|e| Failure::run(format!("cannot create the demo project: {e}")))?;
    let home = tempfile::Builder::new()
        .prefix("baton-demo-home-")
        .tempdir()
        .map_err(|e| Failure::run(format!("cannot create the demo data directory: {e}")))?;
    for (name, content) in DEMO_FILES {
        let path = project.path().join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::run(format!("cannot write the demo project: {e}")))?;
        }
        std::fs::write(&path, content)
            .map_err(|e| Failure::run(format!("cannot write the demo project: {e}")))?;
    }

    let config = Config::single_openai_provider("demo", server.openai_base_url(), "scripted");
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: baton_core::AgentSet::builtin(),
        ask_mode: baton_core::AskMode::Allow,
    })
    .await?;
    let client = LocalClient::new(engine, project.path().to_path_buf());
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let result = match args.format {
        None if interactive => in_the_tui(client, project.path()).await,
        format => transcript(client, project.path(), format.unwrap_or(Format::Text)).await,
    };
    let notes = std::fs::read_to_string(project.path().join("notes.txt")).unwrap_or_default();
    eprintln!("notes.txt now reads: {}", notes.trim_end());
    if args.keep {
        let kept = project.keep();
        eprintln!("kept the demo project at {}", kept.display());
    }
    result
}
