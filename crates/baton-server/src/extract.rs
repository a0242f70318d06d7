//! Extractors that refuse bad requests with a JSON [`ApiError`] body
//! instead of axum's plain-text rejections.
//!
//! [`ApiError`]: baton_protocol::api::ApiError

use crate::error::ApiFailure;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Json, body::Bytes};
use serde::de::DeserializeOwned;

/// A JSON object body (`Content-Type: application/json`). Malformed JSON,
/// anything but an object, fields of the wrong type, unknown fields and a
/// missing content type are 400s that say what is wrong; a body over the
/// limit is a 413.
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_object(req, state, false).await.map(Self)
    }
}

/// Like [`ApiJson`], but a request with no body at all (and no content
/// type), or a JSON `null`, stands for `T::default()`: `curl -X POST`
/// without `-d` works.
pub(crate) struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return json_object::<Option<T>, S>(req, state, true)
                .await
                .map(|v| Self(v.unwrap_or_default()));
        }
        let body = body_of(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(Self(T::default()))
        } else {
            Err(ApiFailure::bad_request(
                "the body must be JSON: send it with `Content-Type: application/json`",
            ))
        }
    }
}

/// Reads a JSON body that must be an object (or `null`, when
/// `null_too`). serde would also read a struct from an array of its
/// fields in order; the API takes objects only.
async fn json_object<T, S>(req: Request, state: &S, null_too: bool) -> Result<T, ApiFailure>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    if !is_json(req.headers()) {
        return Err(ApiFailure::bad_request(
            "Expected request with `Content-Type: application/json`",
        ));
    }
    let body = body_of(req, state).await?;
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(b'n') if null_too => {}
        _ => {
            return Err(ApiFailure::bad_request(if null_too {
                "the body must be a JSON object (or null)"
            } else {
                "the body must be a JSON object"
            }));
        }
    }
    Json::<T>::from_bytes(&body)
        .map(|Json(value)| value)
        .map_err(json_failure)
}

/// The whole body; one over the limit is a 413.
async fn body_of<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiFailure> {
    Bytes::from_request(req, state)
        .await
        .map_err(|r| ApiFailure::new(r.status(), r.body_text()))
}

/// Whether the content type is JSON: `application/json`, or
/// `application/...+json`, parameters (`; charset=utf-8`) aside.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Maps a JSON rejection to its answer: every problem with what the client
/// sent is a 400 (axum says 422 for well-formed JSON of the wrong shape).
fn json_failure(rejection: JsonRejection) -> ApiFailure {
    let status = match &rejection {
        JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
            StatusCode::BAD_REQUEST
        }
        other => other.status(),
    };
    ApiFailure::new(status, rejection.body_text())
}

/// Query parameters; unknown or malformed ones are 400s.
pub(crate) struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|r: QueryRejection| ApiFailure::new(r.status(), r.body_text()))
    }
}

/// The one `{id}` of a route's path.
pub(crate) struct ApiPath(pub String);

impl<S> FromRequestParts<S> for ApiPath
where
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|r: PathRejection| ApiFailure::new(r.status(), r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised_with_their_parameters() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonx"));
        assert!(!with("text/json+xml"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
