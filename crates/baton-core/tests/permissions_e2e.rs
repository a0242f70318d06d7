//! Permissions against the mock model: a background child's `ask` waits
//! while its siblings finish, an answer resumes it, a denial reaches the
//! model, headless runs never wait, and a child cannot widen its parent's
//! rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_core::AskMode;
use baton_protocol::{EventKind, PermissionAnswer, PermissionDecision, SessionStatus};
use common::*;

/// Two children: `asker` runs a command the rules ask about, `quick`
/// answers at once. The parent delegates both (`DELEGATE_BOTH`) and
/// integrates their notices.
const TWO_CHILDREN: &str = r#"
[[rules]]
name = "asker-done"
[rules.when]
first_user = "as asker"
last_tool_result = "."
[rules.reply]
text = "asker saw: ${out}"

[[rules]]
name = "asker-run"
[rules.when]
first_user = "as asker"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo deploying now" } }]

[[rules]]
name = "quick"
[rules.when]
first_user = "as quick"
[rules.reply]
text = "quick done"

"#;

const DELEGATE_BOTH: &str = r#"[
  { name = "task", arguments = { description = "asker", prompt = "as asker" } },
  { name = "task", arguments = { description = "quick", prompt = "as quick" } },
]"#;

fn ask_about_echo(c: &mut baton_core::Config) {
    c.permission = toml::from_str("bash = { \"echo deploying\" = \"ask\" }\n").unwrap();
}

fn script() -> String {
    // The asker's answer quotes its tool result.
    let children = TWO_CHILDREN.replace(
        "last_tool_result = \".\"\n[rules.reply]\ntext = \"asker saw: ${out}\"",
        "last_tool_result = \"(?s)(?P<out>.+)\"\n[rules.reply]\ntext = \"asker saw: ${out}\"",
    );
    format!("{children}{}", delegating_parent("started", DELEGATE_BOTH))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_childs_ask_waits_while_its_sibling_finishes_and_the_answer_resumes_it() {
    // `quick` ends only once the test opens its gate, after the ask: the
    // order the test asserts is made, not hoped for.
    let gated = script().replace(
        "[[rules]]\nname = \"quick\"\n[rules.when]\nfirst_user = \"as quick\"\n[rules.reply]\ntext = \"quick done\"\n",
        r#"[[rules]]
name = "quick-done"
[rules.when]
first_user = "as quick"
last_tool_result = "opened-42"
[rules.reply]
text = "quick done"

[[rules]]
name = "quick-wait"
[rules.when]
first_user = "as quick"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -e quick.gate ]; do sleep 0.02; done; echo opened-$((40+2))" } }]
"#,
    );
    assert_ne!(gated, script(), "the quick rule was replaced");
    let h = harness_with(&gated, ask_about_echo, |_| {}).await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();

    let asked = f
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let asker = asked.session_id.clone();
    let EventKind::PermissionRequested {
        request_id,
        tool,
        detail,
        agent,
        ..
    } = asked.kind.clone()
    else {
        unreachable!()
    };
    assert_eq!(
        (tool.as_str(), detail.as_str()),
        ("bash", "echo deploying now")
    );
    assert_eq!(agent, "general");
    h.touch("quick.gate");
    // The sibling ends, and the parent integrates it, while the asker waits.
    let quick_done = f
        .until("quick's task.completed", |e| {
            matches!(&e.kind, EventKind::TaskCompleted { .. }) && e.session_id == parent
        })
        .await;
    assert!(quick_done.seq > asked.seq);
    f.until("the parent's answer to quick", |e| {
        e.session_id == parent
            && matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "integrated")
    })
    .await;
    let stored = h.store.get_session(&asker).await.unwrap().unwrap();
    assert_eq!(stored.status, SessionStatus::AwaitingPermission);
    let pending = h.engine.pending_permissions();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, request_id);
    assert_eq!(pending[0].session_id, asker);
    // The asked-about command has not run.
    assert!(!f.outputs("bash").iter().any(|o| o.contains("deploying")));

    h.engine
        .answer_permission(&request_id, PermissionDecision::AllowOnce)
        .await
        .unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let ran: Vec<String> = f
        .outputs("bash")
        .into_iter()
        .filter(|o| !o.contains("opened-42"))
        .collect();
    assert_eq!(ran.len(), 1);
    assert!(ran[0].starts_with("deploying now\n"), "{}", ran[0]);
    assert!(h.engine.pending_permissions().is_empty());
    let resolved = f.of(|e| is_type(e, "permission.resolved"));
    assert_eq!(resolved.len(), 1);
    let statuses: Vec<SessionStatus> = f
        .seen
        .iter()
        .filter(|e| e.session_id == asker)
        .filter_map(|e| match e.kind {
            EventKind::SessionStatus { status } => Some(status),
            _ => None,
        })
        .collect();
    assert!(
        statuses
            .windows(2)
            .any(|w| w == [SessionStatus::AwaitingPermission, SessionStatus::Running]),
        "{statuses:?}"
    );
    let messages = h.store.messages(&parent).await.unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.text().contains("asker saw: deploying now")),
        "the parent got the asker's result"
    );
    // Answering twice is a clear error.
    let again = h
        .engine
        .answer_permission(&request_id, PermissionDecision::Deny)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("no pending permission request"));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_reaches_the_model_and_allow_always_covers_the_tree() {
    let h = harness_with(&script(), ask_about_echo, |_| {}).await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    let asked = f
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind.clone() else {
        unreachable!()
    };
    h.engine
        .answer_permission(&request_id, PermissionDecision::Deny)
        .await
        .unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let outputs = f.outputs("bash");
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0]
            .starts_with("Permission denied: the user refused `bash` command `echo deploying now`"),
        "{}",
        outputs[0]
    );
    let child_messages = h.store.messages(&asked.session_id).await.unwrap();
    assert!(
        child_messages
            .last()
            .unwrap()
            .text()
            .contains("asker saw: Permission denied"),
        "the model read the denial"
    );

    // Allow always: the same command in the same tree runs without asking.
    h.engine.send_message(&parent, "go").await.unwrap();
    let second = f
        .until("second permission.requested", |e| {
            is_type(e, "permission.requested") && e.seq > asked.seq
        })
        .await;
    let EventKind::PermissionRequested {
        request_id,
        pattern,
        ..
    } = second.kind.clone()
    else {
        unreachable!()
    };
    assert_eq!(pattern, "echo deploying");
    h.engine
        .answer_permission(&request_id, PermissionDecision::AllowAlways)
        .await
        .unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    assert_eq!(f.of(|e| is_type(e, "permission.requested")).len(), 2);
    let ran = f
        .outputs("bash")
        .iter()
        .filter(|o| o.starts_with("deploying now\n"))
        .count();
    assert_eq!(ran, 2, "allowed always: the third run did not ask");
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_runs_never_wait() {
    for (mode, ran) in [(AskMode::Deny, false), (AskMode::Allow, true)] {
        let h = harness_with(&script(), ask_about_echo, |e| e.ask_mode = mode).await;
        let mut f = Follower::new(&h.engine);
        let parent = h.session().await;
        h.engine.send_message(&parent, "go").await.unwrap();
        h.engine.wait_quiet(&parent).await.unwrap();
        f.drain();
        assert!(f.of(|e| is_type(e, "permission.requested")).is_empty());
        let outputs = f.outputs("bash");
        assert_eq!(outputs.len(), 1);
        if ran {
            assert!(outputs[0].starts_with("deploying now\n"), "{}", outputs[0]);
        } else {
            assert!(
                outputs[0].contains("this run has no one to ask (headless, without --yes)"),
                "{}",
                outputs[0]
            );
        }
        h.engine.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_cannot_widen_its_parents_rules() {
    // The primary agent may not run `echo`; its sub-agent says it may.
    let strict = "---
description: A careful primary agent.
mode: primary
permission:
  bash:
    \"echo *\": deny
---
You are careful.
";
    let loose = "---
description: A sub-agent that thinks it may run anything.
mode: subagent
permission:
  bash: allow
---
You are loose.
";
    let script = script().replace(
        "{ name = \"task\", arguments = { description = \"asker\", prompt = \"as asker\" } },",
        "{ name = \"task\", arguments = { description = \"asker\", prompt = \"as asker\", agent = \"loose\" } },",
    );
    let h = harness_with(
        &script,
        |_| {},
        |e| {
            e.agent_files
                .push((".baton/agents/strict.md".into(), strict.into()));
            e.agent_files
                .push((".baton/agents/loose.md".into(), loose.into()));
        },
    )
    .await;
    let mut f = Follower::new(&h.engine);
    let parent = h
        .engine
        .create_session(baton_core::NewSession {
            cwd: h.project.path().to_path_buf(),
            agent: Some("strict".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let outputs = f.outputs("bash");
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].starts_with("Permission denied: `bash` command `echo deploying now` is not allowed (rule `echo *` from agent `strict`)"),
        "{}",
        outputs[0]
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_with_a_reason_gives_the_model_the_persons_words() {
    let h = harness_with(&script(), ask_about_echo, |_| {}).await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    let asked = f
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind.clone() else {
        unreachable!()
    };
    let reason = "deploys go through CI — never from a laptop 🚫";
    h.engine
        .answer_permission(&request_id, PermissionAnswer::deny_because(reason))
        .await
        .unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let outputs = f.outputs("bash");
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].starts_with("Permission denied: the user refused `bash` command")
            && outputs[0].ends_with(&format!("The user denied this call: {reason}")),
        "{}",
        outputs[0]
    );
    let child_messages = h.store.messages(&asked.session_id).await.unwrap();
    assert!(
        child_messages
            .last()
            .unwrap()
            .text()
            .contains(&format!("asker saw: Permission denied: the user refused `bash` command `echo deploying now`. It was not run; do not retry it as it was. The user denied this call: {reason}")),
        "the model read the reason"
    );
    // The event says what was decided; the reason is in the call's result.
    assert!(f.seen.iter().any(|e| matches!(
        &e.kind,
        EventKind::PermissionResolved { request_id: id, decision: PermissionDecision::Deny }
            if *id == request_id
    )));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_waiting_child_withdraws_its_request() {
    let h = harness_with(&script(), ask_about_echo, |_| {}).await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    let asked = f
        .until("permission.requested", |e| {
            is_type(e, "permission.requested")
        })
        .await;
    let EventKind::PermissionRequested { request_id, .. } = asked.kind.clone() else {
        unreachable!()
    };
    h.engine.cancel(&parent).await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    assert!(h.engine.pending_permissions().is_empty());
    let resolved: Vec<_> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PermissionResolved {
                request_id: id,
                decision,
            } => Some((id.clone(), *decision)),
            _ => None,
        })
        .collect();
    assert_eq!(resolved, [(request_id.clone(), PermissionDecision::Deny)]);
    let outputs = f.outputs("bash");
    assert_eq!(outputs.len(), 1);
    assert!(outputs[0].contains("cancelled"), "{}", outputs[0]);
    assert!(
        h.engine
            .answer_permission(&request_id, PermissionDecision::AllowOnce)
            .await
            .is_err()
    );
    let child = h
        .store
        .get_session(&asked.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child.status, SessionStatus::Cancelled);
    h.engine.shutdown().await;
}
