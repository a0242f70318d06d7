//! What a front end offers to choose from: the agents sessions can run and
//! the models they can use.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use baton_protocol::api::{AgentView, ModelView};

/// The agents sessions can run, sorted by name.
#[utoipa::path(
    get,
    path = "/v1/agents",
    tag = "agents",
    responses(
        (status = 200, description = "Every agent, built in or read from a file, sorted by name.", body = [AgentView]),
    )
)]
pub(crate) async fn list_agents(State(state): State<AppState>) -> Json<Vec<AgentView>> {
    Json(state.engine.agent_views())
}

/// The models sessions can use: the default model, every alias's target
/// and every `[models."provider/model"]` entry of the config whose
/// provider is configured. The default first, the rest sorted by id.
#[utoipa::path(
    get,
    path = "/v1/models",
    tag = "agents",
    responses(
        (status = 200, description = "The models, the default first, then by id.", body = [ModelView]),
    )
)]
pub(crate) async fn list_models(State(state): State<AppState>) -> Json<Vec<ModelView>> {
    Json(state.engine.models())
}
