//! `GET /v1/events`: the event stream as Server-Sent Events.

use crate::error::ApiFailure;
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use baton_protocol::api::{ApiError, StreamItem as Outgoing};
use baton_protocol::{Event, SessionId};
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
    after: Option<u64>,
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
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this `seq`."),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = Event,
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
    let after = last_event_id(&headers)?.or(query.after);
    let session = query.session.map(SessionId::from);
    let stream = state
        .engine
        .feed(after, session.as_ref())
        .await?
        .filter_map(|item| async move { frame(item).map(Ok) })
        .take_until(state.closing.cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The `seq` in a `Last-Event-ID` header.
fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, ApiFailure> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        ApiFailure::bad_request(format!(
            "Last-Event-ID must be the `seq` of an event (a number), not `{text}`"
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
