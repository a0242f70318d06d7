//! One model request, start to finish: authenticate, validate, match, record, answer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::cache::{CacheUsage, Canonical, PromptCacheState};
use crate::conversation::Conversation;
use crate::issued::Issued;
use crate::matching::select;
use crate::recording::header_map;
use crate::reply::{Ids, Issuer, estimate_tokens, prepare};
use crate::script::{Reply, Script};
use crate::sse::Writes;
use crate::validation::validate;
use crate::{RecordedRequest, Wire, anthropic, openai, responses};

/// State shared by every request of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) script: Script,
    pub(crate) ids: Ids,
    /// The reasoning tokens handed out, which requests may send back.
    pub(crate) issued: Issued,
    book: Mutex<Book>,
}

/// What changes as requests arrive. One lock, so matching, counting, caching and recording are
/// one step, in arrival order.
#[derive(Debug)]
struct Book {
    /// How many times each rule has answered.
    used: Vec<u32>,
    requests: Vec<RecordedRequest>,
    /// The simulated prompt cache (left empty when the script has it off).
    cache: PromptCacheState,
}

impl Shared {
    pub(crate) fn new(script: Script) -> Shared {
        let used = vec![0; script.rules.len()];
        Shared {
            script,
            ids: Ids::default(),
            issued: Issued::default(),
            book: Mutex::new(Book {
                used,
                requests: Vec::new(),
                cache: PromptCacheState::default(),
            }),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // A panic while holding the lock cannot leave the book half-updated, so keep going.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every request received so far, in arrival order.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.book().requests.clone()
    }
}

/// A rule's answer to one request, before it is written.
#[derive(Debug)]
struct Answer {
    /// The rule's label.
    label: String,
    /// The reply, with captures filled and echoes computed.
    reply: Reply,
    /// The request body.
    request: Value,
    /// What the simulated prompt cache read and wrote, when it is on.
    cache: Option<CacheUsage>,
}

/// Why a request gets an error instead of a rule's answer.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    /// An error with this status and this message in the wire's error body.
    #[error("{1}")]
    Message(StatusCode, String),
    /// The estimated input does not fit the scripted context window.
    #[error("the prompt is too long: {tokens} tokens > {limit} maximum")]
    ContextWindow {
        /// The request's estimated input tokens.
        tokens: u64,
        /// The script's `context_window`.
        limit: u64,
    },
}

impl Refusal {
    fn bad_request(message: String) -> Refusal {
        Refusal::Message(StatusCode::BAD_REQUEST, message)
    }

    /// The error response in the wire's shape and wording.
    fn into_response(self, wire: Wire) -> Response {
        match self {
            Refusal::Message(status, message) => error_response(wire, status, &message),
            Refusal::ContextWindow { tokens, limit } => {
                let body = match wire {
                    Wire::OpenAi => openai::context_length_body(tokens, limit),
                    Wire::Anthropic => anthropic::prompt_too_long_body(tokens, limit),
                    Wire::Responses => responses::context_window_body(),
                };
                json_response(StatusCode::BAD_REQUEST, body.to_string())
            }
        }
    }
}

/// Handles a model request that arrived on `wire`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    wire: Wire,
    path: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received_at = SystemTime::now();
    let estimated_input = estimate_tokens(String::from_utf8_lossy(&body).chars().count());
    let parsed = serde_json::from_slice::<Value>(&body);
    let recorded_body = match &parsed {
        Ok(value) => value.clone(),
        Err(_) => Value::String(String::from_utf8_lossy(&body).into_owned()),
    };
    let checked: Result<Value, Refusal> = check_api_key(&shared.script, wire, &headers)
        .map_err(|message| Refusal::Message(StatusCode::UNAUTHORIZED, message))
        .and_then(|()| {
            parsed.map_err(|error| {
                Refusal::bad_request(format!(
                    "baton-mock-llm: the request body is not valid JSON: {error}"
                ))
            })
        })
        .and_then(|value| {
            validate(wire, &headers, &value, &shared.issued)
                .map(|()| value)
                .map_err(|problem| {
                    Refusal::bad_request(format!(
                        "baton-mock-llm: malformed {} request: {problem}",
                        wire_name(wire)
                    ))
                })
        })
        .and_then(|value| match shared.script.context_window {
            Some(limit) if estimated_input > limit.get() => Err(Refusal::ContextWindow {
                tokens: estimated_input,
                limit: limit.get(),
            }),
            _ => Ok(value),
        });

    // Canonicalised before the lock is taken; the lookup itself happens under it.
    let canonical = checked
        .as_ref()
        .ok()
        .filter(|_| shared.script.prompt_cache.enabled)
        .map(|value| Canonical::of(wire, value));

    let rules = &shared.script.rules;
    let outcome = {
        let mut book = shared.book();
        let book = &mut *book;
        let outcome: Result<Answer, Refusal> = checked.and_then(|value| {
            let conversation = Conversation::extract(wire, &value);
            let (index, rule) =
                select(rules, &mut book.used, wire, &conversation).ok_or_else(|| {
                    Refusal::bad_request(format!(
                        "baton-mock-llm: no rule matched this request (rules: {})",
                        rules.len()
                    ))
                })?;
            let captures = rule.when.captures(wire, &conversation);
            let reply = rule.reply.filled(&captures).echoed(&conversation);
            // Only a request that gets content reaches the cache: an error reply caches nothing.
            let cache = canonical
                .filter(|_| reply.status.is_none())
                .map(|canonical| book.cache.serve(&shared.script.prompt_cache, canonical));
            Ok(Answer {
                label: rule.label(index),
                reply,
                request: value,
                cache,
            })
        });
        let matched_rule = outcome.as_ref().ok().map(|answer| answer.label.clone());
        book.requests.push(RecordedRequest {
            wire,
            path,
            headers: header_map(&headers),
            body: recorded_body,
            matched_rule,
            received_at,
            estimated_input_tokens: estimated_input,
        });
        outcome
    };

    match outcome {
        Err(refusal) => {
            tracing::debug!(?wire, %refusal, "refusing model request");
            refusal.into_response(wire)
        }
        Ok(answer) => {
            tracing::debug!(?wire, rule = %answer.label, "answering model request");
            respond(&shared, wire, &answer, estimated_input).await
        }
    }
}

fn wire_name(wire: Wire) -> &'static str {
    match wire {
        Wire::OpenAi => "OpenAI",
        Wire::Anthropic => "Anthropic",
        Wire::Responses => "OpenAI Responses",
    }
}

fn check_api_key(script: &Script, wire: Wire, headers: &HeaderMap) -> Result<(), String> {
    let Some(expected) = &script.require_api_key else {
        return Ok(());
    };
    let given = |name: HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let valid = match wire {
        Wire::OpenAi | Wire::Responses => given(header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|key| key == expected),
        Wire::Anthropic => given(HeaderName::from_static("x-api-key")) == Some(expected.as_str()),
    };
    if valid {
        Ok(())
    } else {
        Err(match wire {
            Wire::OpenAi | Wire::Responses => "baton-mock-llm: incorrect API key provided (expected `Authorization: Bearer <key>` with the scripted key)".to_string(),
            Wire::Anthropic => "baton-mock-llm: invalid x-api-key (expected the `x-api-key` header with the scripted key)".to_string(),
        })
    }
}

/// A JSON error body in the wire's shape.
pub(crate) fn error_response(wire: Wire, status: StatusCode, message: &str) -> Response {
    let body = match wire {
        Wire::OpenAi | Wire::Responses => openai::error_body(status, message),
        Wire::Anthropic => anthropic::error_body(status, message),
    };
    json_response(status, body.to_string())
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn default_error_message(status: StatusCode) -> String {
    let reason = match status.as_u16() {
        529 => "Overloaded",
        _ => status.canonical_reason().unwrap_or("error"),
    };
    format!("{reason} (scripted by baton-mock-llm)")
}

/// Answers with a rule's reply: after the first-byte delay, an error or the content.
async fn respond(shared: &Shared, wire: Wire, answer: &Answer, estimated_input: u64) -> Response {
    let reply = &answer.reply;
    if reply.first_byte_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(reply.first_byte_delay_ms)).await;
    }
    let mut response = match reply.status {
        Some(code) => {
            let status = StatusCode::from_u16(code).unwrap_or_else(|_| {
                tracing::warn!(
                    code,
                    "scripted status is not a valid HTTP status, using 500"
                );
                StatusCode::INTERNAL_SERVER_ERROR
            });
            let message = reply
                .error_message
                .clone()
                .unwrap_or_else(|| default_error_message(status));
            error_response(wire, status, &message)
        }
        None => content_response(shared, wire, answer, estimated_input),
    };
    for (name, value) in &reply.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().insert(name, value);
            }
            _ => tracing::warn!(name, value, "skipping invalid scripted response header"),
        }
    }
    response
}

fn content_response(
    shared: &Shared,
    wire: Wire,
    answer: &Answer,
    estimated_input: u64,
) -> Response {
    let Answer { reply, request, .. } = answer;
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let issuer = Issuer {
        ids: &shared.ids,
        issued: &shared.issued,
    };
    let prepared = prepare(wire, reply, model, estimated_input, answer.cache, issuer);
    let streaming = request.get("stream") == Some(&Value::Bool(true));
    let (pieces, content_type) = if streaming {
        let events = match wire {
            Wire::OpenAi => {
                let include_usage = request
                    .pointer("/stream_options/include_usage")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                openai::stream_events(&prepared, reply, include_usage)
            }
            Wire::Anthropic => {
                anthropic::stream_events(&prepared, reply, anthropic::thinking_enabled(request))
            }
            Wire::Responses => responses::stream_events(
                &prepared,
                reply,
                responses::Options::from_request(request),
            ),
        };
        (events.into_events(reply.omit_terminal), "text/event-stream")
    } else {
        let body = match wire {
            Wire::OpenAi => openai::completion(&prepared),
            Wire::Anthropic => anthropic::message(&prepared, anthropic::thinking_enabled(request)),
            Wire::Responses => {
                responses::response(&prepared, responses::Options::from_request(request))
            }
        };
        (vec![Bytes::from(body.to_string())], "application/json")
    };
    let writes = Writes::plan(pieces, reply);
    let body = if !streaming && writes.is_single_plain_body() {
        Body::from(writes.chunks.into_iter().next().unwrap_or_default())
    } else {
        writes.into_body(Duration::from_millis(reply.chunk_delay_ms))
    };
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if streaming {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}
