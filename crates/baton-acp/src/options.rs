//! A session's modes (baton's agents) and its configuration options (the
//! model), as `session/new` and `session/load` report them.

use agent_client_protocol::v1::schema::{
    SessionConfigOption, SessionConfigOptionCategory, SessionConfigSelectOption, SessionMode,
    SessionModeState,
};
use baton_protocol::api::{AgentView, ModelView, SessionView};

/// The id of the model option.
pub(crate) const MODEL: &str = "model";

/// The agents a person can talk to (not the sub-agent-only ones), with
/// the session's own as the current mode.
pub(crate) fn modes(session: &SessionView, agents: &[AgentView]) -> SessionModeState {
    let mut available: Vec<SessionMode> = agents
        .iter()
        .filter(|a| a.mode != "subagent" || a.name == session.agent)
        .map(|a| {
            SessionMode::new(a.name.clone(), a.name.clone())
                .description(Some(a.description.clone()).filter(|d| !d.is_empty()))
        })
        .collect();
    if !available.iter().any(|m| *m.id.0 == *session.agent) {
        available.push(SessionMode::new(
            session.agent.clone(),
            session.agent.clone(),
        ));
    }
    SessionModeState::new(session.agent.clone(), available)
}

/// The model picker: every model sessions can use, the session's current.
pub(crate) fn config(current: &str, models: &[ModelView]) -> Vec<SessionConfigOption> {
    let mut options: Vec<SessionConfigSelectOption> = models
        .iter()
        .map(|m| SessionConfigSelectOption::new(m.id.clone(), m.id.clone()))
        .collect();
    if !models.iter().any(|m| m.id == current) {
        options.insert(
            0,
            SessionConfigSelectOption::new(current.to_owned(), current.to_owned()),
        );
    }
    vec![
        SessionConfigOption::select(MODEL, "Model", current.to_owned(), options)
            .description("the model this session calls from its next step on".to_owned())
            .category(SessionConfigOptionCategory::Model),
    ]
}
