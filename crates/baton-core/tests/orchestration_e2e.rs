//! Orchestration against the mock model: tasks that come after others
//! (`name`, `after`). Order is proven with event sequence numbers, the
//! mock's request log and files the scripted commands wait for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{EventKind, NoticeKind, SessionStatus};
use common::*;

/// A developer child that works until `gate` exists, then reports; a QA
/// child that passes only when its first message carries the developer's
/// result; a parent that declares both in one reply.
fn pipeline_script(dev_reply: &str) -> String {
    let mut script = format!(
        r#"
[[rules]]
name = "qa"
[rules.when]
system = "baton sub-agent"
first_user = "(?s)comes after.*## dev \\(task_[0-9a-f]+\\): build.*dev result: parser done.*## Your task\nwork as qa"
[rules.reply]
text = "qa passed"

[[rules]]
name = "dev-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released dev"
[rules.reply]
{dev_reply}

[[rules]]
name = "dev-work"
[rules.when]
system = "baton sub-agent"
first_user = "^work as dev$"
no_tool_results = true
[rules.reply]
tool_calls = [{{ name = "bash", arguments = {{ command = "while [ ! -f gate ]; do sleep 0.01; done; echo released dev" }} }}]
"#
    );
    script.push_str(&delegating_parent(
        "started",
        r#"[
  { name = "task", arguments = { description = "build", prompt = "work as dev", name = "dev" } },
  { name = "task", arguments = { description = "check", prompt = "work as qa", name = "qa", after = ["dev"] } },
]"#,
    ));
    script
}

/// Starts the pipeline on `go` and waits until dev runs its command (QA
/// waits meanwhile).
async fn pipeline_running(dev_reply: &str) -> (Harness, baton_protocol::SessionId, Follower) {
    let h = harness(&pipeline_script(dev_reply), |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    f.until_count(
        "dev's command",
        1,
        |e| matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash"),
    )
    .await;
    (h, parent, f)
}

/// The notice of task `task` that reached `parent`'s conversation.
async fn task_notice(h: &Harness, parent: &baton_protocol::SessionId, task: &str) -> String {
    let messages = h.store.messages(parent).await.unwrap();
    messages
        .iter()
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            baton_protocol::Part::Notice {
                kind: NoticeKind::Task,
                source_id,
                text,
            } if source_id == task => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the notice of {task} reached the parent"))
}

fn task_of<'a>(seen: &'a [baton_protocol::Event], description: &str) -> &'a EventKind {
    &seen
        .iter()
        .find(|e| matches!(&e.kind, EventKind::TaskSpawned { description: d, .. } if d == description))
        .unwrap_or_else(|| panic!("no task `{description}` spawned"))
        .kind
}

fn seq_of(seen: &[baton_protocol::Event], pred: impl Fn(&EventKind) -> bool) -> u64 {
    seen.iter()
        .find(|e| pred(&e.kind))
        .map(|e| e.seq)
        .expect("the event was seen")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_declared_in_one_reply_runs_qa_after_dev_with_devs_result() {
    let h = harness(
        &pipeline_script(r#"text = "dev result: parser done""#),
        |_| {},
    )
    .await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    // The parent declares the pipeline and ends its turn while dev works.
    let parent_done = f
        .until("the parent's turn end", |e| {
            e.session_id == parent && is_type(e, "turn.completed")
        })
        .await;
    f.until_count(
        "dev's command",
        1,
        |e| matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash"),
    )
    .await;
    let views = h.engine.tasks_of(&parent).await.unwrap();
    let qa = views
        .iter()
        .find(|v| v.name.as_deref() == Some("qa"))
        .unwrap();
    let dev = views
        .iter()
        .find(|v| v.name.as_deref() == Some("dev"))
        .unwrap();
    assert_eq!(qa.status, SessionStatus::Waiting);
    assert_eq!(qa.after, vec![dev.task_id.clone()]);
    assert!(qa.doing.contains(dev.task_id.as_str()), "{}", qa.doing);
    assert_eq!(dev.status, SessionStatus::Running);

    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let (dev_id, qa_id) = (dev.task_id.to_string(), qa.task_id.to_string());
    let EventKind::TaskSpawned { after, name, .. } = task_of(&f.seen, "check") else {
        unreachable!()
    };
    assert_eq!(after, &vec![dev_id.clone()]);
    assert_eq!(name.as_deref(), Some("qa"));
    let dev_end = seq_of(
        &f.seen,
        |k| matches!(k, EventKind::TaskCompleted { task_id, status: SessionStatus::Completed } if *task_id == dev_id),
    );
    let qa_start = seq_of(
        &f.seen,
        |k| matches!(k, EventKind::TaskStarted { task_id } if *task_id == qa_id),
    );
    let qa_end = seq_of(
        &f.seen,
        |k| matches!(k, EventKind::TaskCompleted { task_id, status: SessionStatus::Completed } if *task_id == qa_id),
    );
    assert!(parent_done.seq < dev_end && dev_end < qa_start && qa_start < qa_end);
    // QA's first model call came after dev's last one, and the QA rule
    // (which needs dev's result in the first message) answered it.
    let requests = h.mock.requests();
    let rule_at = |rule: &str| {
        requests
            .iter()
            .position(|r| r.matched_rule.as_deref() == Some(rule))
            .unwrap_or_else(|| panic!("no request answered by `{rule}`"))
    };
    assert!(rule_at("dev-answer") < rule_at("qa"));
    // The parent got both notices, and integrated them.
    let notices = h.store.pending_notices(&parent).await.unwrap();
    assert!(
        notices.is_empty(),
        "all notices were delivered: {notices:?}"
    );
    let views = h.engine.tasks_of(&parent).await.unwrap();
    assert!(views.iter().all(|v| v.status == SessionStatus::Completed));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_after_a_failed_one_never_starts_and_its_notice_says_why() {
    let (h, parent, mut f) = pipeline_running(
        r#"status = 400
error_message = "the model refused""#,
    )
    .await;
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let views = h.engine.tasks_of(&parent).await.unwrap();
    let qa = views
        .iter()
        .find(|v| v.name.as_deref() == Some("qa"))
        .unwrap();
    let dev = views
        .iter()
        .find(|v| v.name.as_deref() == Some("dev"))
        .unwrap();
    assert_eq!(dev.status, SessionStatus::Failed);
    assert_eq!(qa.status, SessionStatus::Cancelled);
    let qa_id = qa.task_id.to_string();
    assert!(
        f.of(|e| matches!(&e.kind, EventKind::TaskStarted { task_id } if *task_id == qa_id))
            .is_empty(),
        "qa never started"
    );
    assert!(
        h.mock
            .requests()
            .iter()
            .all(|r| r.matched_rule.as_deref() != Some("qa"))
    );
    // The parent read why, in qa's notice.
    let qa_notice = task_notice(&h, &parent, &qa_id).await;
    assert!(
        qa_notice.contains(&format!(
            "Why: it was not started: task {} (dev) it comes after ended failed.",
            dev.task_id
        )),
        "{qa_notice}"
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_parent_ends_a_waiting_task_before_it_starts() {
    let (h, parent, mut f) = pipeline_running(r#"text = "dev result: parser done""#).await;
    h.engine.cancel(&parent).await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let views = h.engine.tasks_of(&parent).await.unwrap();
    assert!(
        views.iter().all(|v| v.status == SessionStatus::Cancelled),
        "{views:?}"
    );
    assert_eq!(
        f.of(|e| is_type(e, "task.started")).len(),
        1,
        "only dev started"
    );
    assert!(
        h.mock
            .requests()
            .iter()
            .all(|r| r.matched_rule.as_deref() != Some("qa"))
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_cycles_and_taken_names_are_refused_at_once() {
    let mut script = String::from(
        r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "done"
"#,
    );
    script.push_str(&delegating_parent(
        "(?s).",
        r#"[
  { name = "task", arguments = { description = "a", prompt = "p", after = ["ghost"] } },
  { name = "task", arguments = { description = "b", prompt = "p", name = "loop", after = ["loop"] } },
  { name = "task", arguments = { description = "c", prompt = "p", name = "one" } },
  { name = "task", arguments = { description = "d", prompt = "p", name = "one" } },
  { name = "task", arguments = { description = "e", prompt = "p", name = "two words" } },
]"#,
    ));
    let h = harness(&script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let outputs = f.outputs("task");
    assert_eq!(outputs.len(), 5);
    assert!(
        outputs[0].contains("`after` names no task of yours: `ghost`"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[1].contains("cannot come after itself: that is a cycle"),
        "{}",
        outputs[1]
    );
    assert!(outputs[2].contains("started"), "{}", outputs[2]);
    assert!(
        outputs[3].contains("already have a task named `one`"),
        "{}",
        outputs[3]
    );
    assert!(
        outputs[4].contains("Task name `two words` is not valid"),
        "{}",
        outputs[4]
    );
    // Only the good one exists.
    let views = h.engine.tasks_of(&parent).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].name.as_deref(), Some("one"));
    h.engine.shutdown().await;
}

/// A child that calls `bash` forever, each call 400 tokens in and 100 out;
/// a parent that starts it with `task_args` (TOML inline table entries).
/// Returns the task's view, its notice and how many calls the child made.
async fn looping_child(
    task_args: &str,
    tweak: impl FnOnce(&mut baton_core::Config),
) -> (baton_protocol::api::TaskView, String, usize) {
    let mut script = String::from(
        r#"
[[rules]]
name = "child-loop"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo again" } }]
usage = { input_tokens = 400, output_tokens = 100 }
"#,
    );
    script.push_str(&delegating_parent(
        "started",
        &format!(
            r#"[{{ name = "task", arguments = {{ description = "loop", prompt = "loop forever"{task_args} }} }}]"#
        ),
    ));
    let h = harness(&script, tweak).await;
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    let view = h.engine.tasks_of(&parent).await.unwrap().remove(0);
    let notice = task_notice(&h, &parent, view.task_id.as_str()).await;
    let calls = h
        .mock
        .requests()
        .iter()
        .filter(|r| r.matched_rule.as_deref() == Some("child-loop"))
        .count();
    h.engine.shutdown().await;
    (view, notice, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_budget_stops_a_looping_child_which_ends_failed_naming_it() {
    let (view, notice, calls) = looping_child(", max_steps = 3", |_| {}).await;
    assert_eq!(view.status, SessionStatus::Failed);
    assert_eq!(calls, 3);
    assert!(
        notice.contains("failed") && notice.contains("Why: its budget max_steps (3) was reached"),
        "{notice}"
    );
    assert_eq!(view.budget.unwrap().max_steps, Some(3));

    // 500 tokens a call: the third reaches 1200.
    let (view, notice, calls) = looping_child(", max_tokens = 1200", |_| {}).await;
    assert_eq!((view.status, calls), (SessionStatus::Failed, 3));
    assert!(
        notice.contains("Why: its budget max_tokens (1200) was reached: it used 1500 tokens"),
        "{notice}"
    );

    // $1000 per million tokens: $0.50 a call; the third reaches $1.20.
    let priced = |c: &mut baton_core::Config| {
        c.models.insert(
            "mock/m".into(),
            baton_llm::ModelInfo {
                context_window: 200_000,
                max_output_tokens: None,
                input_per_mtok: Some(1000.0),
                output_per_mtok: Some(1000.0),
                cache_read_per_mtok: None,
                cache_write_per_mtok: None,
                images: None,
            },
        );
    };
    let (view, notice, calls) = looping_child(", max_cost = 1.2", priced).await;
    assert_eq!((view.status, calls), (SessionStatus::Failed, 3));
    assert!(
        notice.contains("Why: its budget max_cost ($1.2000) was reached: it spent $1.5000"),
        "{notice}"
    );

    // A task that sets none gets the config's.
    let (view, notice, calls) = looping_child("", |c| c.tasks.max_steps = Some(2)).await;
    assert_eq!((view.status, calls), (SessionStatus::Failed, 2));
    assert!(notice.contains("max_steps (2)"), "{notice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_counts_and_stops_what_the_task_delegated_too() {
    let mut script = String::from(
        r#"
[[rules]]
name = "grandchild-loop"
[rules.when]
system = "baton sub-agent"
first_user = "^grand job$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo again" } }]

[[rules]]
name = "child-ack"
[rules.when]
system = "baton sub-agent"
last_tool_result = "started"
[rules.reply]
text = "my helper works on it"

[[rules]]
name = "child-delegate"
[rules.when]
system = "baton sub-agent"
first_user = "^child job$"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "grand", prompt = "grand job" } }]
"#,
    );
    script.push_str(&delegating_parent(
        "started",
        r#"[{ name = "task", arguments = { description = "child", prompt = "child job", max_steps = 5 } }]"#,
    ));
    let h = harness(&script, |_| {}).await;
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    let child = h.engine.tasks_of(&parent).await.unwrap().remove(0);
    assert_eq!(child.status, SessionStatus::Failed);
    let grand = h
        .engine
        .tasks_of(&child.child_session_id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(grand.status, SessionStatus::Cancelled);
    // The child's two calls and its helper's three: five in the tree, and
    // none after the fifth.
    let calls = |rule: &str| {
        h.mock
            .requests()
            .iter()
            .filter(|r| r.matched_rule.as_deref() == Some(rule))
            .count()
    };
    assert_eq!(calls("child-delegate") + calls("child-ack"), 2);
    assert_eq!(calls("grandchild-loop"), 3);
    let notice = task_notice(&h, &parent, child.task_id.as_str()).await;
    assert!(notice.contains("max_steps (5)"), "{notice}");
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_childs_question_reaches_its_parent_once_and_the_answer_steers_it() {
    let script = r#"
[[rules]]
name = "child-final"
[rules.when]
system = "baton sub-agent"
last_user = "use sqlite"
[rules.reply]
text = "schema for sqlite done"

[[rules]]
name = "child-ask"
[rules.when]
system = "baton sub-agent"
first_user = "^design the schema$"
no_tool_results = true
[rules.reply]
tool_calls = [
  { name = "message", arguments = { to = "parent", text = "Which database: postgres or sqlite?" } },
  { name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } },
]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-answer"
[rules.when]
last_user = "Message from task (?P<t>task_[0-9a-f]+):\nWhich database"
[rules.reply]
tool_calls = [{ name = "task_send", arguments = { task_id = "${t}", message = "use sqlite" } }]

[[rules]]
name = "parent-answered"
[rules.when]
last_tool_result = "Sent to task"
[rules.reply]
text = "answered"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "schema", prompt = "design the schema" } }]
"#;
    let h = harness(script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    // The parent answers while the child still works on.
    f.until_count(
        "the parent's answer",
        1,
        |e| matches!(&e.kind, EventKind::ToolCompleted { name, is_error: false, .. } if name == "task_send"),
    )
    .await;
    let child = h.engine.tasks_of(&parent).await.unwrap().remove(0);
    assert_eq!(child.status, SessionStatus::Running);
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    let child = h.engine.tasks_of(&parent).await.unwrap().remove(0);
    assert_eq!(child.status, SessionStatus::Completed);
    assert_eq!(child.result.as_deref(), Some("schema for sqlite done"));
    // The question reached the parent once, as a message notice.
    let messages = h.store.messages(&parent).await.unwrap();
    let questions: Vec<_> = messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter(|p| {
            matches!(p, baton_protocol::Part::Notice { kind: NoticeKind::Message, source_id, text }
                if *source_id == format!("message:{}", child.task_id) && text.contains("Which database"))
        })
        .collect();
    assert_eq!(questions.len(), 1);
    assert!(h.store.pending_notices(&parent).await.unwrap().is_empty());
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_sibling_that_has_not_started_is_read_once_with_its_first_prompt() {
    let mut script = String::from(
        r#"
[[rules]]
name = "qa"
[rules.when]
system = "baton sub-agent"
any_text = "Message from task task_[0-9a-f]+ \\(dev\\):\ncheck the empty input"
[rules.reply]
text = "qa checked the empty input"

[[rules]]
name = "dev-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "once it starts"
[rules.reply]
text = "dev result: parser done"

[[rules]]
name = "dev-tell"
[rules.when]
system = "baton sub-agent"
first_user = "^work as dev$"
[rules.reply]
tool_calls = [{ name = "message", arguments = { to = "qa", text = "check the empty input" } }]
"#,
    );
    script.push_str(&delegating_parent(
        "started",
        r#"[
  { name = "task", arguments = { description = "build", prompt = "work as dev", name = "dev" } },
  { name = "task", arguments = { description = "check", prompt = "work as qa", name = "qa", after = ["dev"] } },
]"#,
    ));
    let h = harness(&script, |_| {}).await;
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    let views = h.engine.tasks_of(&parent).await.unwrap();
    let qa = views
        .iter()
        .find(|v| v.name.as_deref() == Some("qa"))
        .unwrap();
    assert_eq!(qa.status, SessionStatus::Completed);
    assert_eq!(qa.result.as_deref(), Some("qa checked the empty input"));
    let stored = h.store.messages(&qa.child_session_id).await.unwrap();
    let told = stored
        .iter()
        .flat_map(|m| &m.parts)
        .filter(|p| {
            matches!(
                p,
                baton_protocol::Part::Notice {
                    kind: NoticeKind::Message,
                    ..
                }
            )
        })
        .count();
    assert_eq!(told, 1);
    h.engine.shutdown().await;
}
