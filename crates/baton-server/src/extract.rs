//! Extractors that refuse bad requests with a JSON [`ApiError`] body
//! instead of axum's plain-text rejections.
//!
//! [`ApiError`]: baton_protocol::api::ApiError

use crate::error::ApiFailure;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::{Json, body::Bytes};
use serde::de::DeserializeOwned;

/// A JSON object body (`Content-Type: application/json`). Malformed JSON,
/// a body that is not an object, fields of the wrong type, unknown fields
/// and a missing content type are 400s that say what is wrong; a body over
/// the limit is a 413.
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Read as a value first: serde would also fill a struct from an
        // array, which the API does not take.
        let value = match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => return Err(json_failure(rejection)),
        };
        if !value.is_object() {
            return Err(ApiFailure::bad_request(
                "the body must be a JSON object (`{...}`)",
            ));
        }
        serde_json::from_value(value).map(Self).map_err(|e| {
            ApiFailure::bad_request(format!(
                "Failed to deserialize the JSON body into the target type: {e}"
            ))
        })
    }
}

/// Like [`ApiJson`], but a request with no body at all (and no content
/// type) stands for `T::default()`: `curl -X POST` without `-d` works.
pub(crate) struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return ApiJson::from_request(req, state)
                .await
                .map(|ApiJson(v)| Self(v));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiFailure::new(r.status(), r.body_text()))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(Self(T::default()))
        } else {
            Err(ApiFailure::bad_request(
                "the body must be JSON: send it with `Content-Type: application/json`",
            ))
        }
    }
}

/// Maps a JSON rejection to its answer: every problem with what the client
/// sent is a 400 (axum says 415 for a missing content type and 422 for
/// well-formed JSON of the wrong shape), except a body that is too large
/// (413).
fn json_failure(rejection: JsonRejection) -> ApiFailure {
    let status = match &rejection {
        JsonRejection::JsonDataError(_)
        | JsonRejection::JsonSyntaxError(_)
        | JsonRejection::MissingJsonContentType(_) => StatusCode::BAD_REQUEST,
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
