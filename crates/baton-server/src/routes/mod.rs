//! The routes. Each handler carries its `#[utoipa::path]`; [`api`]
//! registers them once, and both the router and the OpenAPI document come
//! from that.

mod choices;
mod events;
mod permissions;
mod sessions;
mod shells;
mod tasks;

use crate::error::ApiFailure;
use crate::openapi::{self, ApiDoc};
use crate::state::AppState;
use axum::http::{Method, StatusCode, Uri};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route, with its part of the OpenAPI document.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sessions::create_session, sessions::list_sessions))
        .routes(routes!(sessions::get_session, sessions::update_session))
        .routes(routes!(sessions::get_tree))
        .routes(routes!(sessions::list_messages, sessions::send_message))
        .routes(routes!(sessions::cancel_session))
        .routes(routes!(sessions::interrupt_session))
        .routes(routes!(sessions::compact_session))
        .routes(routes!(sessions::list_tasks))
        .routes(routes!(tasks::get_task))
        .routes(routes!(tasks::send_to_task))
        .routes(routes!(tasks::cancel_task))
        .routes(routes!(tasks::background_call))
        .routes(routes!(shells::list_shells))
        .routes(routes!(shells::get_shell))
        .routes(routes!(shells::kill_shell))
        .routes(routes!(permissions::list_permissions))
        .routes(routes!(permissions::answer_permission))
        .routes(routes!(choices::list_agents))
        .routes(routes!(choices::list_models))
        .routes(routes!(events::events))
        .routes(routes!(openapi::openapi_json))
}

/// The answer to a path no route serves. Its text starts with `no route`,
/// unlike a route's own 404 (`no session ...`, `no task ...`).
pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiFailure {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        format!("no route {method} {}; see /openapi.json", uri.path()),
    )
}

/// The answer to a method a path does not serve.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiFailure {
    ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "method {method} is not allowed on {}; see /openapi.json",
            uri.path()
        ),
    )
}
