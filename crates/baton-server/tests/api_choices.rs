//! What a front end offers to choose from (`GET /v1/agents`,
//! `GET /v1/models`) and changing a session's model or title
//! (`PATCH /v1/sessions/{id}`), over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_core::Config;
use baton_protocol::EventKind;
use baton_protocol::api::{AgentView, ModelView, SessionView};
use common::*;
use serde_json::{Value, json};

/// Each model says who it is.
const WHO_ANSWERS: &str = r#"
[[rules]]
name = "on-m2"
[rules.when]
model = "^m2$"
[rules.reply]
text = "answered by m2"

[[rules]]
name = "on-m"
[rules.when]
model = "^m$"
[rules.reply]
text = "answered by m"
"#;

fn aliases(c: &mut Config) {
    c.aliases.insert("big".into(), "mock/m2".into());
    c.aliases.insert("gone".into(), "nowhere/x".into());
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_models_are_listed() {
    let s = start(WHO_ANSWERS, aliases, |_| {}).await;
    let agents: Vec<AgentView> = serde_json::from_value(s.get_json("/v1/agents").await).unwrap();
    assert_eq!(agents, s.engine.agent_views());
    let build = agents.iter().find(|a| a.name == "build").unwrap();
    assert_eq!(
        (build.mode.as_str(), build.source.as_str()),
        ("primary", "built-in")
    );
    assert!(agents.iter().any(|a| a.mode == "subagent"));

    let models: Vec<ModelView> = serde_json::from_value(s.get_json("/v1/models").await).unwrap();
    assert_eq!(models, s.engine.models());
    let ids: Vec<(&str, bool, Vec<String>)> = models
        .iter()
        .map(|m| (m.id.as_str(), m.is_default, m.aliases.clone()))
        .collect();
    assert_eq!(
        ids,
        [
            ("mock/m", true, vec![]),
            ("mock/m2", false, vec!["big".to_owned()]),
        ],
        "the default first; `nowhere` is no configured provider"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_changes_the_model_of_the_next_call_and_the_title() {
    let s = start(WHO_ANSWERS, aliases, |_| {}).await;
    let id = s.create_session().await;
    let mut sse = s.events(&format!("?session={id}"), None).await;
    s.say(&id, "first").await;
    sse.until("the first quiet", |e| is_type(e, "session.quiet"))
        .await;

    let response = s
        .patch(&format!("/v1/sessions/{id}"), json!({"model": "big"}))
        .await;
    assert_eq!(response.status(), 200);
    let view: SessionView = response.json().await.unwrap();
    assert_eq!(
        (
            view.model.as_str(),
            view.provider.as_str(),
            view.title.as_str()
        ),
        ("mock/m2", "mock", "first")
    );
    assert_eq!(
        s.get_json(&format!("/v1/sessions/{id}")).await,
        serde_json::to_value(&view).unwrap()
    );
    let updated = sse
        .until("session.updated", |e| is_type(e, "session.updated"))
        .await;
    assert_eq!(
        updated.kind,
        EventKind::SessionUpdated {
            agent: "build".into(),
            model: "mock/m2".into(),
            title: Some("first".into()),
        }
    );

    let seq = s.say(&id, "second").await;
    sse.until("the second quiet", |e| {
        e.seq > seq && is_type(e, "session.quiet")
    })
    .await;
    let models: Vec<Value> = s
        .mock
        .requests()
        .iter()
        .map(|r| r.body["model"].clone())
        .collect();
    assert_eq!(models, [json!("m"), json!("m2")]);
    let messages = s.get_json(&format!("/v1/sessions/{id}/messages")).await;
    let last = messages.as_array().unwrap().last().unwrap();
    assert_eq!(last["model"], "mock/m2");

    let response = s
        .patch(
            &format!("/v1/sessions/{id}"),
            json!({"title": "Renamed", "model": "mock/m"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let view: SessionView = response.json().await.unwrap();
    assert_eq!(
        (view.model.as_str(), view.title.as_str()),
        ("mock/m", "Renamed")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_patches_are_refused_and_change_nothing() {
    let s = start(WHO_ANSWERS, aliases, |_| {}).await;
    let id = s.create_session().await;
    let path = format!("/v1/sessions/{id}");
    let before = s.get_json(&path).await;
    let last_seq = s.engine.last_seq();

    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        (
            "nothing to change",
            s.patch(&path, json!({})).await,
            400,
            "nothing to change",
        ),
        (
            "unconfigured provider",
            s.patch(&path, json!({"model": "nowhere/x"})).await,
            400,
            "not configured",
        ),
        (
            "alias to an unconfigured provider",
            s.patch(&path, json!({"model": "gone"})).await,
            400,
            "not configured",
        ),
        (
            "not provider/model",
            s.patch(&path, json!({"model": "m2"})).await,
            400,
            "bad model",
        ),
        (
            "empty title",
            s.patch(&path, json!({"title": "  "})).await,
            400,
            "`title` is empty",
        ),
        (
            "good model, empty title",
            s.patch(&path, json!({"model": "big", "title": ""})).await,
            400,
            "`title` is empty",
        ),
        (
            "unknown field",
            s.patch(&path, json!({"cwd": "/tmp"})).await,
            400,
            "unknown field `cwd`",
        ),
        (
            "unknown agent",
            s.patch(&path, json!({"agent": "nobody"})).await,
            400,
            "unknown agent `nobody`",
        ),
        (
            "a sub-agent",
            s.patch(&path, json!({"agent": "explore"})).await,
            400,
            "is a sub-agent",
        ),
        (
            "wrong type",
            s.patch(&path, json!({"model": 5})).await,
            400,
            "invalid type",
        ),
        (
            "no content type",
            s.http
                .patch(s.url(&path))
                .bearer_auth(TOKEN)
                .body(r#"{"model": "big"}"#)
                .send()
                .await
                .unwrap(),
            400,
            "Content-Type",
        ),
        (
            "unknown session",
            s.patch("/v1/sessions/ses_nobody", json!({"model": "big"}))
                .await,
            404,
            "no session `ses_nobody`",
        ),
        (
            "no token",
            s.http
                .patch(s.url(&path))
                .json(&json!({"model": "big"}))
                .send()
                .await
                .unwrap(),
            401,
            "Authorization",
        ),
    ];
    for (what, response, status, needle) in cases {
        let (got, error) = error_of(response).await;
        assert_eq!(got, status, "{what}: {error}");
        assert!(error.contains(needle), "{what}: `{error}` lacks `{needle}`");
    }
    assert_eq!(s.get_json(&path).await, before);
    assert_eq!(s.engine.last_seq(), last_seq, "nothing was announced");
    s.stop().await;
}

/// "wait" runs a command that waits for the file `gate`; anything else
/// is answered at once.
const GATED: &str = r#"
[[rules]]
name = "waits"
[rules.when]
last_user = "^wait$"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "ok"
[rules.reply]
text = "ok"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_change_waits_for_the_session_to_be_idle() {
    let s = start(GATED, |_| {}, |_| {}).await;
    let id = s.create_session().await;
    let path = format!("/v1/sessions/{id}");
    let mut sse = s.events(&format!("?session={id}"), None).await;
    s.say(&id, "wait").await;
    sse.until("the command", |e| is_type(e, "tool.started"))
        .await;
    let (status, error) = error_of(s.patch(&path, json!({"agent": "plan"})).await).await;
    assert_eq!(status, 409, "{error}");
    assert!(error.contains("is working"), "{error}");
    assert_eq!(s.get_json(&path).await["agent"], "build");

    s.touch("gate");
    sse.until("quiet", |e| is_type(e, "session.quiet")).await;
    let changed = s.patch(&path, json!({"agent": "plan"})).await;
    assert_eq!(changed.status(), 200);
    let view: Value = changed.json().await.unwrap();
    assert_eq!(view["agent"], "plan");
    let updated = sse
        .until("session.updated", |e| is_type(e, "session.updated"))
        .await;
    assert!(
        matches!(&updated.kind, EventKind::SessionUpdated { agent, .. } if agent == "plan"),
        "{updated:?}"
    );
    s.stop().await;
}
