//! Background shell commands: list, read, kill.

use crate::error::ApiFailure;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use baton_protocol::SessionId;
use baton_protocol::api::{ApiError, ShellView};
use serde::Deserialize;

/// Which shells `GET /v1/shells` lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ShellFilter {
    /// Only the shells of this session.
    session: Option<String>,
}

/// The background shells of this server's process, oldest first.
#[utoipa::path(
    get,
    path = "/v1/shells",
    tag = "shells",
    params(ShellFilter),
    responses(
        (status = 200, description = "The shells, oldest first, without their output.", body = [ShellView]),
        (status = 400, description = "A bad query parameter.", body = ApiError),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn list_shells(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ShellFilter>,
) -> Result<Json<Vec<ShellView>>, ApiFailure> {
    let session = filter.session.map(SessionId::from);
    if let Some(id) = &session {
        state.engine.session(id).await?;
    }
    Ok(Json(state.engine.shells(session.as_ref())))
}

/// One shell, with the output held in memory.
#[utoipa::path(
    get,
    path = "/v1/shells/{id}",
    tag = "shells",
    params(("id" = String, Path, description = "The shell id.")),
    responses(
        (status = 200, description = "The shell and its output.", body = ShellView),
        (status = 404, description = "No such shell.", body = ApiError),
    )
)]
pub(crate) async fn get_shell(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<ShellView>, ApiFailure> {
    Ok(Json(state.engine.shell(&id)?))
}

/// Kills a shell's process group and answers once it is dead. A shell that
/// already ended is returned as it is.
#[utoipa::path(
    post,
    path = "/v1/shells/{id}/kill",
    tag = "shells",
    params(("id" = String, Path, description = "The shell id.")),
    responses(
        (status = 200, description = "The shell, ended.", body = ShellView),
        (status = 404, description = "No such shell.", body = ApiError),
    )
)]
pub(crate) async fn kill_shell(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<ShellView>, ApiFailure> {
    Ok(Json(state.engine.kill_shell(&id).await?))
}
