//! What a session sends the model over its life: a prefix that stays the
//! same (so the provider's prompt cache holds), compaction before the
//! window fills, and answers cut off at the output limit handled.

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegating_parent_keeps_one_prefix_on_the_openai_wire() {
    delegate_and_integrate_three("openai", |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegating_parent_keeps_one_prefix_on_the_anthropic_wire() {
    delegate_and_integrate_three("anthropic", on_anthropic).await;
}
