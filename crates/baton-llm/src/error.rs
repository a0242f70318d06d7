//! Typed failures of a model call.
//!
//! Every error's `Display` is one line that names the provider and, for
//! HTTP failures, the status and the provider's own message, so callers can
//! print it as it is.

use std::fmt;
use std::time::Duration;

/// A failure reported by the provider's API (an HTTP error status, or an
/// error event in the middle of a stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The provider's name.
    pub provider: String,
    /// The HTTP status, when the failure came as one (`None` for an error
    /// event inside a stream).
    pub status: Option<u16>,
    /// The provider's message, on one line.
    pub message: String,
    /// How long the provider asked us to wait before trying again.
    pub retry_after: Option<Duration>,
    /// What the user can do about it (e.g. which variable to set).
    pub hint: Option<String>,
}

impl ApiError {
    fn write_line(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{}: HTTP {status} ({label}): ", self.provider)?,
            None => write!(f, "{}: error in stream ({label}): ", self.provider)?,
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

/// Why a model call failed.
#[derive(thiserror::Error, Debug, Clone)]
pub enum LlmError {
    /// The key is missing, wrong, or lacks access (HTTP 401/403).
    #[error("{}", Labelled(.0, "auth"))]
    Auth(ApiError),
    /// Too many requests (HTTP 429). Retryable.
    #[error("{}", Labelled(.0, "rate limited"))]
    RateLimited(ApiError),
    /// The provider is overloaded (HTTP 503/529). Retryable.
    #[error("{}", Labelled(.0, "overloaded"))]
    Overloaded(ApiError),
    /// The conversation no longer fits the model's context window.
    #[error("{}", Labelled(.0, "context too long"))]
    ContextTooLong(ApiError),
    /// The provider rejected the request (other 4xx).
    #[error("{}", Labelled(.0, "bad request"))]
    BadRequest(ApiError),
    /// The provider failed (other 5xx). Retryable.
    #[error("{}", Labelled(.0, "server error"))]
    Server(ApiError),
    /// The response stream ended before its terminal event: the connection
    /// broke, went idle too long, or closed early. Retryable.
    #[error("{provider}: stream cut off: {reason}")]
    StreamCutOff {
        /// The provider's name.
        provider: String,
        /// What happened.
        reason: String,
    },
    /// The request could not be sent (connection refused, DNS, TLS,
    /// connect timeout). Retryable.
    #[error("{provider}: connection failed: {message}")]
    Connect {
        /// The provider's name.
        provider: String,
        /// What went wrong.
        message: String,
    },
    /// The response could not be understood (bad JSON in an event, bad
    /// SSE framing).
    #[error("{provider}: bad response: {message}")]
    Decode {
        /// The provider's name.
        provider: String,
        /// What could not be decoded.
        message: String,
    },
    /// The call was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The provider configuration is invalid.
    #[error("provider config: {0}")]
    Config(String),
    /// A model name that is not `provider/model`.
    #[error("invalid model {input:?}: expected provider/model, e.g. anthropic/claude-sonnet-4")]
    InvalidModelRef {
        /// What was given.
        input: String,
    },
    /// The last error of a call that was retried `retries` times.
    #[error("{last} (after {retries} {})", if *.retries == 1 { "retry" } else { "retries" })]
    AfterRetries {
        /// How many retries were made.
        retries: u32,
        /// The error that ended the call.
        last: Box<LlmError>,
    },
}

/// Formats an [`ApiError`] with its kind's label.
struct Labelled<'a>(&'a ApiError, &'static str);

impl fmt::Display for Labelled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_line(f, self.1)
    }
}

impl LlmError {
    /// The error itself, looking through an [`LlmError::AfterRetries`]
    /// wrapper.
    pub fn root(&self) -> &LlmError {
        match self {
            LlmError::AfterRetries { last, .. } => last.root(),
            other => other,
        }
    }

    /// Whether trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmError::RateLimited(_)
                | LlmError::Overloaded(_)
                | LlmError::Server(_)
                | LlmError::StreamCutOff { .. }
                | LlmError::Connect { .. }
        )
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(|e| e.retry_after)
    }

    /// The HTTP status the provider answered with, if any.
    pub fn status(&self) -> Option<u16> {
        self.root().api_error().and_then(|e| e.status)
    }

    /// Whether the conversation must be shortened before trying again.
    pub fn is_context_too_long(&self) -> bool {
        matches!(self.root(), LlmError::ContextTooLong(_))
    }

    /// The provider's report, for errors that carry one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            LlmError::Auth(e)
            | LlmError::RateLimited(e)
            | LlmError::Overloaded(e)
            | LlmError::ContextTooLong(e)
            | LlmError::BadRequest(e)
            | LlmError::Server(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: Option<u16>, message: &str) -> ApiError {
        ApiError {
            provider: "openai".into(),
            status,
            message: message.into(),
            retry_after: None,
            hint: None,
        }
    }

    #[test]
    fn display_names_provider_status_kind_and_message() {
        let e = LlmError::Server(api(Some(500), "upstream exploded"));
        assert_eq!(
            e.to_string(),
            "openai: HTTP 500 (server error): upstream exploded"
        );
        let wrapped = LlmError::AfterRetries {
            retries: 4,
            last: Box::new(e),
        };
        assert_eq!(
            wrapped.to_string(),
            "openai: HTTP 500 (server error): upstream exploded (after 4 retries)"
        );
        assert_eq!(wrapped.status(), Some(500));
        assert!(!wrapped.is_retryable());
    }

    #[test]
    fn display_of_stream_errors_and_hints() {
        let mut e = api(None, "Overloaded");
        e.provider = "anthropic".into();
        assert_eq!(
            LlmError::Overloaded(e).to_string(),
            "anthropic: error in stream (overloaded): Overloaded"
        );
        let mut auth = api(Some(401), "invalid x-api-key");
        auth.provider = "anthropic".into();
        auth.hint = Some("set ANTHROPIC_API_KEY".into());
        assert_eq!(
            LlmError::Auth(auth).to_string(),
            "anthropic: HTTP 401 (auth): invalid x-api-key — set ANTHROPIC_API_KEY"
        );
        let one = LlmError::AfterRetries {
            retries: 1,
            last: Box::new(LlmError::StreamCutOff {
                provider: "p".into(),
                reason: "connection closed".into(),
            }),
        };
        assert_eq!(
            one.to_string(),
            "p: stream cut off: connection closed (after 1 retry)"
        );
    }

    #[test]
    fn retryable_kinds() {
        assert!(LlmError::RateLimited(api(Some(429), "")).is_retryable());
        assert!(LlmError::Overloaded(api(Some(529), "")).is_retryable());
        assert!(
            LlmError::Connect {
                provider: "p".into(),
                message: "refused".into()
            }
            .is_retryable()
        );
        assert!(!LlmError::Auth(api(Some(401), "")).is_retryable());
        assert!(!LlmError::ContextTooLong(api(Some(400), "")).is_retryable());
        assert!(!LlmError::Cancelled.is_retryable());
        assert!(
            !LlmError::Decode {
                provider: "p".into(),
                message: "x".into()
            }
            .is_retryable()
        );
    }
}
