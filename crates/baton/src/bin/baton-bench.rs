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
use baton_llm::{ChatRequest, Provider, ProviderRegistry};
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

    let eight = rt.block_on(fan_out(8, 2_000))?;
    println!(
        "fan-out N=8, D=2 s: wall {:.3} s, wall/D = {:.3}",
        eight.wall.as_secs_f64(),
        eight.wall.as_secs_f64() / 2.0
    );
    let many = rt.block_on(fan_out(200, 50))?;
    println!(
        "fan-out N=200, D=50 ms: wall {:.3} s, peak RSS {:.1} MB, RSS per idle child {:.1} KB, \
         CPU {:.2} ms per child",
        many.wall.as_secs_f64(),
        many.peak_rss_kib as f64 / 1024.0,
        many.rss_per_child_kib,
        many.cpu.as_secs_f64() * 1000.0 / 200.0
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
    let mut config = Config::single_openai_provider("mock", url, "bench");
    config.agent.max_steps = (STEPS + 10) as u32;
    config
}

/// Figures of one fan-out run.
struct FanOut {
    wall: Duration,
    peak_rss_kib: u64,
    rss_per_child_kib: f64,
    cpu: Duration,
}

/// A parent delegates `n` children at once; each child's model call takes
/// `delay_ms` before its first byte. Measures until the tree is quiet.
async fn fan_out(n: usize, delay_ms: u64) -> anyhow::Result<FanOut> {
    let calls: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{ name = "task", arguments = {{ description = "child {i}", prompt = "work {i}" }} }}"#
            )
        })
        .collect();
    let script = format!(
        r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "child done"
first_byte_delay_ms = {delay_ms}

[[rules]]
name = "integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "delegate"
[rules.reply]
tool_calls = [{}]
"#,
        calls.join(", ")
    );
    let mock = MockServer::start(Script::from_toml(&script)?).await?;
    let home = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    let mut config = mock_config(mock.openai_base_url());
    config.tasks.max_running = n;
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: baton_core::AgentSet::builtin(),
        ask_mode: baton_core::AskMode::Allow,
    })
    .await?;
    let session = engine
        .create_session(NewSession {
            cwd: project.path().to_path_buf(),
            ..NewSession::default()
        })
        .await?;
    let rss_before = proc_status_kib("VmRSS:");
    let cpu_before = self_cpu();
    let start = Instant::now();
    engine.send_message(&session.id, "go").await?;
    engine.wait_quiet(&session.id).await?;
    let wall = start.elapsed();
    let cpu = self_cpu().saturating_sub(cpu_before);
    let rss_after = proc_status_kib("VmRSS:");
    let children = mock
        .requests()
        .iter()
        .filter(|r| r.matched_rule.as_deref() == Some("child"))
        .count();
    anyhow::ensure!(children == n, "expected {n} child calls, saw {children}");
    let figures = FanOut {
        wall,
        peak_rss_kib: proc_status_kib("VmHWM:"),
        rss_per_child_kib: rss_after.saturating_sub(rss_before) as f64 / n as f64,
        cpu,
    };
    engine.shutdown().await;
    Ok(figures)
}

/// A field of /proc/self/status, in KiB (0 where there is no /proc).
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

/// User plus system CPU time of this process so far.
#[allow(unsafe_code)]
fn self_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the rusage we point to; read only on success.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return Duration::ZERO;
    }
    // SAFETY: rc == 0 means the struct was filled in.
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(u.ru_utime) + tv(u.ru_stime)
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
        agents: baton_core::AgentSet::builtin(),
        ask_mode: baton_core::AskMode::Allow,
    })
    .await?;
    let session = engine
        .create_session(NewSession {
            cwd: project.path().to_path_buf(),
            ..NewSession::default()
        })
        .await?;
    let start = Instant::now();
    engine.send_message(&session.id, "go").await?;
    engine.wait_quiet(&session.id).await?;
    let engine_total = start.elapsed();
    let history = engine.messages(&session.id).await?;
    engine.shutdown().await;
    let steps = mock.requests().len();
    anyhow::ensure!(
        steps == STEPS + 1,
        "expected {} calls, saw {steps}",
        STEPS + 1
    );
    // The same number of calls made directly with the same client, each
    // the turn's middle request: the same system prompt and tools, and the
    // conversation as it stood half-way (the average size). What the
    // engine adds beyond that is its own overhead.
    let middle = mock
        .requests()
        .get(STEPS / 2)
        .map(|r| r.body.clone())
        .unwrap_or_default();
    let system = middle["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tools = middle["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| baton_protocol::ToolSpec {
                    name: t["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    description: t["function"]["description"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    parameters: t["function"]["parameters"].clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let half = history.len().div_ceil(2);
    let bare_mock = MockServer::start(Script::from_toml(&script(STEPS))?).await?;
    let registry = ProviderRegistry::build(
        &|_| None,
        &mock_config(bare_mock.openai_base_url()).providers,
    )?;
    let bare: Arc<dyn Provider> = registry
        .get("mock")
        .ok_or_else(|| anyhow::anyhow!("mock provider missing"))?;
    let request = ChatRequest {
        model: "bench".into(),
        system,
        messages: history.into_iter().take(half).collect::<Vec<_>>().into(),
        tools,
        max_tokens: 1024,
        temperature: None,
        reasoning: None,
        images: false,
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
