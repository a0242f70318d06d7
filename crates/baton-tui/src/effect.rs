//! What the UI asks of the engine, and what comes back.
//!
//! The state never calls the client itself: key handling returns
//! [`Effect`]s, the runner carries them out through the client, and their
//! results come back as [`Outcome`]s. That keeps the state testable
//! without an engine or a terminal.

use baton_protocol::api::{AgentView, ModelView, QueuedMessage, SessionView, ShellView, TaskView};
use baton_protocol::{
    Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, TaskId,
};

/// A request to the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start a new top-level session; send `first_message` once it exists.
    CreateSession {
        /// The agent (default: the engine's).
        agent: Option<String>,
        /// The model (default: the agent's or the engine's).
        model: Option<String>,
        /// A message to send to it.
        first_message: Option<String>,
    },
    /// Load a session tree: its sessions, tasks, shells and permission
    /// requests.
    LoadTree(SessionId),
    /// Load a session's stored conversation.
    LoadHistory(SessionId),
    /// Send the person's message to a session.
    Send(SessionId, String),
    /// Steer (or resume) a task with a message.
    SendToTask(TaskId, String),
    /// Interrupt a session's turn; its tasks and shells go on.
    Interrupt(SessionId),
    /// Compact a session's conversation.
    Compact(SessionId),
    /// Cancel a session's turn, tasks and shells.
    Cancel(SessionId),
    /// Cancel a task and everything under it.
    CancelTask(TaskId),
    /// Move a running call to the background.
    Background(String),
    /// Kill a background shell.
    KillShell(String),
    /// Fetch a shell with its output (for the live tail).
    FetchShell(String),
    /// Answer a permission request.
    Answer(PermissionId, PermissionAnswer),
    /// List top-level sessions of this directory (the picker).
    ListSessions,
    /// List the agents (`/agents`).
    ListAgents,
    /// List the models (`/model`).
    ListModels,
    /// Switch a session's model.
    SetModel(SessionId, String),
}

/// What came back from the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A session was created; its first message is still to be sent.
    Created(SessionView, Option<String>),
    /// A session tree was loaded.
    Tree(Tree),
    /// A session's stored conversation.
    History(SessionId, Vec<Message>),
    /// Top-level sessions for the picker.
    Sessions(Vec<SessionView>),
    /// The agents.
    Agents(Vec<AgentView>),
    /// The models.
    Models(Vec<ModelView>),
    /// A session changed (its model).
    Session(SessionView),
    /// A shell with its output.
    Shell(ShellView),
    /// Something worth a short confirmation.
    Done(String),
    /// An interrupt or a cancel took these queued messages back before
    /// the session took them (they go back to the editor).
    Withdrawn(SessionId, Vec<QueuedMessage>),
    /// A request failed; the text says what and why.
    Failed(String),
    /// A tree could not be loaded; the text says why.
    TreeFailed(String),
}

/// A loaded session tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// The top session.
    pub root: SessionView,
    /// Every session under it, parents before children.
    pub descendants: Vec<SessionView>,
    /// Every task of the tree.
    pub tasks: Vec<TaskView>,
    /// The tree's shells.
    pub shells: Vec<ShellView>,
    /// The tree's unanswered permission requests.
    pub permissions: Vec<PermissionRequest>,
    /// The `seq` of the last event the tree already shows, for a loaded
    /// tree (`None` for one made here, such as a new session's).
    pub as_of: Option<u64>,
}
