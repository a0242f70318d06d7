//! Permission requests: list the pending ones, answer one.

use crate::error::ApiFailure;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use baton_protocol::api::{Accepted, AnswerPermission, ApiError, check_answer};
use baton_protocol::{PermissionId, PermissionRequest};

/// Permission requests waiting for an answer, oldest first.
#[utoipa::path(
    get,
    path = "/v1/permissions",
    tag = "permissions",
    responses(
        (status = 200, description = "The pending requests, oldest first.", body = [PermissionRequest]),
    )
)]
pub(crate) async fn list_permissions(
    State(state): State<AppState>,
) -> Json<Vec<PermissionRequest>> {
    Json(state.engine.pending_permissions())
}

/// Answers a permission request: the waiting call runs (`allow_once`,
/// `allow_always`) or the model reads a denial (`deny`), with the
/// `reason` when one is given (only with `deny`).
#[utoipa::path(
    post,
    path = "/v1/permissions/{id}",
    tag = "permissions",
    params(("id" = String, Path, description = "The request id (`perm_…`).")),
    request_body = AnswerPermission,
    responses(
        (status = 200, description = "Answered; the session goes on.", body = Accepted),
        (status = 400, description = "Bad body or decision, a `reason` with an `allow_*` decision, or an empty `reason`.", body = ApiError),
        (status = 404, description = "No pending request with that id.", body = ApiError),
        (status = 413, description = "The body is over the limit.", body = ApiError),
    )
)]
pub(crate) async fn answer_permission(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<AnswerPermission>,
) -> Result<Json<Accepted>, ApiFailure> {
    let id = PermissionId::from(id);
    let answer = check_answer(body)?;
    let decision = answer.decision();
    state.engine.answer_permission(&id, answer).await?;
    Ok(Json(Accepted::answered(&id, decision)))
}
