//! Sessions: create, list, show, change their model or title, read their
//! messages, talk to them, cancel them, list what they delegated.

use crate::error::ApiFailure;
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baton_core::NewSession;
use baton_protocol::api::{
    Accepted, ApiError, CreateSession, MessageAccepted, Recipient, SendMessage, SessionTree,
    SessionView, TaskView, UpdateSession, check_text, parse_limit,
};
use baton_protocol::{Message, SessionId};
use serde::Deserialize;

/// Creates a session and starts it (idle until it gets a message).
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "sessions",
    request_body(
        content = Option<CreateSession>,
        description = "Every field is optional; no body at all (and no `Content-Type`), or `null`, means all defaults."
    ),
    responses(
        (status = 201, description = "The new session.", body = SessionView),
        (status = 400, description = "Bad body, unknown agent or model, unusable directory.", body = ApiError),
        (status = 413, description = "The body is over the limit.", body = ApiError),
        (status = 503, description = "The engine is shutting down.", body = ApiError),
    )
)]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    OptionalJson(req): OptionalJson<CreateSession>,
) -> Result<(StatusCode, Json<SessionView>), ApiFailure> {
    // A relative directory is taken from the server's default one.
    let cwd = match req.cwd {
        Some(dir) => state.default_cwd.join(dir),
        None => state.default_cwd.as_ref().clone(),
    };
    let view = state
        .engine
        .create_session(NewSession {
            cwd,
            agent: req.agent,
            model: req.model,
            title: req.title,
        })
        .await?;
    tracing::debug!(session = %view.id, "session created over the API");
    Ok((StatusCode::CREATED, Json(view)))
}

/// Which sessions `GET /v1/sessions` lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SessionFilter {
    /// Only sessions in this working directory.
    cwd: Option<String>,
    /// Only top-level sessions (no parent).
    #[serde(default)]
    #[param(required = false)]
    roots_only: bool,
    /// Only the children of this session.
    parent: Option<String>,
    /// At most this many.
    // Read by `parse_limit`, so that a bad one is refused in the same
    // words as through the in-process client.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    limit: Option<String>,
}

/// Lists sessions, most recent first.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "sessions",
    params(SessionFilter),
    responses(
        (status = 200, description = "The sessions, most recent first.", body = [SessionView]),
        (status = 400, description = "A bad query parameter.", body = ApiError),
    )
)]
pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<SessionFilter>,
) -> Result<Json<Vec<SessionView>>, ApiFailure> {
    // Sessions store their directory canonicalized; a relative one is
    // taken from the server's default directory, as when creating.
    let cwd = filter.cwd.map(|c| {
        std::fs::canonicalize(state.default_cwd.join(&c))
            .map_or(c, |p| p.to_string_lossy().into_owned())
    });
    let limit = filter.limit.as_deref().map(parse_limit).transpose()?;
    let query = baton_protocol::api::SessionFilter {
        cwd,
        roots_only: filter.roots_only,
        parent: filter.parent.map(SessionId::from),
        limit,
    };
    Ok(Json(state.engine.sessions(query).await?))
}

/// One session, with usage totals that include its descendants.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 200, description = "The session.", body = SessionView),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn get_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<SessionView>, ApiFailure> {
    Ok(Json(state.engine.session(&SessionId::from(id)).await?))
}

/// A session and everything under it in one answer: every descendant
/// session (the root first, then in spawn order), every task of the tree
/// with its status and usage, the tree's shells, its pending permission
/// requests and the messages queued for its sessions.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/tree",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 200, description = "The session's tree.", body = SessionTree),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn get_tree(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<SessionTree>, ApiFailure> {
    Ok(Json(state.engine.tree(&SessionId::from(id)).await?))
}

/// Changes a session's model, its title, or both. The model is checked
/// like a new session's (an alias or `provider/model` of a configured
/// provider); a running session uses it from its next model call on.
/// Announced as `session.updated`.
#[utoipa::path(
    patch,
    path = "/v1/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    request_body(
        content = UpdateSession,
        description = "`model`, `title`, `agent` or several; at least one."
    ),
    responses(
        (status = 200, description = "The session as it is now.", body = SessionView),
        (status = 400, description = "Bad body, nothing to change, unusable model, empty title, unknown or sub-agent agent, or an agent for a task's session; nothing changed.", body = ApiError),
        (status = 404, description = "No such session.", body = ApiError),
        (status = 409, description = "A new agent while the session has work under way (a turn, a task or a shell); nothing changed.", body = ApiError),
        (status = 413, description = "The body is over the limit.", body = ApiError),
    )
)]
pub(crate) async fn update_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
    ApiJson(change): ApiJson<UpdateSession>,
) -> Result<Json<SessionView>, ApiFailure> {
    let id = SessionId::from(id);
    Ok(Json(state.engine.update_session(&id, change).await?))
}

/// A session's stored conversation, oldest first.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/messages",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 200, description = "Its messages, oldest first.", body = [Message]),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<Vec<Message>>, ApiFailure> {
    Ok(Json(state.engine.messages(&SessionId::from(id)).await?))
}

/// Sends a message from the person. An idle session starts a turn; a busy
/// one takes it at its next step boundary. Never dropped.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/messages",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    request_body = SendMessage,
    responses(
        (status = 202, description = "Queued; follow it on the event stream.", body = MessageAccepted),
        (status = 400, description = "Bad body or empty text.", body = ApiError),
        (status = 404, description = "No such session.", body = ApiError),
        (status = 413, description = "The body is over the limit.", body = ApiError),
        (status = 503, description = "The engine is shutting down.", body = ApiError),
    )
)]
pub(crate) async fn send_message(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<MessageAccepted>), ApiFailure> {
    check_text(&body.text, Recipient::Session)?;
    let id = SessionId::from(id);
    let accepted = state.engine.send_message(&id, &body.text).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Interrupts the session's turn only: its tasks and background shells go
/// on, and their notices wake it as usual. The messages queued for it that
/// it had not taken yet are withdrawn (`message.withdrawn`) and handed back
/// in `withdrawn`.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/interrupt",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 202, description = "Interrupting; the events say when the turn stopped.", body = Accepted),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn interrupt_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<(StatusCode, Json<Accepted>), ApiFailure> {
    let accepted = state.engine.interrupt_session(&SessionId::from(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Interrupts the session's turn and cancels its tasks (recursively) and
/// shells. A running session's queued messages it had not taken yet are
/// withdrawn and handed back in `withdrawn`; a session that is not running
/// has nothing to cancel (its queued messages are kept unanswered).
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/cancel",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 202, description = "Cancelling; the events say when it stopped.", body = Accepted),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn cancel_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<(StatusCode, Json<Accepted>), ApiFailure> {
    let accepted = state.engine.cancel_session(&SessionId::from(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Compacts the session's conversation: its older part is summarized by
/// the model and replaced by the summary in what the model reads from then
/// on (the latest turns stay verbatim). At once when the session is idle,
/// at its turn's next step boundary when it is busy; `context.compacted`
/// (or an `error` event) says how it went.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/compact",
    tag = "sessions",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 202, description = "Compacting; the events say when it is done.", body = Accepted),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn compact_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<(StatusCode, Json<Accepted>), ApiFailure> {
    let message = state.engine.compact_session(&SessionId::from(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted::new(message))))
}

/// The tasks a session delegated, oldest first.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/tasks",
    tag = "tasks",
    params(("id" = String, Path, description = "The session id.")),
    responses(
        (status = 200, description = "Its tasks, oldest first.", body = [TaskView]),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn list_tasks(
    State(state): State<AppState>,
    ApiPath(id): ApiPath,
) -> Result<Json<Vec<TaskView>>, ApiFailure> {
    Ok(Json(state.engine.tasks_of(&SessionId::from(id)).await?))
}
