//! The baton engine: session actors and the agent loop, configuration,
//! agent definitions and the event bus.
//!
//! Front ends talk to an [`Engine`]: create or open a session, send it
//! messages, cancel it, and follow the [`baton_protocol::Event`] stream.
//! Each session is an actor (its own tokio task with a mailbox), so nothing
//! one session does blocks another. Every change is stored before it is
//! announced.

pub mod agents;
mod claims;
mod compaction;
pub mod config;
mod conversation;
mod delegation;
mod engine;
mod error;
mod events;
mod feed;
mod front;
pub mod hooks;
mod host;
mod lineage;
mod listing;
pub mod mcp;
pub mod permissions;
mod private;
mod prompt;
mod registry;
mod services;
mod session;
mod settings;
mod shell_hub;
mod tree;
pub mod trust;
mod worktree;

pub use agents::{AgentDef, AgentDirs, AgentSet};
pub use config::Config;
pub use engine::{Engine, EngineOptions, EnvLookup, NewSession, mark_orphans};
pub use error::EngineError;
pub use events::{Replay, TreeFilter};
pub use permissions::AskMode;
pub use private::private_dir;
