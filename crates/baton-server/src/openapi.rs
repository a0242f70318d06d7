//! The OpenAPI document: built from the same registrations as the router
//! (see [`crate::routes::api`]), then given its title, its bearer scheme
//! and the 401 every `/v1` operation can answer.

use crate::error::ApiFailure;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use baton_protocol::api::Resync;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// The name of the bearer security scheme in the document.
const BEARER: &str = "bearer";

/// The document's base: info, tags, the global security requirement.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "baton API",
        description = "Drive a baton engine over HTTP: sessions, delegated tasks, background \
            shells, permission requests, and the event stream (Server-Sent Events). Every `/v1` \
            request needs `Authorization: Bearer TOKEN`."
    ),
    security(("bearer" = [])),
    components(schemas(Resync)),
    tags(
        (name = "sessions", description = "Sessions and their conversations."),
        (name = "tasks", description = "Delegated tasks and movable tool calls."),
        (name = "shells", description = "Background shell commands."),
        (name = "permissions", description = "Tool calls waiting for approval."),
        (name = "agents", description = "The agents and models sessions can use."),
        (name = "events", description = "The event stream."),
        (name = "meta", description = "This document."),
    )
)]
pub(crate) struct ApiDoc;

/// Adds what the route registrations cannot say: the bearer scheme and
/// the 401 answer of every `/v1` operation.
pub(crate) fn finish(doc: &mut OpenApi) {
    doc.components
        .get_or_insert_with(Components::new)
        .add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "BATON_SERVER_TOKEN, else the content of $BATON_HOME/server.token",
                    ))
                    .build(),
            ),
        );
    let unauthorized: RefOr<utoipa::openapi::Response> = ResponseBuilder::new()
        .description("No token, or the wrong one.")
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ApiError"))),
        )
        .build()
        .into();
    let bad_query: RefOr<utoipa::openapi::Response> = ResponseBuilder::new()
        .description("A bad or unknown query parameter.")
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ApiError"))),
        )
        .build()
        .into();
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("401".to_owned())
                .or_insert_with(|| unauthorized.clone());
            // Query parameters are checked strictly (unknown or malformed
            // ones are refused).
            let has_query = operation.parameters.iter().flatten().any(|p| {
                matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
            });
            if has_query {
                operation
                    .responses
                    .responses
                    .entry("400".to_owned())
                    .or_insert_with(|| bad_query.clone());
            }
        }
        // No body at all means every default.
        if path == "/v1/sessions"
            && let Some(RefOr::T(body)) = item.post.as_mut().and_then(|op| op.request_body.as_mut())
        {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

/// This document (OpenAPI 3.1). Needs no token.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object))
)]
pub(crate) async fn openapi_json(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    serde_json::to_value(state.doc.as_ref())
        .map(Json)
        .map_err(|e| ApiFailure::internal(format!("could not encode the OpenAPI document: {e}")))
}
