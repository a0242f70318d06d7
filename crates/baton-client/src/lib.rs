//! One way to drive the baton engine, whether it runs in this process or
//! in a `baton serve` somewhere else.
//!
//! [`Client`] is the interface every front end (the headless CLI, the
//! TUI) uses; [`LocalClient`] holds an engine in the same process and
//! [`RemoteClient`] talks to a server over HTTP and Server-Sent Events.
//! Both give the same answers and the same event stream, so a front end
//! cannot tell them apart.
//!
//! This crate depends on the engine only for [`LocalClient`]; it never
//! reaches into the engine's insides.

mod error;
mod local;
mod remote;
mod stream;

pub use baton_protocol::api::SessionFilter;
pub use error::ClientError;
pub use local::LocalClient;
pub use remote::RemoteClient;
pub use stream::{EventStream, StreamItem};

use async_trait::async_trait;
use baton_protocol::api::{
    Accepted, AgentView, CreateSession, McpServerSpec, MessageAccepted, ModelView, SessionTree,
    SessionView, ShellView, TaskView, UpdateSession,
};
use baton_protocol::{
    Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, TaskId,
};

/// Where an event stream starts and what it keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsFrom {
    /// Only this session and every session under it.
    pub session: Option<SessionId>,
    /// Start right after this `seq` (events still kept are replayed);
    /// `None`: only events from now on.
    pub after: Option<u64>,
}

/// Everything a front end can ask of the engine.
#[async_trait]
pub trait Client: Send + Sync {
    /// Creates and starts a top-level session.
    async fn create_session(&self, req: CreateSession) -> Result<SessionView, ClientError>;

    /// Sessions matching the filter, most recent first.
    async fn sessions(&self, filter: SessionFilter) -> Result<Vec<SessionView>, ClientError>;

    /// One session, with usage totals that include its descendants.
    async fn session(&self, id: &SessionId) -> Result<SessionView, ClientError>;

    /// A session and everything under it in one answer: every descendant
    /// session, every task of the tree with status and usage, its shells,
    /// its pending permission requests and its queued messages.
    async fn tree(&self, id: &SessionId) -> Result<SessionTree, ClientError>;

    /// Changes a session's model, title or agent (at least one). The
    /// model is checked like a new session's; a running session uses it
    /// from its next model call on, a new agent from its next turn on.
    /// Announced as `session.updated`; returns the session as it is now.
    async fn update_session(
        &self,
        id: &SessionId,
        req: UpdateSession,
    ) -> Result<SessionView, ClientError>;

    /// Offers the tools of MCP servers the front end brings (an editor's,
    /// over ACP) to the tree of the top-level session `id`, from its next
    /// turn on. Only an engine in this process can start them: a remote
    /// one refuses (its servers are configured where it runs). Returns a
    /// notice for each server left out.
    async fn use_mcp_servers(
        &self,
        id: &SessionId,
        servers: Vec<McpServerSpec>,
    ) -> Result<Vec<String>, ClientError>;

    /// A session's stored conversation, oldest first.
    async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, ClientError>;

    /// Sends a message from the person. A busy session takes it at its
    /// next step boundary; an idle one starts a turn. Never dropped, never
    /// answered twice.
    async fn send_message(
        &self,
        id: &SessionId,
        text: &str,
    ) -> Result<MessageAccepted, ClientError>;

    /// Interrupts the session's turn only; its tasks and background shells
    /// go on (and their notices wake it as usual). The messages queued for
    /// it that it had not taken yet come back in `withdrawn` (never sent).
    async fn interrupt(&self, id: &SessionId) -> Result<Accepted, ClientError>;

    /// Compacts the session's conversation (summarizes its older part).
    async fn compact(&self, id: &SessionId) -> Result<Accepted, ClientError>;

    /// Interrupts the session's turn and cancels its tasks and shells. A
    /// live session's queued messages it had not taken yet come back in
    /// `withdrawn` (never sent).
    async fn cancel(&self, id: &SessionId) -> Result<Accepted, ClientError>;

    /// The tasks a session delegated, oldest first.
    async fn tasks(&self, session: &SessionId) -> Result<Vec<TaskView>, ClientError>;

    /// One task, with its result once it ended.
    async fn task(&self, id: &TaskId) -> Result<TaskView, ClientError>;

    /// Steers a running task, or resumes an ended one, with a message.
    async fn send_to_task(&self, id: &TaskId, text: &str) -> Result<Accepted, ClientError>;

    /// Cancels a task and everything under it.
    async fn cancel_task(&self, id: &TaskId) -> Result<Accepted, ClientError>;

    /// Moves a running tool call (a foreground command, a task being
    /// waited for) to the background.
    async fn background_call(&self, call_id: &str) -> Result<Accepted, ClientError>;

    /// Background shells (of one session, or all), oldest first. An
    /// unknown session is [`ClientError::NotFound`].
    async fn shells(&self, session: Option<&SessionId>) -> Result<Vec<ShellView>, ClientError>;

    /// One shell, with its output.
    async fn shell(&self, id: &str) -> Result<ShellView, ClientError>;

    /// Kills a shell; returns once it is dead.
    async fn kill_shell(&self, id: &str) -> Result<ShellView, ClientError>;

    /// Permission requests waiting for an answer, oldest first.
    async fn permissions(&self) -> Result<Vec<PermissionRequest>, ClientError>;

    /// Answers a permission request: allow it, or deny it with an optional
    /// reason the model reads. A reason of only white space is refused
    /// ([`ClientError::Invalid`]).
    async fn answer_permission(
        &self,
        id: &PermissionId,
        answer: PermissionAnswer,
    ) -> Result<Accepted, ClientError>;

    /// The agents sessions can run, sorted by name.
    async fn agents(&self) -> Result<Vec<AgentView>, ClientError>;

    /// The models sessions can use, the default first, then by id.
    async fn models(&self) -> Result<Vec<ModelView>, ClientError>;

    /// The event stream: every event (or one session tree's), in `seq`
    /// order, with a [`StreamItem::Resync`] where events were lost.
    async fn events(&self, from: EventsFrom) -> Result<EventStream, ClientError>;

    /// Lets go of the engine: an in-process engine cancels its work and
    /// stops cleanly; a server's work goes on.
    async fn close(&self);
}
