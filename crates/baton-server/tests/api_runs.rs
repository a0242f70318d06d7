//! Runs driven over HTTP against the mock model: delegation with tasks
//! seen and controlled through the API, the event stream shared by several
//! clients and resumed after a drop, shells and permission requests.
//! Order is proven with event sequence numbers and gate files, never with
//! sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{Event, EventKind, Role, SessionStatus};
use common::*;
use serde_json::{Value, json};

fn task_completed(e: &Event, task: &str) -> bool {
    matches!(&e.kind, EventKind::TaskCompleted { task_id, .. } if task_id == task)
}

fn says(e: &Event, wanted: &str) -> bool {
    matches!(&e.kind, EventKind::MessageCompleted { role: Role::Assistant, text, .. } if text == wanted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_delegates_answers_while_its_tasks_run_and_integrates_their_results() {
    let s = start(
        &delegation_script(&["alpha", "beta", "gamma"]),
        |_| {},
        |_| {},
    )
    .await;
    let parent = s.create_session().await;
    let mut sse = s.events(&format!("?session={parent}"), None).await;
    s.say(&parent, "go").await;

    // The parent's turn ends while every child is busy in its command.
    sse.until("the parent's first turn end", |e| {
        e.session_id == parent && is_type(e, "turn.completed")
    })
    .await;
    sse.until_count("the children's commands", 3, |e| {
        e.session_id != parent
            && matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash")
    })
    .await;
    let tasks = spawned(&sse.events());
    assert_eq!(tasks.len(), 3, "task.spawned on the session's stream");

    // The API shows them running.
    let listed = s.get_json(&format!("/v1/sessions/{parent}/tasks")).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for ((task_id, child), (view, name)) in tasks
        .iter()
        .zip(listed.iter().zip(["alpha", "beta", "gamma"]))
    {
        assert_eq!(view["task_id"], task_id.as_str());
        assert_eq!(view["child_session_id"], child.as_str());
        assert_eq!(view["parent_session_id"], parent.as_str());
        assert_eq!(view["description"], name);
        assert_eq!(view["status"], "running");
        let one = s.get_json(&format!("/v1/tasks/{task_id}")).await;
        assert_eq!(one["task_id"], task_id.as_str());
        assert_eq!(one["status"], "running");
        assert_eq!(one["agent"], "general");
    }

    // A second message is answered while the tasks still run.
    s.say(&parent, "how is it going").await;
    let answer = sse
        .until("the answer", |e| {
            e.session_id == parent && says(e, "the children are still at work")
        })
        .await;
    assert!(sse.of(|e| is_type(e, "task.completed")).is_empty());

    // One task is cancelled through the API.
    let (gamma, _) = &tasks[2];
    let cancel = s
        .post_raw(&format!("/v1/tasks/{gamma}/cancel"), "", None)
        .await;
    assert_eq!(cancel.status(), 202);
    let cancel: Value = cancel.json().await.unwrap();
    assert!(
        cancel["message"]
            .as_str()
            .unwrap()
            .starts_with("Cancelling task"),
        "{cancel}"
    );
    let ended = sse.until("gamma's end", |e| task_completed(e, gamma)).await;
    assert!(matches!(
        ended.kind,
        EventKind::TaskCompleted {
            status: SessionStatus::Cancelled,
            ..
        }
    ));
    let shown = s.get_json(&format!("/v1/tasks/{gamma}")).await;
    assert_eq!(shown["status"], "cancelled");

    // Released, the others finish and the parent integrates both.
    s.touch("gate");
    let (alpha, _) = &tasks[0];
    let (beta, _) = &tasks[1];
    sse.until_count("alpha and beta end", 2, |e| {
        task_completed(e, alpha) || task_completed(e, beta)
    })
    .await;
    let done: Vec<Event> = sse.of(|e| task_completed(e, alpha) || task_completed(e, beta));
    for e in &done {
        assert!(
            matches!(
                e.kind,
                EventKind::TaskCompleted {
                    status: SessionStatus::Completed,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(answer.seq < e.seq, "answered before any task ended");
    }
    // Both notices reach the parent (in one turn or two), and it answers
    // after the last one.
    let delivered = |e: &Event| {
        e.session_id == parent
            && matches!(&e.kind, EventKind::NotificationDelivered { source_id } if source_id == alpha || source_id == beta)
    };
    sse.until_count("both notices delivered", 2, delivered)
        .await;
    let last_delivered = sse.of(delivered).iter().map(|e| e.seq).max().unwrap();
    let last_done = done.iter().map(|e| e.seq).max().unwrap();
    assert!(last_delivered > last_done);
    sse.until("the parent integrates", |e| {
        e.session_id == parent && e.seq > last_delivered && says(e, "integrated")
    })
    .await;
    let messages = s.get_json(&format!("/v1/sessions/{parent}/messages")).await;
    let all = messages.to_string();
    for name in ["alpha", "beta"] {
        assert!(
            all.contains(&format!("result from {name}")),
            "{name}'s result"
        );
    }
    for (task_id, _) in &tasks[..2] {
        let view = s.get_json(&format!("/v1/tasks/{task_id}")).await;
        assert_eq!(view["status"], "completed");
        assert!(view["result"].as_str().unwrap().starts_with("result from"));
    }
    // The parent's totals include its children's tokens.
    let view = s.get_json(&format!("/v1/sessions/{parent}")).await;
    assert!(
        view["total_usage"]["input_tokens"].as_u64().unwrap()
            > view["usage"]["input_tokens"].as_u64().unwrap(),
        "{view}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_one_session_see_the_same_events_and_a_reconnect_misses_nothing() {
    let s = start(&delegation_script(&["alpha", "beta"]), |_| {}, |_| {}).await;
    let parent = s.create_session().await;
    // Another session's events must not show up on the filtered streams.
    let stranger = s.create_session().await;
    let query = format!("?session={parent}");
    let mut first = s.events(&query, None).await;
    let mut second = s.events(&query, None).await;
    let mut dropping = s.events(&query, None).await;
    let mut everything = s.events("", None).await;
    let queued = s.say(&parent, "go").await;
    s.say(&stranger, "hello").await;

    let root = parent.clone();
    let is_end =
        move |e: &Event| e.session_id == root && e.seq > queued && is_type(e, "session.quiet");
    // The third client leaves mid-run, once the children are at work.
    dropping
        .until_count(
            "children at work",
            2,
            |e| matches!(&e.kind, EventKind::ToolStarted { name, .. } if name == "bash"),
        )
        .await;
    let resume_from = *dropping.seqs().last().unwrap();
    let before_drop = dropping.events();
    drop(dropping);
    // While it is away, the run goes on and ends.
    s.touch("gate");
    let end = first.until("the run's end", is_end.clone()).await;
    second.until("the run's end", is_end.clone()).await;
    everything.until("the run's end", is_end.clone()).await;

    let mut back = s.events(&query, Some(resume_from)).await;
    back.until("the run's end", is_end.clone()).await;
    let mut rejoined = before_drop;
    rejoined.extend(back.events());

    let reference = first.events();
    assert_eq!(reference.last().unwrap().seq, end.seq);
    assert!(
        reference.windows(2).all(|w| w[0].seq < w[1].seq),
        "strictly increasing"
    );
    assert_eq!(second.events(), reference, "two clients, one sequence");
    assert_eq!(
        rejoined, reference,
        "no gap and no repeat after the reconnect"
    );
    assert!(back.seen.iter().all(|f| f.name == "message"), "no resync");
    // Exactly the tree's events: the unfiltered stream, narrowed to the
    // parent and its children, is the same sequence.
    let children: Vec<_> = spawned(&reference).into_iter().map(|(_, c)| c).collect();
    assert_eq!(children.len(), 2);
    let narrowed: Vec<Event> = everything
        .events()
        .into_iter()
        .filter(|e| e.session_id == parent || children.contains(&e.session_id))
        .collect();
    assert_eq!(narrowed, reference);
    assert!(
        everything.events().iter().any(|e| e.session_id == stranger),
        "the unfiltered stream has the other session"
    );
    assert!(reference.iter().all(|e| e.session_id != stranger));
    // Each data line is the event exactly as `baton run --format jsonl` prints it.
    for frame in &first.seen {
        let event = frame.event();
        assert_eq!(frame.data, serde_json::to_string(&event).unwrap());
        assert_eq!(frame.id, event.seq.to_string());
    }
    // `after=` resumes like Last-Event-ID (for browsers' EventSource).
    let mut by_param = s
        .events(&format!("{query}&after={resume_from}"), None)
        .await;
    by_param.until("the run's end", is_end).await;
    assert_eq!(by_param.events(), back.events());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_asking_for_events_no_longer_kept_gets_a_resync_first() {
    // One reply streamed a character at a time: more events than the
    // engine keeps for replay (10 000).
    let script = format!(
        r#"
[[rules]]
name = "long"
[rules.reply]
text = "{}"
text_chunk_chars = 1
"#,
        "z".repeat(10_100)
    );
    let s = start(&script, |_| {}, |_| {}).await;
    let session = s.create_session().await;
    let mut live = s.events("", None).await;
    let queued = s.say(&session, "talk a lot").await;
    let quiet = live
        .until("the long reply's end", |e| {
            e.seq > queued && is_type(e, "session.quiet")
        })
        .await;

    let mut late = s.events("", Some(1)).await;
    let first = late.next().await.unwrap();
    assert_eq!(first.name, "resync", "{first:?}");
    let resync: Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(resync["type"], "resync");
    assert_eq!(resync["after"], 1);
    let next = resync["next"].as_u64().unwrap();
    assert!(next > 2 && next <= quiet.seq, "{resync}");
    // Then the stream goes on from `next`, without holes, up to the end.
    let following = late.next().await.unwrap().event();
    assert_eq!(following.seq, next);
    late.until("the end", |e| e.seq == quiet.seq).await;
    let seqs = late.seqs();
    assert_eq!(seqs, (next..=quiet.seq).collect::<Vec<u64>>());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_event_id_this_engine_never_reached_gets_a_resync_then_the_live_events() {
    // Numbering starts again with each process: an id from before a
    // restart can be ahead of the engine.
    let s = start_plain().await;
    let session = s.create_session().await;
    let newest = s.engine.last_seq();
    let mut sse = s.events("", Some(newest + 1000)).await;
    let queued = s.say(&session, "hi").await;
    let first = sse.next().await.unwrap();
    assert_eq!(first.name, "resync", "{first:?}");
    let resync: Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(resync["after"], newest + 1000);
    assert_eq!(resync["next"], newest + 1);
    let end = sse
        .until("quiet", |e| e.seq > queued && is_type(e, "session.quiet"))
        .await;
    assert_eq!(sse.seqs(), (newest + 1..=end.seq).collect::<Vec<u64>>());

    // The largest `seq` there is works the same way.
    let newest = s.engine.last_seq();
    let mut sse = s.events("", Some(u64::MAX)).await;
    let first = sse.next().await.unwrap();
    assert_eq!(first.name, "resync", "{first:?}");
    let resync: Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(resync["after"], u64::MAX);
    assert_eq!(resync["next"], newest + 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_shells_are_listed_read_and_killed() {
    let script = r#"
[[rules]]
name = "notice"
[rules.when]
last_user = "Background shell"
[rules.reply]
text = "noted"

[[rules]]
name = "started"
[rules.when]
last_tool_result = "background as shell"
[rules.reply]
text = "it runs in the background"

[[rules]]
name = "go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo first; while [ ! -f gate ]; do sleep 0.01; done; echo second", background = true, description = "waits for the gate" } }]
"#;
    let s = start(script, |_| {}, |_| {}).await;
    let session = s.create_session().await;
    let mut sse = s.events(&format!("?session={session}"), None).await;
    s.say(&session, "go").await;
    let started = sse
        .until("shell.started", |e| is_type(e, "shell.started"))
        .await;
    let EventKind::ShellStarted { shell_id, .. } = started.kind else {
        unreachable!()
    };

    let all = s.get_json("/v1/shells").await;
    let mine = s.get_json(&format!("/v1/shells?session={session}")).await;
    assert_eq!(all, mine);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["shell_id"], shell_id.as_str());
    assert_eq!(mine[0]["session_id"], session.as_str());
    assert_eq!(mine[0]["status"], "running");
    assert_eq!(mine[0]["description"], "waits for the gate");
    assert!(mine[0].get("output").is_none(), "lists leave output out");
    let other = s.create_session().await;
    assert_eq!(
        s.get_json(&format!("/v1/shells?session={other}")).await,
        json!([])
    );
    assert_eq!(s.get("/v1/shells?session=ses_nobody").await.status(), 404);

    let path = format!("/v1/shells/{shell_id}");
    let shown = eventually("the shell's first output", || async {
        let view = s.get_json(&path).await;
        (view["output"] == "first\n").then_some(view)
    })
    .await;
    assert_eq!(shown["status"], "running");
    assert_eq!(shown["dropped_bytes"], 0);

    let killed = s.post_raw(&format!("{path}/kill"), "", None).await;
    assert_eq!(killed.status(), 200);
    let killed: Value = killed.json().await.unwrap();
    assert_eq!(killed["status"], "killed");
    assert!(killed["ended_at"].is_string());
    sse.until(
        "the shell's end",
        |e| matches!(&e.kind, EventKind::ShellExited { shell_id: id, .. } if *id == shell_id),
    )
    .await;
    let after = s.get_json(&path).await;
    assert_eq!(after["status"], "killed");
    assert!(!after["output"].as_str().unwrap().contains("second"));
    // Killing it again returns it as it is.
    let again = s.post_raw(&format!("{path}/kill"), "", None).await;
    assert_eq!(again.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_request_is_listed_and_answering_it_resumes_the_session() {
    let script = r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "(?s)(?P<out>.+)"
[rules.reply]
text = "saw: ${out}"

[[rules]]
name = "go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo deploying now" } }]
"#;
    let s = start(
        script,
        |c| {
            c.permission = toml::from_str("bash = { \"echo deploying\" = \"ask\" }\n").unwrap();
        },
        |_| {},
    )
    .await;
    let session = s.create_session().await;
    let mut sse = s.events(&format!("?session={session}"), None).await;
    s.say(&session, "go").await;
    let asked = sse
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind.clone() else {
        unreachable!()
    };
    let pending = s.get_json("/v1/permissions").await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["id"], request_id.as_str());
    assert_eq!(pending[0]["session_id"], session.as_str());
    assert_eq!(pending[0]["tool"], "bash");
    assert_eq!(pending[0]["detail"], "echo deploying now");
    let view = s.get_json(&format!("/v1/sessions/{session}")).await;
    assert_eq!(view["status"], "awaiting_permission");
    assert!(
        sse.of(|e| is_type(e, "tool.completed")).is_empty(),
        "not run yet"
    );

    let unknown = s
        .post(
            "/v1/permissions/perm_nobody",
            json!({"decision": "allow_once"}),
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let unknown: Value = unknown.json().await.unwrap();
    assert!(
        unknown["error"]
            .as_str()
            .unwrap()
            .contains("no pending permission request"),
        "{unknown}"
    );

    let answer = s
        .post(
            &format!("/v1/permissions/{request_id}"),
            json!({"decision": "allow_once"}),
        )
        .await;
    assert_eq!(answer.status(), 200);
    let resolved = sse
        .until("permission.resolved", |e| is_type(e, "permission.resolved"))
        .await;
    assert!(matches!(
        resolved.kind,
        EventKind::PermissionResolved { request_id: ref id, .. } if *id == request_id
    ));
    let ran = sse
        .until("the command's result", |e| is_type(e, "tool.completed"))
        .await;
    let EventKind::ToolCompleted {
        output, is_error, ..
    } = &ran.kind
    else {
        unreachable!()
    };
    assert!(!is_error && output.starts_with("deploying now"), "{output}");
    sse.until("the answer", |e| {
        matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text.starts_with("saw: deploying now"))
    })
    .await;
    assert_eq!(s.get_json("/v1/permissions").await, json!([]));
    // Answering twice: it is gone.
    let twice = s
        .post(
            &format!("/v1/permissions/{request_id}"),
            json!({"decision": "deny"}),
        )
        .await;
    assert_eq!(twice.status(), 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_with_a_reason_over_http_reaches_the_model_in_the_calls_result() {
    let script = r#"
[[rules]]
name = "after"
[rules.when]
last_tool_result = "(?s)(?P<out>.+)"
[rules.reply]
text = "saw: ${out}"

[[rules]]
name = "go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo deploying now" } }]
"#;
    let s = start(
        script,
        |c| {
            c.permission = toml::from_str("bash = { \"echo deploying\" = \"ask\" }\n").unwrap();
        },
        |_| {},
    )
    .await;
    let session = s.create_session().await;
    let mut sse = s.events(&format!("?session={session}"), None).await;
    s.say(&session, "go").await;
    let asked = sse
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind.clone() else {
        unreachable!()
    };
    let path = format!("/v1/permissions/{request_id}");
    // A reason with an allow is refused, and changes nothing: the request
    // still waits.
    let refused = s
        .post(&path, json!({"decision": "allow_always", "reason": "ok"}))
        .await;
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(
        refused["error"],
        "`reason` goes only with `deny` (it tells the model why the call was refused), not with \
         `allow_always`"
    );
    assert_eq!(
        s.get_json("/v1/permissions").await[0]["id"],
        request_id.as_str()
    );

    let reason = "deploys go through CI, not from here";
    let answer = s
        .post(&path, json!({"decision": "deny", "reason": reason}))
        .await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["message"], format!("{request_id} answered: deny"));
    let result = sse
        .until("the denied call's result", |e| is_type(e, "tool.completed"))
        .await;
    let EventKind::ToolCompleted {
        output, is_error, ..
    } = &result.kind
    else {
        unreachable!()
    };
    assert!(*is_error, "{output}");
    assert!(
        output.ends_with(&format!("The user denied this call: {reason}")),
        "{output}"
    );
    sse.until("the answer", |e| {
        matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text.starts_with("saw: Permission denied"))
    })
    .await;
    // The model's next request carried the reason in the call's result.
    let last = s.mock.requests().last().cloned().unwrap();
    assert!(last.body.to_string().contains(reason), "{}", last.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacting_over_the_api_stores_a_summary_the_messages_show() {
    let script = r#"
[[rules]]
name = "summary"
[rules.when]
system = "You summarize"
[rules.reply]
text_from = { pattern = "CODE-[0-9]+", prefix = "Codes: " }

[[rules]]
name = "ok"
[rules.reply]
text = "noted"
"#;
    let s = start(script, |_| {}, |_| {}).await;
    let session = s.create_session().await;
    let mut sse = s.events(&format!("?session={session}"), None).await;
    for text in ["remember CODE-1", "and CODE-2", "and CODE-3"] {
        s.say(&session, text).await;
        sse.until("the answer", |e| is_type(e, "session.quiet"))
            .await;
    }
    let accepted = s
        .post(&format!("/v1/sessions/{session}/compact"), json!({}))
        .await;
    assert_eq!(accepted.status(), 202);
    let done = sse
        .until("the compaction", |e| is_type(e, "context.compacted"))
        .await;
    let EventKind::ContextCompacted {
        trigger,
        summarized,
        ..
    } = done.kind
    else {
        unreachable!()
    };
    assert_eq!(trigger, "manual");
    assert!(summarized >= 2, "{summarized}");
    let messages = s
        .get_json(&format!("/v1/sessions/{session}/messages"))
        .await;
    let parts = messages.to_string();
    assert!(parts.contains("\"compaction\""), "{parts}");
    assert!(parts.contains("Codes: CODE-1"), "{parts}");
    assert_eq!(
        s.post("/v1/sessions/ses_nobody/compact", json!({}))
            .await
            .status(),
        404
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_over_http_hands_back_the_queued_messages_and_cancel_the_rest() {
    let script = r#"
[[rules]]
[rules.reply]
text = "a long answer that keeps streaming for a while"
text_chunk_chars = 2
chunk_delay_ms = 200
"#;
    let s = start(script, |_| {}, |_| {}).await;
    let id = s.create_session().await;
    let mut sse = s.events(&format!("?session={id}"), None).await;
    s.say(&id, "first").await;
    sse.until("the answer streaming", |e| is_type(e, "text.delta"))
        .await;
    s.say(&id, "second").await;
    s.say(&id, "third").await;
    sse.until_count("the queued messages", 3, |e| is_type(e, "message.queued"))
        .await;
    let queued: Vec<String> = sse
        .of(|e| is_type(e, "message.queued"))
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MessageQueued { message_id, text } if text != "first" => {
                Some(message_id.to_string())
            }
            _ => None,
        })
        .collect();
    let interrupted = s
        .post_raw(&format!("/v1/sessions/{id}/interrupt"), "", None)
        .await;
    assert_eq!(interrupted.status(), 202);
    let body: Value = interrupted.json().await.unwrap();
    let withdrawn = body["withdrawn"].as_array().unwrap();
    let texts: Vec<&str> = withdrawn
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["second", "third"], "{body}");
    let ids: Vec<&str> = withdrawn
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, queued.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(withdrawn[0]["session_id"], id.as_str());
    assert!(body["message"].as_str().unwrap().contains("handed back"));
    let event = sse
        .until("message.withdrawn", |e| is_type(e, "message.withdrawn"))
        .await;
    assert!(matches!(
        &event.kind,
        EventKind::MessageWithdrawn { message_ids } if message_ids.len() == 2
    ));

    // Nothing queued is left: a cancel hands nothing back, and says so by
    // leaving the field out.
    sse.until("the turn's end", |e| is_type(e, "turn.completed"))
        .await;
    let cancelled = s
        .post_raw(&format!("/v1/sessions/{id}/cancel"), "", None)
        .await;
    assert_eq!(cancelled.status(), 202);
    let body: Value = cancelled.json().await.unwrap();
    assert!(body.get("withdrawn").is_none(), "{body}");
    s.stop().await;
}
