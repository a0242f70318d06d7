//! What every handler shares.

use baton_core::Engine;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The state handlers get: the engine, the settings they need and the
/// OpenAPI document. Cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The engine every route drives.
    pub(crate) engine: Engine,
    /// The bearer token `/v1` requests must carry.
    pub(crate) token: Arc<str>,
    /// The working directory of sessions created without one.
    pub(crate) default_cwd: Arc<PathBuf>,
    /// The document `/openapi.json` serves.
    pub(crate) doc: Arc<utoipa::openapi::OpenApi>,
    /// Cancelled when the server stops: event streams end so that a
    /// graceful shutdown does not wait for them forever.
    pub(crate) closing: CancellationToken,
}
