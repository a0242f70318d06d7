//! Helpers shared by the mock-server tests.

// Helpers are not `#[test]` functions, but a failure in them is a test
// failure all the same.
#![allow(clippy::unwrap_used)]

use baton_llm::{
    ChatRequest, EventStream, LlmError, Provider, ProviderConfig, ProviderRegistry, StopReason,
    StreamEvent, Wire,
};
use baton_mock_llm::{MockServer, Script};
use baton_protocol::{Message, Part, Role, SessionId, ToolCall, Usage};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const WIRES: [Wire; 3] = [Wire::OpenAi, Wire::Anthropic, Wire::Responses];

/// The API keys the registry is given.
pub const OPENAI_KEY: &str = "sk-test-openai";
pub const ANTHROPIC_KEY: &str = "sk-test-anthropic";

/// Starts a mock server for `script` (TOML).
pub async fn server(script: &str) -> MockServer {
    MockServer::start(Script::from_toml(script).unwrap())
        .await
        .unwrap()
}

/// The environment that points `openai` and `anthropic` at `server`.
pub fn env_for(server: &MockServer) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("OPENAI_BASE_URL".to_owned(), server.openai_base_url()),
        ("OPENAI_API_KEY".to_owned(), OPENAI_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL".to_owned(), server.anthropic_base_url()),
        ("ANTHROPIC_API_KEY".to_owned(), ANTHROPIC_KEY.to_owned()),
    ])
}

pub fn registry(
    env: &BTreeMap<String, String>,
    config: &BTreeMap<String, ProviderConfig>,
) -> ProviderRegistry {
    ProviderRegistry::build(&|k| env.get(k).cloned(), config).unwrap()
}

/// The provider speaking `wire` at `server`, named after the wire: `openai`, `anthropic`, or
/// `responses` (configured with `wire = "responses"` and OpenAI's key variable).
pub fn provider(server: &MockServer, wire: Wire) -> Arc<dyn Provider> {
    let config = BTreeMap::from([(
        "responses".to_owned(),
        ProviderConfig {
            wire: Some(Wire::Responses),
            base_url: Some(server.openai_base_url()),
            api_key_env: Some("OPENAI_API_KEY".to_owned()),
            ..ProviderConfig::default()
        },
    )]);
    let provider = registry(&env_for(server), &config)
        .get(wire.as_str())
        .unwrap();
    assert_eq!(provider.wire(), wire);
    provider
}

pub fn user(text: &str) -> Message {
    msg(Role::User, vec![Part::Text { text: text.into() }])
}

pub fn msg(role: Role, parts: Vec<Part>) -> Message {
    Message::new(SessionId::from("ses_test"), role, parts)
}

pub fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: "You are a test.".into(),
        messages: messages.into(),
        tools: vec![],
        max_tokens: 1024,
        temperature: None,
        reasoning: None,
        images: false,
    }
}

/// Everything one call produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub events: Vec<StreamEvent>,
    pub error: Option<LlmError>,
}

impl Outcome {
    /// The events of the last attempt (after the last `Retrying`).
    pub fn final_attempt(&self) -> &[StreamEvent] {
        let start = self
            .events
            .iter()
            .rposition(|e| matches!(e, StreamEvent::Retrying { .. }))
            .map_or(0, |i| i + 1);
        &self.events[start..]
    }

    pub fn text(&self) -> String {
        self.final_attempt()
            .iter()
            .filter_map(|e| match e {
                StreamEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn calls(&self) -> Vec<ToolCall> {
        self.final_attempt()
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallCompleted(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    /// The reasoning shown as it streamed.
    pub fn reasoning_text(&self) -> String {
        self.final_attempt()
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ReasoningDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The reasoning parts to keep, in order.
    pub fn reasoning(&self) -> Vec<Part> {
        self.final_attempt()
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ReasoningCompleted(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// The answer as the assistant message a session stores: reasoning first, then the text,
    /// then the calls.
    pub fn answer(&self) -> Message {
        let mut parts = self.reasoning();
        let text = self.text();
        if !text.is_empty() {
            parts.push(Part::Text { text });
        }
        parts.extend(self.calls().into_iter().map(Part::ToolCall));
        msg(Role::Assistant, parts)
    }

    pub fn usage(&self) -> Option<Usage> {
        self.final_attempt().iter().rev().find_map(|e| match e {
            StreamEvent::Usage(u) => Some(*u),
            _ => None,
        })
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.events.last() {
            Some(StreamEvent::Done { stop_reason }) => Some(stop_reason.clone()),
            _ => None,
        }
    }

    pub fn retries(&self) -> Vec<(u32, std::time::Duration)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Retrying { attempt, delay, .. } => Some((*attempt, *delay)),
                _ => None,
            })
            .collect()
    }

    /// Asserts the call completed: no error, `Done` once and last.
    pub fn assert_complete(&self) {
        assert!(self.error.is_none(), "unexpected error: {:?}", self.error);
        let dones = self
            .events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Done { .. }))
            .count();
        assert_eq!(dones, 1, "{:?}", self.events);
        assert!(matches!(self.events.last(), Some(StreamEvent::Done { .. })));
    }
}

/// Drains a stream; an error must be its last item.
pub async fn collect(mut stream: EventStream) -> Outcome {
    let mut outcome = Outcome::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => outcome.events.push(event),
            Err(error) => {
                outcome.error = Some(error);
                assert!(stream.next().await.is_none(), "items after an error");
                break;
            }
        }
    }
    outcome
}

/// One call through `provider.stream` (no retries).
pub async fn call(provider: &Arc<dyn Provider>, request: ChatRequest) -> Outcome {
    match provider
        .stream(request, tokio_util::sync::CancellationToken::new())
        .await
    {
        Ok(stream) => collect(stream).await,
        Err(error) => Outcome {
            events: vec![],
            error: Some(error),
        },
    }
}
