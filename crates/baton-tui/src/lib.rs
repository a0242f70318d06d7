//! baton's terminal UI.
//!
//! It shows every session of a tree in tabs and keeps the input live while
//! agents work. It talks to the engine only through [`baton_client::Client`],
//! so it behaves the same against an engine in this process and against a
//! `baton serve` elsewhere.

pub mod render;
