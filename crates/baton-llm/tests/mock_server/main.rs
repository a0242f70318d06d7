//! baton-llm against the in-repo mock model server, over real HTTP and SSE.

mod common;
mod delivery;
mod failures;
mod mapping;
mod prompt_cache;
mod reasoning;
mod registry;
mod responses;
