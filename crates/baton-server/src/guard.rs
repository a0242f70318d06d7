//! Who may address the server: requests must name a loopback host (unless
//! the server was started for remote clients), and a browser's request
//! from another site is refused unless CORS allows its origin.
//!
//! The token already keeps out whoever does not have it; these checks are
//! defence in depth against a web page in the person's own browser: one
//! that rebinds its DNS name to 127.0.0.1 (its requests carry its own name
//! in `Host`), or posts to the API across sites (its requests carry its
//! `Origin`).

use crate::error::ApiFailure;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What the guard lets through.
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    /// Any `Host` is fine (the server was started with `--allow-remote`).
    pub(crate) any_host: bool,
    /// Origins CORS allows, exactly as browsers send them.
    pub(crate) origins: Arc<Vec<String>>,
}

/// Refuses requests the [`Guard`] does not let through, with a 403 that
/// says why.
pub(crate) async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match guard.refusal(request.headers()) {
        Some(message) => {
            tracing::warn!(path = request.uri().path(), "{message}");
            ApiFailure::new(StatusCode::FORBIDDEN, message).into_response()
        }
        None => next.run(request).await,
    }
}

impl Guard {
    /// Why a request with these headers is refused, if it is.
    fn refusal(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers.get(header::HOST).map(|h| h.to_str().unwrap_or(""));
        if !self.any_host
            && let Some(host) = host
            && !is_loopback_name(host_name(host))
        {
            return Some(format!(
                "this server answers requests addressed to localhost only, not `{host}` \
                 (start it with --allow-remote to serve other names)"
            ));
        }
        let origin = headers.get(header::ORIGIN)?;
        let origin = origin.to_str().unwrap_or("");
        let same_site = host.is_some_and(|host| origin_authority(origin) == Some(host));
        if same_site || self.origins.iter().any(|o| o.trim() == origin) {
            return None;
        }
        Some(format!(
            "cross-site request from origin `{origin}` refused (add it to [server] cors_origins \
             to allow it)"
        ))
    }
}

/// The host part of a `Host` header value: without its port, brackets
/// kept off an IPv6 address.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Names that can only mean this machine.
fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` of an origin (`scheme://host[:port]`).
fn origin_authority(origin: &str) -> Option<&str> {
    let (_scheme, rest) = origin.split_once("://")?;
    Some(rest.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn loopback_names_pass_and_others_are_refused() {
        let guard = Guard::default();
        for host in [
            "127.0.0.1:4690",
            "localhost:4690",
            "LOCALHOST",
            "[::1]:4690",
            "app.localhost:80",
            "127.0.0.2",
        ] {
            assert_eq!(guard.refusal(&headers(&[("host", host)])), None, "{host}");
        }
        for host in [
            "evil.example:4690",
            "192.168.1.5:4690",
            "localhost.evil.example",
        ] {
            let why = guard.refusal(&headers(&[("host", host)])).unwrap();
            assert!(why.contains("--allow-remote"), "{why}");
        }
        let remote = Guard {
            any_host: true,
            ..Guard::default()
        };
        assert_eq!(remote.refusal(&headers(&[("host", "evil.example")])), None);
    }

    #[test]
    fn cross_site_origins_are_refused_unless_cors_allows_them() {
        let guard = Guard {
            any_host: false,
            origins: Arc::new(vec!["http://localhost:3000".into()]),
        };
        let h = |origin| headers(&[("host", "127.0.0.1:4690"), ("origin", origin)]);
        assert_eq!(guard.refusal(&h("http://localhost:3000")), None);
        assert_eq!(guard.refusal(&h("http://127.0.0.1:4690")), None);
        let why = guard.refusal(&h("https://evil.example")).unwrap();
        assert!(why.contains("cors_origins"), "{why}");
        assert!(guard.refusal(&h("null")).is_some());
        // Programs send no Origin at all.
        assert_eq!(guard.refusal(&headers(&[("host", "127.0.0.1:4690")])), None);
    }
}
