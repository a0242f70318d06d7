//! Several models at once: a parent on an OpenAI-wire provider and its
//! children on an Anthropic-wire provider (through a model alias), side by
//! side, the children queued by their provider's `max_concurrency`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_llm::{ProviderConfig, Wire};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::EventKind;
use common::*;
use std::time::Duration;

const PARENT: &str = r#"
[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "provider"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-meanwhile"
[rules.when]
last_tool_result = "started"
[rules.reply]
tool_calls = [
  { name = "bash", arguments = { command = "touch parent_was_here" } },
  { name = "task_status", arguments = {} },
]

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "one", prompt = "as one", model = "smart" } },
  { name = "task", arguments = { description = "two", prompt = "as two", model = "smart" } },
]
"#;

/// How long the children's provider takes to start each first answer.
const CHILD_DELAY_MS: u64 = 800;

fn children_script() -> String {
    format!(
        r#"
[[rules]]
name = "kid-done"
[rules.when]
first_user = "as (?P<n>[a-z]+)"
last_tool_result = "go-on"
[rules.reply]
text = "kid ${{n}} done"

[[rules]]
name = "kid-wait"
[rules.when]
no_tool_results = true
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = "while [ ! -f parent_was_here ]; do sleep 0.01; done; echo go-on" }} }}]
first_byte_delay_ms = {CHILD_DELAY_MS}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_and_its_children_run_on_two_providers_each_under_its_own_limit() {
    let anthropic = MockServer::start(Script::from_toml(&children_script()).unwrap())
        .await
        .unwrap();
    let anthropic_url = anthropic.anthropic_base_url();
    let h = harness(PARENT, |c| {
        c.providers.insert(
            "an".into(),
            ProviderConfig {
                wire: Some(Wire::Anthropic),
                base_url: Some(anthropic_url),
                max_concurrency: Some(1),
                ..ProviderConfig::default()
            },
        );
        c.aliases.insert("smart".into(), "an/claude-kid".into());
    })
    .await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    // Both children ran on the Anthropic wire with the aliased model...
    let kids = anthropic.requests();
    assert!(kids.len() >= 4, "{} requests", kids.len());
    for r in &kids {
        assert_eq!(r.wire, baton_mock_llm::Wire::Anthropic);
        assert_eq!(r.body["model"], "claude-kid");
    }
    // ...one model call at a time: the second child's first request came
    // only after the first child's (slow) answer was complete.
    let first_calls: Vec<_> = kids
        .iter()
        .filter(|r| r.matched_rule.as_deref() == Some("kid-wait"))
        .collect();
    assert_eq!(first_calls.len(), 2);
    let gap = first_calls[1]
        .received_at
        .duration_since(first_calls[0].received_at)
        .unwrap();
    assert!(
        gap >= Duration::from_millis(CHILD_DELAY_MS),
        "second child's call came {gap:?} after the first's"
    );
    // The parent, on the other provider, kept working while the children
    // ran: their commands waited for the file the parent's command made.
    for r in h.mock.requests() {
        assert_eq!(r.wire, baton_mock_llm::Wire::OpenAi);
        assert_eq!(r.body["model"], "m");
    }
    let status = f.outputs("task_status");
    assert!(status[0].contains("\"provider\": \"an\""), "{}", status[0]);
    assert!(
        status[0].contains("\"model\": \"an/claude-kid\""),
        "{}",
        status[0]
    );
    let spawned_models: Vec<String> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskSpawned { model, .. } => Some(model.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(spawned_models, ["an/claude-kid", "an/claude-kid"]);
    let created: Vec<String> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SessionCreated {
                parent_id: Some(_),
                model,
                ..
            } => Some(model.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(created, ["an/claude-kid", "an/claude-kid"]);
    let messages = h.store.messages(&parent).await.unwrap();
    for n in ["one", "two"] {
        assert!(
            messages
                .iter()
                .any(|m| m.text().contains(&format!("kid {n} done"))),
            "the parent got {n}'s result"
        );
    }
    h.engine.shutdown().await;
}
