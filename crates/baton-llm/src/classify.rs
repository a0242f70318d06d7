//! Turning what went wrong on the wire into a typed [`LlmError`].

use crate::error::{ApiError, LlmError};
use crate::retry_after;
use reqwest::header::HeaderMap;
use std::time::SystemTime;

/// The longest provider message kept in an error (in characters).
const MAX_MESSAGE_CHARS: usize = 400;

/// Classifies an HTTP error response by its status and body.
pub(crate) fn http_error(provider: &str, status: u16, headers: &HeaderMap, body: &str) -> LlmError {
    let message = message_from_body(status, body);
    let api = ApiError {
        provider: provider.to_owned(),
        status: Some(status),
        retry_after: retry_after::from_headers(headers, SystemTime::now()),
        hint: None,
        message,
    };
    match status {
        401 | 403 => LlmError::Auth(api),
        429 => LlmError::RateLimited(api),
        503 | 529 => LlmError::Overloaded(api),
        400..=499 if mentions_context_overflow(&api.message) => LlmError::ContextTooLong(api),
        500..=599 => LlmError::Server(api),
        _ => LlmError::BadRequest(api),
    }
}

/// Classifies an error the provider reported inside a stream, by its type
/// name (Anthropic's `error.type`, or an OpenAI-style `error.type`/`code`).
pub(crate) fn stream_error(provider: &str, kind: &str, message: &str) -> LlmError {
    let api = ApiError {
        provider: provider.to_owned(),
        status: None,
        message: one_line(message, kind),
        retry_after: None,
        hint: None,
    };
    match kind {
        "authentication_error" | "permission_error" | "invalid_api_key" => LlmError::Auth(api),
        "rate_limit_error" | "rate_limit_exceeded" => LlmError::RateLimited(api),
        "overloaded_error" | "overloaded" => LlmError::Overloaded(api),
        _ if mentions_context_overflow(&api.message) => LlmError::ContextTooLong(api),
        "invalid_request_error" | "not_found_error" | "request_too_large" | "invalid_prompt" => {
            LlmError::BadRequest(api)
        }
        _ => LlmError::Server(api),
    }
}

/// Classifies a JSON document received where an event stream was asked
/// for: the error it reports, if it is one, else a decode error.
pub(crate) fn json_instead_of_stream(provider: &str, body: &str) -> LlmError {
    let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    match error {
        Some(error) => {
            let text = |key: &str| error.get(key).and_then(|v| v.as_str());
            let message = text("message").map_or_else(|| error.to_string(), str::to_owned);
            stream_error(provider, text("type").unwrap_or(""), &message)
        }
        None => LlmError::Decode {
            provider: provider.to_owned(),
            message: format!(
                "expected an event stream, got JSON: {}",
                one_line(body, "(empty body)")
            ),
        },
    }
}

/// Classifies a failure to send the request or to read the response head.
pub(crate) fn send_error(provider: &str, error: &reqwest::Error) -> LlmError {
    LlmError::Connect {
        provider: provider.to_owned(),
        message: error_chain(error),
    }
}

/// An error and its sources, joined on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    one_line(&out, "unknown error")
}

/// The provider's message from an error body: `error.message` (OpenAI,
/// Anthropic), `error` as a string, `message` or `detail`; else the body
/// text itself; else the status's reason phrase.
fn message_from_body(status: u16, body: &str) -> String {
    let fallback = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("no message");
    let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        let error = v.get("error");
        error
            .and_then(|e| e.get("message"))
            .or(error.filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    one_line(from_json.as_deref().unwrap_or(body), fallback)
}

/// Whether a provider's message says the prompt does not fit the model's
/// context window (each provider words it differently).
fn mentions_context_overflow(message: &str) -> bool {
    const PHRASES: [&str; 9] = [
        "context length",
        "context_length",
        "context window",
        "context size",
        "maximum context",
        "prompt is too long",
        "input is too long",
        "too many tokens",
        "exceeds the context",
    ];
    let lower = message.to_lowercase();
    PHRASES.iter().any(|p| lower.contains(p))
}

/// `text` with runs of whitespace collapsed to one space and cut to a
/// sensible length; `fallback` when it is empty.
pub(crate) fn one_line(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        return fallback.to_owned();
    }
    if let Some((cut, _)) = out.char_indices().nth(MAX_MESSAGE_CHARS) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn classify(status: u16, body: &str) -> LlmError {
        http_error("openai", status, &HeaderMap::new(), body)
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert!(matches!(classify(401, ""), LlmError::Auth(_)));
        assert!(matches!(classify(403, ""), LlmError::Auth(_)));
        assert!(matches!(classify(429, ""), LlmError::RateLimited(_)));
        assert!(matches!(classify(503, ""), LlmError::Overloaded(_)));
        assert!(matches!(classify(529, ""), LlmError::Overloaded(_)));
        assert!(matches!(classify(500, ""), LlmError::Server(_)));
        assert!(matches!(classify(502, ""), LlmError::Server(_)));
        assert!(matches!(classify(404, ""), LlmError::BadRequest(_)));
        assert!(matches!(classify(400, "nope"), LlmError::BadRequest(_)));
    }

    #[test]
    fn context_overflow_is_detected_from_the_message() {
        let openai = r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        assert!(matches!(classify(400, openai), LlmError::ContextTooLong(_)));
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        let e = classify(400, anthropic);
        assert!(e.is_context_too_long());
        assert_eq!(
            e.to_string(),
            "openai: HTTP 400 (context too long): prompt is too long: 210000 tokens > 200000 maximum"
        );
        assert!(matches!(
            classify(413, "Prompt is too long"),
            LlmError::ContextTooLong(_)
        ));
    }

    #[test]
    fn messages_are_extracted_and_kept_on_one_line() {
        assert_eq!(
            classify(500, "{\"error\": \"boom\"}").to_string(),
            "openai: HTTP 500 (server error): boom"
        );
        assert_eq!(
            classify(422, "{\"detail\": \"bad  field\\nhere\"}").to_string(),
            "openai: HTTP 422 (bad request): bad field here"
        );
        assert_eq!(
            classify(502, "<html>\n<body>Bad gateway</body>\n</html>").to_string(),
            "openai: HTTP 502 (server error): <html> <body>Bad gateway</body> </html>"
        );
        assert_eq!(
            classify(500, "").to_string(),
            "openai: HTTP 500 (server error): Internal Server Error"
        );
        let long = "x".repeat(2000);
        let shown = classify(500, &long).to_string();
        assert!(shown.chars().count() < 500, "{shown}");
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn retry_after_is_read_from_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        let e = http_error("anthropic", 429, &h, "");
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(3)));
        assert!(e.is_retryable());
    }

    #[test]
    fn json_where_a_stream_was_expected() {
        let e = json_instead_of_stream(
            "proxy",
            r#"{"error":{"type":"invalid_request_error","message":"model not found"}}"#,
        );
        assert_eq!(
            e.to_string(),
            "proxy: error in stream (bad request): model not found"
        );
        let e = json_instead_of_stream("proxy", r#"{"choices":[]}"#);
        assert!(matches!(e, LlmError::Decode { .. }), "{e}");
    }

    #[test]
    fn stream_error_types() {
        assert!(matches!(
            stream_error("a", "overloaded_error", "Overloaded"),
            LlmError::Overloaded(_)
        ));
        assert!(matches!(
            stream_error("a", "rate_limit_error", "slow down"),
            LlmError::RateLimited(_)
        ));
        assert!(matches!(
            stream_error("a", "api_error", "oops"),
            LlmError::Server(_)
        ));
        assert!(matches!(
            stream_error("a", "invalid_request_error", "bad"),
            LlmError::BadRequest(_)
        ));
        assert!(matches!(
            stream_error("a", "invalid_request_error", "prompt is too long"),
            LlmError::ContextTooLong(_)
        ));
        assert!(matches!(
            stream_error("a", "authentication_error", "who"),
            LlmError::Auth(_)
        ));
    }
}
