//! What a session sends the model over its life: a prefix that stays the
//! same (so the provider's prompt cache holds), compaction before the
//! window fills, and answers cut off at the output limit handled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_core::Config;
use baton_llm::{ModelInfo, Wire};
use baton_protocol::{EventKind, SessionId};
use common::*;
use serde_json::Value;

/// Children wait on their own gate file; the parent delegates three of
/// them at once and integrates each notice as it comes.
fn three_children() -> String {
    let mut script = String::from(
        r#"
[prompt_cache]
enabled = true
openai_min_tokens = 0
openai_increment = 1

[[rules]]
name = "child-done"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released"
[rules.reply]
text = "child done"

[[rules]]
name = "child-wait"
[rules.when]
system = "baton sub-agent"
first_user = "job (?P<n>[0-9])"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -e gate${n} ]; do sleep 0.02; done; echo released" } }]
"#,
    );
    script.push_str(&delegating_parent(
        "started",
        r#"[
  { name = "task", arguments = { description = "one", prompt = "job 1" } },
  { name = "task", arguments = { description = "two", prompt = "job 2" } },
  { name = "task", arguments = { description = "three", prompt = "job 3" } },
]"#,
    ));
    script
}

/// Anthropic's published Claude Sonnet prices, cache rates included.
fn priced(c: &mut Config) {
    c.models.insert(
        "mock/m".into(),
        ModelInfo {
            context_window: 200_000,
            max_output_tokens: None,
            input_per_mtok: Some(3.0),
            output_per_mtok: Some(15.0),
            cache_read_per_mtok: Some(0.30),
            cache_write_per_mtok: Some(3.75),
            images: None,
        },
    );
}

fn on_anthropic(c: &mut Config) {
    let provider = c.providers.get_mut("mock").unwrap();
    let url = provider.base_url.clone().unwrap();
    provider.base_url = Some(url.trim_end_matches("/v1").to_owned());
    provider.wire = Some(Wire::Anthropic);
}

/// A copy of `value` without `cache_control` fields (where the moving
/// breakpoint sits is not part of the prefix).
fn without_breakpoints(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k != "cache_control")
                .map(|(k, v)| (k.clone(), without_breakpoints(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_breakpoints).collect()),
        other => other.clone(),
    }
}

/// Whether `next` extends `prev` exactly: every message of `prev` is in
/// `next` unchanged, except that the last one may have gained content
/// blocks at its end (Anthropic merges consecutive user turns).
fn extends(prev: &[Value], next: &[Value]) -> bool {
    let Some((last, head)) = prev.split_last() else {
        return true;
    };
    if next.len() < prev.len() || next[..head.len()] != *head {
        return false;
    }
    let grown = &next[head.len()];
    if grown == last {
        return true;
    }
    match (last["content"].as_array(), grown["content"].as_array()) {
        (Some(old), Some(new)) => {
            last["role"] == grown["role"] && new.len() > old.len() && new[..old.len()] == **old
        }
        _ => false,
    }
}

async fn delegate_and_integrate_three(wire: &str, tweak: fn(&mut Config)) {
    let h = harness(&three_children(), |c| {
        priced(c);
        tweak(c);
    })
    .await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    let ends = |parent: SessionId| {
        move |e: &baton_protocol::Event| e.session_id == parent && is_type(e, "turn.completed")
    };
    f.until_count("the parent's first turn", 1, ends(parent.clone()))
        .await;
    // One child ends at a time, and each notice wakes the parent.
    for (n, gate) in ["gate1", "gate2", "gate3"].iter().enumerate() {
        h.touch(gate);
        f.until_count("the parent integrating", n + 2, ends(parent.clone()))
            .await;
    }
    h.engine.wait_quiet(&parent).await.unwrap();

    let calls: Vec<_> = h
        .mock
        .requests()
        .into_iter()
        .filter(|r| {
            r.matched_rule
                .as_deref()
                .is_some_and(|n| n.starts_with("parent-"))
        })
        .collect();
    let rules: Vec<&str> = calls
        .iter()
        .map(|r| r.matched_rule.as_deref().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "parent-delegate",
            "parent-ack",
            "parent-integrate",
            "parent-integrate",
            "parent-integrate"
        ],
        "{wire}"
    );
    let (system, messages): (Vec<Value>, Vec<Vec<Value>>) = calls
        .iter()
        .map(|r| {
            let body = without_breakpoints(&r.body);
            let mut messages = body["messages"].as_array().unwrap().clone();
            let system = match wire {
                "openai" => messages.remove(0),
                _ => body["system"].clone(),
            };
            (system, messages)
        })
        .unzip();
    for (i, call) in calls.iter().enumerate().skip(1) {
        assert_eq!(
            call.body["tools"], calls[0].body["tools"],
            "{wire}: tools of call {i}"
        );
        assert_eq!(system[i], system[0], "{wire}: system of call {i}");
        assert!(
            extends(&messages[i - 1], &messages[i]),
            "{wire}: call {i} does not extend call {}:\n{:#?}\n{:#?}",
            i - 1,
            messages[i - 1],
            messages[i]
        );
    }
    // The parent was told, at the end, which tasks were still running.
    let told: Vec<String> = messages[4]
        .iter()
        .map(|m| m["content"].to_string())
        .filter(|c| c.contains("<running-tasks>"))
        .collect();
    assert_eq!(told.len(), 3, "{wire}: {told:#?}");
    let running = |t: &str| t.matches("(general, running)").count();
    assert_eq!(
        [running(&told[0]), running(&told[1]), running(&told[2])],
        [2, 1, 0],
        "{told:#?}"
    );
    assert!(told[2].contains("None of the tasks"), "{told:?}");

    if wire == "anthropic" {
        // Breakpoints: the system (tools and system), the end, and where
        // the previous call ended.
        for call in &calls {
            let marked = call.body.to_string().matches("cache_control").count();
            assert!(
                call.body["system"][0]["cache_control"].is_object(),
                "system breakpoint"
            );
            let last = call.body["messages"].as_array().unwrap().last().unwrap();
            let block = last["content"].as_array().unwrap().last().unwrap();
            assert!(block["cache_control"].is_object(), "end breakpoint");
            assert!((2..=4).contains(&marked), "{marked} breakpoints");
        }
    }
    // After the first call, nearly all input is read from the cache, and
    // priced at the cache rate.
    let stored = h.store.messages(&parent).await.unwrap();
    let answers: Vec<_> = stored.iter().filter_map(|m| m.usage).collect();
    assert_eq!(answers.len(), 5, "{wire}");
    for usage in &answers[1..] {
        let uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens;
        assert!(
            uncached * 10 < usage.input_tokens,
            "{wire}: {usage:?} is mostly uncached"
        );
        let full_price =
            usage.input_tokens as f64 * 3.0 / 1e6 + usage.output_tokens as f64 * 15.0 / 1e6;
        assert!(
            usage.cost_usd < full_price,
            "{wire}: {usage:?} priced as uncached"
        );
        assert!(usage.cost_usd > 0.0);
    }
    let record = h.store.get_session(&parent).await.unwrap().unwrap();
    assert!(
        record.usage.cache_read_tokens > 0,
        "{wire}: cached tokens are stored"
    );
    assert!(
        f.of(|e| matches!(&e.kind, EventKind::TurnCompleted { usage, .. } if e.session_id == parent && usage.cache_read_tokens > 0))
            .len()
            >= 4,
        "{wire}: turn figures carry the cached tokens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegating_parent_keeps_one_prefix_on_the_openai_wire() {
    delegate_and_integrate_three("openai", |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegating_parent_keeps_one_prefix_on_the_anthropic_wire() {
    delegate_and_integrate_three("anthropic", on_anthropic).await;
}

/// Twelve files of about 5000 characters, each with one fact and the name
/// of the next file to read.
fn write_files(h: &Harness) {
    for n in 1..=12 {
        let next = if n == 12 {
            "none".to_owned()
        } else {
            format!("f{}.txt", n + 1)
        };
        let mut text = format!("File {n}. Remember FACT-{n}00{n}.\n");
        for line in 0..80 {
            text.push_str(&format!(
                "filler-{n} line {line}: nothing to see here at all.\n"
            ));
        }
        text.push_str(&format!("NEXT: {next}\n"));
        std::fs::write(h.path(&format!("f{n}.txt")), text).unwrap();
    }
}

const READER: &str = "---
description: Reads files.
tools: [read]
---
You read files and remember what they say.
";

/// The reader goes from file to file; the summarizer keeps every fact; the
/// last answer lists the facts it can see.
const READING: &str = r#"
context_window = 6000

[[rules]]
name = "summarize"
[rules.when]
system = "You summarize"
[rules.reply]
text_from = { pattern = "FACT-[0-9]+", source = "all", prefix = "Facts seen so far: ", separator = ", " }

[[rules]]
name = "facts"
[rules.when]
last_user = "what facts"
[rules.reply]
text_from = { pattern = "FACT-[0-9]+", source = "all", prefix = "Facts: ", separator = ", " }

[[rules]]
name = "last"
[rules.when]
last_tool_result = "NEXT: none"
[rules.reply]
text_from = { pattern = "FACT-[0-9]+", source = "all", prefix = "Facts: ", separator = ", " }

[[rules]]
name = "next"
[rules.when]
last_tool_result = "NEXT: (?P<f>f[0-9]+\\.txt)"
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "${f}" } }]

[[rules]]
name = "first"
[rules.when]
last_user = "read all"
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "f1.txt" } }]
"#;

fn small_window(c: &mut Config) {
    c.models.insert(
        "mock/m".into(),
        ModelInfo {
            context_window: 6000,
            max_output_tokens: Some(500),
            input_per_mtok: None,
            output_per_mtok: None,
            cache_read_per_mtok: None,
            cache_write_per_mtok: None,
            images: None,
        },
    );
}

fn all_facts() -> String {
    (1..=12)
        .map(|n| format!("FACT-{n}00{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_past_a_small_window_compacts_keeps_every_fact_and_survives_a_restart() {
    let h = harness_with(READING, small_window, |e| {
        e.agent_files
            .push((".baton/agents/reader.md".into(), READER.into()));
    })
    .await;
    write_files(&h);
    let session = h
        .engine
        .create_session(baton_core::NewSession {
            cwd: h.project.path().to_path_buf(),
            agent: Some("reader".into()),
            ..baton_core::NewSession::default()
        })
        .await
        .unwrap()
        .id;
    let mut f = Follower::new(&h.engine);
    h.engine
        .send_message(&session, "read all the files")
        .await
        .unwrap();
    h.engine.wait_quiet(&session).await.unwrap();
    f.drain();
    assert_eq!(
        h.last_text(&session).await,
        format!("Facts: {}", all_facts()),
        "every fact is kept"
    );
    let compactions = f.of(|e| is_type(e, "context.compacted"));
    assert!(compactions.len() >= 2, "{compactions:#?}");
    let requests = h.mock.requests();
    assert!(
        requests.iter().all(|r| r.matched_rule.is_some()),
        "every request was answered (none refused as too long)"
    );
    for r in &requests {
        assert!(
            r.estimated_input_tokens <= 6000,
            "{}",
            r.estimated_input_tokens
        );
    }
    // The files were read once each, in order.
    let reads = f.outputs("read");
    assert_eq!(reads.len(), 12);

    // A new engine on the same store: the model reads the summary, not the
    // files that were compacted away.
    let store = h.store.clone();
    h.engine.shutdown().await;
    let again = baton_core::Engine::new(baton_core::EngineOptions {
        home: h.home.path().to_path_buf(),
        config: {
            let mut c = Config::single_openai_provider("mock", h.mock.openai_base_url(), "m");
            small_window(&mut c);
            c
        },
        env: Box::new(|_| None),
        store: Some(store.clone()),
        agents: baton_core::AgentSet::load(&baton_core::AgentDirs {
            user_config: None,
            home: None,
            project: h.project.path().to_path_buf(),
        }),
        ask_mode: baton_core::AskMode::Wait,
    })
    .await
    .unwrap();
    again
        .send_message(&session, "what facts do you know?")
        .await
        .unwrap();
    again.wait_quiet(&session).await.unwrap();
    let stored = store.messages(&session).await.unwrap();
    assert_eq!(
        stored.last().unwrap().text(),
        format!("Facts: {}", all_facts())
    );
    let last = h.mock.requests().pop().unwrap();
    let body = last.body.to_string();
    assert!(body.contains("<conversation-summary>"), "{body}");
    assert!(
        !body.contains("filler-1 line"),
        "the first file was compacted away"
    );
    again.shutdown().await;
}

/// An answer cut off at the output limit is continued; a call cut off is
/// not run; an answer that keeps being cut off ends the turn as cut off.
fn cut_offs(wire: &str) -> String {
    let (length, refusal, pause) = if wire == "openai" {
        ("length", "content_filter", "stop")
    } else {
        ("max_tokens", "refusal", "pause_turn")
    };
    format!(
        r#"
[[rules]]
name = "refuse"
[rules.when]
last_user = "something bad"
[rules.reply]
text = "I can't help with that."
stop_reason = "{refusal}"

[[rules]]
name = "pause"
times = 1
[rules.when]
last_user = "search far"
[rules.reply]
text = "Searching..."
stop_reason = "{pause}"

[[rules]]
name = "paused-on"
[rules.when]
last_user = "search far"
[rules.reply]
text = " found it."

[[rules]]
name = "endless"
[rules.when]
first_user = "endless"
[rules.reply]
text = "and on"
stop_reason = "{length}"

[[rules]]
name = "retold"
[rules.when]
last_tool_result = "cut off at the output limit"
[rules.reply]
text = "I will write it in smaller pieces."

[[rules]]
name = "long-call"
[rules.when]
last_user = "write the file"
[rules.reply]
tool_calls = [{{ name = "write", raw_arguments = "{{\"path\": \"big.txt\", \"content\": \"aaaa" }}]
stop_reason = "{length}"

[[rules]]
name = "rest"
[rules.when]
last_user = "cut off at the output limit"
[rules.reply]
text = " and the rest."

[[rules]]
name = "story"
[rules.when]
last_user = "tell a story"
[rules.reply]
text = "Once upon a time"
stop_reason = "{length}"
"#
    )
}

async fn answers_cut_off(wire: &str, tweak: fn(&mut Config)) {
    let h = harness(&cut_offs(wire), tweak).await;
    let session = h.session().await;
    let mut f = Follower::new(&h.engine);

    h.engine
        .send_message(&session, "tell a story")
        .await
        .unwrap();
    h.engine.wait_quiet(&session).await.unwrap();
    f.drain();
    let texts: Vec<String> = h
        .store
        .messages(&session)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.role == baton_protocol::Role::Assistant)
        .map(|m| m.text())
        .collect();
    assert_eq!(texts, ["Once upon a time", " and the rest."], "{wire}");
    let reasons = |f: &Follower| -> Vec<String> {
        f.seen
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::TurnCompleted { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(reasons(&f), ["end_turn"], "{wire}");

    // A call cut off mid-arguments is answered, not run.
    h.engine
        .send_message(&session, "write the file")
        .await
        .unwrap();
    h.engine.wait_quiet(&session).await.unwrap();
    f.drain();
    assert!(!h.path("big.txt").exists(), "{wire}: the cut-off call ran");
    let results = f.outputs("write");
    assert!(
        results[0].contains("cut off at the output limit"),
        "{results:?}"
    );
    assert_eq!(
        h.last_text(&session).await,
        "I will write it in smaller pieces."
    );

    // Always cut off: continued twice, then the turn ends as cut off.
    let other = h.session().await;
    h.engine.send_message(&other, "endless").await.unwrap();
    h.engine.wait_quiet(&other).await.unwrap();
    f.drain();
    let endless = h
        .mock
        .requests()
        .iter()
        .filter(|r| r.matched_rule.as_deref() == Some("endless"))
        .count();
    assert_eq!(endless, 3, "{wire}: the first call and two continuations");
    let ended: Vec<_> = f.of(|e| e.session_id == other && is_type(e, "turn.completed"));
    assert!(
        matches!(&ended[0].kind, EventKind::TurnCompleted { reason, .. } if reason == "cut_off"),
        "{ended:?}"
    );
    assert!(
        f.of(|e| e.session_id == other
            && matches!(&e.kind, EventKind::Error { message } if message.contains("output limit")))
            .len()
            == 1
    );
    let record = h.store.get_session(&other).await.unwrap().unwrap();
    assert_eq!(record.status, baton_protocol::SessionStatus::Failed);

    // A refusal ends the turn and says so.
    let third = h.session().await;
    h.engine
        .send_message(&third, "something bad")
        .await
        .unwrap();
    h.engine.wait_quiet(&third).await.unwrap();
    f.drain();
    assert!(
        f.of(|e| e.session_id == third
            && matches!(&e.kind, EventKind::TurnCompleted { reason, .. } if reason == "refused"))
            .len()
            == 1,
        "{wire}"
    );
    assert!(
        f.of(|e| e.session_id == third
            && matches!(&e.kind, EventKind::Error { message } if message.contains("refused")))
            .len()
            == 1
    );

    // A paused turn (Anthropic) is resumed by sending the answer back.
    let fourth = h.session().await;
    h.engine.send_message(&fourth, "search far").await.unwrap();
    h.engine.wait_quiet(&fourth).await.unwrap();
    let texts: Vec<String> = h
        .store
        .messages(&fourth)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.role == baton_protocol::Role::Assistant)
        .map(|m| m.text())
        .collect();
    let expected: &[&str] = if wire == "openai" {
        &["Searching..."]
    } else {
        &["Searching...", " found it."]
    };
    assert_eq!(texts, expected, "{wire}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_off_answers_on_the_openai_wire() {
    answers_cut_off("openai", |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_off_answers_on_the_anthropic_wire() {
    answers_cut_off("anthropic", on_anthropic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_sessions_first_request_stays_under_20_kb() {
    let script = r#"
[[rules]]
reply = { text = "hi" }
"#;
    let h = harness(script, |_| {}).await;
    let session = h.session().await;
    h.engine.send_message(&session, "hello").await.unwrap();
    h.engine.wait_quiet(&session).await.unwrap();
    let request = h.mock.requests().remove(0);
    let body = request.body.to_string();
    let system = request.body["messages"][0]["content"].as_str().unwrap();
    let tools = request.body["tools"].to_string();
    eprintln!(
        "first request: {} bytes (system prompt {} bytes, {} tools in {} bytes)",
        body.len(),
        system.len(),
        request.body["tools"].as_array().unwrap().len(),
        tools.len()
    );
    assert!(body.len() < 20 * 1024, "{} bytes", body.len());
    assert!(system.contains("Delegating to sub-agents"), "{system}");
    assert!(system.contains("Do not poll"), "{system}");
}
