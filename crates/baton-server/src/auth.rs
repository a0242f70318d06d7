//! Bearer-token authentication of `/v1` requests.

use crate::error::ApiFailure;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Lets a request under `/v1` through only with `Authorization: Bearer
/// TOKEN`; anything else (`/openapi.json`) needs no token.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path != "/v1" && !path.starts_with("/v1/") {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().map(bearer));
    match given {
        None => ApiFailure::unauthorized(
            "missing `Authorization: Bearer TOKEN` header (the token is in \
             $BATON_HOME/server.token, or BATON_SERVER_TOKEN)",
        )
        .into_response(),
        Some(Ok(Some(token))) if same_token(token, &state.token) => next.run(request).await,
        Some(_) => {
            tracing::debug!(path, "refused a request with a wrong token");
            ApiFailure::unauthorized("wrong token in the Authorization header").into_response()
        }
    }
}

/// The token of a `Bearer TOKEN` header value (the scheme is
/// case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Compares a token in time that does not depend on where the first
/// difference is. An empty expected token matches nothing.
fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if b.is_empty() || a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole_and_exact() {
        assert!(same_token("abc123", "abc123"));
        assert!(!same_token("abc124", "abc123"));
        assert!(!same_token("abc12", "abc123"));
        assert!(!same_token("abc1234", "abc123"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_required() {
        assert_eq!(bearer("Bearer tok"), Some("tok"));
        assert_eq!(bearer("bearer  tok "), Some("tok"));
        assert_eq!(bearer("Basic tok"), None);
        assert_eq!(bearer("tok"), None);
    }
}
