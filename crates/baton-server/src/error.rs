//! Errors: what a refused HTTP request answers ([`ApiFailure`], always a
//! JSON [`ApiError`] body), and what setting the server up can fail with
//! ([`ServerError`]).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_core::EngineError;
use baton_protocol::api::{ApiError, Refusal};
use std::path::PathBuf;

/// Why the server could not be set up (token file, listen address).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The token file could not be read or written.
    #[error("{}: {source}", path.display())]
    TokenFile {
        /// The file (or its directory).
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The listen address is not `HOST:PORT`, or its host does not resolve.
    #[error("cannot use `{addr}` as the address to listen on: {reason}")]
    BadAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The address reaches beyond this machine and that was not allowed.
    #[error("binding {addr} exposes the engine to the network; pass --allow-remote if you mean it")]
    NotLoopback {
        /// The first resolved address that is not a loopback one.
        addr: std::net::SocketAddr,
    },
}

/// A refused or failed request: its status and the text of its
/// [`ApiError`] body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiFailure {
    status: StatusCode,
    message: String,
}

impl ApiFailure {
    /// A failure with this status and text.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: no token, or the wrong one.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 500: the server failed.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<EngineError> for ApiFailure {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::Invalid(_) => StatusCode::BAD_REQUEST,
            EngineError::Busy(_) => StatusCode::CONFLICT,
            EngineError::NotFound(_) | EngineError::UnknownSession(_) => StatusCode::NOT_FOUND,
            EngineError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Store(_) | EngineError::Llm(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::warn!(error = %e, "request failed in the engine");
        }
        Self::new(status, e.to_string())
    }
}

impl From<Refusal> for ApiFailure {
    fn from(refusal: Refusal) -> Self {
        Self::bad_request(refusal.to_string())
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ApiError {
                error: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_their_statuses() {
        let cases = [
            (EngineError::Invalid("bad".into()), StatusCode::BAD_REQUEST),
            (EngineError::Busy("working".into()), StatusCode::CONFLICT),
            (EngineError::NotFound("none".into()), StatusCode::NOT_FOUND),
            (
                EngineError::UnknownSession("ses_x".into()),
                StatusCode::NOT_FOUND,
            ),
            (EngineError::ShuttingDown, StatusCode::SERVICE_UNAVAILABLE),
        ];
        for (error, status) in cases {
            let text = error.to_string();
            let failure = ApiFailure::from(error);
            assert_eq!(failure, ApiFailure::new(status, text));
        }
    }

    #[test]
    fn refusals_are_bad_requests_in_their_own_words() {
        let refusal = baton_protocol::api::parse_limit("-1").unwrap_err();
        let text = refusal.to_string();
        assert_eq!(
            ApiFailure::from(refusal),
            ApiFailure::new(StatusCode::BAD_REQUEST, text)
        );
    }

    #[test]
    fn an_unauthorized_answer_asks_for_a_bearer_token() {
        let response = ApiFailure::unauthorized("no").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
