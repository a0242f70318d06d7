//! The Anthropic Messages client.

mod request;
mod stream;

use crate::endpoint::Endpoint;
use crate::{ChatRequest, EventStream, LlmError, Provider, Wire, sse};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio_util::sync::CancellationToken;

/// The API version baton's mapping is written against.
const API_VERSION: &str = "2023-06-01";

/// A provider speaking Anthropic Messages at `{base_url}/v1/messages`.
pub(crate) struct AnthropicProvider {
    endpoint: Endpoint,
    headers: HeaderMap,
}

impl AnthropicProvider {
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, LlmError> {
        Ok(Self {
            headers: Self::wire_headers(&endpoint)?,
            endpoint,
        })
    }

    fn wire_headers(endpoint: &Endpoint) -> Result<HeaderMap, LlmError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(key) = endpoint.api_key() {
            let value = HeaderValue::from_str(key).map_err(|_| {
                LlmError::Config(format!(
                    "provider {}: the API key contains characters not allowed in a header",
                    endpoint.name()
                ))
            })?;
            headers.insert(HeaderName::from_static("x-api-key"), value);
        }
        Ok(headers)
    }
}

#[async_trait::async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        self.endpoint.name()
    }

    fn wire(&self) -> Wire {
        Wire::Anthropic
    }

    async fn stream(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError> {
        let body = request::body(&request);
        let response = self
            .endpoint
            .post_sse("/v1/messages", self.headers.clone(), &body, &cancel)
            .await?;
        Ok(sse::decode(
            self.name(),
            response.bytes_stream(),
            stream::AnthropicDecoder::new(self.name()),
            self.endpoint.idle_timeout(),
            cancel,
        ))
    }
}
