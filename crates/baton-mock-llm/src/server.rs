//! The HTTP server: routes, start-up and shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::handler::{Shared, handle};
use crate::{RecordedRequest, Script, Wire};

/// Requests bigger than this are refused (long agent conversations stay far below it).
const BODY_LIMIT_BYTES: usize = 64 * 1024 * 1024;

/// A running mock model server. Dropping it stops the server from accepting connections.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Starts a server for `script` on `127.0.0.1` with a free port.
    pub async fn start(script: Script) -> std::io::Result<MockServer> {
        MockServer::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), script).await
    }

    /// Starts a server for `script` on `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, script: Script) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(script));
        let app = router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "baton-mock-llm server stopped");
            }
        });
        tracing::info!(%addr, rules = shared.script.rules.len(), "baton-mock-llm listening");
        Ok(MockServer { addr, shared, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL, e.g. `http://127.0.0.1:PORT` (a wildcard bind address is shown as
    /// loopback, since that is where a local client can reach it).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The base URL for OpenAI clients: `url() + "/v1"` (they post to `{base}/chat/completions`,
    /// or `{base}/responses` for the Responses API).
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// The base URL for Anthropic clients: `url()` (they post to `{base}/v1/messages`).
    pub fn anthropic_base_url(&self) -> String {
        self.url()
    }

    /// Every model request received so far (including refused ones), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Serves until the process ends (or the server fails, which is logged).
    pub async fn serve_forever(mut self) {
        if let Err(error) = (&mut self.task).await {
            tracing::error!(%error, "baton-mock-llm server task ended");
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai_request))
        .route("/v1/messages", post(anthropic_request))
        .route("/v1/responses", post(responses_request))
        .route("/_mock/requests", get(recorded_requests))
        .route("/_mock/health", get(health))
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(shared)
}

async fn openai_request(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, Wire::OpenAi, uri.path().to_string(), headers, body).await
}

async fn anthropic_request(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        shared,
        Wire::Anthropic,
        uri.path().to_string(),
        headers,
        body,
    )
    .await
}

async fn responses_request(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        shared,
        Wire::Responses,
        uri.path().to_string(),
        headers,
        body,
    )
    .await
}

async fn recorded_requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.requests())
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn no_route(method: Method, uri: Uri) -> Response {
    let message = format!(
        "baton-mock-llm: no route for {method} {}; model requests go to POST /v1/chat/completions \
         (OpenAI), POST /v1/responses (OpenAI Responses) or POST /v1/messages (Anthropic)",
        uri.path()
    );
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"message": message, "type": "not_found_error"}})),
    )
        .into_response()
}
