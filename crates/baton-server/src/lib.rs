//! The HTTP + SSE API over a baton [`Engine`], and its OpenAPI document.
//!
//! This crate owns the wire: routes, authentication (a bearer token),
//! JSON errors, limits, CORS and the event stream as Server-Sent Events.
//! It drives the engine only through [`Engine`]'s public API and never
//! reaches into its insides; it must not depend on any front end (client,
//! TUI, binary). `docs/api.md` describes the API for its users.
//!
//! ```no_run
//! # async fn run(engine: baton_core::Engine, home: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! let token = baton_server::token::resolve(std::env::var("BATON_SERVER_TOKEN").ok(), home)?;
//! let addrs = baton_server::check_bind(baton_server::DEFAULT_ADDR, false).await?;
//! let listener = tokio::net::TcpListener::bind(addrs[0]).await?;
//! let config = baton_server::ServerConfig::new(token, std::env::current_dir()?);
//! baton_server::serve(listener, engine, config, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

mod auth;
mod bind;
mod error;
mod extract;
mod guard;
mod openapi;
mod routes;
mod state;
pub mod token;
mod trace;

pub use bind::{DEFAULT_ADDR, check_bind};
pub use error::ServerError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use baton_core::Engine;
use state::AppState;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The largest request body accepted by default: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// How the server behaves.
#[derive(Clone)]
pub struct ServerConfig {
    /// The bearer token every `/v1` request must carry (see [`token`]).
    /// An empty token lets nothing in.
    pub token: String,
    /// Origins browsers may call the API from (CORS), exactly as they send
    /// them (`http://localhost:3000`). Empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// The largest request body, in bytes; larger ones get a 413.
    pub body_limit: usize,
    /// The working directory of sessions created without one.
    pub default_cwd: PathBuf,
    /// Answer requests whatever host they name (`--allow-remote`); by
    /// default only loopback names (`localhost`, `127.0.0.1`, `[::1]`) are.
    pub any_host: bool,
}

impl ServerConfig {
    /// A configuration with this token and default directory, no CORS and
    /// the default body limit.
    pub fn new(token: String, default_cwd: PathBuf) -> Self {
        Self {
            token,
            cors_origins: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            default_cwd,
            any_host: false,
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("token", &"<redacted>")
            .field("cors_origins", &self.cors_origins)
            .field("body_limit", &self.body_limit)
            .field("default_cwd", &self.default_cwd)
            .field("any_host", &self.any_host)
            .finish()
    }
}

/// The API as an axum router: every `/v1` route behind the token, and
/// `/openapi.json` open. Its event streams end only when their clients
/// leave; [`serve`] also ends them when it shuts down.
pub fn router(engine: Engine, config: ServerConfig) -> Router {
    build(engine, config, CancellationToken::new())
}

/// The OpenAPI 3.1 document of every route [`router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes::api().into_openapi();
    openapi::finish(&mut doc);
    doc
}

/// Serves the API on `listener` until `shutdown` completes, then stops
/// taking connections, ends the event streams and waits for the requests
/// in flight. The engine keeps running: shutting it down is the caller's
/// business.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Engine,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = CancellationToken::new();
    let app = build(engine, config, closing.clone());
    tracing::info!(addr = %listener.local_addr()?, "serving the baton API");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("the baton API is shutting down");
            closing.cancel();
        })
        .await
}

fn build(engine: Engine, config: ServerConfig, closing: CancellationToken) -> Router {
    let (routes, mut doc) = routes::api().split_for_parts();
    openapi::finish(&mut doc);
    let state = AppState {
        engine,
        token: Arc::from(config.token),
        default_cwd: Arc::new(config.default_cwd),
        doc: Arc::new(doc),
        closing,
    };
    let app = routes
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            guard::Guard {
                any_host: config.any_host,
                origins: Arc::new(config.cors_origins.clone()),
            },
            guard::check,
        ))
        .layer(axum::middleware::from_fn(trace::trace))
        .with_state(state);
    match cors(&config.cors_origins) {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// The CORS layer for these origins, or none when there are none.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o.trim()) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring a CORS origin that is not a header value");
                None
            }
        })
        .collect();
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST, Method::PATCH])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("last-event-id"),
            ]),
    )
}
