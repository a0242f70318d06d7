//! The engine's promises at its seams, each proved on an exact
//! interleaving: cancel reaches queued tasks, idle sessions leave memory
//! and come back whole, a stored session can be talked to.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{EventKind, SessionStatus};
use common::*;
use std::time::Duration;

const QUEUED_CHILDREN: &str = r#"
[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
last_user = "job (?P<n>[0-9])"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo $$ > started_${n}; while [ ! -f gate ]; do sleep 0.01; done" } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_parent_cancels_its_queued_tasks_and_they_never_start() {
    let script = format!(
        "{QUEUED_CHILDREN}{}",
        delegating_parent(
            "Task task_",
            r#"[
  { name = "task", arguments = { description = "one", prompt = "job 1" } },
  { name = "task", arguments = { description = "two", prompt = "job 2" } },
  { name = "task", arguments = { description = "three", prompt = "job 3" } },
]"#
        )
    );
    let h = harness(&script, |c| c.tasks.max_running = 1).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    wait_for_file(&h.path("started_1")).await;
    f.until_count("three spawns", 3, |e| is_type(e, "task.spawned"))
        .await;
    let tree = h.engine.tree(&parent).await.unwrap();
    let statuses: Vec<SessionStatus> = tree.tasks.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses,
        [
            SessionStatus::Running,
            SessionStatus::Queued,
            SessionStatus::Queued
        ]
    );

    let said = h.engine.cancel_session(&parent).await.unwrap().message;
    assert!(said.contains("cancelling"), "{said}");
    tokio::time::timeout(Duration::from_secs(30), h.engine.wait_quiet(&parent))
        .await
        .expect("the parent is quiet once everything under it stopped")
        .unwrap();
    f.drain();

    let tree = h.engine.tree(&parent).await.unwrap();
    for task in &tree.tasks {
        assert_eq!(task.status, SessionStatus::Cancelled, "{task:?}");
    }
    let queued_children: Vec<_> = tree.tasks[1..]
        .iter()
        .map(|t| t.child_session_id.clone())
        .collect();
    for child in &queued_children {
        assert!(
            f.of(|e| e.session_id == *child && is_type(e, "turn.started"))
                .is_empty(),
            "queued child {child} never ran a turn"
        );
    }
    assert!(!h.path("started_2").exists() && !h.path("started_3").exists());
    let asked_for_queued = h
        .mock
        .requests()
        .iter()
        .filter(|r| {
            // A child's conversation starts with its prompt.
            let first_user = r.body["messages"]
                .as_array()
                .and_then(|m| m.iter().find(|m| m["role"] == "user"))
                .map(|m| m["content"].to_string())
                .unwrap_or_default();
            first_user.contains("job 2") || first_user.contains("job 3")
        })
        .count();
    assert_eq!(
        asked_for_queued, 0,
        "no model call for a cancelled queued task"
    );
    // Each task's end reached the parent exactly once (held: no new turn).
    let notices = f.of(|e| {
        e.session_id == parent && matches!(&e.kind, EventKind::NotificationDelivered { .. })
    });
    assert_eq!(notices.len(), 3);
    let parent_turns = f.of(|e| e.session_id == parent && is_type(e, "turn.started"));
    assert_eq!(parent_turns.len(), 1, "the cancelled parent was not woken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_leaves_memory_and_comes_back_with_its_conversation() {
    let script = r#"
[[rules]]
name = "second"
[rules.when]
last_user = "^again$"
[rules.reply]
text = "second answer"

[[rules]]
name = "first"
[rules.reply]
text = "first answer"
"#;
    let h = harness(script, |c| c.sessions.unload_after_idle_ms = 0).await;
    let id = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&id, "hello").await.unwrap();
    f.until("quiet", |e| {
        e.session_id == id && is_type(e, "session.quiet")
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    while h.engine.live_sessions() > 0 {
        assert!(std::time::Instant::now() < deadline, "never unloaded");
        poll.tick().await;
    }
    // Talking to it opens it again, with what it said before.
    h.engine.send_message(&id, "again").await.unwrap();
    f.until(
        "second answer",
        |e| matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "second answer"),
    )
    .await;
    let last = h.mock.requests().last().unwrap().body.to_string();
    assert!(
        last.contains("first answer"),
        "the history came back: {last}"
    );
    let texts: Vec<String> = h
        .engine
        .messages(&id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.text())
        .collect();
    assert_eq!(texts, ["hello", "first answer", "again", "second answer"]);
}

/// The usual quick child, and a parent that delegates to it, then waits for
/// it with a short timeout.
const WAITING_PARENT: &str = r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "child result"

[[rules]]
name = "parent-after-wait"
[rules.when]
last_tool_result = "Result:|still running"
[rules.reply]
text = "waited"

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-wait"
[rules.when]
last_tool_result = "Task (?P<t>task_[0-9a-f]+) started"
[rules.reply]
tool_calls = [{ name = "task_wait", arguments = { task_ids = ["${t}"], timeout_ms = 200 } }]

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "quick", prompt = "do it" } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_times_out_while_its_task_ends_takes_the_result_and_no_notice_follows() {
    let hooks = std::sync::Arc::new(common::hooked::Hooks::default());
    let h = harness_with(WAITING_PARENT, |_| {}, |x| x.hooks = Some(hooks.clone())).await;
    let parent = h.session().await;
    // Held before the end is decided, then while it is stored.
    let mut reading = hooks.pause_next("last_answer");
    let mut storing = hooks.pause_next("finish_task");
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    let spawned = f.until("spawn", |e| is_type(e, "task.spawned")).await;
    let EventKind::TaskSpawned { task_id, .. } = spawned.kind else {
        unreachable!()
    };
    let task_id = baton_protocol::TaskId::from(task_id.as_str());
    reading.entered().await;
    // The child is done and its end not yet decided; now the wait counts.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut poll = tokio::time::interval(Duration::from_millis(5));
    while !h.engine.task(&task_id).await.unwrap().waited_on {
        assert!(std::time::Instant::now() < deadline, "the wait never began");
        poll.tick().await;
    }
    let waiting_seen = tokio::time::Instant::now();
    reading.release();
    // Decided (the waiting call takes the notice) and held while stored...
    storing.entered().await;
    // ...until the wait's 200 ms timeout has certainly passed: it began
    // before `waiting_seen`.
    tokio::time::sleep_until(waiting_seen + Duration::from_millis(250)).await;
    storing.release();

    f.until(
        "the parent's answer",
        |e| matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "waited"),
    )
    .await;
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let waited = f.outputs("task_wait");
    assert_eq!(waited.len(), 1);
    assert!(
        waited[0].contains("child result") && !waited[0].contains("still running"),
        "the wait reports the end it was counted in: {}",
        waited[0]
    );
    assert!(
        f.of(|e| e.session_id == parent && is_type(e, "notification.delivered"))
            .is_empty(),
        "no notice follows a result the wait took"
    );
    assert!(h.store.pending_notices(&parent).await.unwrap().is_empty());
    let notices_in_conversation = h
        .store
        .messages(&parent)
        .await
        .unwrap()
        .iter()
        .flat_map(|m| m.parts.clone())
        .filter(|p| matches!(p, baton_protocol::Part::Notice { .. }))
        .count();
    assert_eq!(notices_in_conversation, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_start_fails_half_way_still_lets_its_parent_be_quiet() {
    let script = r#"
[[rules]]
name = "parent-saw-it"
[rules.when]
last_tool_result = "failed on purpose"
[rules.reply]
text = "saw the failure"

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "doomed", prompt = "never runs" } }]
"#;
    let hooks = std::sync::Arc::new(common::hooked::Hooks::default());
    let h = harness_with(script, |_| {}, |x| x.hooks = Some(hooks.clone())).await;
    let parent = h.session().await;
    // The task is stored and counted as the parent's work, then marking it
    // running fails.
    hooks.fail_next("update_task", 1);
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        f.until("quiet", |e| {
            e.session_id == parent && is_type(e, "session.quiet")
        })
        .await
    })
    .await
    .expect("the parent is quiet: the failed start ended its unit of work");
    h.engine.wait_quiet(&parent).await.unwrap();
    let tree = h.engine.tree(&parent).await.unwrap();
    assert_eq!(tree.tasks.len(), 1);
    assert_eq!(tree.tasks[0].status, SessionStatus::Failed);
    let outputs = f.outputs("task");
    assert!(outputs[0].contains("failed on purpose"), "{}", outputs[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_always_answer_is_stored_and_holds_after_a_restart() {
    let script = r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "deploying"
[rules.reply]
text = "deployed"

[[rules]]
name = "deploy"
[rules.when]
last_user = "deploy"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo deploying" } }]
"#;
    let rules = |c: &mut baton_core::Config| {
        c.permission = toml::from_str("bash = { \"echo deploying\" = \"ask\" }\n").unwrap();
    };
    let h = harness(script, rules).await;
    let id = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&id, "deploy").await.unwrap();
    let asked = f
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind else {
        unreachable!()
    };
    h.engine
        .answer_permission(&request_id, baton_protocol::PermissionDecision::AllowAlways)
        .await
        .unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    h.engine.shutdown().await;

    // A new engine on the same store: the same command runs unasked.
    let mut config =
        baton_core::Config::single_openai_provider("mock", h.mock.openai_base_url(), "m");
    rules(&mut config);
    let engine = baton_core::Engine::new(baton_core::EngineOptions {
        home: h.home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: baton_core::AgentSet::builtin(),
        ask_mode: baton_core::AskMode::Wait,
    })
    .await
    .unwrap();
    let mut f = Follower::new(&engine);
    engine.send_message(&id, "deploy again").await.unwrap();
    f.until(
        "the second answer",
        |e| matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "deployed"),
    )
    .await;
    assert!(
        f.of(|e| is_type(e, "permission.requested")).is_empty(),
        "the stored grant held after the restart"
    );
    assert!(engine.pending_permissions().is_empty());
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_stored_session_keeps_its_queued_message_unanswered_and_says_so() {
    let h = harness("[[rules]]\n[rules.reply]\ntext = \"answered\"\n", |c| {
        c.sessions.unload_after_idle_ms = 0
    })
    .await;
    let id = h.session().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    while h.engine.live_sessions() > 0 {
        assert!(std::time::Instant::now() < deadline, "never unloaded");
        poll.tick().await;
    }
    // What a crash leaves: a message stored as queued, never taken.
    let queued = baton_store::InputRecord {
        id: baton_protocol::MessageId::generate(),
        session_id: id.clone(),
        text: "left over".into(),
        created_at: baton_protocol::now(),
    };
    h.store.enqueue_input(&queued).await.unwrap();
    let said = h.engine.cancel_session(&id).await.unwrap().message;
    assert!(
        said.contains("not running") && said.contains("queued message was kept unanswered"),
        "{said}"
    );
    let messages = h.engine.messages(&id).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text(), "left over");
    assert_eq!(messages[0].id, queued.id);
    assert!(h.store.pending_inputs(&id).await.unwrap().is_empty());
    assert!(h.mock.requests().is_empty(), "nothing was answered");
    let again = h.engine.cancel_session(&id).await.unwrap().message;
    assert!(again.contains("nothing to cancel"), "{again}");
}
