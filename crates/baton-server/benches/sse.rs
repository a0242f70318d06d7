//! SSE benchmark: events per second through `GET /v1/events` to 50
//! subscribed clients while 200 sessions work against the mock model, and
//! the latency from an engine event to each client. Twice: flat out (the
//! mock answers at once: the most the stream carries), and paced (each
//! answer streams over 2.5 s, as models do: the latency a person sees).
//!
//! Run with `cargo bench -p baton-server --bench sse`. Figures, not
//! assertions: compare them with docs/benchmarks.md.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use baton_core::{AgentSet, AskMode, Config, Engine, EngineOptions, NewSession};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::EventKind;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 50;
const SESSIONS: usize = 200;
const ROUNDS: usize = 3;

/// Every answer streams 400 characters in 8-character deltas: about 60
/// events per turn.
const SCRIPT: &str = r#"
[[rules]]
name = "talk"
[rules.reply]
chunk_delay_ms = CHUNK_DELAY
text = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
text_chunk_chars = 8
"#;

/// When each event reached a reader, by `seq`.
type Arrivals = Arc<Mutex<HashMap<u64, Instant>>>;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench("flat out", 0))?;
    rt.block_on(bench("paced", 50))
}

async fn bench(label: &str, chunk_delay_ms: u64) -> anyhow::Result<()> {
    let script = SCRIPT.replace("CHUNK_DELAY", &chunk_delay_ms.to_string());
    let mock = MockServer::start(Script::from_toml(&script)?).await?;
    let home = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    let config = Config::single_openai_provider("mock", mock.openai_base_url(), "m");
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: AgentSet::builtin(),
        ask_mode: AskMode::Allow,
    })
    .await?;
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let s = engine
            .create_session(NewSession {
                cwd: project.path().to_path_buf(),
                ..NewSession::default()
            })
            .await?;
        sessions.push(s.id);
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/events", listener.local_addr()?);
    let server = tokio::spawn(baton_server::serve(
        listener,
        engine.clone(),
        baton_server::ServerConfig::new("bench".into(), project.path().to_path_buf()),
        std::future::pending::<()>(),
    ));

    // The engine side: when each event was emitted (read in-process).
    let emitted: Arrivals = Arc::default();
    let quiet = Arc::new(tokio::sync::Semaphore::new(0));
    {
        let mut rx = engine.subscribe();
        let emitted = emitted.clone();
        let quiet = quiet.clone();
        tokio::spawn(async move {
            while let Ok(ev) = rx.recv().await {
                emitted.lock().unwrap().insert(ev.seq, Instant::now());
                if matches!(ev.kind, EventKind::SessionQuiet {}) {
                    quiet.add_permits(1);
                }
            }
        });
    }

    let http = reqwest::Client::new();
    let mut arrivals: Vec<Arrivals> = Vec::new();
    let mut resyncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..CLIENTS {
        let response = http
            .get(&url)
            .bearer_auth("bench")
            .send()
            .await?
            .error_for_status()?;
        let seen: Arrivals = Arc::default();
        arrivals.push(seen.clone());
        let resyncs = resyncs.clone();
        tokio::spawn(async move {
            let mut stream = response.bytes_stream().eventsource();
            while let Some(Ok(message)) = stream.next().await {
                let now = Instant::now();
                if message.event == "resync" {
                    resyncs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
                // The id is the seq: no need to parse the JSON here.
                if let Ok(seq) = message.id.parse::<u64>() {
                    seen.lock().unwrap().insert(seq, now);
                }
            }
        });
    }
    let resyncs = std::mem::take(&mut resyncs);

    let first_seq = engine.last_seq() + 1;
    let start = Instant::now();
    for round in 0..ROUNDS {
        for s in &sessions {
            engine.send_message(s, &format!("round {round}")).await?;
        }
        // Taken for good: each round waits for its own quiet events.
        quiet.acquire_many(SESSIONS as u32).await?.forget();
    }
    let last_seq = engine.last_seq();
    // Every client has every event (or gave up on some with a resync).
    let deadline = Instant::now() + Duration::from_secs(120);
    for seen in &arrivals {
        while !seen.lock().unwrap().contains_key(&last_seq) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let wall = start.elapsed();
    let events = (last_seq + 1 - first_seq) as f64;
    let emitted = emitted.lock().unwrap().clone();
    let mut latencies: Vec<f64> = Vec::new();
    let mut delivered = 0usize;
    for seen in &arrivals {
        for (seq, at) in seen.lock().unwrap().iter() {
            if *seq < first_seq {
                continue;
            }
            delivered += 1;
            if let Some(sent) = emitted.get(seq) {
                latencies.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "SSE {label}: {SESSIONS} sessions x {ROUNDS} turns, {CLIENTS} clients: {events:.0} events in {:.2} s",
        wall.as_secs_f64()
    );
    println!(
        "  engine: {:.0} events/s; per client: {:.0} events/s; all clients: {:.0} events/s delivered",
        events / wall.as_secs_f64(),
        delivered as f64 / CLIENTS as f64 / wall.as_secs_f64(),
        delivered as f64 / wall.as_secs_f64()
    );
    println!(
        "  delivered {delivered} of {:.0} ({} resyncs)",
        events * CLIENTS as f64,
        resyncs.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "  latency engine event -> client: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    server.abort();
    engine.shutdown().await;
    Ok(())
}
