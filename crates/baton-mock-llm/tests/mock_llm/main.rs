//! Integration tests: a real `MockServer` driven over real HTTP with reqwest.

// This whole crate is test code; clippy's allow-expect-in-tests only covers `#[test]` functions,
// not the helpers they share.
#![allow(clippy::expect_used)]

mod anthropic_wire;
mod context_window;
mod delivery;
mod echo;
mod openai_wire;
mod prompt_cache;
mod reasoning;
mod requests;
mod responses_wire;
mod rules;
mod support;
