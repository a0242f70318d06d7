//! A session's model or title changed by a front end: the actor takes
//! the stored settings at its next step boundary.

use super::SessionActor;
use crate::error::EngineError;

impl SessionActor {
    /// At a step boundary: takes the model and title stored for the
    /// session if they changed since it last looked.
    pub(crate) async fn take_settings(&mut self) -> Result<(), EngineError> {
        if !self.control.take_settings_changed() {
            return Ok(());
        }
        let result = self.reload_settings().await;
        if result.is_err() {
            // Looked at again at the next boundary.
            self.control.mark_settings_changed();
        }
        result
    }

    async fn reload_settings(&mut self) -> Result<(), EngineError> {
        let stored = self.services.session_record(&self.record.id).await?;
        if stored.model != self.record.model {
            let model = self.services.check_model(&stored.model)?;
            let provider = self
                .services
                .providers
                .get(&model.provider)
                .ok_or_else(|| {
                    EngineError::Invalid(format!("provider `{}` is not configured", model.provider))
                })?;
            tracing::debug!(
                session = %self.record.id,
                from = %self.record.model,
                to = %stored.model,
                "the session switches models"
            );
            self.model_info = self.services.catalog.lookup(&model).cloned();
            self.provider = provider;
            self.model = model;
            self.record.model = stored.model;
        }
        self.record.title = stored.title;
        Ok(())
    }
}
