//! SSE framing and how a body is cut into separate HTTP writes.

use std::io;
use std::num::NonZeroUsize;
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::Value;

use crate::script::Reply;

/// An unnamed SSE event: `data: {json}\n\n` (the OpenAI framing).
pub(crate) fn data_event(json: &Value) -> Bytes {
    Bytes::from(format!("data: {json}\n\n"))
}

/// A named SSE event: `event: NAME\ndata: {json}\n\n` (the Anthropic framing).
pub(crate) fn named_event(name: &str, json: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// A stream's events, with its terminal event kept apart so it can be omitted.
#[derive(Debug)]
pub(crate) struct StreamEvents {
    pub(crate) events: Vec<Bytes>,
    pub(crate) terminal: Bytes,
}

impl StreamEvents {
    /// The events to send, with or without the terminal event.
    pub(crate) fn into_events(self, omit_terminal: bool) -> Vec<Bytes> {
        let mut events = self.events;
        if !omit_terminal {
            events.push(self.terminal);
        }
        events
    }
}

/// Splits `text` into pieces of at most `size` characters (never inside a character).
pub(crate) fn split_chars(text: &str, size: NonZeroUsize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut count = 0;
    for (offset, _) in text.char_indices() {
        if count == size.get() {
            pieces.push(&text[start..offset]);
            start = offset;
            count = 0;
        }
        count += 1;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// The body writes for one response, and whether the connection is dropped after them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Writes {
    pub(crate) chunks: Vec<Bytes>,
    pub(crate) drop_connection: bool,
}

impl Writes {
    /// Cuts `pieces` (SSE events, or a JSON body as one piece) into writes as `reply` asks:
    /// one write per piece, all in one write (`coalesce`), or fixed-size writes (`write_bytes`);
    /// then truncated at `drop_after_bytes`.
    pub(crate) fn plan(pieces: Vec<Bytes>, reply: &Reply) -> Writes {
        let mut chunks = if reply.write_bytes > 0 {
            let whole = concat(pieces);
            whole
                .chunks(reply.write_bytes)
                .map(|chunk| whole.slice_ref(chunk))
                .collect()
        } else if reply.coalesce {
            vec![concat(pieces)]
        } else {
            pieces
        };
        let drop_connection = reply.drop_after_bytes.is_some();
        if let Some(limit) = reply.drop_after_bytes {
            let mut budget = limit;
            for chunk in &mut chunks {
                let keep = budget.min(chunk.len());
                chunk.truncate(keep);
                budget -= keep;
            }
        }
        // An empty chunk would read as the end of a chunked body.
        chunks.retain(|chunk| !chunk.is_empty());
        Writes {
            chunks,
            drop_connection,
        }
    }

    /// Whether the writes can go out as one ordinary body with a `content-length`.
    pub(crate) fn is_single_plain_body(&self) -> bool {
        !self.drop_connection && self.chunks.len() <= 1
    }

    /// A streaming body: each chunk is its own write, `delay` apart; when the connection is to be
    /// dropped, the stream then fails so the server aborts it without the chunked terminator.
    pub(crate) fn into_body(self, delay: Duration) -> Body {
        let mut items: Vec<Result<Bytes, io::Error>> = self.chunks.into_iter().map(Ok).collect();
        if self.drop_connection {
            items.push(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "baton-mock-llm: drop_after_bytes reached, dropping the connection",
            )));
        }
        let stream = futures::stream::iter(items.into_iter().enumerate()).then(
            move |(index, item)| async move {
                if index > 0 && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if item.is_err() {
                    // Being pending once makes hyper flush what it holds (status line, headers,
                    // the bytes before the cut); only then does the error abort the connection.
                    tokio::task::yield_now().await;
                }
                item
            },
        );
        Body::from_stream(stream)
    }
}

fn concat(pieces: Vec<Bytes>) -> Bytes {
    let mut whole = BytesMut::with_capacity(pieces.iter().map(Bytes::len).sum());
    for piece in pieces {
        whole.extend_from_slice(&piece);
    }
    whole.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn size(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).expect("non-zero")
    }

    fn events() -> Vec<Bytes> {
        vec![
            data_event(&json!({"a": "héllo"})),
            data_event(&json!({"b": "wörld ✓"})),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ]
    }

    fn whole(chunks: &[Bytes]) -> Vec<u8> {
        chunks.iter().flat_map(|chunk| chunk.to_vec()).collect()
    }

    #[test]
    fn events_are_framed_like_sse() {
        assert_eq!(&data_event(&json!({"x": 1}))[..], b"data: {\"x\":1}\n\n");
        assert_eq!(
            &named_event("ping", &json!({"type": "ping"}))[..],
            b"event: ping\ndata: {\"type\":\"ping\"}\n\n"
        );
    }

    #[test]
    fn split_chars_counts_characters_not_bytes() {
        assert_eq!(split_chars("héllo wörld", size(4)), ["héll", "o wö", "rld"]);
        assert_eq!(split_chars("abc", size(16)), ["abc"]);
        assert!(split_chars("", size(3)).is_empty());
        assert_eq!(split_chars("✓✓✓", size(1)), ["✓", "✓", "✓"]);
    }

    #[test]
    fn default_plan_is_one_write_per_event() {
        let plan = Writes::plan(events(), &Reply::default());
        assert_eq!(plan.chunks, events());
        assert!(!plan.drop_connection);
    }

    #[test]
    fn coalesce_puts_every_event_in_one_write() {
        let reply = Reply {
            coalesce: true,
            ..Reply::default()
        };
        let plan = Writes::plan(events(), &reply);
        assert_eq!(plan.chunks.len(), 1);
        assert_eq!(whole(&plan.chunks), whole(&events()));
        assert!(plan.is_single_plain_body());
    }

    #[test]
    fn write_bytes_recuts_the_stream_and_splits_characters() {
        // `data: {"a":"h` is 13 bytes, so the two-byte `é` straddles the cut at byte 14.
        let reply = Reply {
            write_bytes: 7,
            ..Reply::default()
        };
        let plan = Writes::plan(events(), &reply);
        assert_eq!(whole(&plan.chunks), whole(&events()));
        assert!(plan.chunks.iter().all(|chunk| chunk.len() <= 7));
        assert!(plan.chunks.len() > events().len());
        assert!(
            plan.chunks
                .iter()
                .any(|chunk| std::str::from_utf8(chunk).is_err()),
            "some write should end inside a multi-byte character"
        );
    }

    #[test]
    fn drop_after_bytes_truncates_and_marks_the_drop() {
        let reply = Reply {
            drop_after_bytes: Some(20),
            ..Reply::default()
        };
        let plan = Writes::plan(events(), &reply);
        assert_eq!(whole(&plan.chunks), whole(&events())[..20].to_vec());
        assert!(plan.drop_connection);
        assert!(!plan.is_single_plain_body());

        let nothing = Writes::plan(
            events(),
            &Reply {
                drop_after_bytes: Some(0),
                ..Reply::default()
            },
        );
        assert!(nothing.chunks.is_empty());
    }

    #[test]
    fn terminal_event_can_be_omitted() {
        let make = || StreamEvents {
            events: vec![Bytes::from_static(b"a")],
            terminal: Bytes::from_static(b"z"),
        };
        assert_eq!(
            make().into_events(false),
            [Bytes::from_static(b"a"), Bytes::from_static(b"z")]
        );
        assert_eq!(make().into_events(true), [Bytes::from_static(b"a")]);
    }
}
