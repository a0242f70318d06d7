//! The engine against the mock model over real HTTP: ordering of tool
//! calls, messages arriving mid-turn, limits, restarts.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_core::{Config, Engine, EngineOptions};
use baton_llm::{ProviderConfig, Wire};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::{Event, EventKind, SessionId, SessionStatus};
use baton_store::{SessionRecord, SqliteStore, Store};
use common::harness;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Collects events until `until` holds (30 s deadline).
async fn collect_until(
    rx: &mut broadcast::Receiver<Event>,
    seen: &mut Vec<Event>,
    until: impl Fn(&Event) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let ev = rx.recv().await.unwrap();
            let hit = until(&ev);
            seen.push(ev);
            if hit {
                return;
            }
        }
    })
    .await
    .expect("awaited event within 30 s");
}

fn tool_events(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolStarted { call_id, .. } => Some(format!("start {call_id}")),
            EventKind::ToolCompleted { call_id, .. } => Some(format!("end {call_id}")),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_calls_run_together_and_changing_calls_one_at_a_time() {
    let script = r#"
[[rules]]
name = "done"
[rules.when]
last_tool_result = "."
[rules.reply]
text = "done"

[[rules]]
name = "calls"
[rules.reply]
tool_calls = [
  { id = "r1", name = "read", arguments = { path = "a.txt" } },
  { id = "r2", name = "grep", arguments = { pattern = "alpha" } },
  { id = "w1", name = "write", arguments = { path = "b.txt", content = "one" } },
  { id = "w2", name = "bash", arguments = { command = "cat b.txt > c.txt" } },
  { id = "r3", name = "read", arguments = { path = "c.txt" } },
  { id = "r4", name = "list", arguments = {} },
]
"#;
    let h = harness(script, |_| {}).await;
    std::fs::write(h.project.path().join("a.txt"), "alpha\n").unwrap();
    let id = h.session().await;
    let mut rx = h.engine.subscribe();
    h.engine.send_message(&id, "go").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    let mut events = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        events.push(ev);
    }
    let order = tool_events(&events);
    assert_eq!(
        order,
        [
            "start r1", "start r2", "end r1", "end r2", // together
            "start w1", "end w1", // alone, in order
            "start w2", "end w2", //
            "start r3", "start r4", "end r3", "end r4", // together, after the write
        ]
    );
    // The second read saw what the command wrote: ordering was real.
    let results: Vec<(String, bool, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolCompleted {
                call_id,
                is_error,
                output,
                ..
            } => Some((call_id.to_string(), *is_error, output.clone())),
            _ => None,
        })
        .collect();
    assert!(results.iter().all(|r| !r.1), "{results:?}");
    assert!(
        results
            .iter()
            .find(|r| r.0 == "r3")
            .unwrap()
            .2
            .contains("one")
    );
    // Results went back to the model in call order.
    let req = &h.mock.requests()[1];
    let tool_ids: Vec<&str> = req.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["tool_call_id"].as_str().unwrap())
        .collect();
    assert_eq!(tool_ids, ["r1", "r2", "w1", "w2", "r3", "r4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_mid_turn_joins_at_the_next_step_once() {
    let script = r#"
[[rules]]
name = "both"
[rules.when]
last_user = "also this"
[rules.reply]
text = "answered both"

[[rules]]
name = "wait"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f go ]; do sleep 0.02; done; echo released" } }]
"#;
    let h = harness(script, |_| {}).await;
    let id = h.session().await;
    let mut rx = h.engine.subscribe();
    h.engine.send_message(&id, "first").await.unwrap();
    let mut seen = Vec::new();
    collect_until(
        &mut rx,
        &mut seen,
        |e| matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash"),
    )
    .await;
    // The session is busy in a tool: this message must wait for the step
    // boundary, then join the same turn.
    h.engine.send_message(&id, "also this").await.unwrap();
    std::fs::write(h.project.path().join("go"), "").unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    while let Ok(ev) = rx.try_recv() {
        seen.push(ev);
    }
    let turns = seen
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TurnStarted {}))
        .count();
    assert_eq!(turns, 1, "one turn took both messages");
    let reqs = h.mock.requests();
    assert_eq!(reqs.len(), 2, "no extra model call: nothing ran twice");
    let users: Vec<String> = reqs[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["first", "also this"]);
    let stored = h.store.messages(&id).await.unwrap();
    let texts: Vec<String> = stored
        .iter()
        .map(|m| m.text())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(texts, ["first", "also this", "answered both"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_step_limit_stops_a_looping_model() {
    let script = r#"
[[rules]]
[rules.reply]
tool_calls = [{ name = "list", arguments = {} }]
"#;
    let h = harness(script, |c| c.agent.max_steps = 3).await;
    let id = h.session().await;
    let mut rx = h.engine.subscribe();
    h.engine.send_message(&id, "loop").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    assert_eq!(h.mock.requests().len(), 3);
    let mut reason = None;
    let mut error = None;
    while let Ok(ev) = rx.try_recv() {
        match ev.kind {
            EventKind::TurnCompleted {
                reason: r, steps, ..
            } => {
                assert_eq!(steps, 3);
                reason = Some(r);
            }
            EventKind::Error { message } => error = Some(message),
            _ => {}
        }
    }
    assert_eq!(reason.as_deref(), Some("max_steps"));
    assert!(error.unwrap().contains("step limit (3)"));
    let rec = h.store.get_session(&id).await.unwrap().unwrap();
    assert_eq!(rec.status, SessionStatus::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_left_running_by_a_dead_process_come_back_interrupted_and_resumable() {
    let script = r#"
[[rules]]
[rules.when]
last_user = "are you there"
[rules.reply]
text = "yes, resumed"
"#;
    let mock = MockServer::start(Script::from_toml(script).unwrap())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&home.path().join("baton.db")).unwrap());
    let now = baton_protocol::now();
    let id = SessionId::generate();
    store
        .create_session(&SessionRecord {
            id: id.clone(),
            parent_id: None,
            agent: "build".into(),
            model: "mock/m".into(),
            title: "old".into(),
            cwd: project.path().to_string_lossy().into_owned(),
            status: SessionStatus::Running,
            created_at: now,
            updated_at: now,
            usage: Default::default(),
            tool_calls: 0,
            reasoning_effort: None,
            sandbox: None,
        })
        .await
        .unwrap();
    // A process id that cannot exist (above Linux's pid_max).
    store.set_owner(&id, Some(4_194_999)).await.unwrap();
    let mut config = Config::default();
    config.providers.insert(
        "mock".into(),
        ProviderConfig {
            wire: Some(Wire::Anthropic),
            base_url: Some(mock.anthropic_base_url()),
            ..ProviderConfig::default()
        },
    );
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: Some(store.clone()),
        agents: baton_core::AgentSet::builtin(),
        ask_mode: baton_core::AskMode::Wait,
    })
    .await
    .unwrap();
    assert_eq!(
        store.get_session(&id).await.unwrap().unwrap().status,
        SessionStatus::Interrupted
    );
    engine.open_session(&id).await.unwrap();
    engine.send_message(&id, "are you there?").await.unwrap();
    engine.wait_quiet(&id).await.unwrap();
    let msgs = store.messages(&id).await.unwrap();
    assert_eq!(msgs.last().unwrap().text(), "yes, resumed");
    assert_eq!(
        store.get_session(&id).await.unwrap().unwrap().status,
        SessionStatus::Idle
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_racing_a_queued_message_hands_it_back_and_does_not_run_it() {
    let script = r#"
[[rules]]
[rules.reply]
text = "slow"
first_byte_delay_ms = 30000
"#;
    let h = harness(script, |_| {}).await;
    let id = h.session().await;
    let mut rx = h.engine.subscribe();
    h.engine.send_message(&id, "one").await.unwrap();
    let mut seen = Vec::new();
    collect_until(&mut rx, &mut seen, |e| {
        matches!(e.kind, EventKind::StepStarted { .. })
    })
    .await;
    h.engine.send_message(&id, "two").await.unwrap();
    let withdrawn = h.engine.cancel(&id).await.unwrap();
    let texts: Vec<&str> = withdrawn.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["two"], "the message not taken yet is handed back");
    h.engine.wait_quiet(&id).await.unwrap();
    let texts: Vec<String> = h
        .store
        .messages(&id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.text())
        .collect();
    assert_eq!(
        texts,
        ["one"],
        "the withdrawn one is not stored, no answer is"
    );
    assert!(h.store.pending_inputs(&id).await.unwrap().is_empty());
    assert!(
        h.mock.requests().len() <= 1,
        "the cancelled turn made no further call"
    );
    let status = h.store.get_session(&id).await.unwrap().unwrap().status;
    assert_eq!(status, SessionStatus::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_max_concurrency_queues_calls_from_different_sessions() {
    let script = r#"
[[rules]]
[rules.reply]
text = "slow answer"
first_byte_delay_ms = 300
"#;
    let h = harness(script, |c| {
        c.providers.get_mut("mock").unwrap().max_concurrency = Some(1);
    })
    .await;
    let a = h.session().await;
    let b = h.session().await;
    h.engine.send_message(&a, "from a").await.unwrap();
    h.engine.send_message(&b, "from b").await.unwrap();
    h.engine.wait_quiet(&a).await.unwrap();
    h.engine.wait_quiet(&b).await.unwrap();
    let reqs = h.mock.requests();
    assert_eq!(reqs.len(), 2);
    // With one slot, the second call can only start once the first one
    // (which the mock holds for 300 ms before answering) is over.
    let gap = reqs[1]
        .received_at
        .duration_since(reqs[0].received_at)
        .unwrap();
    assert!(
        gap >= Duration::from_millis(300),
        "second call came {gap:?} after the first"
    );
}
