//! What the server remembers about each request it received.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

/// The wire format a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// OpenAI chat completions (`POST /v1/chat/completions`), written `"openai"`.
    OpenAi,
    /// Anthropic messages (`POST /v1/messages`), written `"anthropic"`.
    Anthropic,
    /// The OpenAI Responses API (`POST /v1/responses`), written `"responses"`.
    Responses,
}

/// One request the server received, whether it was answered, rejected or matched no rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The wire of the route it arrived on.
    pub wire: Wire,
    /// The request path, e.g. `/v1/messages`.
    pub path: String,
    /// The request headers, names lower-cased; repeated headers are joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// The request body; a body that is not JSON is kept as a JSON string of its (lossy UTF-8) text.
    pub body: serde_json::Value,
    /// The rule that answered (its name, or `#<index>`), `None` if the request was rejected or no
    /// rule matched.
    pub matched_rule: Option<String>,
    /// When the request arrived.
    pub received_at: SystemTime,
    /// The input tokens the server estimates for this request: its body's characters / 4, at
    /// least 1. It is what the reply reports as input usage unless the script sets
    /// `usage.input_tokens`, and what is compared with the script's `context_window`.
    /// Absent in JSON recorded by older versions, which reads as 0.
    #[serde(default)]
    pub estimated_input_tokens: u64,
}

/// Copies headers into the recorded form: lower-case names, repeated values joined.
pub(crate) fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        map.entry(name.as_str().to_ascii_lowercase())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn wire_is_written_in_lower_case() {
        assert_eq!(
            serde_json::to_string(&Wire::OpenAi).expect("json"),
            "\"openai\""
        );
        assert_eq!(
            serde_json::to_string(&Wire::Anthropic).expect("json"),
            "\"anthropic\""
        );
        assert_eq!(
            serde_json::to_string(&Wire::Responses).expect("json"),
            "\"responses\""
        );
    }

    #[test]
    fn repeated_headers_are_joined() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.append("Content-Type", HeaderValue::from_static("application/json"));
        let map = header_map(&headers);
        assert_eq!(map["x-a"], "1, 2");
        assert_eq!(map["content-type"], "application/json");
    }

    #[test]
    fn json_without_the_estimate_still_reads() {
        let recorded: RecordedRequest = serde_json::from_value(serde_json::json!({
            "wire": "openai",
            "path": "/v1/chat/completions",
            "headers": {},
            "body": {},
            "matched_rule": null,
            "received_at": {"secs_since_epoch": 1, "nanos_since_epoch": 0},
        }))
        .expect("older RecordedRequest JSON");
        assert_eq!(recorded.estimated_input_tokens, 0);
    }
}
