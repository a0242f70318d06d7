//! The provider trait every wire client implements.

use crate::{ChatRequest, EventStream, LlmError, Wire};
use tokio_util::sync::CancellationToken;

/// A configured model provider: a name, a wire format and an endpoint.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name, as used in `provider/model`.
    fn name(&self) -> &str;

    /// The request format it speaks.
    fn wire(&self) -> Wire;

    /// One model call. Returns once the response headers arrived (HTTP
    /// errors are returned here as `Err`). The stream yields events; when
    /// `cancel` fires the stream ends promptly with
    /// `Err(LlmError::Cancelled)` and the connection is dropped.
    async fn stream(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError>;
}
