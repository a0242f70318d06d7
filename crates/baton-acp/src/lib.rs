//! baton as an [Agent Client Protocol](https://agentclientprotocol.com)
//! agent: `baton acp` speaks ACP v1 over stdio, so editors (Zed, Neovim's
//! CodeCompanion and avante, JetBrains) drive baton's sessions.
//!
//! Each session the client opens is a baton session tree. Its updates
//! stream to the client as they happen: the model's text and thoughts,
//! tool calls (edits as diffs, commands with their output), permission
//! requests. A client that advertises `clientCapabilities.subagents` sees
//! every delegated task as a child session of its parent, with its own
//! traffic under its own id; a prompt turn ends when the parent's turn
//! ends, while its sub-agents go on, and when their results wake the
//! parent its new turn streams to the client like any other.
//!
//! The crate sees the engine only through [`baton_client::Client`].

mod agent;
mod error;
mod history;
mod mcp;
mod options;
mod permission;
mod prompt;
mod tools;
mod tree;
mod updates;

pub use agent::serve;
pub use error::AcpError;
