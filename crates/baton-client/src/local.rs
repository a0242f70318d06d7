//! The client for an engine in this process.

use crate::{Client, ClientError, EventStream, EventsFrom, SessionFilter};
use async_trait::async_trait;
use baton_core::{Engine, NewSession};
use baton_protocol::api::{
    Accepted, AgentView, CreateSession, McpServerSpec, MessageAccepted, ModelView, Recipient,
    SessionTree, SessionView, ShellView, TaskView, UpdateSession, check_limit, check_text,
};
use baton_protocol::{
    Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, TaskId,
};
use futures::StreamExt;
use std::path::PathBuf;

/// Drives an [`Engine`] in this process. It refuses what the server
/// refuses, in the same words, and takes directories as the server does
/// (a relative one from `default_cwd`).
#[derive(Clone)]
pub struct LocalClient {
    engine: Engine,
    default_cwd: PathBuf,
}

impl LocalClient {
    /// A client of `engine`; new sessions without a working directory get
    /// `default_cwd`, and relative directories are taken from there.
    pub fn new(engine: Engine, default_cwd: PathBuf) -> Self {
        Self {
            engine,
            default_cwd,
        }
    }

    /// The engine this client drives.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

#[async_trait]
impl Client for LocalClient {
    async fn create_session(&self, req: CreateSession) -> Result<SessionView, ClientError> {
        Ok(self
            .engine
            .create_session(NewSession {
                cwd: match req.cwd {
                    Some(dir) => self.default_cwd.join(dir),
                    None => self.default_cwd.clone(),
                },
                agent: req.agent,
                model: req.model,
                title: req.title,
            })
            .await?)
    }

    async fn sessions(&self, filter: SessionFilter) -> Result<Vec<SessionView>, ClientError> {
        let limit = filter.limit.map(check_limit).transpose()?;
        // Sessions store their directory canonicalized.
        let cwd = filter.cwd.map(|c| {
            std::fs::canonicalize(self.default_cwd.join(&c))
                .map_or(c, |p| p.to_string_lossy().into_owned())
        });
        Ok(self
            .engine
            .sessions(SessionFilter {
                cwd,
                roots_only: filter.roots_only,
                parent: filter.parent,
                limit,
            })
            .await?)
    }

    async fn session(&self, id: &SessionId) -> Result<SessionView, ClientError> {
        Ok(self.engine.session(id).await?)
    }

    async fn tree(&self, id: &SessionId) -> Result<SessionTree, ClientError> {
        Ok(self.engine.tree(id).await?)
    }

    async fn update_session(
        &self,
        id: &SessionId,
        req: UpdateSession,
    ) -> Result<SessionView, ClientError> {
        Ok(self.engine.update_session(id, req).await?)
    }

    async fn use_mcp_servers(
        &self,
        id: &SessionId,
        servers: Vec<McpServerSpec>,
    ) -> Result<Vec<String>, ClientError> {
        Ok(self.engine.use_mcp_servers(id, servers).await?)
    }

    async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, ClientError> {
        Ok(self.engine.messages(id).await?)
    }

    async fn send_message(
        &self,
        id: &SessionId,
        text: &str,
    ) -> Result<MessageAccepted, ClientError> {
        check_text(text, Recipient::Session)?;
        Ok(self.engine.send_message(id, text).await?)
    }

    async fn interrupt(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        Ok(self.engine.interrupt_session(id).await?)
    }

    async fn compact(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        Ok(accepted(self.engine.compact_session(id).await?))
    }

    async fn cancel(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        Ok(self.engine.cancel_session(id).await?)
    }

    async fn tasks(&self, session: &SessionId) -> Result<Vec<TaskView>, ClientError> {
        Ok(self.engine.tasks_of(session).await?)
    }

    async fn task(&self, id: &TaskId) -> Result<TaskView, ClientError> {
        Ok(self.engine.task(id).await?)
    }

    async fn send_to_task(&self, id: &TaskId, text: &str) -> Result<Accepted, ClientError> {
        check_text(text, Recipient::Task)?;
        Ok(accepted(self.engine.send_to_task(id, text).await?))
    }

    async fn cancel_task(&self, id: &TaskId) -> Result<Accepted, ClientError> {
        Ok(accepted(self.engine.cancel_task(id).await?))
    }

    async fn background_call(&self, call_id: &str) -> Result<Accepted, ClientError> {
        self.engine.background_call(call_id)?;
        Ok(Accepted::backgrounded(call_id))
    }

    async fn shells(&self, session: Option<&SessionId>) -> Result<Vec<ShellView>, ClientError> {
        if let Some(id) = session {
            self.engine.session(id).await?;
        }
        Ok(self.engine.shells(session))
    }

    async fn shell(&self, id: &str) -> Result<ShellView, ClientError> {
        Ok(self.engine.shell(id)?)
    }

    async fn kill_shell(&self, id: &str) -> Result<ShellView, ClientError> {
        Ok(self.engine.kill_shell(id).await?)
    }

    async fn permissions(&self) -> Result<Vec<PermissionRequest>, ClientError> {
        Ok(self.engine.pending_permissions())
    }

    async fn answer_permission(
        &self,
        id: &PermissionId,
        answer: PermissionAnswer,
    ) -> Result<Accepted, ClientError> {
        let decision = answer.decision();
        self.engine.answer_permission(id, answer).await?;
        Ok(Accepted::answered(id, decision))
    }

    async fn agents(&self) -> Result<Vec<AgentView>, ClientError> {
        Ok(self.engine.agent_views())
    }

    async fn models(&self) -> Result<Vec<ModelView>, ClientError> {
        Ok(self.engine.models())
    }

    async fn events(&self, from: EventsFrom) -> Result<EventStream, ClientError> {
        let feed = self.engine.feed(from.after, from.session.as_ref()).await?;
        Ok(Box::pin(feed.map(Ok)))
    }

    async fn close(&self) {
        self.engine.shutdown().await;
    }
}

fn accepted(message: impl Into<String>) -> Accepted {
    Accepted::new(message)
}
