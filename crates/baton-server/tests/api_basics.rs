//! The API's edges over real HTTP: authentication, refused requests (and
//! that they change nothing), limits, unknown routes, CORS, the OpenAPI
//! document against the routes actually served, and graceful shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// What the engine holds, to check that refused requests changed nothing.
async fn snapshot(s: &Server, session: Option<&str>) -> (Value, Option<Value>, u64) {
    let sessions = s.get_json("/v1/sessions").await;
    let messages = match session {
        Some(id) => Some(s.get_json(&format!("/v1/sessions/{id}/messages")).await),
        None => None,
    };
    (sessions, messages, s.engine.last_seq())
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "errors are JSON"
    );
    let body: Value = response.json().await.unwrap();
    let error = body["error"].as_str().unwrap_or_else(|| panic!("{body}"));
    assert!(!error.is_empty());
    (status, error.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_v1_route_needs_the_token_and_the_document_does_not() {
    let s = start_plain().await;
    let before = snapshot(&s, None).await;
    let routes = [
        ("GET", "/v1/sessions"),
        ("POST", "/v1/sessions"),
        ("GET", "/v1/sessions/ses_x/messages"),
        ("POST", "/v1/sessions/ses_x/messages"),
        ("GET", "/v1/events"),
        ("GET", "/v1/permissions"),
        ("POST", "/v1/permissions/perm_x"),
        ("GET", "/v1/agents"),
        ("GET", "/v1/models"),
        ("PATCH", "/v1/sessions/ses_x"),
        ("GET", "/v1/no/such/route"),
    ];
    for (method, path) in routes {
        let request = |auth: Option<&str>| {
            let mut r = s
                .http
                .request(method.parse().unwrap(), s.url(path))
                .header("content-type", "application/json")
                .body(r#"{"text":"hi"}"#);
            if let Some(value) = auth {
                r = r.header("authorization", value);
            }
            r
        };
        for auth in [
            None,
            Some("Bearer wrong-token"),
            Some(&*format!("Bearer {TOKEN}x")),
            Some(&*format!("Basic {TOKEN}")),
            Some(TOKEN),
        ] {
            let response = request(auth).send().await.unwrap();
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer",
                "{method} {path} with {auth:?}"
            );
            let (status, error) = error_of(response).await;
            assert_eq!(status, 401, "{method} {path} with {auth:?}: {error}");
            if auth.is_none() {
                assert!(error.contains("Authorization"), "{error}");
            }
        }
    }
    // Refused requests did nothing.
    assert_eq!(snapshot(&s, None).await, before);
    assert_eq!(before.0, json!([]));

    let doc = s.http.get(s.url("/openapi.json")).send().await.unwrap();
    assert_eq!(doc.status(), 200);
    let doc: Value = doc.json().await.unwrap();
    assert_eq!(doc["info"]["title"], "baton API");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_json_errors_and_change_nothing() {
    let s = start(ANSWER_OK, |_| {}, |c| c.body_limit = 512).await;
    let id = s.create_session().await;
    let before = snapshot(&s, Some(id.as_str())).await;
    let messages = format!("/v1/sessions/{id}/messages");
    let json_ct = Some("application/json");

    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        (
            "malformed JSON",
            s.post_raw(&messages, r#"{"text": "#, json_ct).await,
            400,
            "JSON",
        ),
        (
            "unknown field",
            s.post(&messages, json!({"text": "hi", "urgent": true}))
                .await,
            400,
            "unknown field `urgent`",
        ),
        (
            "wrong type",
            s.post(&messages, json!({"text": 5})).await,
            400,
            "invalid type",
        ),
        (
            "missing field",
            s.post(&messages, json!({})).await,
            400,
            "missing field `text`",
        ),
        (
            "no content type",
            s.post_raw(&messages, r#"{"text": "hi"}"#, None).await,
            400,
            "Content-Type",
        ),
        (
            "empty text",
            s.post(&messages, json!({"text": " \n\t"})).await,
            400,
            "empty",
        ),
        (
            "bad decision",
            s.post("/v1/permissions/perm_x", json!({"decision": "maybe"}))
                .await,
            400,
            "unknown variant `maybe`",
        ),
        (
            "a reason with an allow",
            s.post(
                "/v1/permissions/perm_x",
                json!({"decision": "allow_once", "reason": "sure"}),
            )
            .await,
            400,
            "`reason` goes only with `deny`",
        ),
        (
            "an empty reason",
            s.post(
                "/v1/permissions/perm_x",
                json!({"decision": "deny", "reason": " "}),
            )
            .await,
            400,
            "`reason` is empty",
        ),
        (
            "session with a wrong type",
            s.post("/v1/sessions", json!({"agent": 3})).await,
            400,
            "invalid type",
        ),
        (
            "session with an unknown field",
            s.post("/v1/sessions", json!({"colour": "red"})).await,
            400,
            "unknown field `colour`",
        ),
        (
            "session without JSON content type",
            s.post_raw("/v1/sessions", "agent=build", None).await,
            400,
            "Content-Type",
        ),
        (
            "session in a missing directory",
            s.post("/v1/sessions", json!({"cwd": "/no/such/dir/anywhere"}))
                .await,
            400,
            "not usable",
        ),
        (
            "session with an unknown agent",
            s.post("/v1/sessions", json!({"agent": "nobody"})).await,
            400,
            "unknown agent",
        ),
        (
            "message over the body limit",
            s.post(&messages, json!({"text": "x".repeat(2048)})).await,
            413,
            "length limit",
        ),
        (
            "session body over the limit",
            s.post_raw(
                "/v1/sessions",
                format!(r#"{{"title": "{}"}}"#, "t".repeat(2048)),
                json_ct,
            )
            .await,
            413,
            "length limit",
        ),
        (
            "bad query value",
            s.get("/v1/sessions?limit=many").await,
            400,
            "limit",
        ),
        (
            "a limit past i64",
            s.get("/v1/sessions?limit=99999999999999999999").await,
            400,
            "limit",
        ),
        (
            "a limit past what the server takes",
            s.get("/v1/sessions?limit=9223372036854775808").await,
            400,
            "limit",
        ),
        (
            "a negative limit",
            s.get("/v1/sessions?limit=-1").await,
            400,
            "limit",
        ),
        (
            "unknown query parameter",
            s.get("/v1/sessions?colour=red").await,
            400,
            "colour",
        ),
        (
            "limit past i64",
            s.get("/v1/sessions?limit=9223372036854775808").await,
            400,
            "`limit` must be a whole number from 0 to 9223372036854775807, not `9223372036854775808`",
        ),
        (
            "limit past u64",
            s.get("/v1/sessions?limit=99999999999999999999").await,
            400,
            "not `99999999999999999999`",
        ),
        (
            "negative limit",
            s.get("/v1/sessions?limit=-1").await,
            400,
            "`limit` must be a whole number",
        ),
        (
            "empty limit",
            s.get("/v1/sessions?limit=").await,
            400,
            "`limit` must be a whole number",
        ),
        (
            "shells with an unknown query parameter",
            s.get("/v1/shells?colour=red").await,
            400,
            "colour",
        ),
        (
            "after past u64",
            s.get("/v1/events?after=99999999999999999999").await,
            400,
            "`after` must be the `seq` of an event (a whole number from 0 to 18446744073709551615), not `99999999999999999999`",
        ),
        (
            "negative after",
            s.get("/v1/events?after=-1").await,
            400,
            "`after` must be the `seq`",
        ),
        (
            "bad after beside a good Last-Event-ID",
            s.http
                .get(s.url("/v1/events?after=soon"))
                .bearer_auth(TOKEN)
                .header("last-event-id", "0")
                .send()
                .await
                .unwrap(),
            400,
            "not `soon`",
        ),
        (
            "Last-Event-ID past u64",
            s.http
                .get(s.url("/v1/events"))
                .bearer_auth(TOKEN)
                .header("last-event-id", "18446744073709551616")
                .send()
                .await
                .unwrap(),
            400,
            "Last-Event-ID must be the `seq` of an event",
        ),
        (
            "Last-Event-ID not UTF-8",
            s.http
                .get(s.url("/v1/events"))
                .bearer_auth(TOKEN)
                .header(
                    "last-event-id",
                    reqwest::header::HeaderValue::from_bytes(b"1\xff").unwrap(),
                )
                .send()
                .await
                .unwrap(),
            400,
            "Last-Event-ID must be the `seq` of an event",
        ),
        (
            "empty Last-Event-ID",
            s.http
                .get(s.url("/v1/events"))
                .bearer_auth(TOKEN)
                .header("last-event-id", "")
                .send()
                .await
                .unwrap(),
            400,
            "not ``",
        ),
        (
            "a JSON array for a session",
            s.post_raw("/v1/sessions", "[null, null]", json_ct).await,
            400,
            "the body must be a JSON object (or null)",
        ),
        (
            "a JSON array for a message",
            s.post_raw(&messages, r#"["hi"]"#, json_ct).await,
            400,
            "the body must be a JSON object",
        ),
        (
            "a JSON null for a message",
            s.post_raw(&messages, "null", json_ct).await,
            400,
            "the body must be a JSON object",
        ),
        (
            "a very long session id",
            s.get(&format!("/v1/sessions/ses_{}", "x".repeat(4000)))
                .await,
            404,
            "no session `ses_xxx",
        ),
        (
            "bad Last-Event-ID",
            s.http
                .get(s.url("/v1/events"))
                .bearer_auth(TOKEN)
                .header("last-event-id", "yesterday")
                .send()
                .await
                .unwrap(),
            400,
            "Last-Event-ID",
        ),
        (
            "events of an unknown session",
            s.get("/v1/events?session=ses_nobody").await,
            404,
            "no session `ses_nobody`",
        ),
        (
            "message to an unknown session",
            s.post("/v1/sessions/ses_nobody/messages", json!({"text": "hi"}))
                .await,
            404,
            "no session `ses_nobody`",
        ),
        (
            "cancel of an unknown session",
            s.post_raw("/v1/sessions/ses_nobody/cancel", "", None).await,
            404,
            "no session `ses_nobody`",
        ),
        (
            "unknown task",
            s.get("/v1/tasks/task_nobody").await,
            404,
            "no task `task_nobody`",
        ),
        (
            "unknown shell",
            s.post_raw("/v1/shells/sh_nobody/kill", "", None).await,
            404,
            "no shell `sh_nobody`",
        ),
        (
            "unknown call",
            s.post_raw("/v1/calls/call_nobody/background", "", None)
                .await,
            404,
            "no running call `call_nobody`",
        ),
        (
            "unknown route",
            s.get("/v1/sessions/a/b/c").await,
            404,
            "no route GET /v1/sessions/a/b/c",
        ),
        (
            "wrong method",
            s.http
                .delete(s.url(&format!("/v1/sessions/{id}")))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap(),
            405,
            "method DELETE is not allowed",
        ),
    ];
    for (what, response, status, needle) in cases {
        let (got, error) = error_of(response).await;
        assert_eq!(got, status, "{what}: {error}");
        assert!(error.contains(needle), "{what}: `{error}` lacks `{needle}`");
    }
    // Nothing was created, queued or announced.
    assert_eq!(snapshot(&s, Some(id.as_str())).await, before);

    // The same request within the limits works.
    s.say(&id, "hi").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_created_listed_and_shown() {
    let s = start_plain().await;
    // No body at all means all defaults.
    let bare = s.post_raw("/v1/sessions", "", None).await;
    assert_eq!(bare.status(), 201);
    let bare: Value = bare.json().await.unwrap();
    let project = std::fs::canonicalize(s.project.path()).unwrap();
    assert_eq!(bare["cwd"], project.to_str().unwrap());
    assert_eq!(bare["agent"], "build");
    assert_eq!(bare["model"], "mock/m");
    assert_eq!(bare["provider"], "mock");
    assert_eq!(bare["status"], "idle");

    // A JSON null means all defaults too.
    let null = s
        .post_raw("/v1/sessions", "null", Some("application/json"))
        .await;
    assert_eq!(null.status(), 201);
    let null: Value = null.json().await.unwrap();
    assert_eq!(
        (&null["agent"], &null["cwd"]),
        (&bare["agent"], &bare["cwd"])
    );

    // A relative directory is under the server's default one.
    std::fs::create_dir(s.project.path().join("sub")).unwrap();
    let titled = s
        .post("/v1/sessions", json!({"title": "second", "cwd": "sub"}))
        .await;
    assert_eq!(titled.status(), 201);
    let titled: Value = titled.json().await.unwrap();
    assert_eq!(titled["title"], "second");
    assert_eq!(titled["cwd"], project.join("sub").to_str().unwrap());

    let all = s.get_json("/v1/sessions").await;
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            titled["id"].as_str().unwrap(),
            null["id"].as_str().unwrap(),
            bare["id"].as_str().unwrap()
        ],
        "most recent first"
    );
    for filter in [
        "cwd=sub&roots_only=true&limit=5",
        &format!("cwd={}/sub", project.display()),
    ] {
        let here = s.get_json(&format!("/v1/sessions?{filter}")).await;
        assert_eq!(here.as_array().unwrap().len(), 1, "{filter}");
        assert_eq!(here[0]["id"], titled["id"]);
    }
    let limited = s.get_json("/v1/sessions?limit=1").await;
    assert_eq!(limited.as_array().unwrap().len(), 1);
    let none = s.get_json("/v1/sessions?limit=0").await;
    assert_eq!(none, json!([]));
    let most = s.get_json("/v1/sessions?limit=9223372036854775807").await;
    assert_eq!(most, all, "the largest limit lists everything");

    let id = bare["id"].as_str().unwrap();
    let shown = s.get_json(&format!("/v1/sessions/{id}")).await;
    assert_eq!(shown, bare);

    // A conversation, and cancelling an idle session.
    let mut sse = s.events(&format!("?session={id}"), None).await;
    let seq = s.say(&id.into(), "hello").await;
    sse.until("quiet", |e| {
        e.seq > seq && is_type(e, "session.quiet") && e.session_id.as_str() == id
    })
    .await;
    let messages = s.get_json(&format!("/v1/sessions/{id}/messages")).await;
    let texts: Vec<(&str, &str)> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap(),
                m["parts"][0]["text"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(texts, [("user", "hello"), ("assistant", "ok")]);
    let cancel = s
        .post_raw(&format!("/v1/sessions/{id}/cancel"), "", None)
        .await;
    assert_eq!(cancel.status(), 202);
    let cancel: Value = cancel.json().await.unwrap();
    assert!(cancel["message"].as_str().unwrap().contains(id), "{cancel}");
    assert_eq!(s.get_json("/v1/permissions").await, json!([]));
    s.stop().await;
}

/// The (method, path) pairs the API serves.
const EXPECTED_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions"),
    ("GET", "/v1/sessions/{id}"),
    ("PATCH", "/v1/sessions/{id}"),
    ("GET", "/v1/sessions/{id}/tree"),
    ("GET", "/v1/sessions/{id}/messages"),
    ("POST", "/v1/sessions/{id}/messages"),
    ("POST", "/v1/sessions/{id}/cancel"),
    ("POST", "/v1/sessions/{id}/interrupt"),
    ("POST", "/v1/sessions/{id}/compact"),
    ("GET", "/v1/sessions/{id}/tasks"),
    ("GET", "/v1/tasks/{id}"),
    ("POST", "/v1/tasks/{id}/messages"),
    ("POST", "/v1/tasks/{id}/cancel"),
    ("POST", "/v1/calls/{call_id}/background"),
    ("GET", "/v1/shells"),
    ("GET", "/v1/shells/{id}"),
    ("POST", "/v1/shells/{id}/kill"),
    ("GET", "/v1/permissions"),
    ("POST", "/v1/permissions/{id}"),
    ("GET", "/v1/agents"),
    ("GET", "/v1/models"),
    ("GET", "/v1/events"),
    ("GET", "/openapi.json"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let s = start_plain().await;
    let served: Value = s
        .http
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let built = serde_json::to_value(baton_server::openapi()).unwrap();
    assert_eq!(served, built, "the served document is openapi()");
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        served["openapi"]
    );
    assert_eq!(served["info"]["title"], "baton API");
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "SessionView",
        "Event",
        "ApiError",
        "Resync",
        "TaskView",
        "UpdateSession",
        "AgentView",
        "ModelView",
        "StreamFrame",
    ] {
        assert!(
            served["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }

    let events = &served["paths"]["/v1/events"]["get"]["responses"]["200"]["content"];
    assert_eq!(
        events["text/event-stream"]["schema"]["$ref"],
        "#/components/schemas/StreamFrame"
    );
    let create = &served["paths"]["/v1/sessions"]["post"]["requestBody"];
    assert_ne!(create["required"], true, "a session needs no body");

    let mut listed = BTreeSet::new();
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let method = method.to_uppercase();
            listed.insert((method.clone(), path.clone()));
            if path.starts_with("/v1/") {
                assert!(
                    operation["responses"]["401"].is_object(),
                    "{method} {path} documents its 401"
                );
            }
            // The router serves it: any answer but "no such route".
            let concrete = path
                .replace("{id}", "placeholder")
                .replace("{call_id}", "placeholder");
            let mut request = s
                .http
                .request(method.parse().unwrap(), s.url(&concrete))
                .bearer_auth(TOKEN);
            if method == "POST" || method == "PATCH" {
                request = request.json(&json!({}));
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            assert_ne!(status, 405, "{method} {path}");
            if response.headers()["content-type"] == "application/json" && status >= 400 {
                let (_, error) = error_of(response).await;
                assert!(
                    !error.starts_with("no route") && !error.starts_with("method"),
                    "{method} {path}: {error}"
                );
            } else {
                assert!(status < 400, "{method} {path}: {status}");
            }
        }
    }
    let expected: BTreeSet<(String, String)> = EXPECTED_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed, expected);

    // And what is not in it is not served.
    let (status, error) = error_of(s.get("/v1/sessions/placeholder/everything").await).await;
    assert_eq!((status, error.starts_with("no route")), (404, true));
    let (status, _) = error_of(s.get("/elsewhere").await).await;
    assert_eq!(status, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_headers_only_for_configured_origins() {
    let allowed = "http://app.example:3000";
    let s = start(
        ANSWER_OK,
        |_| {},
        |c| c.cors_origins = vec![allowed.to_owned()],
    )
    .await;
    let preflight = |origin: &str| {
        s.http
            .request(reqwest::Method::OPTIONS, s.url("/v1/sessions"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight(allowed).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], allowed);
    let headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in ["authorization", "content-type", "last-event-id"] {
        assert!(headers.contains(h), "{headers}");
    }
    let patch = s
        .http
        .request(reqwest::Method::OPTIONS, s.url("/v1/sessions/ses_x"))
        .header("origin", allowed)
        .header("access-control-request-method", "PATCH")
        .send()
        .await
        .unwrap();
    assert!(patch.status().is_success(), "{}", patch.status());
    let methods = patch.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("PATCH"), "{methods}");
    let other = preflight("http://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let real = s
        .http
        .get(s.url("/v1/sessions"))
        .bearer_auth(TOKEN)
        .header("origin", allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(real.status(), 200);
    assert_eq!(real.headers()["access-control-allow-origin"], allowed);
    s.stop().await;

    // Without configured origins there is no CORS at all, and a browser's
    // request from another site is refused outright.
    let plain = start_plain().await;
    let real = plain
        .http
        .get(plain.url("/v1/sessions"))
        .bearer_auth(TOKEN)
        .header("origin", allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(real.status(), 403);
    assert!(real.headers().get("access-control-allow-origin").is_none());
    let body: serde_json::Value = real.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("cors_origins"),
        "{body}"
    );
    plain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_ends_open_event_streams_and_returns() {
    let mut s = start_plain().await;
    let mut sse = s.events("", None).await;
    let served = s.signal_stop();
    tokio::time::timeout(DEADLINE, served)
        .await
        .expect("serve returns while a stream is open")
        .unwrap()
        .unwrap();
    assert_eq!(sse.next().await, None, "the stream ended");
    s.engine.shutdown().await;
}
