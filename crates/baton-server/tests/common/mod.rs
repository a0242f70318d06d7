//! Shared harness: an engine on a temp home driven by a mock model, served
//! over real HTTP on 127.0.0.1, and a Server-Sent Events reader.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use baton_core::{AgentDirs, AgentSet, AskMode, Config, Engine, EngineOptions};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::{Event, EventKind, SessionId};
use baton_server::ServerConfig;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::oneshot;

pub const TOKEN: &str = "test-token-0123456789abcdef";

/// How long any wait in these tests may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Server {
    pub mock: MockServer,
    pub engine: Engine,
    pub project: tempfile::TempDir,
    pub home: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Starts a mock model with `script`, an engine using it (config adjusted
/// by `tweak`) and the server (its config adjusted by `server`).
pub async fn start(
    script: &str,
    tweak: impl FnOnce(&mut Config),
    server: impl FnOnce(&mut ServerConfig),
) -> Server {
    let mock = MockServer::start(Script::from_toml(script).unwrap())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let mut config = Config::single_openai_provider("mock", mock.openai_base_url(), "m");
    tweak(&mut config);
    let agents = AgentSet::load(&AgentDirs {
        user_config: None,
        home: None,
        project: project.path().to_path_buf(),
    });
    let engine = Engine::new(EngineOptions {
        home: home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents,
        ask_mode: AskMode::Wait,
    })
    .await
    .unwrap();
    let mut server_config = ServerConfig::new(TOKEN.to_owned(), project.path().to_path_buf());
    server(&mut server_config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(baton_server::serve(
        listener,
        engine.clone(),
        server_config,
        async move {
            let _ = stopped.await;
        },
    ));
    Server {
        mock,
        engine,
        project,
        home,
        base,
        http: reqwest::Client::new(),
        stop: Some(stop),
        served: Some(served),
    }
}

/// A server whose model answers every request with `ok`.
pub async fn start_plain() -> Server {
    start(ANSWER_OK, |_| {}, |_| {}).await
}

pub const ANSWER_OK: &str = r#"
[[rules]]
name = "ok"
[rules.reply]
text = "ok"
"#;

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A POST with exactly this body and content type (none if `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).bearer_auth(TOKEN).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        request.send().await.unwrap()
    }

    /// GETs `path`, expecting 200, and returns its JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Creates a session in the project directory; returns its id.
    pub async fn create_session(&self) -> SessionId {
        let response = self.post("/v1/sessions", json!({})).await;
        assert_eq!(response.status(), 201);
        let view: Value = response.json().await.unwrap();
        SessionId::from(view["id"].as_str().unwrap())
    }

    /// Sends a message over the API, expecting 202; returns its `seq`.
    pub async fn say(&self, session: &SessionId, text: &str) -> u64 {
        let response = self
            .post(
                &format!("/v1/sessions/{session}/messages"),
                json!({ "text": text }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 202, "{body}");
        body["seq"].as_u64().unwrap()
    }

    /// Opens the event stream with this query string (`""`, `"?session=…"`)
    /// and, if given, a `Last-Event-ID`.
    pub async fn events(&self, query: &str, last_event_id: Option<u64>) -> Sse {
        let mut request = self
            .http
            .get(self.url(&format!("/v1/events{query}")))
            .bearer_auth(TOKEN);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        if response.status() != 200 {
            panic!(
                "GET /v1/events{query}: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "an SSE stream"
        );
        Sse {
            stream: Box::pin(response.bytes_stream().eventsource().map(|r| {
                let e = r.expect("a well-formed event stream");
                Frame {
                    name: e.event,
                    data: e.data,
                    id: e.id,
                }
            })),
            seen: Vec::new(),
        }
    }

    /// Creates a file in the project (scripted commands wait on them).
    pub fn touch(&self, name: &str) {
        std::fs::write(self.project.path().join(name), "").unwrap();
    }

    /// Stops the server (waiting for it to end) and the engine.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            tokio::time::timeout(DEADLINE, served)
                .await
                .expect("the server stops")
                .unwrap()
                .unwrap();
        }
        self.engine.shutdown().await;
    }

    /// Asks the server to stop, without waiting.
    pub fn signal_stop(&mut self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.served.take().unwrap()
    }
}

/// One SSE event as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `message` unless the server named it (`resync`).
    pub name: String,
    pub data: String,
    /// The last id seen on the stream (SSE ids persist).
    pub id: String,
}

impl Frame {
    pub fn event(&self) -> Event {
        assert_eq!(self.name, "message", "{self:?}");
        serde_json::from_str(&self.data).unwrap()
    }
}

/// Reads an event stream, keeping every frame.
pub struct Sse {
    stream: Pin<Box<dyn Stream<Item = Frame> + Send>>,
    pub seen: Vec<Frame>,
}

impl Sse {
    /// The next frame (deadline), or `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Frame> {
        let frame = tokio::time::timeout(DEADLINE, self.stream.next())
            .await
            .unwrap_or_else(|_| panic!("no event within {DEADLINE:?}; saw {:#?}", self.events()))?;
        self.seen.push(frame.clone());
        Some(frame)
    }

    /// Reads until an event satisfies `pred`; returns it.
    pub async fn until(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        loop {
            let Some(frame) = self.next().await else {
                panic!("the stream ended before `{what}`");
            };
            if frame.name != "message" {
                continue;
            }
            let event = frame.event();
            if pred(&event) {
                return event;
            }
        }
    }

    /// Reads until `count` events seen in total satisfy `pred`.
    pub async fn until_count(&mut self, what: &str, count: usize, pred: impl Fn(&Event) -> bool) {
        while self.of(&pred).len() < count {
            self.until(what, &pred).await;
        }
    }

    /// Every event seen (frames named `message`), in order.
    pub fn events(&self) -> Vec<Event> {
        self.seen
            .iter()
            .filter(|f| f.name == "message")
            .map(Frame::event)
            .collect()
    }

    /// The `seq` of every event seen.
    pub fn seqs(&self) -> Vec<u64> {
        self.events().iter().map(|e| e.seq).collect()
    }

    /// Events seen that satisfy `pred`.
    pub fn of(&self, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
        self.events().into_iter().filter(|e| pred(e)).collect()
    }
}

pub fn is_type(event: &Event, name: &str) -> bool {
    event.type_name() == name
}

/// The task id and child session of every `task.spawned` in `events`.
pub fn spawned(events: &[Event]) -> Vec<(String, SessionId)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskSpawned {
                task_id,
                child_session_id,
                ..
            } => Some((task_id.clone(), child_session_id.clone())),
            _ => None,
        })
        .collect()
}

/// Polls `check` (every 20 ms, within the deadline) until it returns a value.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    loop {
        poll.tick().await;
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
    }
}

/// Children wait for the file `gate`, then report; the parent delegates
/// one task per name on `go`, acknowledges, answers `how is it going`
/// without waiting for them, and integrates every notice.
pub fn delegation_script(names: &[&str]) -> String {
    let calls: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                r#"{{ name = "task", arguments = {{ description = "{n}", prompt = "work as {n}" }} }}"#
            )
        })
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
name = "parent-progress"
[rules.when]
last_user = "^how is it going$"
[rules.reply]
text = "the children are still at work"

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
