//! The OpenAI Responses API client (`POST {base_url}/responses`).
//!
//! Used statelessly: every call sends the whole conversation with
//! `store: false`, and asks for the model's reasoning as encrypted content,
//! which later calls send back so a reasoning model keeps its train of
//! thought across tool calls.

mod request;
mod stream;

use crate::endpoint::Endpoint;
use crate::{ChatRequest, EventStream, LlmError, Provider, Wire, sse};
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

/// A provider speaking the Responses API at `{base_url}/responses`.
pub(crate) struct ResponsesProvider {
    endpoint: Endpoint,
    headers: HeaderMap,
}

impl ResponsesProvider {
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, LlmError> {
        Ok(Self {
            headers: endpoint.bearer_headers()?,
            endpoint,
        })
    }
}

#[async_trait::async_trait]
impl Provider for ResponsesProvider {
    fn name(&self) -> &str {
        self.endpoint.name()
    }

    fn wire(&self) -> Wire {
        Wire::Responses
    }

    async fn stream(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError> {
        let body = request::body(&request);
        let response = self
            .endpoint
            .post_sse("/responses", self.headers.clone(), &body, &cancel)
            .await?;
        Ok(sse::decode(
            self.name(),
            response.bytes_stream(),
            stream::ResponsesDecoder::new(self.name()),
            self.endpoint.idle_timeout(),
            cancel,
        ))
    }
}
