//! The server's event stream (Server-Sent Events), reconnecting with
//! `Last-Event-ID` when the connection drops, so nothing is missed.

use super::{RemoteClient, check};
use crate::{ClientError, EventStream, EventsFrom, StreamItem};
use baton_protocol::api::Resync;
use baton_protocol::{Event, SessionId};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use reqwest::Method;
use std::time::Duration;
use tokio::sync::mpsc;

/// Reconnection attempts in a row before the stream gives up.
const MAX_RETRIES: u32 = 8;

/// Items buffered between the connection and the reader.
const BUFFER: usize = 1024;

/// Opens the stream: the first connection is made here, so a refused one
/// (bad token, unknown session) is an error at once.
pub(super) async fn open(
    client: RemoteClient,
    from: EventsFrom,
) -> Result<EventStream, ClientError> {
    let first = connect(&client, from.session.as_ref(), from.after).await?;
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(pump(client, from.session, from.after, first, tx));
    Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })))
}

async fn connect(
    client: &RemoteClient,
    session: Option<&SessionId>,
    after: Option<u64>,
) -> Result<reqwest::Response, ClientError> {
    let query: Vec<(&str, &str)> = session
        .map(|s| ("session", s.as_str()))
        .into_iter()
        .collect();
    let mut request = client
        .request_with(Method::GET, &["v1", "events"], &query)
        .header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(after) = after {
        request = request.header("Last-Event-ID", after.to_string());
    }
    let response = request.send().await.map_err(|e| client.unreachable(&e))?;
    check(response).await
}

/// One SSE message as a stream item.
fn parse(name: &str, data: &str) -> Result<StreamItem, ClientError> {
    let item = if name == "resync" {
        serde_json::from_str::<Resync>(data).map(StreamItem::Resync)
    } else {
        serde_json::from_str::<Event>(data).map(StreamItem::Event)
    };
    item.map_err(|e| {
        ClientError::Failed(format!("the server sent an event baton cannot read: {e}"))
    })
}

/// Reads the connection into `tx`, reconnecting after the last `seq`
/// seen whenever the connection drops; stops when the reader is gone.
async fn pump(
    client: RemoteClient,
    session: Option<SessionId>,
    mut last: Option<u64>,
    mut response: reqwest::Response,
    tx: mpsc::Sender<Result<StreamItem, ClientError>>,
) {
    loop {
        let mut messages = response.bytes_stream().eventsource();
        while let Some(message) = messages.next().await {
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!("the event stream broke: {e}");
                    break;
                }
            };
            let item = match parse(&message.event, &message.data) {
                Ok(item) => item,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            last = Some(match &item {
                StreamItem::Event(e) => e.seq,
                StreamItem::Resync(r) => r.next.saturating_sub(1),
            });
            if tx.send(Ok(item)).await.is_err() {
                return;
            }
        }
        match reconnect(&client, session.as_ref(), last, &tx).await {
            Some(r) => response = r,
            None => return,
        }
    }
}

/// Connects again, with backoff; `None` when the reader is gone or the
/// server cannot be reached (the error is sent first).
async fn reconnect(
    client: &RemoteClient,
    session: Option<&SessionId>,
    last: Option<u64>,
    tx: &mpsc::Sender<Result<StreamItem, ClientError>>,
) -> Option<reqwest::Response> {
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=MAX_RETRIES {
        tokio::select! {
            () = tx.closed() => return None,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(2));
        match connect(client, session, last).await {
            Ok(response) => return Some(response),
            Err(e @ ClientError::Unavailable(_)) if attempt < MAX_RETRIES => {
                tracing::debug!(attempt, "reconnecting the event stream: {e}");
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return None;
            }
        }
    }
    None
}
