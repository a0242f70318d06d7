//! What a front end sees live, against the mock model: a running
//! command's output (`tool.output`), each model call's usage
//! (`step.completed`), queued messages handed back by an interrupt
//! (`message.withdrawn`), the interrupted answer kept for the model, and
//! trees in spawn order. Order is proven with events, their `seq` and
//! `ts`, and the mock's request log, never with sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{Event, EventKind, Role, SessionStatus, Usage};
use common::*;

fn seq_of(seen: &[Event], pred: impl Fn(&Event) -> bool) -> Vec<u64> {
    seen.iter().filter(|e| pred(e)).map(|e| e.seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_commands_output_is_announced_live_before_the_call_completes() {
    let script = r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "line3"
[rules.reply]
text = "ran it"

[[rules]]
name = "run"
[rules.when]
last_user = "^run$"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "for i in 1 2 3; do echo line$i; sleep 0.3; done" } }]
"#;
    let h = harness(script, |_| {}).await;
    let id = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&id, "run").await.unwrap();
    let completed = f
        .until("the bash call's end", |e| is_type(e, "tool.completed"))
        .await;
    let EventKind::ToolCompleted {
        call_id, output, ..
    } = &completed.kind
    else {
        unreachable!()
    };
    assert!(output.contains("line3"), "{output}");
    h.engine.wait_quiet(&id).await.unwrap();
    f.drain();

    let live: Vec<&Event> =
        f.of(|e| matches!(&e.kind, EventKind::ToolOutput { call_id: c, .. } if c == call_id));
    let text: String = live
        .iter()
        .map(|e| match &e.kind {
            EventKind::ToolOutput { delta, .. } => delta.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(
        text, "line1\nline2\nline3\n",
        "the deltas add up to the output"
    );
    assert!(
        live.iter()
            .all(|e| e.seq < completed.seq && e.session_id == id),
        "every delta comes before `tool.completed`, on the call's session"
    );
    assert!(live.len() >= 2, "coalesced, but live: {live:#?}");
    // The command prints its first line, then runs 0.9 s more: the first
    // delta went out while it was still running.
    let ahead = completed.ts - live[0].ts;
    assert!(
        ahead >= chrono::Duration::milliseconds(500),
        "the first delta came only {ahead} before the end"
    );
    match &live[0].kind {
        EventKind::ToolOutput { delta, .. } => assert!(delta.starts_with("line1\n"), "{delta}"),
        _ => unreachable!(),
    }
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_model_call_announces_its_usage_and_the_sessions_total_after_its_answer() {
    let script = r#"
[[rules]]
name = "end"
[rules.when]
last_tool_result = "hi"
[rules.reply]
text = "done"
usage = { input_tokens = 200, output_tokens = 20 }

[[rules]]
name = "call"
[rules.when]
last_user = "^two steps$"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo hi" } }]
usage = { input_tokens = 100, output_tokens = 10 }
"#;
    let h = harness(script, |_| {}).await;
    let id = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&id, "two steps").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    f.drain();

    let steps: Vec<(u64, u32, Usage, Usage)> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepCompleted {
                step,
                usage,
                session_usage,
            } if e.session_id == id => Some((e.seq, *step, *usage, *session_usage)),
            _ => None,
        })
        .collect();
    assert_eq!(
        steps.iter().map(|s| s.1).collect::<Vec<_>>(),
        [1, 2],
        "one per model call, in order"
    );
    assert_eq!(
        (steps[0].2.input_tokens, steps[0].2.output_tokens),
        (100, 10)
    );
    assert_eq!(
        (steps[1].2.input_tokens, steps[1].2.output_tokens),
        (200, 20)
    );
    assert_eq!(
        steps[0].3, steps[0].2,
        "a new session's total is its first call"
    );
    assert_eq!(
        (steps[1].3.input_tokens, steps[1].3.output_tokens),
        (300, 30)
    );
    let stored = h.store.get_session(&id).await.unwrap().unwrap().usage;
    assert_eq!(steps[1].3, stored, "the last total is what is stored");
    // Each follows the `message.completed` of its answer.
    let answers = seq_of(&f.seen, |e| {
        e.session_id == id
            && matches!(
                e.kind,
                EventKind::MessageCompleted {
                    role: Role::Assistant,
                    ..
                }
            )
    });
    assert_eq!(answers.len(), 2);
    assert!(answers[0] < steps[0].0 && steps[0].0 < answers[1] && answers[1] < steps[1].0);
    let turn_end = seq_of(&f.seen, |e| {
        e.session_id == id && is_type(e, "turn.completed")
    });
    assert!(steps[1].0 < turn_end[0]);
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_hands_back_queued_messages_and_keeps_the_partial_answer() {
    let story = "Once upon a time ".repeat(40);
    let script = format!(
        r#"
[[rules]]
name = "answer"
[rules.when]
last_user = "^new question$"
[rules.reply]
text = "a short answer"

[[rules]]
name = "story"
[rules.when]
last_user = "^tell me a story$"
[rules.reply]
text = "{story}"
text_chunk_chars = 8
chunk_delay_ms = 40
"#
    );
    let h = harness(&script, |_| {}).await;
    let id = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&id, "tell me a story").await.unwrap();
    f.until_count("a few pieces of the story", 3, |e| is_type(e, "text.delta"))
        .await;
    h.engine.send_message(&id, "and a poem").await.unwrap();
    let queued = f
        .until(
            "the queued message",
            |e| matches!(&e.kind, EventKind::MessageQueued { text, .. } if text == "and a poem"),
        )
        .await;
    let EventKind::MessageQueued {
        message_id: queued_id,
        ..
    } = &queued.kind
    else {
        unreachable!()
    };

    let accepted = h.engine.interrupt_session(&id).await.unwrap();
    assert_eq!(accepted.withdrawn.len(), 1, "{accepted:?}");
    assert_eq!(accepted.withdrawn[0].text, "and a poem");
    assert_eq!(&accepted.withdrawn[0].message_id, queued_id);
    assert!(
        accepted.message.contains("handed back"),
        "{}",
        accepted.message
    );
    let withdrawn = f
        .until("message.withdrawn", |e| is_type(e, "message.withdrawn"))
        .await;
    assert_eq!(
        withdrawn.kind,
        EventKind::MessageWithdrawn {
            message_ids: vec![queued_id.clone()]
        }
    );
    let end = f
        .until("the interrupted turn's end", |e| {
            is_type(e, "turn.completed")
        })
        .await;
    assert!(matches!(&end.kind, EventKind::TurnCompleted { reason, .. } if reason == "cancelled"));
    h.engine.wait_quiet(&id).await.unwrap();
    f.drain();
    let streamed: String = f
        .seen
        .iter()
        .filter(|e| e.seq < end.seq)
        .filter_map(|e| match &e.kind {
            EventKind::TextDelta { delta } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert!(!streamed.is_empty() && streamed.len() < story.len());

    // Kept: the text streamed so far, then the note; the withdrawn message
    // is nowhere, and nothing is left queued.
    let stored = h.store.messages(&id).await.unwrap();
    let texts: Vec<(Role, String)> = stored.iter().map(|m| (m.role, m.text())).collect();
    assert_eq!(texts[0], (Role::User, "tell me a story".to_owned()));
    assert_eq!(texts[1], (Role::Assistant, streamed.clone()));
    assert!(
        stored[2].parts.iter().any(|p| matches!(
            p,
            baton_protocol::Part::Context { text, .. } if text.contains("interrupted")
        )),
        "{:?}",
        stored[2]
    );
    assert_eq!(stored.len(), 3, "{texts:?}");
    assert!(h.store.pending_inputs(&id).await.unwrap().is_empty());
    assert_eq!(
        h.store.get_session(&id).await.unwrap().unwrap().status,
        SessionStatus::Cancelled
    );

    // The next message goes alone, and the model reads what it was told.
    let before = h.mock.requests().len();
    h.engine.send_message(&id, "new question").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    let requests = h.mock.requests();
    assert_eq!(requests.len(), before + 1);
    let stored = h.store.messages(&id).await.unwrap();
    let texts: Vec<String> = stored.iter().map(|m| m.text()).collect();
    assert!(!texts.iter().any(|t| t.contains("and a poem")), "{texts:?}");
    assert_eq!(
        texts.iter().filter(|t| *t == "new question").count(),
        1,
        "{texts:?}"
    );
    assert_eq!(texts.last().unwrap(), "a short answer");
    let sent = requests.last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .clone();
    let content = |m: &serde_json::Value| m["content"].to_string();
    let partial = sent
        .iter()
        .position(|m| m["role"] == "assistant" && content(m).contains(streamed.trim_end()))
        .expect("the partial answer is an assistant turn");
    assert!(content(&sent[partial + 1]).contains("interrupted"));
    let last = sent.last().unwrap();
    assert_eq!(last["role"], "user");
    assert!(content(last).contains("new question"));
    assert!(!content(last).contains("and a poem"));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_lists_its_sessions_and_tasks_in_spawn_order() {
    let calls: Vec<String> = ["one", "two", "three", "four"]
        .iter()
        .map(|n| {
            format!(
                r#"{{ name = "task", arguments = {{ description = "{n}", prompt = "work {n}" }} }}"#
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
{}"#,
        delegating_parent("started", &format!("[{}]", calls.join(", ")))
    );
    let h = harness(&script, |_| {}).await;
    let parent = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let spawn_order = spawned(&f.seen);
    assert_eq!(spawn_order.len(), 4);
    for _ in 0..2 {
        let tree = h.engine.tree(&parent).await.unwrap();
        assert_eq!(tree.sessions[0].id, parent, "the root first");
        let children: Vec<_> = tree.sessions[1..].iter().map(|s| s.id.clone()).collect();
        let tasks: Vec<String> = tree.tasks.iter().map(|t| t.task_id.to_string()).collect();
        assert_eq!(
            children,
            spawn_order
                .iter()
                .map(|(_, child)| child.clone())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            tasks,
            spawn_order
                .iter()
                .map(|(task, _)| task.clone())
                .collect::<Vec<_>>()
        );
    }
    h.engine.shutdown().await;
}
