//! Helpers shared by the integration tests.

use std::time::{Duration, Instant};

use baton_mock_llm::{MockServer, Script};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

pub async fn start(script: &str) -> MockServer {
    MockServer::start(Script::from_toml(script).expect("valid script"))
        .await
        .expect("server starts")
}

pub async fn post_openai(server: &MockServer, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .json(body)
        .send()
        .await
        .expect("request sent")
}

pub async fn post_anthropic(server: &MockServer, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/messages", server.anthropic_base_url()))
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .expect("request sent")
}

pub async fn post_responses(server: &MockServer, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/responses", server.openai_base_url()))
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// A stateless Responses request (`store: false`) with one user message.
pub fn responses_request(user: &str) -> Value {
    json!({"model": "gpt-test", "store": false, "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": user}]}
    ]})
}

pub fn openai_request(user: &str) -> Value {
    json!({"model": "gpt-test", "messages": [{"role": "user", "content": user}]})
}

pub fn anthropic_request(user: &str) -> Value {
    json!({"model": "claude-test", "max_tokens": 1024, "messages": [{"role": "user", "content": user}]})
}

pub fn streaming(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("event data is JSON")
    }
}

/// Parses an SSE body, insisting on the framing the mock promises: every event ends with a blank
/// line and holds only `event:` and `data:` lines.
pub fn parse_sse(body: &str) -> Vec<Event> {
    assert!(
        body.ends_with("\n\n"),
        "SSE body must end with a blank line: {body:?}"
    );
    body.trim_end_matches('\n')
        .split("\n\n")
        .map(|block| {
            let mut event = Event {
                name: None,
                data: String::new(),
            };
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event.name = Some(name.to_string());
                } else if let Some(data) = line.strip_prefix("data: ") {
                    event.data = data.to_string();
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            event
        })
        .collect()
}

/// The body frames a client received, when each arrived, and the error that ended the body (if any).
pub struct Received {
    pub frames: Vec<Bytes>,
    pub arrivals: Vec<Instant>,
    pub error: Option<reqwest::Error>,
}

impl Received {
    pub fn bytes(&self) -> Vec<u8> {
        self.frames
            .iter()
            .flat_map(|frame| frame.to_vec())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.bytes()).expect("body is UTF-8")
    }
}

pub async fn receive(response: reqwest::Response) -> Received {
    let mut stream = response.bytes_stream();
    let mut received = Received {
        frames: Vec::new(),
        arrivals: Vec::new(),
        error: None,
    };
    let deadline = Duration::from_secs(10);
    loop {
        match tokio::time::timeout(deadline, stream.next())
            .await
            .expect("body within deadline")
        {
            Some(Ok(frame)) => {
                received.arrivals.push(Instant::now());
                received.frames.push(frame);
            }
            Some(Err(error)) => {
                received.error = Some(error);
                break;
            }
            None => break,
        }
    }
    received
}
