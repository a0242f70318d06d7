use super::*;
use crate::{NoticeRecord, ShellRecord, TaskRecord};
use baton_protocol::{CallId, NoticeId, NoticeKind, TaskId, ToolCall};

fn session(id: &str, parent: Option<&str>, cwd: &str) -> SessionRecord {
    let now = baton_protocol::now();
    SessionRecord {
        id: SessionId::from(id),
        parent_id: parent.map(SessionId::from),
        agent: "build".into(),
        model: "mock/m".into(),
        title: String::new(),
        cwd: cwd.into(),
        status: SessionStatus::Idle,
        created_at: now,
        updated_at: now,
        usage: Usage::default(),
        tool_calls: 0,
        reasoning_effort: None,
        sandbox: None,
    }
}

#[test]
fn sessions_round_trip_and_list_by_cwd_and_parent() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_a", None, "/p")).unwrap();
    store
        .create_session(&session("ses_b", Some("ses_a"), "/p"))
        .unwrap();
    store.create_session(&session("ses_c", None, "/q")).unwrap();

    let a = store
        .get_session(&SessionId::from("ses_a"))
        .unwrap()
        .unwrap();
    assert_eq!(a.agent, "build");
    assert!(
        store
            .get_session(&SessionId::from("nope"))
            .unwrap()
            .is_none()
    );

    let roots_in_p = store
        .list_sessions(&SessionQuery {
            cwd: Some("/p".into()),
            roots_only: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(roots_in_p.len(), 1);
    let children = store
        .list_sessions(&SessionQuery {
            parent: Some(SessionId::from("ses_a")),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(children[0].id.as_str(), "ses_b");
}

#[test]
fn messages_keep_parts_in_order() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_a", None, "/p")).unwrap();
    let sid = SessionId::from("ses_a");
    let m1 = Message::new(
        sid.clone(),
        Role::User,
        vec![Part::Text { text: "hi".into() }],
    );
    let mut m2 = Message::new(
        sid.clone(),
        Role::Assistant,
        vec![
            Part::Text {
                text: "reading".into(),
            },
            Part::ToolCall(ToolCall {
                call_id: CallId::from("c1"),
                name: "read".into(),
                arguments: r#"{"path":"a"}"#.into(),
            }),
        ],
    );
    m2.model = Some("mock/m".into());
    m2.usage = Some(Usage {
        input_tokens: 3,
        ..Usage::default()
    });
    let m3 = Message::new(
        sid.clone(),
        Role::Tool,
        vec![Part::ToolResult {
            call_id: CallId::from("c1"),
            name: "read".into(),
            output: "x".into(),
            is_error: false,
            images: Vec::new(),
        }],
    );
    let m4 = Message::new(
        sid.clone(),
        Role::User,
        vec![Part::Notice {
            kind: NoticeKind::System,
            source_id: "s".into(),
            text: "n".into(),
        }],
    );
    for m in [&m1, &m2, &m3, &m4] {
        store.append_message(m).unwrap();
    }
    let back = store.messages(&sid).unwrap();
    assert_eq!(back, vec![m1, m2, m3, m4]);
}

#[test]
fn a_message_for_an_unknown_session_is_refused_and_leaves_nothing() {
    let store = SqliteDb::in_memory().unwrap();
    let m = Message::new(SessionId::from("ghost"), Role::User, vec![]);
    assert!(store.append_message(&m).is_err());
    assert!(
        store
            .messages(&SessionId::from("ghost"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn usage_totals_include_descendants() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_a", None, "/p")).unwrap();
    store
        .create_session(&session("ses_b", Some("ses_a"), "/p"))
        .unwrap();
    store
        .create_session(&session("ses_c", Some("ses_b"), "/p"))
        .unwrap();
    store.create_session(&session("ses_x", None, "/p")).unwrap();
    let u = |n| Usage {
        input_tokens: n,
        output_tokens: 1,
        cost_usd: 0.5,
        ..Usage::default()
    };
    for (id, n) in [("ses_a", 1), ("ses_b", 10), ("ses_c", 100), ("ses_x", 1000)] {
        store.add_usage(&SessionId::from(id), &u(n)).unwrap();
    }
    let total = store
        .usage_with_descendants(&SessionId::from("ses_a"))
        .unwrap();
    assert_eq!(total.input_tokens, 111);
    assert_eq!(total.output_tokens, 3);
    assert!((total.cost_usd - 1.5).abs() < 1e-9);
    let b = store
        .usage_with_descendants(&SessionId::from("ses_b"))
        .unwrap();
    assert_eq!(b.input_tokens, 110);
}

#[test]
fn descendants_cover_the_whole_tree_below_and_nothing_else() {
    let store = SqliteDb::in_memory().unwrap();
    for (id, parent) in [
        ("ses_a", None),
        ("ses_b", Some("ses_a")),
        ("ses_c", Some("ses_b")),
        ("ses_d", Some("ses_a")),
        ("ses_x", None),
        ("ses_y", Some("ses_x")),
    ] {
        store.create_session(&session(id, parent, "/p")).unwrap();
    }
    let ids = |id: &str| -> Vec<String> {
        store
            .descendants(&SessionId::from(id))
            .unwrap()
            .into_iter()
            .map(|s| s.0)
            .collect()
    };
    assert_eq!(ids("ses_a"), ["ses_b", "ses_c", "ses_d"]);
    assert_eq!(ids("ses_b"), ["ses_c"]);
    assert!(ids("ses_c").is_empty());
    assert!(ids("ses_nope").is_empty());
}

#[test]
fn prefixes_resolve_when_unique() {
    let store = SqliteDb::in_memory().unwrap();
    store
        .create_session(&session("ses_abc1", None, "/p"))
        .unwrap();
    store
        .create_session(&session("ses_abc2", None, "/p"))
        .unwrap();
    assert_eq!(
        store.resolve_session_id("ses_abc1").unwrap().as_str(),
        "ses_abc1"
    );
    assert!(matches!(
        store.resolve_session_id("ses_abc"),
        Err(StoreError::Ambiguous { count: 2, .. })
    ));
    assert!(matches!(
        store.resolve_session_id("ses_zz"),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.resolve_session_id("").is_err());
}

#[test]
fn orphaned_running_sessions_become_interrupted() {
    let store = SqliteDb::in_memory().unwrap();
    for id in ["ses_dead", "ses_live", "ses_idle"] {
        store.create_session(&session(id, None, "/p")).unwrap();
    }
    store
        .set_status(&SessionId::from("ses_dead"), SessionStatus::Running)
        .unwrap();
    store
        .set_owner(&SessionId::from("ses_dead"), Some(1))
        .unwrap();
    store
        .set_status(&SessionId::from("ses_live"), SessionStatus::Running)
        .unwrap();
    store
        .set_owner(&SessionId::from("ses_live"), Some(2))
        .unwrap();
    let marked = store.mark_orphans_interrupted(&|pid| pid == 2).unwrap();
    assert_eq!(marked.sessions, vec![SessionId::from("ses_dead")]);
    let dead = store
        .get_session(&SessionId::from("ses_dead"))
        .unwrap()
        .unwrap();
    assert_eq!(dead.status, SessionStatus::Interrupted);
    let idle = store
        .get_session(&SessionId::from("ses_idle"))
        .unwrap()
        .unwrap();
    assert_eq!(idle.status, SessionStatus::Idle);
}

#[test]
fn reopening_a_file_keeps_data_and_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/baton.db");
    {
        let store = SqliteDb::open(&path).unwrap();
        store.create_session(&session("ses_a", None, "/p")).unwrap();
    }
    let store = SqliteDb::open(&path).unwrap();
    assert!(
        store
            .get_session(&SessionId::from("ses_a"))
            .unwrap()
            .is_some()
    );
    let version: i64 = store
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, crate::migrations::LATEST);
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(matches!(
        SqliteDb::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
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
        started_at: Some(baton_protocol::now()),
        ended_at: None,
        result: None,
        files: Vec::new(),
        worktree: None,
        name: None,
        after: Vec::new(),
        budget: Default::default(),
    }
}

#[test]
fn tasks_round_trip_and_list_by_parent_and_child() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_p", None, "/p")).unwrap();
    store
        .create_session(&session("ses_c1", Some("ses_p"), "/p"))
        .unwrap();
    store
        .create_session(&session("ses_c2", Some("ses_p"), "/p"))
        .unwrap();
    let mut t1 = task("task_1", "ses_p", "ses_c1");
    store.create_task(&t1).unwrap();
    store
        .create_task(&task("task_2", "ses_p", "ses_c2"))
        .unwrap();
    t1.status = SessionStatus::Completed;
    t1.result = Some("all good".into());
    t1.ended_at = Some(baton_protocol::now());
    t1.files = vec!["src/**".into(), "Cargo.toml".into()];
    t1.worktree = Some(crate::WorktreeRecord {
        repo_root: "/r".into(),
        path: "/h/worktrees/task_1".into(),
        branch: "baton/task-task_1".into(),
        base: "abc123".into(),
    });
    store.update_task(&t1).unwrap();
    assert_eq!(
        store.get_task(&TaskId::from("task_1")).unwrap().unwrap(),
        t1
    );
    let listed = store.list_tasks(&SessionId::from("ses_p")).unwrap();
    assert_eq!(listed.len(), 2);
}

#[test]
fn notices_are_delivered_exactly_once() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_p", None, "/p")).unwrap();
    store
        .create_session(&session("ses_c", Some("ses_p"), "/p"))
        .unwrap();
    let ended = task("task_1", "ses_p", "ses_c");
    store.create_task(&ended).unwrap();
    let notice = |id: &str| NoticeRecord {
        id: NoticeId::from(id),
        session_id: SessionId::from("ses_p"),
        kind: NoticeKind::Task,
        source_id: "task_1".into(),
        text: format!("notice {id}"),
        created_at: baton_protocol::now(),
    };
    store.finish_task(&ended, &notice("ntc_1"), None).unwrap();
    store.finish_task(&ended, &notice("ntc_2"), None).unwrap();
    assert_eq!(
        store
            .pending_notices(&SessionId::from("ses_p"))
            .unwrap()
            .len(),
        2
    );
    // Taken by a waiting call: stored as delivered at once.
    store
        .finish_task(&ended, &notice("ntc_3"), Some("tool:task_1"))
        .unwrap();
    assert_eq!(
        store
            .pending_notices(&SessionId::from("ses_p"))
            .unwrap()
            .len(),
        2
    );

    let all = [notice("ntc_1"), notice("ntc_2"), notice("ntc_3")];
    let sid = SessionId::from("ses_p");
    let msg = store.deliver_notices(&sid, &all).unwrap().unwrap();
    assert_eq!(
        msg.parts.len(),
        2,
        "the consumed one is not delivered again"
    );
    assert!(store.pending_notices(&sid).unwrap().is_empty());
    assert_eq!(store.messages(&sid).unwrap(), vec![msg]);
    assert!(
        store.deliver_notices(&sid, &all).unwrap().is_none(),
        "never twice"
    );
    assert_eq!(store.messages(&sid).unwrap().len(), 1);
}

#[test]
fn orphaned_tasks_and_shells_become_interrupted() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_p", None, "/p")).unwrap();
    store
        .create_session(&session("ses_c", Some("ses_p"), "/p"))
        .unwrap();
    store
        .set_status(&SessionId::from("ses_c"), SessionStatus::Running)
        .unwrap();
    store
        .create_task(&task("task_1", "ses_p", "ses_c"))
        .unwrap();
    let shell = ShellRecord {
        id: baton_protocol::ShellId::from("sh_1"),
        session_id: SessionId::from("ses_c"),
        command: "sleep 100".into(),
        description: None,
        status: "running".into(),
        exit_code: None,
        pid: Some(42),
        log_path: "/tmp/sh_1.log".into(),
        started_at: baton_protocol::now(),
        ended_at: None,
    };
    store.create_shell(&shell).unwrap();
    // Nothing is alive: the owner of all of it is gone.
    let marked = store.mark_orphans_interrupted(&|_| false).unwrap();
    assert_eq!(marked.shell_groups, vec![42], "its group is left to kill");
    let t = store.get_task(&TaskId::from("task_1")).unwrap().unwrap();
    assert_eq!(t.status, SessionStatus::Interrupted);
    let shells = store.list_shells(&SessionId::from("ses_c")).unwrap();
    assert_eq!(shells[0].status, "interrupted");
    assert!(shells[0].ended_at.is_some());
}

#[test]
fn tool_calls_and_usage_follow_the_messages_and_add_up_over_the_tree() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_p", None, "/p")).unwrap();
    store
        .create_session(&session("ses_c", Some("ses_p"), "/p"))
        .unwrap();
    let results = |id: &str, n: usize| {
        let parts = (0..n)
            .map(|i| Part::ToolResult {
                call_id: CallId::from(format!("c{i}").as_str()),
                name: "read".into(),
                output: "ok".into(),
                is_error: false,
                images: Vec::new(),
            })
            .collect();
        Message::new(SessionId::from(id), Role::Tool, parts)
    };
    store.append_message(&results("ses_p", 2)).unwrap();
    store.append_message(&results("ses_c", 3)).unwrap();
    let mut answer = Message::new(
        SessionId::from("ses_c"),
        Role::Assistant,
        vec![Part::Text { text: "hi".into() }],
    );
    answer.usage = Some(Usage {
        input_tokens: 7,
        ..Usage::default()
    });
    store.append_message(&answer).unwrap();
    assert_eq!(
        store
            .usage_with_descendants(&SessionId::from("ses_p"))
            .unwrap()
            .input_tokens,
        7
    );
    assert_eq!(
        store
            .tool_calls_with_descendants(&SessionId::from("ses_p"))
            .unwrap(),
        5
    );
    assert_eq!(
        store
            .tool_calls_with_descendants(&SessionId::from("ses_c"))
            .unwrap(),
        3
    );
}

fn change(model: Option<&str>, title: Option<&str>) -> SettingsChange {
    SettingsChange {
        model: model.map(str::to_owned),
        title: title.map(str::to_owned),
        agent: None,
    }
}

#[test]
fn settings_change_model_and_title_together_and_unknown_sessions_change_nothing() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_a", None, "/p")).unwrap();
    let id = SessionId::from("ses_a");
    let before = store.get_session(&id).unwrap().unwrap();

    let changed = store
        .update_settings(&id, &change(Some("other/big"), Some("Refactor")))
        .unwrap();
    assert_eq!(changed.model, "other/big");
    assert_eq!(changed.title, "Refactor");
    assert!(changed.updated_at >= before.updated_at);
    assert_eq!(store.get_session(&id).unwrap().unwrap(), changed);

    // One field at a time leaves the other alone.
    let titled = store
        .update_settings(&id, &change(None, Some("Renamed")))
        .unwrap();
    assert_eq!(
        (titled.model.as_str(), titled.title.as_str()),
        ("other/big", "Renamed")
    );
    let moved = store
        .update_settings(&id, &change(Some("mock/m"), None))
        .unwrap();
    assert_eq!(
        (moved.model.as_str(), moved.title.as_str()),
        ("mock/m", "Renamed")
    );

    let ghost = SessionId::from("ghost");
    assert!(matches!(
        store.update_settings(&ghost, &change(Some("x/y"), Some("t"))),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.get_session(&ghost).unwrap().is_none());
    assert_eq!(store.get_session(&id).unwrap().unwrap(), moved);
}

#[test]
fn a_made_up_title_never_replaces_a_chosen_one() {
    let store = SqliteDb::in_memory().unwrap();
    store.create_session(&session("ses_a", None, "/p")).unwrap();
    let id = SessionId::from("ses_a");
    assert!(
        store
            .set_title_if_empty(&id, "from the first message")
            .unwrap()
    );
    assert!(!store.set_title_if_empty(&id, "from another").unwrap());
    assert_eq!(
        store.get_session(&id).unwrap().unwrap().title,
        "from the first message"
    );
    store
        .update_settings(&id, &change(None, Some("chosen")))
        .unwrap();
    assert!(!store.set_title_if_empty(&id, "made up").unwrap());
    assert_eq!(store.get_session(&id).unwrap().unwrap().title, "chosen");
}

#[test]
fn a_request_asked_before_reasons_existed_is_answered_with_one_after_the_upgrade() {
    // Version 6: the schema before a denial could carry a reason (the 7th
    // migration adds it; later ones follow).
    assert!(crate::migrations::MIGRATIONS.len() > 6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in &crate::migrations::MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute(
            "INSERT INTO sessions (id, agent, model, cwd, status, created_at, updated_at) \
             VALUES ('ses_a', 'build', 'mock/m', '/p', 'awaiting_permission', 't', 't')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO permission_requests (id, session_id, root_id, agent, tool, call_id, \
             detail, pattern, created_at) VALUES ('per_1', 'ses_a', 'ses_a', 'build', 'bash', \
             'call_1', 'make', 'make', 't')",
            [],
        )
        .unwrap();
    }
    let store = SqliteDb::open(&path).unwrap();
    let answer = baton_protocol::PermissionAnswer::deny_because("not now");
    assert!(
        store
            .answer_permission_request(&baton_protocol::PermissionId::from("per_1"), &answer)
            .unwrap()
    );
    assert_eq!(
        store.permission_denials(&SessionId::from("ses_a")).unwrap(),
        vec![(CallId::from("call_1"), Some("not now".to_owned()))]
    );
}
