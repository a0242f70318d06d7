//! Changing a session's model, title and agent while it lives.
//!
//! A change is stored first, then the session's actor is told that its
//! settings changed; it reads them back from the store at its next step
//! boundary, so a model call already streaming finishes on the model it
//! started with. A session that is not live reads them when it is opened.
//! An agent is more than a setting (its prompt, tools and permissions are
//! fixed per actor), so a new agent retires the session's idle actor and
//! the next one is built for the new agent from the store.

use crate::engine::Engine;
use crate::error::EngineError;
use crate::services::Services;
use baton_protocol::api::{SessionView, UpdateSession};
use baton_protocol::{EventKind, SessionId};
use baton_store::{SettingsChange, StoreError};

/// A checked change: the model resolved, the title trimmed, the agent
/// known and primary.
struct Change {
    model: Option<String>,
    title: Option<String>,
    agent: Option<crate::agents::AgentDef>,
}

impl Services {
    /// Resolves and checks a requested change; refuses one that changes
    /// nothing, names an unusable model or gives an empty title.
    fn check_change(&self, req: UpdateSession) -> Result<Change, EngineError> {
        if req.model.is_none() && req.title.is_none() && req.agent.is_none() {
            return Err(EngineError::Invalid(
                "nothing to change: give `model`, `title` or `agent`".into(),
            ));
        }
        let model = match req.model {
            Some(spec) => {
                let resolved = self.resolve_model(&spec);
                self.check_model(&resolved)?;
                Some(resolved)
            }
            None => None,
        };
        let title = match req.title {
            Some(title) if title.trim().is_empty() => {
                return Err(EngineError::Invalid(
                    "`title` is empty; give the session a title with some text".into(),
                ));
            }
            Some(title) => Some(title.trim().to_owned()),
            None => None,
        };
        let agent = match req.agent {
            Some(name) => {
                let agent = self.find_agent(&name)?;
                if !agent.is_primary() {
                    return Err(EngineError::Invalid(format!(
                        "agent `{name}` is a sub-agent; it runs only as a delegated task"
                    )));
                }
                Some(agent)
            }
            None => None,
        };
        Ok(Change {
            model,
            title,
            agent,
        })
    }
}

impl Engine {
    /// Changes a session's model, title or agent (any of them). The model
    /// goes through the same checks as a new session's (aliases resolved,
    /// its provider configured). A live session uses the new model from its
    /// next model call on; a call already streaming finishes on the old
    /// one. A new agent (a primary one, for a top-level session with no
    /// work under way) applies from the session's next turn on, with its
    /// own model unless one is given. Stored, then announced as
    /// `session.updated`.
    pub async fn update_session(
        &self,
        id: &SessionId,
        req: UpdateSession,
    ) -> Result<SessionView, EngineError> {
        let mut change = self.services().check_change(req)?;
        // One change at a time, so the events come in the order the
        // changes were stored.
        let serial = self.core.settings_changes.lock().await;
        let current = self.services().session_record(id).await?;
        change.agent = change.agent.filter(|a| a.name != current.agent);
        let retired = match &change.agent {
            Some(agent) => {
                if current.parent_id.is_some() {
                    return Err(EngineError::Invalid(format!(
                        "session `{id}` is a task's; its agent is the one its `task` call chose"
                    )));
                }
                if change.model.is_none() {
                    change.model = self.services().agent_model(agent);
                    if let Some(model) = &change.model {
                        self.services().check_model(model)?;
                    }
                }
                Some(self.core.closed_for_change(id).await?)
            }
            None => None,
        };
        let stored = SettingsChange {
            model: change.model,
            title: change.title,
            agent: change.agent.map(|a| a.name),
        };
        let record = match self.services().store.update_settings(id, &stored).await {
            Ok(record) => record,
            Err(StoreError::NotFound(_)) => {
                return Err(EngineError::UnknownSession(id.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(handle) = self.core.handle(id) {
            handle.settings_changed();
        }
        self.services().emit(
            id,
            EventKind::SessionUpdated {
                agent: record.agent.clone(),
                model: record.model.clone(),
                title: Some(record.title.clone()).filter(|t| !t.is_empty()),
            },
        );
        drop(retired);
        drop(serial);
        tracing::debug!(
            session = %id,
            agent = %record.agent,
            model = %record.model,
            "session settings changed"
        );
        self.session(id).await
    }
}
