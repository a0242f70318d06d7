//! The client for a `baton serve` over HTTP, with its event stream over
//! Server-Sent Events.

mod events;

use crate::{Client, ClientError, EventStream, EventsFrom, SessionFilter};
use async_trait::async_trait;
use baton_protocol::api::{
    Accepted, AgentView, AnswerPermission, ApiError, CreateSession, McpServerSpec, MessageAccepted,
    ModelView, SendMessage, SessionTree, SessionView, ShellView, TaskView, UpdateSession,
};
use baton_protocol::{
    Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, TaskId,
};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Talks to a baton server.
#[derive(Clone)]
pub struct RemoteClient {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl RemoteClient {
    /// A client of the server at `url` (such as `http://127.0.0.1:4690`),
    /// sending `token` with every request.
    pub fn new(url: &str, token: impl Into<String>) -> Result<Self, ClientError> {
        let base = Url::parse(url).map_err(|e| {
            ClientError::Invalid(format!(
                "`{url}` is not a server URL ({e}); use http://HOST:PORT"
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ClientError::Invalid(format!(
                "`{url}` is not an http(s) URL; use http://HOST:PORT"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ClientError::Failed(format!("cannot set up HTTP: {e}")))?;
        Ok(Self {
            http,
            base,
            token: token.into(),
        })
    }

    /// The server's URL.
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// The URL of an API path given as segments (each one escaped).
    fn url_of(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> reqwest::RequestBuilder {
        self.request_with(method, segments, &[])
    }

    /// A request with query parameters.
    fn request_with(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut url = self.url_of(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.http.request(method, url).bearer_auth(&self.token)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = builder.send().await.map_err(|e| self.unreachable(&e))?;
        let response = check(response).await?;
        response.json::<T>().await.map_err(|e| {
            ClientError::Failed(format!(
                "the server's answer is not what baton expects: {e}"
            ))
        })
    }

    async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T, ClientError> {
        self.call(self.request(Method::GET, segments)).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: Option<&(impl Serialize + Sync)>,
    ) -> Result<T, ClientError> {
        let builder = self.request(Method::POST, segments);
        let builder = match body {
            Some(body) => builder.json(body),
            None => builder,
        };
        self.call(builder).await
    }

    fn unreachable(&self, e: &reqwest::Error) -> ClientError {
        ClientError::Unavailable(format!(
            "cannot reach the baton server at {} ({e}); is `baton serve` running?",
            self.base
        ))
    }
}

/// The response when it succeeded, else the server's error as a
/// [`ClientError`].
pub(crate) async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ApiError>(&text)
        .map(|e| e.error)
        .unwrap_or_else(|_| format!("the server answered {status}: {}", text.trim()));
    Err(match status {
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::CONFLICT => {
            ClientError::Invalid(message)
        }
        StatusCode::NOT_FOUND => ClientError::NotFound(message),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ClientError::Unauthorized(message),
        StatusCode::SERVICE_UNAVAILABLE => ClientError::Unavailable(message),
        _ => ClientError::Failed(message),
    })
}

const NO_BODY: Option<&()> = None;

#[async_trait]
impl Client for RemoteClient {
    async fn create_session(&self, req: CreateSession) -> Result<SessionView, ClientError> {
        self.post(&["v1", "sessions"], Some(&req)).await
    }

    async fn sessions(&self, filter: SessionFilter) -> Result<Vec<SessionView>, ClientError> {
        let limit = filter.limit.map(|n| n.to_string());
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(cwd) = &filter.cwd {
            query.push(("cwd", cwd));
        }
        if filter.roots_only {
            query.push(("roots_only", "true"));
        }
        if let Some(parent) = &filter.parent {
            query.push(("parent", parent.as_str()));
        }
        if let Some(limit) = &limit {
            query.push(("limit", limit));
        }
        self.call(self.request_with(Method::GET, &["v1", "sessions"], &query))
            .await
    }

    async fn session(&self, id: &SessionId) -> Result<SessionView, ClientError> {
        self.get(&["v1", "sessions", id.as_str()]).await
    }

    async fn tree(&self, id: &SessionId) -> Result<SessionTree, ClientError> {
        self.get(&["v1", "sessions", id.as_str(), "tree"]).await
    }

    async fn update_session(
        &self,
        id: &SessionId,
        req: UpdateSession,
    ) -> Result<SessionView, ClientError> {
        let builder = self.request(Method::PATCH, &["v1", "sessions", id.as_str()]);
        self.call(builder.json(&req)).await
    }

    async fn use_mcp_servers(
        &self,
        _id: &SessionId,
        servers: Vec<McpServerSpec>,
    ) -> Result<Vec<String>, ClientError> {
        let names: Vec<String> = servers.into_iter().map(|s| s.name).collect();
        Err(ClientError::Invalid(format!(
            "the MCP servers {} cannot be started by a baton server this client is attached \
             to; configure them in that server's `[mcp_servers]`",
            names.join(", ")
        )))
    }

    async fn messages(&self, id: &SessionId) -> Result<Vec<Message>, ClientError> {
        self.get(&["v1", "sessions", id.as_str(), "messages"]).await
    }

    async fn send_message(
        &self,
        id: &SessionId,
        text: &str,
    ) -> Result<MessageAccepted, ClientError> {
        let body = SendMessage { text: text.into() };
        self.post(&["v1", "sessions", id.as_str(), "messages"], Some(&body))
            .await
    }

    async fn compact(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        self.post(&["v1", "sessions", id.as_str(), "compact"], NO_BODY)
            .await
    }

    async fn interrupt(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        self.post(&["v1", "sessions", id.as_str(), "interrupt"], NO_BODY)
            .await
    }

    async fn cancel(&self, id: &SessionId) -> Result<Accepted, ClientError> {
        self.post(&["v1", "sessions", id.as_str(), "cancel"], NO_BODY)
            .await
    }

    async fn tasks(&self, session: &SessionId) -> Result<Vec<TaskView>, ClientError> {
        self.get(&["v1", "sessions", session.as_str(), "tasks"])
            .await
    }

    async fn task(&self, id: &TaskId) -> Result<TaskView, ClientError> {
        self.get(&["v1", "tasks", id.as_str()]).await
    }

    async fn send_to_task(&self, id: &TaskId, text: &str) -> Result<Accepted, ClientError> {
        let body = SendMessage { text: text.into() };
        self.post(&["v1", "tasks", id.as_str(), "messages"], Some(&body))
            .await
    }

    async fn cancel_task(&self, id: &TaskId) -> Result<Accepted, ClientError> {
        self.post(&["v1", "tasks", id.as_str(), "cancel"], NO_BODY)
            .await
    }

    async fn background_call(&self, call_id: &str) -> Result<Accepted, ClientError> {
        self.post(&["v1", "calls", call_id, "background"], NO_BODY)
            .await
    }

    async fn shells(&self, session: Option<&SessionId>) -> Result<Vec<ShellView>, ClientError> {
        let query: Vec<(&str, &str)> = session
            .map(|s| ("session", s.as_str()))
            .into_iter()
            .collect();
        self.call(self.request_with(Method::GET, &["v1", "shells"], &query))
            .await
    }

    async fn shell(&self, id: &str) -> Result<ShellView, ClientError> {
        self.get(&["v1", "shells", id]).await
    }

    async fn kill_shell(&self, id: &str) -> Result<ShellView, ClientError> {
        self.post(&["v1", "shells", id, "kill"], NO_BODY).await
    }

    async fn permissions(&self) -> Result<Vec<PermissionRequest>, ClientError> {
        self.get(&["v1", "permissions"]).await
    }

    async fn answer_permission(
        &self,
        id: &PermissionId,
        answer: PermissionAnswer,
    ) -> Result<Accepted, ClientError> {
        let body = AnswerPermission::from(answer);
        self.post(&["v1", "permissions", id.as_str()], Some(&body))
            .await
    }

    async fn agents(&self) -> Result<Vec<AgentView>, ClientError> {
        self.get(&["v1", "agents"]).await
    }

    async fn models(&self) -> Result<Vec<ModelView>, ClientError> {
        self.get(&["v1", "models"]).await
    }

    async fn events(&self, from: EventsFrom) -> Result<EventStream, ClientError> {
        events::open(self.clone(), from).await
    }

    async fn close(&self) {}
}
