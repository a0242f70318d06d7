//! The HTTP side shared by the wire clients: one configured endpoint, and
//! the POST that opens a streamed response.

use crate::LlmError;
use crate::classify;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach one provider. (No `Debug`: it holds the key.)
pub(crate) struct EndpointSettings {
    /// The provider's name (used in errors).
    pub name: String,
    /// The base URL, without a trailing slash.
    pub base_url: String,
    /// The API key, when one is set.
    pub api_key: Option<String>,
    /// The environment variable the key is read from (named in auth
    /// errors).
    pub api_key_env: Option<String>,
    /// Extra headers sent with every request (they win over the wire's own).
    pub headers: HeaderMap,
    /// The longest silence allowed between two chunks of a response body.
    pub idle_timeout: Duration,
}

/// A ready-to-use endpoint.
pub(crate) struct Endpoint {
    settings: EndpointSettings,
    client: reqwest::Client,
}

impl Endpoint {
    /// Builds the HTTP client for `settings`.
    pub(crate) fn new(settings: EndpointSettings) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                LlmError::Config(format!(
                    "provider {}: cannot build an HTTP client: {}",
                    settings.name,
                    classify::error_chain(&e)
                ))
            })?;
        Ok(Self { settings, client })
    }

    pub(crate) fn name(&self) -> &str {
        &self.settings.name
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    pub(crate) fn api_key(&self) -> Option<&str> {
        self.settings.api_key.as_deref()
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        self.settings.idle_timeout
    }

    /// `Authorization: Bearer KEY` when a key is set (OpenAI's wires).
    pub(crate) fn bearer_headers(&self) -> Result<HeaderMap, LlmError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = self.api_key() {
            let value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                LlmError::Config(format!(
                    "provider {}: the API key contains characters not allowed in a header",
                    self.name()
                ))
            })?;
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }

    /// POSTs `body` as JSON to `{base_url}{path}` and waits for the
    /// response head. A non-success status is read and classified.
    pub(crate) async fn post_sse(
        &self,
        path: &str,
        wire_headers: HeaderMap,
        body: &serde_json::Value,
        cancel: &CancellationToken,
    ) -> Result<reqwest::Response, LlmError> {
        let url = format!("{}{path}", self.settings.base_url);
        tracing::debug!(provider = %self.name(), %url, "model call");
        let request = self
            .client
            .post(url)
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
            .headers(wire_headers)
            .headers(self.settings.headers.clone())
            .json(body);
        let idle = self.settings.idle_timeout;
        let response = tokio::select! {
            () = cancel.cancelled() => return Err(LlmError::Cancelled),
            sent = tokio::time::timeout(idle, request.send()) => match sent {
                Ok(sent) => sent.map_err(|e| classify::send_error(self.name(), &e))?,
                Err(_elapsed) => return Err(LlmError::Connect {
                    provider: self.name().to_owned(),
                    message: format!("no response within {}s", idle.as_secs_f64()),
                }),
            },
        };
        let status = response.status();
        if status.is_success() && !is_json(&response) {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let text = tokio::select! {
            () = cancel.cancelled() => return Err(LlmError::Cancelled),
            text = tokio::time::timeout(idle, response.text()) => {
                // A body we cannot read still leaves the status to report.
                text.ok().and_then(Result::ok).unwrap_or_default()
            }
        };
        if status.is_success() {
            // Some proxies answer a streaming request with a JSON error
            // and status 200.
            return Err(classify::json_instead_of_stream(self.name(), &text));
        }
        let mut error = classify::http_error(self.name(), status.as_u16(), &headers, &text);
        tracing::debug!(provider = %self.name(), %error, "model call failed");
        if let LlmError::Auth(api) = &mut error {
            api.hint = self.auth_hint(status.as_u16());
        }
        Err(error)
    }

    /// What to tell the user after an auth failure.
    fn auth_hint(&self, status: u16) -> Option<String> {
        let has_key = self.settings.api_key.is_some();
        match (&self.settings.api_key_env, has_key) {
            (Some(env), false) => Some(format!("set {env}")),
            (Some(env), true) if status == 401 => Some(format!("check {env}")),
            (None, false) => Some(format!(
                "no API key is configured: set api_key_env in [providers.{}]",
                self.settings.name
            )),
            _ => None,
        }
    }
}

/// Whether the response is a JSON document rather than an event stream.
fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}
