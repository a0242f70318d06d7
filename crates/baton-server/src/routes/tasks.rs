//! Delegated tasks: show one, steer or resume it, cancel it; and moving a
//! running tool call to the background.

use crate::error::ApiFailure;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baton_protocol::TaskId;
use baton_protocol::api::{Accepted, ApiError, Recipient, SendMessage, TaskView, check_text};

/// One task, with its result once it ended.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}",
    tag = "tasks",
    params(("id" = String, Path, description = "The task id.")),
    responses(
        (status = 200, description = "The task.", body = TaskView),
        (status = 404, description = "No such task.", body = ApiError),
    )
)]
pub(crate) async fn get_task(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<TaskView>, ApiFailure> {
    Ok(Json(state.engine.task(&TaskId::from(id)).await?))
}

/// Steers a running task (its sub-agent reads the message before its next
/// model call) or resumes an ended one with the message.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/messages",
    tag = "tasks",
    params(("id" = String, Path, description = "The task id.")),
    request_body = SendMessage,
    responses(
        (status = 202, description = "Sent, or the task resumed.", body = Accepted),
        (status = 400, description = "Bad body, empty text, or the task cannot take it now.", body = ApiError),
        (status = 404, description = "No such task.", body = ApiError),
        (status = 413, description = "The body is over the limit.", body = ApiError),
        (status = 503, description = "The engine is shutting down.", body = ApiError),
    )
)]
pub(crate) async fn send_to_task(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<Accepted>), ApiFailure> {
    check_text(&body.text, Recipient::Task)?;
    let message = state
        .engine
        .send_to_task(&TaskId::from(id), &body.text)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted::new(message))))
}

/// Cancels a task and everything under it.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/cancel",
    tag = "tasks",
    params(("id" = String, Path, description = "The task id.")),
    responses(
        (status = 202, description = "Cancelling (or it had already ended).", body = Accepted),
        (status = 404, description = "No such task.", body = ApiError),
        (status = 503, description = "The engine is shutting down.", body = ApiError),
    )
)]
pub(crate) async fn cancel_task(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<(StatusCode, Json<Accepted>), ApiFailure> {
    let message = state.engine.cancel_task(&TaskId::from(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted::new(message))))
}

/// Moves a running tool call (a foreground `bash`, a `task` waiting for its
/// sub-agent) to the background: the call returns at once and its
/// completion arrives later as a notice.
#[utoipa::path(
    post,
    path = "/v1/calls/{call_id}/background",
    tag = "tasks",
    params(("call_id" = String, Path, description = "The tool call id (from `tool.started`).")),
    responses(
        (status = 202, description = "Moved.", body = Accepted),
        (status = 404, description = "No running call with that id can be moved.", body = ApiError),
    )
)]
pub(crate) async fn background_call(
    State(state): State<AppState>,
    ApiPath(call_id): ApiPath,
) -> Result<(StatusCode, Json<Accepted>), ApiFailure> {
    state.engine.background_call(&call_id)?;
    Ok((StatusCode::ACCEPTED, Json(Accepted::backgrounded(&call_id))))
}
