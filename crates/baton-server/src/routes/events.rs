//! `GET /v1/events`: the event stream as Server-Sent Events.

use crate::error::ApiFailure;
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use baton_protocol::SessionId;
use baton_protocol::api::{ApiError, StreamItem as Outgoing};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// How often an idle stream sends a comment to keep proxies from closing it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What `GET /v1/events` streams.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Only the events of this session and of every session under it.
    session: Option<String>,
    /// Resume after this `seq` (as `Last-Event-ID`, which wins when both
    /// are given; for browsers' `EventSource`).
    #[param(value_type = Option<u64>, format = "uint64", minimum = 0, maximum = 18446744073709551615_u64)]
    after: Option<String>,
}

/// The event stream. Each SSE event has `id:` its `seq` and `data:` the
/// event as JSON (the same object as a line of `baton run --format
/// jsonl`). With `Last-Event-ID` (or `after=`) it resumes after that
/// `seq`; without, it starts with the next event. When events asked for
/// are no longer kept (or the `seq` is from before a restart), or the
/// client reads too slowly, an event named `resync` (no id) carries a
/// `Resync`.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this `seq`.",
            nullable = false, format = "uint64", minimum = 0, maximum = 18446744073709551615_u64),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = ref("#/components/schemas/StreamFrame"),
            description = "Server-Sent Events: `id:` is the event's `seq`, `data:` the Event as JSON; \
                an event named `resync` (no id) carries a Resync instead."),
        (status = 400, description = "A bad query parameter or Last-Event-ID.", body = ApiError),
        (status = 404, description = "No such session.", body = ApiError),
    )
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiFailure> {
    // Both are checked; the header wins.
    let asked = query
        .after
        .as_deref()
        .map(|text| seq_in("`after`", text))
        .transpose()?;
    let after = last_event_id(&headers)?.or(asked);
    let session = query.session.map(SessionId::from);
    let stream = state
        .engine
        .feed(after, session.as_ref())
        .await?
        .filter_map(|item| async move { frame(item).map(Ok) })
        .take_until(state.closing.cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The `seq` in a `Last-Event-ID` header, if there is one.
fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, ApiFailure> {
    headers
        .get("last-event-id")
        .map(|value| seq_in("Last-Event-ID", &String::from_utf8_lossy(value.as_bytes())))
        .transpose()
}

/// The `seq` that `what` (the header or the query parameter) gives:
/// digits only, at most `u64::MAX`. Anything else is a 400 that says so.
fn seq_in(what: &str, text: &str) -> Result<u64, ApiFailure> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten().ok_or_else(|| {
        ApiFailure::bad_request(format!(
            "{what} must be the `seq` of an event (a whole number from 0 to {}), not `{text}`",
            u64::MAX
        ))
    })
}

/// One feed item as an SSE event.
fn frame(item: Outgoing) -> Option<SseEvent> {
    let framed = match &item {
        Outgoing::Event(event) => serde_json::to_string(event)
            .map(|json| SseEvent::default().id(event.seq.to_string()).data(json)),
        Outgoing::Resync(resync) => {
            serde_json::to_string(resync).map(|json| SseEvent::default().event("resync").data(json))
        }
    };
    match framed {
        Ok(event) => Some(event),
        Err(e) => {
            tracing::warn!(error = %e, ?item, "could not encode an event for the stream");
            None
        }
    }
}
