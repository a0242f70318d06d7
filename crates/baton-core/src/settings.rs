//! Changing a session's model and title while it lives.
//!
//! A change is stored first, then the session's actor is told that its
//! settings changed; it reads them back from the store at its next step
//! boundary, so a model call already streaming finishes on the model it
//! started with. A session that is not live reads them when it is opened.

use crate::engine::Engine;
use crate::error::EngineError;
use crate::services::Services;
use baton_protocol::api::{SessionView, UpdateSession};
use baton_protocol::{EventKind, SessionId};
use baton_store::StoreError;

/// A checked change: the model resolved, the title trimmed.
struct Change {
    model: Option<String>,
    title: Option<String>,
}

impl Services {
    /// Resolves and checks a requested change; refuses one that changes
    /// nothing, names an unusable model or gives an empty title.
    fn check_change(&self, req: UpdateSession) -> Result<Change, EngineError> {
        if req.model.is_none() && req.title.is_none() {
            return Err(EngineError::Invalid(
                "nothing to change: give `model`, `title` or both".into(),
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
        Ok(Change { model, title })
    }
}

impl Engine {
    /// Changes a session's model, its title, or both. The model goes
    /// through the same checks as a new session's (aliases resolved, its
    /// provider configured). A live session uses the new model from its
    /// next model call on; a call already streaming finishes on the old
    /// one. Stored, then announced as `session.updated`.
    pub async fn update_session(
        &self,
        id: &SessionId,
        req: UpdateSession,
    ) -> Result<SessionView, EngineError> {
        let change = self.services().check_change(req)?;
        // One change at a time, so the events come in the order the
        // changes were stored.
        let serial = self.core.settings_changes.lock().await;
        let record = match self
            .services()
            .store
            .update_settings(id, change.model.as_deref(), change.title.as_deref())
            .await
        {
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
                model: record.model.clone(),
                title: Some(record.title.clone()).filter(|t| !t.is_empty()),
            },
        );
        drop(serial);
        tracing::debug!(session = %id, model = %record.model, "session settings changed");
        self.session(id).await
    }
}
