//! What a front end offers to choose from: the agents sessions can run and
//! the models they can use.

use crate::agents::AgentDef;
use crate::engine::Engine;
use crate::services::Services;
use baton_llm::ModelRef;
use baton_protocol::api::{AgentView, ModelView};
use std::collections::BTreeMap;

impl Engine {
    /// The agents sessions can run, sorted by name.
    pub fn agent_views(&self) -> Vec<AgentView> {
        self.services()
            .agents
            .all()
            .map(|agent| agent_view(self.services(), agent))
            .collect()
    }

    /// The models sessions can use: the default model, every alias's
    /// target and every `[models."provider/model"]` entry of the config,
    /// each only if its provider exists, and the built-in catalog's models
    /// of providers someone configured (a `[providers.NAME]` table or its
    /// API key set: `openai/gpt-4o` once `OPENAI_API_KEY` is set). The
    /// default comes first, the others sorted by id; each model appears
    /// once.
    pub fn models(&self) -> Vec<ModelView> {
        model_views(self.services())
    }
}

fn agent_view(services: &Services, agent: &AgentDef) -> AgentView {
    AgentView {
        name: agent.name.clone(),
        description: agent.description.clone(),
        mode: agent.mode.as_str().to_owned(),
        // What the engine runs it on: an alias resolved, a name that is
        // neither an alias nor `provider/model` inherits.
        model: agent
            .model
            .as_deref()
            .map(|spec| services.resolve_model(spec))
            .filter(|m| ModelRef::parse(m).is_ok()),
        source: match &agent.source.path {
            Some(path) => path.display().to_string(),
            None => agent.source.to_string(),
        },
    }
}

fn model_views(services: &Services) -> Vec<ModelView> {
    let usable = |spec: &str| {
        ModelRef::parse(spec)
            .ok()
            .filter(|r| services.providers.get(&r.provider).is_some())
    };
    let default = services.default_model.as_deref().and_then(usable);
    // By id: sorted and without repeats.
    let mut found: BTreeMap<String, ModelRef> = BTreeMap::new();
    let candidates = default
        .iter()
        .cloned()
        .chain(services.config.aliases.values().filter_map(|t| usable(t)))
        .chain(services.config.models.keys().filter_map(|k| usable(k)))
        .chain(
            services
                .catalog
                .models()
                .into_iter()
                .filter(|m| services.providers.is_configured(&m.provider)),
        );
    for model in candidates {
        found.entry(model.to_string()).or_insert(model);
    }
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (alias, target) in &services.config.aliases {
        if let Some(model) = usable(target) {
            aliases
                .entry(model.to_string())
                .or_default()
                .push(alias.clone());
        }
    }
    let default_id = default.map(|d| d.to_string());
    let mut views: Vec<ModelView> = found
        .into_iter()
        .map(|(id, model)| ModelView {
            is_default: default_id.as_deref() == Some(id.as_str()),
            aliases: aliases.remove(&id).unwrap_or_default(),
            context_window: services.catalog.lookup(&model).map(|i| i.context_window),
            provider: model.provider,
            model: model.model,
            id,
        })
        .collect();
    // Stable: the default first, the rest stay sorted by id.
    views.sort_by_key(|v| !v.is_default);
    views
}
