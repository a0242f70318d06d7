//! What one model call takes and what it streams back.

use crate::LlmError;
pub use baton_protocol::ReasoningEffort;
use baton_protocol::{CallId, Message, ToolCall, ToolSpec, Usage};
use serde::{Deserialize, Serialize};

/// One model call, in baton's own terms. Each wire client maps it to its
/// provider's request format.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The provider's own model name, without the `provider/` prefix.
    pub model: String,
    /// The system prompt (may be empty).
    pub system: String,
    /// The conversation so far, oldest first. Shared: a session hands its
    /// history to each call without copying it.
    pub messages: std::sync::Arc<Vec<Message>>,
    /// The tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// The most tokens the model may produce in this call.
    pub max_tokens: u32,
    /// Sampling temperature; `None` leaves the provider's default.
    pub temperature: Option<f32>,
    /// How hard a reasoning model should think; `None` leaves the
    /// provider's default (and no extended thinking on Anthropic).
    pub reasoning: Option<ReasoningEffort>,
    /// Whether the model reads images: when false, tool results' images
    /// are left out (their text lines still say them).
    pub images: bool,
}

impl ChatRequest {
    /// The temperature as sent on the wire: rounded to six decimals, so
    /// `0.1` goes out as `0.1`, not `0.10000000149011612`.
    pub(crate) fn wire_temperature(&self) -> Option<f64> {
        self.temperature.map(|t| (f64::from(t) * 1e6).round() / 1e6)
    }
}

/// One thing that happened while a model call streamed.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More text from the model.
    TextDelta(String),
    /// The model began a tool call. `index` is the call's position among
    /// this response's tool calls (0, 1, ...).
    ToolCallStarted {
        /// The call's position among this response's tool calls.
        index: usize,
        /// The call's id (the provider's, or a generated one).
        call_id: CallId,
        /// The tool's name.
        name: String,
    },
    /// More of a tool call's raw arguments text.
    ToolCallDelta {
        /// The call's position among this response's tool calls.
        index: usize,
        /// The next piece of the arguments text.
        arguments: String,
    },
    /// More of the model's reasoning text, for display.
    ReasoningDelta(String),
    /// A complete reasoning block or item, to be kept in the history (a
    /// [`Part::Reasoning`](baton_protocol::Part::Reasoning)).
    ReasoningCompleted(baton_protocol::Part),
    /// A tool call whose arguments are complete. Emitted once per call, in
    /// index order, when the provider closes the call (or the response).
    ToolCallCompleted(ToolCall),
    /// Tokens used so far (`cost_usd` is always 0: prices live in the
    /// [`Catalog`](crate::Catalog)). May come more than once; the last one
    /// counts.
    Usage(Usage),
    /// Only from [`stream_with_retry`](crate::stream_with_retry): the call
    /// failed and will be retried after `delay`. Everything received so far
    /// for this call must be discarded.
    Retrying {
        /// Which retry this is (1 for the first retry).
        attempt: u32,
        /// How long the retry waits before calling again.
        delay: std::time::Duration,
        /// The failure being retried, as one line.
        error: String,
    },
    /// The response is complete. Comes exactly once, last.
    Done {
        /// Why the model stopped.
        stop_reason: StopReason,
    },
}

/// Why the model stopped producing output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The model finished its turn.
    EndTurn,
    /// The model wants its tool calls run.
    ToolUse,
    /// The output hit `max_tokens`.
    MaxTokens,
    /// The model declined, or the provider's content filter stopped it.
    Refusal,
    /// The provider paused a long turn; sending the answer back as is lets
    /// the model go on (Anthropic's `pause_turn`).
    PauseTurn,
    /// Anything else, as the provider named it.
    Other(String),
}

/// The events of one model call. The stream ends after
/// [`StreamEvent::Done`] or after its first error.
pub type EventStream = futures::stream::BoxStream<'static, Result<StreamEvent, LlmError>>;

/// The request format a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// OpenAI-compatible chat completions (`POST {base_url}/chat/completions`).
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic Messages (`POST {base_url}/v1/messages`).
    Anthropic,
    /// The OpenAI Responses API (`POST {base_url}/responses`), stateless:
    /// reasoning carried across calls as encrypted content.
    Responses,
}

impl Wire {
    /// The wire's name as written in config (`openai`, `anthropic`,
    /// `responses`).
    pub fn as_str(self) -> &'static str {
        match self {
            Wire::OpenAi => "openai",
            Wire::Anthropic => "anthropic",
            Wire::Responses => "responses",
        }
    }
}

impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
