//! The OpenAI-compatible chat-completions client (OpenAI, OpenRouter,
//! Ollama, vLLM, llama.cpp server, LM Studio, ...).

mod request;
mod stream;

use crate::endpoint::Endpoint;
use crate::{ChatRequest, EventStream, LlmError, Provider, Wire, sse};
use request::TokenLimitField;
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

/// The host of OpenAI's own API, which wants `max_completion_tokens`.
const OFFICIAL_HOST: &str = "api.openai.com";

/// A provider speaking OpenAI chat completions at `{base_url}/chat/completions`.
pub(crate) struct OpenAiProvider {
    endpoint: Endpoint,
    headers: HeaderMap,
    limit_field: TokenLimitField,
}

impl OpenAiProvider {
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, LlmError> {
        let official = reqwest::Url::parse(endpoint.base_url())
            .ok()
            .is_some_and(|u| u.host_str() == Some(OFFICIAL_HOST));
        let limit_field = if official {
            TokenLimitField::MaxCompletionTokens
        } else {
            TokenLimitField::MaxTokens
        };
        Ok(Self {
            headers: endpoint.bearer_headers()?,
            endpoint,
            limit_field,
        })
    }
}

#[async_trait::async_trait]
impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        self.endpoint.name()
    }

    fn wire(&self) -> Wire {
        Wire::OpenAi
    }

    async fn stream(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError> {
        let body = request::body(&request, self.limit_field);
        let response = self
            .endpoint
            .post_sse("/chat/completions", self.headers.clone(), &body, &cancel)
            .await?;
        Ok(sse::decode(
            self.name(),
            response.bytes_stream(),
            stream::OpenAiDecoder::new(self.name()),
            self.endpoint.idle_timeout(),
            cancel,
        ))
    }
}
