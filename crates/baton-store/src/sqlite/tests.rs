use super::*;
use baton_protocol::{CallId, NoticeKind, ToolCall};

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
    }
}

#[test]
fn sessions_round_trip_and_list_by_cwd_and_parent() {
    let store = SqliteStore::in_memory().unwrap();
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
    let store = SqliteStore::in_memory().unwrap();
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
    let store = SqliteStore::in_memory().unwrap();
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
    let store = SqliteStore::in_memory().unwrap();
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
fn prefixes_resolve_when_unique() {
    let store = SqliteStore::in_memory().unwrap();
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
    let store = SqliteStore::in_memory().unwrap();
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
    assert_eq!(marked, vec![SessionId::from("ses_dead")]);
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
        let store = SqliteStore::open(&path).unwrap();
        store.create_session(&session("ses_a", None, "/p")).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
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
        SqliteStore::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}
