//! Every `ask` of the tree becomes a `session/request_permission` to the
//! client; its answer goes back to the engine.
//!
//! The request goes out from a task of its own: the connection's dispatch
//! loop must stay free to read the client's answer (and anything else the
//! client sends meanwhile).

use crate::tools::ToolShape;
use crate::updates::acp_id;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    PermissionOption, PermissionOptionKind, RequestPermissionOutcome, RequestPermissionRequest,
    ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields,
};
use agent_client_protocol::{Client as AcpClient, Error as AcpError};
use baton_client::Client;
use baton_protocol::{PermissionAnswer, PermissionId, SessionId};
use std::sync::Arc;

const ALLOW_ONCE: &str = "allow_once";
const ALLOW_ALWAYS: &str = "allow_always";
const DENY: &str = "deny";

/// One permission request of the tree.
pub(crate) struct Ask {
    pub request: PermissionId,
    /// The session the client is asked on.
    pub session: SessionId,
    pub call_id: String,
    /// How the waiting call was shown, when the client saw it start.
    pub shape: Option<ToolShape>,
    pub tool: String,
    pub detail: String,
    pub pattern: String,
    pub agent: String,
}

impl Ask {
    /// The request as the client receives it.
    fn request(&self) -> RequestPermissionRequest {
        let title = match &self.shape {
            Some(shape) => shape.title.clone(),
            None => format!("{} ({}): {}", self.tool, self.agent, self.detail),
        };
        let mut fields = ToolCallUpdateFields::new()
            .title(title)
            .status(ToolCallStatus::Pending);
        if let Some(shape) = &self.shape {
            fields = fields.kind(shape.kind).raw_input(shape.raw_input.clone());
        }
        RequestPermissionRequest::new(
            acp_id(&self.session),
            ToolCallUpdate::new(self.call_id.clone(), fields),
            vec![
                PermissionOption::new(ALLOW_ONCE, "Allow once", PermissionOptionKind::AllowOnce),
                PermissionOption::new(
                    ALLOW_ALWAYS,
                    format!("Always allow {}", self.pattern),
                    PermissionOptionKind::AllowAlways,
                ),
                PermissionOption::new(DENY, "Deny", PermissionOptionKind::RejectOnce),
            ],
        )
    }
}

/// What the client's outcome answers.
fn answer(outcome: &RequestPermissionOutcome) -> PermissionAnswer {
    match outcome {
        RequestPermissionOutcome::Selected(selected) => match &*selected.option_id.0 {
            ALLOW_ONCE => PermissionAnswer::AllowOnce,
            ALLOW_ALWAYS => PermissionAnswer::AllowAlways,
            _ => PermissionAnswer::Deny { reason: None },
        },
        _ => PermissionAnswer::deny_because("the request was cancelled in the editor"),
    }
}

/// Asks the client in a task of its own and answers the engine.
pub(crate) fn spawn(
    cx: &ConnectionTo<AcpClient>,
    client: Arc<dyn Client>,
    ask: Ask,
) -> Result<(), AcpError> {
    let conn = cx.clone();
    cx.spawn(async move {
        let decided = match conn.send_request(ask.request()).block_task().await {
            Ok(response) => answer(&response.outcome),
            Err(e) => {
                tracing::warn!("acp: the permission request failed: {e:?}");
                PermissionAnswer::deny_because("the editor could not be asked")
            }
        };
        if let Err(e) = client.answer_permission(&ask.request, decided).await {
            // Answered elsewhere meanwhile (another front end, a cancel).
            tracing::debug!("acp: permission {} not answered: {e}", ask.request);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::v1::schema::SelectedPermissionOutcome;

    #[test]
    fn each_option_answers_as_it_says() {
        let picked = |id: &'static str| {
            answer(&RequestPermissionOutcome::Selected(
                SelectedPermissionOutcome::new(id),
            ))
        };
        assert_eq!(picked(ALLOW_ONCE), PermissionAnswer::AllowOnce);
        assert_eq!(picked(ALLOW_ALWAYS), PermissionAnswer::AllowAlways);
        assert_eq!(picked(DENY), PermissionAnswer::Deny { reason: None });
        assert!(matches!(
            answer(&RequestPermissionOutcome::Cancelled),
            PermissionAnswer::Deny { reason: Some(_) }
        ));
    }
}
