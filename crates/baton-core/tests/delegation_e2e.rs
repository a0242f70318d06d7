//! Asynchronous delegation against the mock model: order and overlap are
//! proven with events, the mock's request log and files the scripted
//! commands wait for, never with sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{EventKind, NoticeKind, Part, Role, SessionStatus, TaskId};
use common::*;

/// Children wait for `gate`, then report; the parent delegates `n` of them,
/// ends its turn, and integrates whatever notices arrive.
fn fan_out_script(names: &[&str]) -> String {
    let calls: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{ name = "task", arguments = {{ description = "{n}", prompt = "work as {n}" }} }}"#))
        .collect();
    format!(
        r#"
[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released (?P<n>[a-z]+)"
[rules.reply]
text = "result from ${{n}}"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
first_user = "work as (?P<n>[a-z]+)"
no_tool_results = true
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = "while [ ! -f gate ]; do sleep 0.01; done; echo released ${{n}}" }} }}]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "tasks are running"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{}]
"#,
        calls.join(", ")
    )
}

async fn fan_out(names: &[&str]) {
    let h = harness(&fan_out_script(names), |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();

    // The parent's turn ends while every child is still at work.
    let parent_done = f
        .until("parent turn end", |e| {
            e.session_id == parent && is_type(e, "turn.completed")
        })
        .await;
    let n = names.len();
    // All children are running their command at the same time: each has
    // started it, and none can finish before the gate opens.
    f.until_count("children's commands", n, |e| {
        e.session_id != parent
            && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash")
    })
    .await;
    assert!(f.of(|e| is_type(e, "task.completed")).is_empty());
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    let tasks = spawned(&f.seen);
    assert_eq!(tasks.len(), n);
    for ev in f.of(|e| is_type(e, "task.completed")) {
        assert!(
            ev.seq > parent_done.seq,
            "a child ended before the parent's turn"
        );
        assert!(matches!(
            ev.kind,
            EventKind::TaskCompleted {
                status: SessionStatus::Completed,
                ..
            }
        ));
    }
    // Each result reached the parent exactly once, whatever the batching.
    let messages = h.store.messages(&parent).await.unwrap();
    for (task_id, _) in &tasks {
        let notices = messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter(|p| matches!(p, Part::Notice { source_id, kind: NoticeKind::Task, .. } if source_id == task_id))
            .count();
        assert_eq!(notices, 1, "task {task_id} delivered {notices} times");
        let delivered = f
            .of(|e| matches!(&e.kind, EventKind::NotificationDelivered { source_id } if source_id == task_id))
            .len();
        assert_eq!(delivered, 1);
    }
    for name in names {
        let text = format!("result from {name}");
        let count = messages.iter().filter(|m| m.text().contains(&text)).count();
        assert_eq!(count, 1, "{text} appears {count} times");
    }
    // The idle parent woke to integrate.
    let turns = f
        .of(|e| e.session_id == parent && is_type(e, "turn.started"))
        .len();
    assert!(turns >= 2, "the parent took a turn for the notices");
    assert_eq!(messages.last().unwrap().text(), "integrated");
    assert!(h.store.pending_notices(&parent).await.unwrap().is_empty());
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_children_run_side_by_side_while_the_parent_is_free() {
    fan_out(&["alpha", "beta", "gamma"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_children_ending_together_are_each_delivered_exactly_once() {
    fan_out(&["one", "two", "three", "four", "five"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_arriving_mid_turn_is_injected_before_the_next_model_call() {
    let script = r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "quick result"

[[rules]]
name = "parent-final"
[rules.when]
last_tool_result = "parent-continues"
[rules.reply]
text = "done"

[[rules]]
name = "parent-busy"
[rules.when]
last_tool_result = "started"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo parent-continues" } }]

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "quick", prompt = "quick job" } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    // The child ends while the parent is busy in its command.
    f.until("task end", |e| is_type(e, "task.completed")).await;
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    let turns = f
        .of(|e| e.session_id == parent && is_type(e, "turn.started"))
        .len();
    assert_eq!(turns, 1, "the notice joined the running turn");
    let delivered = f.of(|e| e.session_id == parent && is_type(e, "notification.delivered"));
    assert_eq!(delivered.len(), 1);
    let last_step = f
        .of(|e| e.session_id == parent && is_type(e, "step.started"))
        .last()
        .map(|e| e.seq)
        .unwrap();
    assert!(
        delivered[0].seq < last_step,
        "delivered before the next model call"
    );
    // That model call carried it.
    let final_request = h
        .mock
        .requests()
        .into_iter()
        .find(|r| r.matched_rule.as_deref() == Some("parent-final"))
        .unwrap();
    let body = final_request.body.to_string();
    assert!(body.contains("quick result"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_beyond_the_limit_queue_and_start_by_themselves() {
    let script = r#"
[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released"
[rules.reply]
text = "child done"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "parent-notices"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "ok"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "running"

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "first", prompt = "one" } },
  { name = "task", arguments = { description = "second", prompt = "two" } },
]
"#;
    let h = harness(script, |c| c.tasks.max_running = 1).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    f.until("parent turn end", |e| {
        e.session_id == parent && is_type(e, "turn.completed")
    })
    .await;
    let results: Vec<String> = f.outputs("task");
    assert!(results[0].contains("status running"), "{}", results[0]);
    assert!(results[1].contains("status queued"), "{}", results[1]);
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let tasks = spawned(&f.seen);
    let first_end = f.of(
        |e| matches!(&e.kind, EventKind::TaskCompleted { task_id, .. } if *task_id == tasks[0].0),
    )[0]
    .seq;
    let second_start = f.of(|e| e.session_id == tasks[1].1 && is_type(e, "step.started"))[0].seq;
    assert!(
        second_start > first_end,
        "the queued task started only when a slot freed"
    );
    // Born queued (`task.spawned`), started (`task.started`, on the
    // parent), ended (`task.completed`): each once, in that order.
    for (task, child) in &tasks {
        let of_task = |name: &'static str| {
            f.of(|e| {
                e.session_id == parent
                    && is_type(e, name)
                    && match &e.kind {
                        EventKind::TaskSpawned { task_id, .. }
                        | EventKind::TaskStarted { task_id }
                        | EventKind::TaskCompleted { task_id, .. } => task_id == task,
                        _ => false,
                    }
            })
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<u64>>()
        };
        let (born, started, ended) = (
            of_task("task.spawned"),
            of_task("task.started"),
            of_task("task.completed"),
        );
        assert_eq!(
            (born.len(), started.len(), ended.len()),
            (1, 1, 1),
            "{task}"
        );
        assert!(born[0] < started[0] && started[0] < ended[0], "{task}");
        let child_start = f.of(|e| e.session_id == *child && is_type(e, "step.started"))[0].seq;
        assert!(
            started[0] < child_start,
            "{task} is started before its child runs"
        );
        // The child's model calls are announced on its session, with its
        // running total.
        let child_steps = f.of(|e| e.session_id == *child && is_type(e, "step.completed"));
        assert_eq!(child_steps.len(), 2, "{task}: two model calls");
        let stored = h.store.get_session(child).await.unwrap().unwrap().usage;
        assert!(matches!(
            &child_steps[1].kind,
            EventKind::StepCompleted { session_usage, .. } if *session_usage == stored
        ));
    }
    let second_started = f
        .of(|e| matches!(&e.kind, EventKind::TaskStarted { task_id } if *task_id == tasks[1].0))[0]
        .seq;
    assert!(
        second_started > first_end,
        "the second task's `task.started` comes after the first's `task.completed`"
    );
    let stored = h
        .store
        .get_task(&TaskId::from(tasks[1].0.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, SessionStatus::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_depth_limit_the_task_tools_are_not_offered() {
    let script = r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "leaf"

[[rules]]
name = "parent-notice"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "ok"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "running"

[[rules]]
name = "parent"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "leaf", prompt = "be a leaf" } }]
"#;
    let h = harness(script, |c| c.tasks.max_depth = 1).await;
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    let offered = |rule: &str| -> Vec<String> {
        let r = h
            .mock
            .requests()
            .into_iter()
            .find(|r| r.matched_rule.as_deref() == Some(rule))
            .unwrap();
        r.body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let top = offered("parent");
    for t in [
        "task",
        "task_status",
        "task_output",
        "task_wait",
        "task_send",
        "task_cancel",
    ] {
        assert!(top.contains(&t.to_owned()), "{t} offered at the top");
    }
    let leaf = offered("child");
    assert!(leaf.iter().all(|t| !t.starts_with("task")), "{leaf:?}");
    assert!(leaf.contains(&"bash".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_wait_for_any_for_all_and_with_a_timeout() {
    let script = r#"
[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released (?P<n>[a-z]+)"
[rules.reply]
text = "result from ${n}"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
first_user = "work as (?P<n>[a-z]+)"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate_${n} ]; do sleep 0.01; done; echo released ${n}" } }]

[[rules]]
name = "p-notice"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "beta integrated"

[[rules]]
name = "p-end"
[rules.when]
last_tool_result = "Wait timed out"
[rules.reply]
text = "beta will come as a notice"

[[rules]]
name = "p-wait-all"
[rules.when]
last_tool_result = "result from alpha"
[rules.reply]
tool_calls = [{ name = "task_wait", arguments = { timeout_ms = 300 } }]

[[rules]]
name = "p-wait-any"
[rules.when]
last_tool_result = "started"
[rules.reply]
tool_calls = [{ name = "task_wait", arguments = { any = true } }]

[[rules]]
name = "p-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "alpha", prompt = "work as alpha" } },
  { name = "task", arguments = { description = "beta", prompt = "work as beta" } },
]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    f.until(
        "task_wait",
        |e| matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "task_wait"),
    )
    .await;
    h.touch("gate_alpha");
    // The first wait returns with alpha; the second times out on beta.
    f.until("parent turn end", |e| {
        e.session_id == parent && is_type(e, "turn.completed")
    })
    .await;
    let waits: Vec<String> = f.outputs("task_wait");
    assert_eq!(waits.len(), 2);
    assert!(waits[0].contains("result from alpha"), "{}", waits[0]);
    assert!(!waits[0].contains("result from beta"));
    assert!(
        waits[1].contains("Wait timed out") && waits[1].contains("still running"),
        "{}",
        waits[1]
    );
    h.touch("gate_beta");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    let tasks = spawned(&f.seen);
    let delivered: Vec<String> = f
        .of(|e| e.session_id == parent && is_type(e, "notification.delivered"))
        .iter()
        .map(|e| match &e.kind {
            EventKind::NotificationDelivered { source_id } => source_id.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        delivered,
        vec![tasks[1].0.clone()],
        "alpha came through the wait only"
    );
    let messages = h.store.messages(&parent).await.unwrap();
    let alpha = messages.iter().filter(|m| m.text().contains("result from alpha") || m.parts.iter().any(|p| matches!(p, Part::ToolResult { output, .. } if output.contains("result from alpha")))).count();
    assert_eq!(alpha, 1, "alpha's result is in the conversation once");
    assert_eq!(messages.last().unwrap().text(), "beta integrated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_send_steers_a_running_child_and_resumes_a_finished_one() {
    let script = r#"
[[rules]]
name = "c-resumed"
[rules.when]
system = "baton sub-agent"
last_user = "one more thing"
[rules.reply]
text = "resumed result"

[[rules]]
name = "c-steered"
[rules.when]
system = "baton sub-agent"
last_user = "change of plan"
[rules.reply]
text = "steered result"

[[rules]]
name = "c-work"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "p-final"
[rules.when]
last_user = "resumed result"
[rules.reply]
text = "all done"

[[rules]]
name = "p-resume-ack"
[rules.when]
last_tool_result = "now (running|queued)"
[rules.reply]
text = "resumed it"

[[rules]]
name = "p-resume"
[rules.when]
last_user = "(?s)Task (?P<t>task_[0-9a-f]+) .*steered result"
[rules.reply]
tool_calls = [{ name = "task_send", arguments = { task_id = "${t}", message = "one more thing" } }]

[[rules]]
name = "p-steer-ack"
[rules.when]
last_tool_result = "Sent to task"
[rules.reply]
text = "steering sent"

[[rules]]
name = "p-steer"
[rules.when]
last_tool_result = "steer (?P<t>task_[0-9a-f]+)"
[rules.reply]
tool_calls = [{ name = "task_send", arguments = { task_id = "${t}", message = "change of plan" } }]

[[rules]]
name = "p-hold"
[rules.when]
last_tool_result = "Task (?P<t>task_[0-9a-f]+) started"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate_parent ]; do sleep 0.01; done; echo steer ${t}" } }]

[[rules]]
name = "p-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "worker", prompt = "work" } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    // Steer only once the child is busy in its command.
    f.until("child command", |e| {
        e.session_id != parent
            && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash")
    })
    .await;
    h.touch("gate_parent");
    f.until("parent turn end", |e| {
        e.session_id == parent && is_type(e, "turn.completed")
    })
    .await;
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    let (task_id, child) = spawned(&f.seen).remove(0);
    // Steering: the child's first turn took the message before its next
    // model call, and answered it.
    let child_msgs: Vec<(Role, String)> = h
        .store
        .messages(&child)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.role, m.text()))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let texts: Vec<&str> = child_msgs.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "work",
            "change of plan",
            "steered result",
            "one more thing",
            "resumed result"
        ]
    );
    let steered_req = h
        .mock
        .requests()
        .into_iter()
        .find(|r| r.matched_rule.as_deref() == Some("c-steered"))
        .unwrap();
    assert!(
        steered_req.body.to_string().contains("released"),
        "same turn, after the command"
    );
    // Two runs, two notices, each delivered once.
    let ends =
        f.of(|e| matches!(&e.kind, EventKind::TaskCompleted { task_id: t, .. } if *t == task_id));
    assert_eq!(ends.len(), 2);
    let delivered = f.of(|e| matches!(&e.kind, EventKind::NotificationDelivered { source_id } if *source_id == task_id));
    assert_eq!(delivered.len(), 2);
    let last = h.last_text(&parent).await;
    assert_eq!(last, "all done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_task_stops_its_grandchild_and_every_process() {
    let script = r#"
[[rules]]
name = "gc-work"
[rules.when]
first_user = "grandchild job"
no_tool_results = true
[rules.reply]
tool_calls = [
  { name = "bash", arguments = { command = "echo $$ > bg.pid; exec sleep 60", background = true } },
  { name = "bash", arguments = { command = "echo $$ > fg.pid; sleep 60; echo never" } },
]

[[rules]]
name = "gc-after"
[rules.when]
first_user = "grandchild job"
[rules.reply]
text = "grandchild finished"

[[rules]]
name = "child-wait"
[rules.when]
first_user = "child job"
last_tool_result = "started"
[rules.reply]
text = "waiting for my grandchild"

[[rules]]
name = "child-any"
[rules.when]
first_user = "child job"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "grandchild", prompt = "grandchild job" } }]

[[rules]]
name = "p-noted"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "noted"

[[rules]]
name = "p-cancel-ack"
[rules.when]
last_tool_result = "Cancelling"
[rules.reply]
text = "cancelling"

[[rules]]
name = "p-cancel"
[rules.when]
last_user = "cancel (?P<t>task_[0-9a-f]+)"
[rules.reply]
tool_calls = [{ name = "task_cancel", arguments = { task_id = "${t}" } }]

[[rules]]
name = "p-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "p-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "child", prompt = "child job" } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    let bg = wait_for_file(&h.path("bg.pid")).await;
    let fg = wait_for_file(&h.path("fg.pid")).await;
    assert!(alive(&bg) && alive(&fg));
    f.drain();
    let tasks = spawned(&f.seen);
    assert_eq!(tasks.len(), 2, "child and grandchild");
    h.engine
        .send_message(&parent, &format!("cancel {}", tasks[0].0))
        .await
        .unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    wait_dead(&bg).await;
    wait_dead(&fg).await;
    let store = h.store.clone();
    for (task_id, child) in &tasks {
        let t = store
            .get_task(&TaskId::from(task_id.as_str()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.status, SessionStatus::Cancelled, "{task_id}");
        for shell in store.list_shells(child).await.unwrap() {
            assert_ne!(shell.status, "running", "{shell:?}");
        }
    }
    assert_eq!(
        store
            .messages(&parent)
            .await
            .unwrap()
            .last()
            .unwrap()
            .text(),
        "noted"
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_status_and_output_show_a_running_child_and_the_prompt_stays_fixed() {
    let script = r#"
[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released"
[rules.reply]
text = "child finished"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "Working on it."
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "p-notice"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "done"

[[rules]]
name = "p-end"
[rules.when]
last_tool_result = "is running"
[rules.reply]
text = "it is still going"

[[rules]]
name = "p-output"
[rules.when]
last_tool_result = "\"task_id\": \"(?P<t>task_[0-9a-f]+)\""
[rules.reply]
tool_calls = [{ name = "task_output", arguments = { task_id = "${t}" } }]

[[rules]]
name = "p-status"
[rules.when]
last_tool_result = "parent-released"
[rules.reply]
tool_calls = [{ name = "task_status", arguments = {} }]

[[rules]]
name = "p-hold"
[rules.when]
last_tool_result = "started"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate_parent ]; do sleep 0.01; done; echo parent-released" } }]

[[rules]]
name = "p-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "slow work", prompt = "work" } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    f.until("child command", |e| {
        e.session_id != parent
            && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash")
    })
    .await;
    h.touch("gate_parent");
    f.until("parent turn end", |e| {
        e.session_id == parent && is_type(e, "turn.completed")
    })
    .await;
    let output_of = |tool: &str| f.outputs(tool).remove(0);
    let status: serde_json::Value = serde_json::from_str(&output_of("task_status")).unwrap();
    let row = &status[0];
    assert_eq!(row["status"], "running");
    assert_eq!(row["agent"], "general");
    assert_eq!(row["model"], "mock/m");
    assert_eq!(row["description"], "slow work");
    assert!(
        row["doing"].as_str().unwrap().starts_with("running bash"),
        "{row}"
    );
    assert!(row["tokens_in"].as_u64().unwrap() > 0);
    let progress = output_of("task_output");
    assert!(
        progress.contains("is running") && progress.contains("Working on it."),
        "{progress}"
    );
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    let last = h.last_text(&parent).await;
    assert_eq!(last, "done");
    // The system prompt never changes while tasks run and end (what the
    // parent is told of them comes as new messages at the end).
    let requests = h.mock.requests();
    let system_of = |rule: &str| {
        let req = requests
            .iter()
            .find(|r| r.matched_rule.as_deref() == Some(rule))
            .unwrap();
        req.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = system_of("p-go");
    assert!(!first.contains("have not ended yet"), "{first}");
    for rule in ["p-hold", "p-status", "p-notice"] {
        assert_eq!(system_of(rule), first, "{rule}");
    }
}

#[tokio::test]
async fn an_interrupt_stops_the_turn_but_the_task_goes_on_and_wakes_the_parent() {
    let script = r#"
[[rules]]
name = "child-done"
[rules.when]
first_user = "child job"
last_tool_result = "opened-42"
[rules.reply]
text = "child finished"

[[rules]]
name = "child-wait"
[rules.when]
first_user = "child job"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -e child.gate ]; do sleep 0.05; done; echo opened-$((40+2))" } }]

[[rules]]
name = "p-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "p-long"
[rules.when]
last_user = "^long$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -e never.gate ]; do sleep 0.05; done" } }]

[[rules]]
name = "p-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "p-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "child", prompt = "child job" } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    f.until("the parent's ack", |e| {
        e.session_id == parent
            && matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "delegated")
    })
    .await;
    h.engine.send_message(&parent, "long").await.unwrap();
    f.until("the long command", |e| {
        e.session_id == parent
            && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash")
    })
    .await;
    h.engine.interrupt(&parent).await.unwrap();
    let stopped = f
        .until("the interrupted turn", |e| {
            e.session_id == parent
                && matches!(&e.kind, EventKind::TurnCompleted { reason, .. } if reason == "cancelled")
        })
        .await;
    assert!(
        f.of(|e| is_type(e, "task.completed")).is_empty(),
        "the task was not cancelled"
    );
    // The task goes on, ends, and its notice wakes the parent.
    h.touch("child.gate");
    f.until("the parent integrates", |e| {
        e.session_id == parent
            && matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "integrated")
    })
    .await;
    let ended = f.of(|e| is_type(e, "task.completed"));
    assert!(matches!(
        &ended[0].kind,
        EventKind::TaskCompleted {
            status: SessionStatus::Completed,
            ..
        }
    ));
    assert!(
        f.seen
            .iter()
            .any(|e| e.session_id == parent && is_type(e, "turn.started") && e.seq > stopped.seq),
        "a new turn started after the interrupt"
    );
}
