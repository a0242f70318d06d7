//! What every [`Store`] backend must do, through the trait the engine
//! holds. Each case takes a fresh store from [`backends`]; a new backend
//! adds itself there and passes the same cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::{
    CallId, Message, MessageId, NoticeId, NoticeKind, Part, PermissionAnswer, PermissionDecision,
    PermissionId, PermissionRequest, ReasoningEffort, Role, SandboxMode, SessionId, SessionStatus,
    ShellId, TaskId, ToolCall, Usage,
};
use baton_store::{
    InputRecord, NoticeRecord, SessionRecord, SettingsChange, ShellRecord, SqliteStore, Store,
    TaskRecord,
};
use std::sync::Arc;

/// A fresh, empty store of every backend.
fn backends() -> Vec<(&'static str, Arc<dyn Store>)> {
    vec![("sqlite", Arc::new(SqliteStore::in_memory().unwrap()))]
}

fn session(id: &str, parent: Option<&str>) -> SessionRecord {
    let now = baton_protocol::now();
    SessionRecord {
        id: SessionId::from(id),
        parent_id: parent.map(SessionId::from),
        agent: "build".into(),
        model: "mock/m".into(),
        title: String::new(),
        cwd: "/p".into(),
        status: SessionStatus::Idle,
        created_at: now,
        updated_at: now,
        usage: Usage::default(),
        tool_calls: 0,
        reasoning_effort: None,
        sandbox: None,
    }
}

fn task(id: &str, parent: &str, child: &str) -> TaskRecord {
    TaskRecord {
        id: TaskId::from(id),
        parent_session_id: SessionId::from(parent),
        child_session_id: SessionId::from(child),
        description: "d".into(),
        prompt: "p".into(),
        agent: "general".into(),
        model: "mock/m".into(),
        status: SessionStatus::Running,
        background: true,
        created_at: baton_protocol::now(),
        started_at: None,
        ended_at: None,
        result: None,
        files: Vec::new(),
        worktree: None,
        name: None,
        after: Vec::new(),
        budget: Default::default(),
    }
}

fn notice(id: &str, session: &str, source: &str) -> NoticeRecord {
    NoticeRecord {
        id: NoticeId::from(id),
        session_id: SessionId::from(session),
        kind: NoticeKind::Task,
        source_id: source.into(),
        text: format!("notice {id}"),
        created_at: baton_protocol::now(),
    }
}

fn input(id: &str, session: &str, text: &str) -> InputRecord {
    InputRecord {
        id: MessageId(id.into()),
        session_id: SessionId::from(session),
        text: text.into(),
        created_at: baton_protocol::now(),
    }
}

fn user_message(input: &InputRecord) -> Message {
    let mut m = Message::new(
        input.session_id.clone(),
        Role::User,
        vec![Part::Text {
            text: input.text.clone(),
        }],
    );
    m.id = input.id.clone();
    m
}

fn request(id: &str, session: &str, pattern: &str) -> PermissionRequest {
    PermissionRequest {
        id: PermissionId::from(id),
        session_id: SessionId::from(session),
        agent: "general".into(),
        tool: "bash".into(),
        call_id: CallId::from("c1"),
        detail: pattern.into(),
        pattern: pattern.into(),
        created_at: baton_protocol::now(),
    }
}

#[tokio::test]
async fn withdrawn_inputs_are_handed_back_once_and_never_taken() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        store.create_session(&session("ses_b", None)).await.unwrap();
        let sid = SessionId::from("ses_a");
        for (id, text) in [("msg_1", "first"), ("msg_2", "second"), ("msg_3", "third")] {
            store
                .enqueue_input(&input(id, "ses_a", text))
                .await
                .unwrap();
        }
        store
            .enqueue_input(&input("msg_b", "ses_b", "other session"))
            .await
            .unwrap();
        let pending = store.pending_inputs(&sid).await.unwrap();
        assert!(store.take_input(&user_message(&pending[0])).await.unwrap());

        let withdrawn = store.withdraw_inputs(&sid).await.unwrap();
        let texts: Vec<&str> = withdrawn.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(
            texts,
            ["second", "third"],
            "{name}: the untaken ones, in order"
        );
        assert_eq!(withdrawn, pending[1..].to_vec(), "{name}");
        assert!(
            store.pending_inputs(&sid).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(
            !store.take_input(&user_message(&pending[1])).await.unwrap(),
            "{name}: a withdrawn input is never taken"
        );
        assert!(
            store.withdraw_inputs(&sid).await.unwrap().is_empty(),
            "{name}: withdrawn once"
        );
        let ids: Vec<String> = store
            .messages(&sid)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id.to_string())
            .collect();
        assert_eq!(ids, ["msg_1"], "{name}: only the taken one is stored");
        assert_eq!(
            store
                .pending_inputs(&SessionId::from("ses_b"))
                .await
                .unwrap()
                .len(),
            1,
            "{name}: another session's input stays"
        );
    }
}

#[tokio::test]
async fn an_input_taken_while_withdrawn_is_taken_or_withdrawn_never_both() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        let sid = SessionId::from("ses_a");
        for round in 0..50 {
            let queued = input(&format!("msg_{round}"), "ses_a", "racing");
            store.enqueue_input(&queued).await.unwrap();
            let (taker, withdrawer) = (store.clone(), store.clone());
            let message = user_message(&queued);
            let take = tokio::spawn(async move { taker.take_input(&message).await.unwrap() });
            let sid2 = sid.clone();
            let withdraw =
                tokio::spawn(async move { withdrawer.withdraw_inputs(&sid2).await.unwrap() });
            let taken = take.await.unwrap();
            let withdrawn = withdraw.await.unwrap();
            assert_ne!(
                taken,
                withdrawn.len() == 1,
                "{name}: round {round}: exactly one of taken and withdrawn"
            );
            let stored = store
                .messages(&sid)
                .await
                .unwrap()
                .iter()
                .any(|m| m.id == queued.id);
            assert_eq!(stored, taken, "{name}: round {round}");
        }
    }
}

#[tokio::test]
async fn queued_inputs_keep_their_order_and_are_taken_exactly_once() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        let sid = SessionId::from("ses_a");
        for (id, text) in [("msg_1", "first"), ("msg_2", "second"), ("msg_3", "third")] {
            store
                .enqueue_input(&input(id, "ses_a", text))
                .await
                .unwrap();
        }
        let pending = store.pending_inputs(&sid).await.unwrap();
        let texts: Vec<&str> = pending.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(texts, ["first", "second", "third"], "{name}");

        assert!(store.take_input(&user_message(&pending[0])).await.unwrap());
        assert!(
            !store.take_input(&user_message(&pending[0])).await.unwrap(),
            "{name}: a second take writes nothing"
        );
        assert!(store.take_input(&user_message(&pending[1])).await.unwrap());
        let messages = store.messages(&sid).await.unwrap();
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            ["msg_1", "msg_2"],
            "{name}: the message keeps the input's id"
        );
        let left = store.pending_inputs(&sid).await.unwrap();
        assert_eq!(left, vec![pending[2].clone()], "{name}");
        // Taking something never queued writes nothing.
        let stray = input("msg_9", "ses_a", "never queued");
        assert!(!store.take_input(&user_message(&stray)).await.unwrap());
        assert_eq!(store.messages(&sid).await.unwrap().len(), 2, "{name}");
    }
}

#[tokio::test]
async fn a_tasks_name_what_it_comes_after_and_its_budget_round_trip_with_the_waiting_status() {
    for (name, store) in backends() {
        store.create_session(&session("ses_p", None)).await.unwrap();
        for child in ["ses_a", "ses_b"] {
            store
                .create_session(&session(child, Some("ses_p")))
                .await
                .unwrap();
        }
        let first = task("task_1", "ses_p", "ses_a");
        store.create_task(&first).await.unwrap();
        let mut qa = task("task_2", "ses_p", "ses_b");
        qa.name = Some("qa".into());
        qa.after = vec![first.id.clone()];
        qa.status = SessionStatus::Waiting;
        qa.budget = baton_protocol::api::Budget {
            max_tokens: Some(50_000),
            max_cost: Some(0.25),
            max_steps: None,
        };
        store.create_task(&qa).await.unwrap();
        assert_eq!(store.get_task(&qa.id).await.unwrap().unwrap(), qa, "{name}");
        assert_eq!(store.get_task(&first.id).await.unwrap().unwrap(), first);
    }
}

#[tokio::test]
async fn tasks_made_in_the_same_instant_are_listed_in_the_order_they_were_made() {
    for (name, store) in backends() {
        store.create_session(&session("ses_p", None)).await.unwrap();
        let at = baton_protocol::now();
        let mut made = Vec::new();
        for (id, child) in [
            ("task_z", "ses_1"),
            ("task_a", "ses_2"),
            ("task_m", "ses_3"),
        ] {
            store
                .create_session(&session(child, Some("ses_p")))
                .await
                .unwrap();
            let mut t = task(id, "ses_p", child);
            t.created_at = at;
            store.create_task(&t).await.unwrap();
            made.push(t.id);
        }
        let listed: Vec<TaskId> = store
            .list_tasks(&SessionId::from("ses_p"))
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(listed, made, "{name}");
    }
}

#[tokio::test]
async fn a_message_notice_stored_on_its_own_is_pending_then_delivered_once() {
    for (name, store) in backends() {
        store.create_session(&session("ses_p", None)).await.unwrap();
        let mut told = notice("ntc_m", "ses_p", "message:task_1");
        told.kind = NoticeKind::Message;
        store.add_notice(&told).await.unwrap();
        let parent = SessionId::from("ses_p");
        assert_eq!(
            store.pending_notices(&parent).await.unwrap(),
            vec![told.clone()],
            "{name}"
        );
        assert!(
            store
                .deliver_notices(&parent, &[told.clone()])
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .deliver_notices(&parent, &[told])
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.pending_notices(&parent).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_task_end_and_its_notice_are_stored_together_or_not_at_all() {
    for (name, store) in backends() {
        store.create_session(&session("ses_p", None)).await.unwrap();
        store
            .create_session(&session("ses_c", Some("ses_p")))
            .await
            .unwrap();
        let running = task("task_1", "ses_p", "ses_c");
        store.create_task(&running).await.unwrap();
        let mut ended = running.clone();
        ended.status = SessionStatus::Completed;
        ended.result = Some("done".into());
        ended.ended_at = Some(baton_protocol::now());
        store
            .finish_task(&ended, &notice("ntc_1", "ses_p", "task_1"), None)
            .await
            .unwrap();
        let parent = SessionId::from("ses_p");
        assert_eq!(store.pending_notices(&parent).await.unwrap().len(), 1);
        assert_eq!(
            store.get_task(&ended.id).await.unwrap().unwrap(),
            ended,
            "{name}"
        );

        // A second end whose notice collides fails whole: the task keeps
        // its first end.
        let mut again = ended.clone();
        again.status = SessionStatus::Failed;
        assert!(
            store
                .finish_task(&again, &notice("ntc_1", "ses_p", "task_1"), None)
                .await
                .is_err()
        );
        assert_eq!(
            store.get_task(&ended.id).await.unwrap().unwrap().status,
            SessionStatus::Completed,
            "{name}: nothing of the failed end was stored"
        );

        // Taken by a waiting call: stored as delivered, never delivered again.
        store
            .finish_task(
                &ended,
                &notice("ntc_2", "ses_p", "task_1"),
                Some("tool:task_1"),
            )
            .await
            .unwrap();
        let pending = store.pending_notices(&parent).await.unwrap();
        assert_eq!(pending.len(), 1, "{name}");
        let both = [
            notice("ntc_1", "ses_p", "task_1"),
            notice("ntc_2", "ses_p", "task_1"),
        ];
        let delivered = store
            .deliver_notices(&parent, &both)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(delivered.parts.len(), 1, "{name}");
        assert!(
            store
                .deliver_notices(&parent, &both)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_shell_end_and_its_notice_are_one_write() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        let mut shell = ShellRecord {
            id: ShellId::from("sh_1"),
            session_id: SessionId::from("ses_a"),
            command: "sleep 1".into(),
            description: None,
            status: "running".into(),
            exit_code: None,
            pid: Some(1),
            log_path: "/tmp/sh_1.log".into(),
            started_at: baton_protocol::now(),
            ended_at: None,
        };
        store.create_shell(&shell).await.unwrap();
        shell.status = "exited".into();
        shell.exit_code = Some(0);
        shell.ended_at = Some(baton_protocol::now());
        store
            .end_shell(&shell, &notice("ntc_s", "ses_a", "sh_1"))
            .await
            .unwrap();
        let sid = SessionId::from("ses_a");
        let shells = store.list_shells(&sid).await.unwrap();
        assert_eq!(shells[0].status, "exited", "{name}");
        assert_eq!(shells[0].exit_code, Some(0));
        assert_eq!(store.pending_notices(&sid).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn permission_answers_are_kept_once_and_always_grants_hold_in_their_tree() {
    for (name, store) in backends() {
        store
            .create_session(&session("ses_root", None))
            .await
            .unwrap();
        store
            .create_session(&session("ses_kid", Some("ses_root")))
            .await
            .unwrap();
        store
            .create_session(&session("ses_other", None))
            .await
            .unwrap();
        let root = SessionId::from("ses_root");
        let other = SessionId::from("ses_other");
        store
            .add_permission_request(&request("per_1", "ses_kid", "cargo test"), &root)
            .await
            .unwrap();
        store
            .add_permission_request(&request("per_2", "ses_kid", "rm -rf target"), &root)
            .await
            .unwrap();
        store
            .add_permission_request(&request("per_3", "ses_other", "ls"), &other)
            .await
            .unwrap();
        let id = PermissionId::from("per_1");
        assert!(
            store
                .answer_permission_request(&id, &PermissionDecision::AllowAlways.into())
                .await
                .unwrap()
        );
        assert!(
            !store
                .answer_permission_request(&id, &PermissionDecision::Deny.into())
                .await
                .unwrap(),
            "{name}: answered once"
        );
        let two = PermissionId::from("per_2");
        assert!(store.withdraw_permission_request(&two).await.unwrap());
        assert!(
            !store
                .answer_permission_request(&two, &PermissionDecision::AllowAlways.into())
                .await
                .unwrap(),
            "{name}: a withdrawn request cannot be answered"
        );
        store
            .answer_permission_request(
                &PermissionId::from("per_3"),
                &PermissionDecision::AllowOnce.into(),
            )
            .await
            .unwrap();
        assert_eq!(
            store.permission_grants(&root).await.unwrap(),
            vec![("bash".to_owned(), "cargo test".to_owned())],
            "{name}"
        );
        assert!(store.permission_grants(&other).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_denial_keeps_its_reason_for_the_calls_of_its_session() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        store.create_session(&session("ses_b", None)).await.unwrap();
        let (a, b) = (SessionId::from("ses_a"), SessionId::from("ses_b"));
        let asked = |id: &str, session: &str, call: &str| {
            let mut r = request(id, session, "make");
            r.call_id = CallId::from(call);
            r
        };
        for (r, root) in [
            (asked("per_1", "ses_a", "call_1"), &a),
            (asked("per_2", "ses_a", "call_2"), &a),
            (asked("per_3", "ses_a", "call_3"), &a),
            (asked("per_4", "ses_a", "call_4"), &a),
            (asked("per_5", "ses_b", "call_5"), &b),
        ] {
            store.add_permission_request(&r, root).await.unwrap();
        }
        let reason = "not on the shared database; use the local one 🙏";
        let answers = [
            ("per_1", PermissionAnswer::deny_because(reason)),
            ("per_2", PermissionAnswer::AllowOnce),
            ("per_3", PermissionDecision::Deny.into()),
            ("per_5", PermissionAnswer::deny_because("other session")),
        ];
        for (id, answer) in &answers {
            assert!(
                store
                    .answer_permission_request(&PermissionId::from(*id), answer)
                    .await
                    .unwrap(),
                "{name}: {id}"
            );
        }
        // A second answer changes nothing, its reason included.
        assert!(
            !store
                .answer_permission_request(
                    &PermissionId::from("per_3"),
                    &PermissionAnswer::deny_because("changed my mind"),
                )
                .await
                .unwrap(),
            "{name}"
        );
        store
            .withdraw_permission_request(&PermissionId::from("per_4"))
            .await
            .unwrap();
        assert_eq!(
            store.permission_denials(&a).await.unwrap(),
            vec![
                (CallId::from("call_1"), Some(reason.to_owned())),
                (CallId::from("call_3"), None),
            ],
            "{name}: denials of the session, oldest first, with their reasons"
        );
        assert!(
            store
                .permission_denials(&SessionId::from("ses_none"))
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn orphaned_sessions_lose_their_pending_permission_requests() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        let sid = SessionId::from("ses_a");
        store
            .set_status(&sid, SessionStatus::AwaitingPermission)
            .await
            .unwrap();
        store.set_owner(&sid, Some(4_194_999)).await.unwrap();
        store
            .add_permission_request(&request("per_1", "ses_a", "make"), &sid)
            .await
            .unwrap();
        let marked = store
            .mark_orphans_interrupted(Arc::new(|_| false))
            .await
            .unwrap();
        assert_eq!(marked.sessions, vec![sid.clone()], "{name}");
        assert!(
            !store
                .answer_permission_request(
                    &PermissionId::from("per_1"),
                    &PermissionDecision::AllowOnce.into()
                )
                .await
                .unwrap(),
            "{name}: withdrawn with its session"
        );
    }
}

#[tokio::test]
async fn the_last_answer_skips_messages_without_text() {
    for (name, store) in backends() {
        store.create_session(&session("ses_a", None)).await.unwrap();
        let sid = SessionId::from("ses_a");
        assert_eq!(store.last_answer(&sid).await.unwrap(), None, "{name}");
        let say = |role, parts| Message::new(sid.clone(), role, parts);
        store
            .append_message(&say(
                Role::Assistant,
                vec![Part::Text {
                    text: "the answer".into(),
                }],
            ))
            .await
            .unwrap();
        store
            .append_message(&say(
                Role::Assistant,
                vec![
                    Part::Text { text: "  ".into() },
                    Part::ToolCall(ToolCall {
                        call_id: CallId::from("c1"),
                        name: "read".into(),
                        arguments: "{}".into(),
                    }),
                ],
            ))
            .await
            .unwrap();
        store
            .append_message(&say(
                Role::User,
                vec![Part::Text {
                    text: "not the model".into(),
                }],
            ))
            .await
            .unwrap();
        assert_eq!(
            store.last_answer(&sid).await.unwrap().as_deref(),
            Some("the answer"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_tree_holds_every_session_task_shell_and_queued_input_under_its_root() {
    for (name, store) in backends() {
        store.create_session(&session("ses_r", None)).await.unwrap();
        store
            .create_session(&session("ses_c1", Some("ses_r")))
            .await
            .unwrap();
        store
            .create_session(&session("ses_g", Some("ses_c1")))
            .await
            .unwrap();
        store
            .create_session(&session("ses_c2", Some("ses_r")))
            .await
            .unwrap();
        store.create_session(&session("ses_x", None)).await.unwrap();
        store
            .create_task(&task("task_1", "ses_r", "ses_c1"))
            .await
            .unwrap();
        store
            .create_task(&task("task_2", "ses_c1", "ses_g"))
            .await
            .unwrap();
        store
            .create_task(&task("task_3", "ses_r", "ses_c2"))
            .await
            .unwrap();
        store
            .enqueue_input(&input("msg_q", "ses_g", "queued"))
            .await
            .unwrap();
        store
            .enqueue_input(&input("msg_x", "ses_x", "elsewhere"))
            .await
            .unwrap();

        let tree = store
            .tree(&SessionId::from("ses_r"))
            .await
            .unwrap()
            .unwrap();
        let ids: Vec<&str> = tree.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["ses_r", "ses_c1", "ses_g", "ses_c2"], "{name}");
        let tasks: Vec<&str> = tree.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(tasks, ["task_1", "task_2", "task_3"], "{name}");
        assert_eq!(tree.inputs.len(), 1);
        assert_eq!(tree.inputs[0].text, "queued");

        let sub = store
            .tree(&SessionId::from("ses_c1"))
            .await
            .unwrap()
            .unwrap();
        let ids: Vec<&str> = sub.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["ses_c1", "ses_g"], "{name}");
        assert!(
            store
                .tree(&SessionId::from("ses_none"))
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_new_agent_is_stored_with_the_rest_and_frees_the_system_prompt() {
    for (name, store) in backends() {
        store.create_session(&session("ses_p", None)).await.unwrap();
        let sid = SessionId::from("ses_p");
        store.fix_system_prompt(&sid, "as build").await.unwrap();

        // Model and title alone keep the prompt.
        let titled = store
            .update_settings(
                &sid,
                &SettingsChange {
                    title: Some("T".into()),
                    ..SettingsChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (titled.agent.as_str(), titled.title.as_str()),
            ("build", "T"),
            "{name}"
        );
        let kept = store.fix_system_prompt(&sid, "other").await.unwrap();
        assert_eq!(kept, "as build", "{name}");

        let moved = store
            .update_settings(
                &sid,
                &SettingsChange {
                    model: Some("mock/m2".into()),
                    agent: Some("plan".into()),
                    ..SettingsChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (
                moved.agent.as_str(),
                moved.model.as_str(),
                moved.title.as_str()
            ),
            ("plan", "mock/m2", "T"),
            "{name}"
        );
        assert_eq!(
            store.get_session(&sid).await.unwrap().unwrap(),
            moved,
            "{name}"
        );
        let fixed = store.fix_system_prompt(&sid, "as plan").await.unwrap();
        assert_eq!(
            fixed, "as plan",
            "{name}: the new agent's prompt is fixed anew"
        );

        let ghost = store
            .update_settings(
                &SessionId::from("ses_none"),
                &SettingsChange {
                    agent: Some("plan".into()),
                    ..SettingsChange::default()
                },
            )
            .await;
        assert!(ghost.is_err(), "{name}: an unknown session is an error");
    }
}

#[tokio::test]
async fn a_system_prompt_is_fixed_once_and_new_parts_and_reasoning_usage_round_trip() {
    for (name, store) in backends() {
        store.create_session(&session("ses_p", None)).await.unwrap();
        let sid = SessionId::from("ses_p");
        let first = store.fix_system_prompt(&sid, "prompt one").await.unwrap();
        assert_eq!(first, "prompt one", "{name}");
        let again = store.fix_system_prompt(&sid, "prompt two").await.unwrap();
        assert_eq!(again, "prompt one", "{name}: the first prompt stays");
        let unknown = store
            .fix_system_prompt(&SessionId::from("ses_none"), "x")
            .await;
        assert!(unknown.is_err(), "{name}: an unknown session is an error");

        let parts = vec![
            Part::Reasoning {
                text: "thinking".into(),
                signature: Some("sig".into()),
                data: None,
                item_id: None,
                origin: "anthropic".into(),
            },
            Part::Text {
                text: "answer".into(),
            },
        ];
        let mut answer = Message::new(sid.clone(), Role::Assistant, parts);
        answer.usage = Some(Usage {
            input_tokens: 10,
            output_tokens: 7,
            reasoning_tokens: 5,
            ..Usage::default()
        });
        store.append_message(&answer).await.unwrap();
        let compaction = Message::new(
            sid.clone(),
            Role::User,
            vec![Part::Compaction(baton_protocol::Compaction {
                summary: "s".into(),
                first_kept: Some(answer.id.clone()),
                summarized: 3,
                tokens_before: 100,
                tokens_after: 10,
                trigger: "auto".into(),
            })],
        );
        store.append_message(&compaction).await.unwrap();
        let messages = store.messages(&sid).await.unwrap();
        assert_eq!(messages, vec![answer, compaction], "{name}");
        let record = store.get_session(&sid).await.unwrap().unwrap();
        assert_eq!(record.usage.reasoning_tokens, 5, "{name}");
    }
}

#[tokio::test]
async fn a_sessions_reasoning_effort_and_sandbox_mode_round_trip() {
    for (name, store) in backends() {
        store.create_session(&session("ses_r", None)).await.unwrap();
        let plain = store
            .get_session(&SessionId::from("ses_r"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(plain.sandbox, None, "{name}: nothing stored, nothing read");
        for (id, mode) in [
            ("ses_ro", SandboxMode::ReadOnly),
            ("ses_ww", SandboxMode::WorkspaceWrite),
            ("ses_off", SandboxMode::Off),
        ] {
            let mut child = session(id, Some("ses_r"));
            child.sandbox = Some(mode);
            child.reasoning_effort = Some(ReasoningEffort::High);
            store.create_session(&child).await.unwrap();
            let read = store
                .get_session(&SessionId::from(id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(read, child, "{name}: {mode}");
        }
    }
}
