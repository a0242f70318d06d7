//! `baton-cache-bench`: what baton's model calls would be billed with a
//! provider's prompt cache, on the Anthropic wire with Anthropic's
//! published prices for Claude Sonnet (input $3, cache reads $0.30, cache
//! writes $3.75, output $15 per million tokens).
//!
//! Two workloads against the mock model with its simulated prompt cache
//! (reads up to the longest earlier prefix ending at a breakpoint or
//! within 20 blocks before one, writes up to the last breakpoint):
//!
//! - the demo (`baton demo`'s script and project): a parent delegates three
//!   sub-agents and integrates their results;
//! - a 30-step delegating session: a parent starts five sub-agents, then
//!   works through 28 files while their notices arrive.
//!
//! For each it prints the parent's input tokens after its first call,
//! split into read from the cache, written to it (billed at 1.25 times the
//! input price) and uncached, the share not read from the cache, and the
//! whole tree's cost. Run with
//! `cargo run --release -p baton --bin baton-cache-bench`.

// Printing results on stdout is what a CLI is for.
#![allow(clippy::print_stdout)]

use baton_core::{AgentDirs, AgentSet, AskMode, Config, Engine, EngineOptions, NewSession};
use baton_llm::{ModelInfo, Wire};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::{Role, SessionId, Usage};
use std::path::Path;

/// `baton demo`'s script, project and request.
#[path = "../demo/project.rs"]
mod demo_project;

use demo_project::{DEMO_FILES, DEMO_PROMPT, DEMO_SCRIPT};

/// The mock's prompt cache, as Anthropic documents it.
const CACHE: &str = "\n[prompt_cache]\nenabled = true\nanthropic_lookback = 20\n";

/// A parent that starts five sub-agents, then reads 28 files one per step
/// (each step answered after 40 ms) while the sub-agents end one by one
/// (their notices join its turn between steps).
fn delegating_script() -> String {
    let mut script = String::from(
        r#"
[[rules]]
name = "child-done"
[rules.when]
system = "baton sub-agent"
last_tool_result = "slept"
[rules.reply]
text = "child done: nothing to report"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
first_user = "job (?P<n>[0-9])"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "sleep 0.${n}; echo slept" } }]

[[rules]]
name = "parent-last"
[rules.when]
last_tool_result = "NEXT: none"
[rules.reply]
text = "All files read."

[[rules]]
name = "parent-next"
[rules.when]
last_tool_result = "NEXT: (?P<f>f[0-9]+\\.txt)"
[rules.reply]
first_byte_delay_ms = 40
tool_calls = [{ name = "read", arguments = { path = "${f}" } }]

[[rules]]
name = "parent-notice"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "Noted that result."

[[rules]]
name = "parent-start"
[rules.when]
last_tool_result = "started"
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "f1.txt" } }]

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [
"#,
    );
    for n in 1..=5 {
        script.push_str(&format!(
            "  {{ name = \"task\", arguments = {{ description = \"job {n}\", prompt = \"job {n}\" }} }},\n"
        ));
    }
    script.push_str("]\n");
    script.push_str(CACHE);
    script
}

fn delegating_files(dir: &Path) -> anyhow::Result<()> {
    for n in 1..=28 {
        let next = if n == 28 {
            "none".to_owned()
        } else {
            format!("f{}.txt", n + 1)
        };
        let mut text = format!("File {n}.\n");
        for line in 0..20 {
            text.push_str(&format!(
                "line {line} of file {n}: some ordinary content.\n"
            ));
        }
        text.push_str(&format!("NEXT: {next}\n"));
        std::fs::write(dir.join(format!("f{n}.txt")), text)?;
    }
    Ok(())
}

/// Claude Sonnet's prices.
fn sonnet() -> ModelInfo {
    ModelInfo {
        context_window: 200_000,
        max_output_tokens: Some(64_000),
        input_per_mtok: Some(3.0),
        output_per_mtok: Some(15.0),
        cache_read_per_mtok: Some(0.30),
        cache_write_per_mtok: Some(3.75),
        images: None,
    }
}

/// What one workload's parent was billed after its first call.
struct Billed {
    calls: usize,
    after_first: Usage,
    tree_cost: f64,
    tree_input: u64,
}

async fn run(
    name: &str,
    script: &str,
    files: impl FnOnce(&Path) -> anyhow::Result<()>,
    prompt: &str,
) -> anyhow::Result<Billed> {
    let mock = MockServer::start(Script::from_toml(script)?).await?;
    let home = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    files(project.path())?;
    let mut config = Config::single_openai_provider("mock", mock.anthropic_base_url(), "m");
    if let Some(provider) = config.providers.get_mut("mock") {
        provider.wire = Some(Wire::Anthropic);
    }
    config.models.insert("mock/m".into(), sonnet());
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: AgentSet::load(&AgentDirs {
            user_config: None,
            home: None,
            project: project.path().to_path_buf(),
        }),
        ask_mode: AskMode::Wait,
    })
    .await?;
    let session = engine
        .create_session(NewSession {
            cwd: project.path().to_path_buf(),
            ..NewSession::default()
        })
        .await?
        .id;
    engine.send_message(&session, prompt).await?;
    engine.wait_quiet(&session).await?;
    let billed = billed(&engine, &session).await?;
    engine.shutdown().await;
    let u = &billed.after_first;
    let uncached = u.input_tokens - u.cache_read_tokens - u.cache_write_tokens;
    println!(
        "{name}: parent {} calls; after the first: {} input tokens = {} cache reads + {} cache \
         writes + {} uncached; {:.1} % not read from the cache; tree: {} input tokens, ${:.4}",
        billed.calls,
        u.input_tokens,
        u.cache_read_tokens,
        u.cache_write_tokens,
        uncached,
        (u.input_tokens - u.cache_read_tokens) as f64 * 100.0 / u.input_tokens.max(1) as f64,
        billed.tree_input,
        billed.tree_cost,
    );
    Ok(billed)
}

async fn billed(engine: &Engine, session: &SessionId) -> anyhow::Result<Billed> {
    let answers: Vec<Usage> = engine
        .messages(session)
        .await?
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .filter_map(|m| m.usage)
        .collect();
    let mut after_first = Usage::default();
    for usage in answers.iter().skip(1) {
        after_first += *usage;
    }
    let tree = engine.session(session).await?.total_usage;
    Ok(Billed {
        calls: answers.len(),
        after_first,
        tree_cost: tree.cost_usd,
        tree_input: tree.input_tokens,
    })
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let demo = format!("{DEMO_SCRIPT}{CACHE}");
        run(
            "demo",
            &demo,
            |dir| {
                for (name, content) in DEMO_FILES {
                    let path = dir.join(name);
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(path, content)?;
                }
                Ok(())
            },
            DEMO_PROMPT,
        )
        .await?;
        run(
            "delegating, 30 steps",
            &delegating_script(),
            delegating_files,
            "go",
        )
        .await?;
        Ok(())
    })
}
