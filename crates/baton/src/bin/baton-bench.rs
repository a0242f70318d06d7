//! `baton-bench`: prints baton's speed and memory figures.
//!
//! - `baton --version` wall time (goal: under 10 ms);
//! - the engine's own overhead per model round-trip against the mock with
//!   no delays (goal: under 5 ms): the time per step of a long turn, minus
//!   the time the same HTTP calls take made directly;
//! - peak RSS of a headless `baton run` (goal: under 30 MB).
//!
//! Run with `cargo run --release -p baton --bin baton-bench`. Figures, not
//! assertions: compare them with the goals in docs/benchmarks.md.

// Printing results on stdout is what a CLI is for; the workspace denies it
// elsewhere so that libraries and the TUI never do.
#![allow(clippy::print_stdout)]

use baton_core::{Config, Engine, EngineOptions, NewSession};
use baton_llm::{ChatRequest, Provider, ProviderConfig, ProviderRegistry, Wire};
use baton_mock_llm::{MockServer, Script};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Model round-trips in the overhead measurement.
const STEPS: usize = 200;

fn main() -> anyhow::Result<()> {
    let baton = sibling_binary("baton")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let version = version_time(&baton, 50)?;
    println!(
        "baton --version: median {:.2} ms, best {:.2} ms (50 runs)",
        ms(version.0),
        ms(version.1)
    );

    // Measured before the in-process benchmark grows this process: a
    // child forked from a big process inherits its peak RSS figure.
    let rss = rt.block_on(headless_peak_rss(&baton))?;
    println!(
        "baton run (headless, 3 steps) peak RSS: {:.1} MB",
        rss as f64 / 1024.0
    );

    let (per_step, per_call) = rt.block_on(round_trip_overhead())?;
    println!(
        "round-trip: {:.3} ms per engine step, {:.3} ms per bare HTTP call -> engine overhead {:.3} ms per step ({STEPS} steps)",
        ms(per_step),
        ms(per_call),
        ms(per_step.saturating_sub(per_call))
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `baton` binary built next to this one.
fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name(name);
    anyhow::ensure!(
        path.exists(),
        "build {name} first: cargo build --release -p baton"
    );
    Ok(path)
}

/// Median and best wall time of `baton --version`.
fn version_time(baton: &Path, runs: usize) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(baton).arg("--version").output()?;
        times.push(start.elapsed());
        anyhow::ensure!(out.status.success(), "baton --version failed");
    }
    times.sort();
    Ok((times[runs / 2], times[0]))
}

fn script(steps: usize) -> String {
    format!(
        r#"
[[rules]]
name = "step"
times = {steps}
[rules.reply]
tool_calls = [{{ name = "todo_write", arguments = {{ todos = [{{ content = "bench", status = "in_progress" }}] }} }}]

[[rules]]
name = "done"
[rules.reply]
text = "done"
"#
    )
}

fn mock_config(url: String) -> Config {
    let mut config = Config::default();
    config.providers.insert(
        "mock".into(),
        ProviderConfig {
            wire: Some(Wire::OpenAi),
            base_url: Some(url),
            ..ProviderConfig::default()
        },
    );
    config.model = Some("mock/bench".into());
    config.agent.max_steps = (STEPS + 10) as u32;
    config
}

/// Time per engine step of a long turn, and per bare provider call.
async fn round_trip_overhead() -> anyhow::Result<(Duration, Duration)> {
    let mock = MockServer::start(Script::from_toml(&script(STEPS))?).await?;
    let home = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config: mock_config(mock.openai_base_url()),
        env: Box::new(|_| None),
        store: None,
    })?;
    let session = engine
        .create_session(NewSession {
            cwd: project.path().to_path_buf(),
            ..NewSession::default()
        })
        .await?;
    let start = Instant::now();
    engine.send_message(&session.id, "go")?;
    engine.wait_quiet(&session.id).await?;
    let engine_total = start.elapsed();
    engine.shutdown().await;
    let steps = mock.requests().len();
    anyhow::ensure!(
        steps == STEPS + 1,
        "expected {} calls, saw {steps}",
        STEPS + 1
    );
    // The same number of calls made directly, with a request of about the
    // same size as the turn's average one.
    let body = mock
        .requests()
        .last()
        .map(|r| r.body.clone())
        .unwrap_or_default();
    let bare_mock = MockServer::start(Script::from_toml(&script(STEPS))?).await?;
    let registry = ProviderRegistry::build(
        &|_| None,
        &mock_config(bare_mock.openai_base_url()).providers,
    )?;
    let bare: Arc<dyn Provider> = registry
        .get("mock")
        .ok_or_else(|| anyhow::anyhow!("mock provider missing"))?;
    let messages_len = body["messages"].as_array().map_or(0, Vec::len);
    let request = ChatRequest {
        model: "bench".into(),
        system: "bench".into(),
        messages: vec![baton_protocol::Message::new(
            "ses_bench".into(),
            baton_protocol::Role::User,
            vec![baton_protocol::Part::Text {
                text: "x".repeat(messages_len * 20),
            }],
        )],
        tools: Vec::new(),
        max_tokens: 1024,
        temperature: None,
    };
    let start = Instant::now();
    for _ in 0..=STEPS {
        let cancel = tokio_util::sync::CancellationToken::new();
        let mut stream = bare.stream(request.clone(), cancel).await?;
        while let Some(ev) = stream.next().await {
            ev?;
        }
    }
    let bare_total = start.elapsed();
    let n = (STEPS + 1) as u32;
    Ok((engine_total / n, bare_total / n))
}

/// Peak resident memory, in KiB, of one headless `baton run`.
async fn headless_peak_rss(baton: &Path) -> anyhow::Result<u64> {
    let mock = MockServer::start(Script::from_toml(&script(2))?).await?;
    let home = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "model = \"mock/bench\"\n[providers.mock]\nwire = \"openai\"\nbase_url = \"{}\"\n",
            mock.openai_base_url()
        ),
    )?;
    let status = tokio::process::Command::new(baton)
        .args(["run", "go"])
        .current_dir(project.path())
        .env("BATON_HOME", home.path())
        .env("BATON_CONFIG", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "baton run failed: {status}");
    Ok(children_max_rss_kib())
}

/// The largest RSS of any waited-for child, in KiB (Linux units).
#[allow(unsafe_code)]
fn children_max_rss_kib() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full rusage into the pointer we pass,
    // which points to memory of that type; we read it only on success.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    // SAFETY: rc == 0 means the struct was filled in.
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}
