//! baton's terminal UI.
//!
//! It shows every session of a tree in tabs and keeps the input live while
//! agents work. It talks to the engine only through [`baton_client::Client`],
//! so it behaves the same against an engine in this process and against a
//! `baton serve` elsewhere.
//!
//! The crate is split the way helix splits its editor: [`state`] is the
//! logic (plain data changed by events and keys, no terminal, no client),
//! [`view`] draws that state (pure, snapshot-tested), and the runner owns
//! the terminal and the client.

pub mod effect;
mod error;
pub mod panics;
pub mod render;
mod runner;
pub mod state;
pub mod view;
pub mod words;

pub use error::TuiError;
pub use runner::{TuiOptions, run};
