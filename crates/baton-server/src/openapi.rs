//! The OpenAPI document: built from the same registrations as the router
//! (see [`crate::routes::api`]), then given its title, its bearer scheme,
//! the 401 every `/v1` operation can answer, and the schemas the derives
//! cannot state (the frames of the event stream, a session change that
//! must change something).

use crate::error::ApiFailure;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use baton_protocol::Event;
use baton_protocol::api::Resync;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, Content, OpenApi, Ref, RefOr, ResponseBuilder, Schema};

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
    components(schemas(Event, Resync)),
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

/// The schema of one frame of `GET /v1/events` (the route refers to it).
const STREAM_FRAME: &str = "StreamFrame";

/// Adds what the route registrations cannot say: the bearer scheme, the
/// 401 answer of every `/v1` operation, the frames of the event stream,
/// the rule that a session change changes something and the rule that
/// only a denial carries a reason.
pub(crate) fn finish(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Components::new);
    components
        .schemas
        .insert(STREAM_FRAME.to_owned(), stream_frame().into());
    if let Some(update) = components.schemas.remove("UpdateSession") {
        components.schemas.insert(
            "UpdateSession".to_owned(),
            something_to_change(update).into(),
        );
    }
    components
        .schemas
        .insert("AnswerPermission".to_owned(), answer_permission().into());
    components.add_security_scheme(
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

/// One Server-Sent Event of the stream, as a reader parses it (`event`,
/// `id`, `data`): an engine event (named `message`, the default, with its
/// `seq` as id) or a `resync` (no id of its own).
fn stream_frame() -> Schema {
    let name = |value: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([value.to_owned()]))
    };
    let json_of = |schema: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/json")
            .content_schema(Some(Ref::from_schema_name(schema)))
    };
    let event = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An engine event: `data` is the Event as JSON."))
        .property("event", name("message"))
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9]+$"))
                .description(Some("The event's `seq`.")),
        )
        .property("data", json_of("Event"))
        .required("event")
        .required("id")
        .required("data");
    let resync = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Events were lost here: `data` is a Resync as JSON. Reload what you show; the \
             stream goes on from its `next`.",
        ))
        .property("event", name("resync"))
        .property("data", json_of("Resync"))
        .required("event")
        .required("data");
    OneOfBuilder::new()
        .description(Some(
            "One frame of the event stream: an engine event, or a resync where events were lost.",
        ))
        .item(event)
        .item(resync)
        .into()
}

/// `UpdateSession` with the rule its derive cannot state: `model`,
/// `title` or `agent` (or several) given as a string; `null` means
/// unchanged.
fn something_to_change(update: RefOr<Schema>) -> Schema {
    let given = |field: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(field, ObjectBuilder::new().schema_type(Type::String))
            .required(field)
    };
    AllOfBuilder::new()
        .description(Some(
            "A change to a session: its model, its title, its agent, or several; at least one \
             given.",
        ))
        .item(update)
        .item(
            AnyOfBuilder::new()
                .item(given("model"))
                .item(given("title"))
                .item(given("agent")),
        )
        .into()
}

/// `AnswerPermission` as the server checks it (`check_answer`): an
/// `allow_*` decision alone, or `deny` with an optional `reason` that is
/// not blank. `null` stands for no reason.
fn answer_permission() -> Schema {
    let decision = |values: &[&str]| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().map(|v| (*v).to_owned())))
    };
    let allow = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("Run the call (`allow_always`: and what the request's pattern covers in its session tree)."))
        .property("decision", decision(&["allow_once", "allow_always"]))
        .property("reason", ObjectBuilder::new().schema_type(Type::Null))
        .required("decision")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let deny = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Do not run the call. The model reads that it was denied and, when given, the reason.",
        ))
        .property("decision", decision(&["deny"]))
        .property(
            "reason",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .min_length(Some(1))
                .pattern(Some(r"\S"))
                .description(Some(
                    "Why, for the model to read: not empty, not only white space.",
                )),
        )
        .required("decision")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    OneOfBuilder::new()
        .description(Some(
            "The answer to a permission request: `allow_once`, `allow_always`, or `deny` with an \
             optional `reason`. A reason with an `allow_*` decision is refused.",
        ))
        .item(allow)
        .item(deny)
        .into()
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
