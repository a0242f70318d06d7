//! `baton-scale`: how a long-running server holds up with many stored
//! sessions: 10 000 stored, 200 of them live (each answered once and left
//! idle), served over HTTP by the real server in this process.
//!
//! Prints the process's RSS (it includes the in-process mock model) and the
//! latency of `GET /v1/sessions` (a page of 50, and the whole list), and
//! how many sessions and tasks stay in memory once idle ones are unloaded.
//! Run with `cargo run --release -p baton --bin baton-scale`. Figures, not
//! assertions: docs/benchmarks.md has the goals and past figures.

// Printing results on stdout is what a CLI is for.
#![allow(clippy::print_stdout)]

use baton_client::{Client, RemoteClient, SessionFilter};
use baton_core::{Config, Engine, EngineOptions, NewSession};
use baton_mock_llm::{MockServer, Script};
use std::path::Path;
use std::time::{Duration, Instant};

const STORED: usize = 10_000;
const LIVE: usize = 200;
const PAGE_REQUESTS: usize = 50;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let mock = MockServer::start(Script::from_toml(
        "[[rules]]\nname = \"any\"\n[rules.reply]\ntext = \"ok\"\n",
    )?)
    .await?;
    let home = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;

    // Fill the store: sessions that leave memory as soon as they are idle.
    let mut filling = Config::single_openai_provider("mock", mock.openai_base_url(), "m");
    filling.sessions.unload_after_idle_ms = 0;
    let engine = start_engine(home.path(), filling).await?;
    let start = Instant::now();
    let mut ids = Vec::with_capacity(STORED);
    for _ in 0..STORED {
        let view = engine
            .create_session(NewSession {
                cwd: project.path().to_path_buf(),
                ..NewSession::default()
            })
            .await?;
        ids.push(view.id);
    }
    let filled = start.elapsed();
    engine.shutdown().await;

    // The server's engine: LIVE sessions answered once and left idle (they
    // stay live: the default unload time is minutes away).
    let config = Config::single_openai_provider("mock", mock.openai_base_url(), "m");
    let engine = start_engine(home.path(), config).await?;
    let rss_before = proc_status_kib("VmRSS:");
    for id in ids.iter().take(LIVE) {
        engine.send_message(id, "hello").await?;
    }
    for id in ids.iter().take(LIVE) {
        engine.wait_quiet(id).await?;
    }
    let rss_live = proc_status_kib("VmRSS:");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(baton_server::serve(
        listener,
        engine.clone(),
        baton_server::ServerConfig::new("bench".into(), project.path().into()),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = RemoteClient::new(&url, "bench")?;
    let mut page = Vec::with_capacity(PAGE_REQUESTS);
    for _ in 0..PAGE_REQUESTS {
        let start = Instant::now();
        let listed = client
            .sessions(SessionFilter {
                limit: Some(50),
                ..SessionFilter::default()
            })
            .await?;
        page.push(start.elapsed());
        anyhow::ensure!(listed.len() == 50, "a page has 50 sessions");
    }
    page.sort();
    let start = Instant::now();
    let all = client.sessions(SessionFilter::default()).await?;
    let whole = start.elapsed();
    anyhow::ensure!(all.len() == STORED, "every stored session is listed");
    let rss_end = proc_status_kib("VmRSS:");

    println!(
        "stored sessions: {STORED} created in {:.1} s ({:.2} ms each)",
        filled.as_secs_f64(),
        ms(filled) / STORED as f64
    );
    println!(
        "server with {STORED} stored, {} live: RSS {:.1} MB ({:.1} MB before the {LIVE} \
         turns, {:.1} KB per live session), {} tasks in memory",
        engine.live_sessions(),
        rss_end as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        (rss_live.saturating_sub(rss_before)) as f64 / LIVE as f64,
        engine.tasks_in_memory()
    );
    println!(
        "GET /v1/sessions?limit=50: p50 {:.2} ms, p99 {:.2} ms ({PAGE_REQUESTS} requests); \
         the whole list ({STORED} sessions): {:.0} ms",
        ms(page[PAGE_REQUESTS / 2]),
        ms(page[PAGE_REQUESTS * 99 / 100]),
        ms(whole)
    );
    let _ = stop.send(());
    server.await??;
    engine.shutdown().await;
    Ok(())
}

async fn start_engine(home: &Path, config: Config) -> anyhow::Result<Engine> {
    Ok(Engine::new(EngineOptions {
        home: home.to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: baton_core::AgentSet::builtin(),
        ask_mode: baton_core::AskMode::Allow,
    })
    .await?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
