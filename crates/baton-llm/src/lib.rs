//! Model providers for baton.
//!
//! A [`Provider`] streams one model call as typed [`StreamEvent`]s: text
//! deltas, reasoning, tool calls assembled from their pieces, usage, and a
//! final [`StreamEvent::Done`]. Three wire clients implement it over HTTP
//! and SSE: OpenAI-compatible chat completions (OpenAI, OpenRouter, Ollama,
//! vLLM, llama.cpp server, LM Studio...), Anthropic Messages, and the
//! OpenAI Responses API (stateless, reasoning carried across calls as
//! encrypted content). Reasoning is kept as
//! [`Part::Reasoning`](baton_protocol::Part::Reasoning) and sent back only
//! on the wire that produced it, where that wire takes it back.
//! [`stream_with_retry`] retries what can be retried with jittered
//! exponential backoff. Failures are typed ([`LlmError`]) and print as one
//! line a user can act on.
//!
//! Providers are named in `provider/model` strings ([`ModelRef`]) and built
//! from the environment and config ([`ProviderRegistry`]); the
//! [`Catalog`] knows context windows and prices.
//!
//! This crate depends only on `baton-protocol`; it knows nothing of
//! sessions, tools or the engine.

mod anthropic;
mod catalog;
mod classify;
mod endpoint;
mod error;
mod history;
mod model_ref;
mod openai;
mod provider;
mod registry;
mod responses;
mod retry;
mod retry_after;
mod sse;
mod types;

pub use catalog::{Catalog, ModelInfo};
pub use error::{ApiError, LlmError};
pub use model_ref::ModelRef;
pub use provider::Provider;
pub use registry::{ProviderConfig, ProviderRegistry};
pub use retry::{RetryPolicy, stream_with_retry};
pub use types::{ChatRequest, EventStream, ReasoningEffort, StopReason, StreamEvent, Wire};
