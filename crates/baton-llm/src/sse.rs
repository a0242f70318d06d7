//! Drives one response body: bytes → SSE events → a wire decoder →
//! [`StreamEvent`]s, with cancellation and an idle-read timeout.

use crate::classify::error_chain;
use crate::{EventStream, LlmError, StreamEvent};
use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::stream::{BoxStream, Stream, StreamExt};
use std::collections::VecDeque;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a decoder says after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Keep reading.
    More,
    /// The terminal event arrived: the response is complete.
    Finished,
}

/// Turns one wire's SSE events into [`StreamEvent`]s.
pub(crate) trait WireDecoder: Send + 'static {
    /// Handles one SSE event, pushing what it produced onto `out`. After
    /// [`Progress::Finished`] the last event pushed must be
    /// [`StreamEvent::Done`].
    fn on_event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Progress, LlmError>;

    /// The body ended cleanly before [`Progress::Finished`]. Pushes the
    /// closing events if the response counts as complete, else returns
    /// [`LlmError::StreamCutOff`].
    fn on_end(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError>;
}

/// Decodes a response body with `decoder`. The stream ends after `Done` or
/// after the first error; the body is dropped as soon as it is not needed.
pub(crate) fn decode<S, E, D>(
    provider: &str,
    body: S,
    decoder: D,
    idle_timeout: Duration,
    cancel: CancellationToken,
) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
    D: WireDecoder,
{
    let driver = Driver {
        provider: provider.to_owned(),
        events: Some(body.eventsource().boxed()),
        decoder,
        out: VecDeque::new(),
        idle_timeout,
        cancel,
        finished: false,
    };
    futures::stream::unfold(driver, |mut driver| async move {
        let item = driver.next().await?;
        Some((item, driver))
    })
    .boxed()
}

struct Driver<E, D> {
    provider: String,
    events: Option<BoxStream<'static, Result<Event, EventStreamError<E>>>>,
    decoder: D,
    out: VecDeque<StreamEvent>,
    idle_timeout: Duration,
    cancel: CancellationToken,
    finished: bool,
}

impl<E: std::error::Error, D: WireDecoder> Driver<E, D> {
    async fn next(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        loop {
            if self.cancel.is_cancelled() {
                return self.fail(LlmError::Cancelled);
            }
            if let Some(event) = self.out.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            let events = self.events.as_mut()?;
            let next = tokio::select! {
                biased;
                () = self.cancel.cancelled() => continue,
                next = tokio::time::timeout(self.idle_timeout, events.next()) => next,
            };
            let step = match next {
                Err(_elapsed) => {
                    Err(self.cut_off(format!("no data for {}s", self.idle_timeout.as_secs_f64())))
                }
                Ok(None) => self
                    .decoder
                    .on_end(&mut self.out)
                    .map(|()| Progress::Finished),
                Ok(Some(Ok(event))) => self.decoder.on_event(&event, &mut self.out),
                Ok(Some(Err(EventStreamError::Transport(e)))) => {
                    Err(self.cut_off(format!("connection error: {}", error_chain(&e))))
                }
                Ok(Some(Err(EventStreamError::Utf8(e)))) => Err(LlmError::Decode {
                    provider: self.provider.clone(),
                    message: format!("response is not UTF-8: {e}"),
                }),
                Ok(Some(Err(EventStreamError::Parser(e)))) => Err(LlmError::Decode {
                    provider: self.provider.clone(),
                    message: format!("bad SSE framing: {e}"),
                }),
            };
            match step {
                Ok(Progress::More) => {}
                Ok(Progress::Finished) => {
                    self.finished = true;
                    self.events = None;
                }
                Err(e) => return self.fail(e),
            }
        }
    }

    fn fail(&mut self, error: LlmError) -> Option<Result<StreamEvent, LlmError>> {
        if self.finished && self.out.is_empty() {
            return None;
        }
        self.finished = true;
        self.events = None;
        self.out.clear();
        Some(Err(error))
    }

    fn cut_off(&self, reason: String) -> LlmError {
        LlmError::StreamCutOff {
            provider: self.provider.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StopReason;

    /// Echoes each event's data as text; `stop` is terminal.
    struct Echo;

    impl WireDecoder for Echo {
        fn on_event(
            &mut self,
            event: &Event,
            out: &mut VecDeque<StreamEvent>,
        ) -> Result<Progress, LlmError> {
            if event.data == "stop" {
                out.push_back(StreamEvent::Done {
                    stop_reason: StopReason::EndTurn,
                });
                return Ok(Progress::Finished);
            }
            out.push_back(StreamEvent::TextDelta(event.data.clone()));
            Ok(Progress::More)
        }

        fn on_end(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError> {
            Err(LlmError::StreamCutOff {
                provider: "t".into(),
                reason: "no stop".into(),
            })
        }
    }

    fn body(
        chunks: Vec<Result<&'static str, std::io::Error>>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        futures::stream::iter(
            chunks
                .into_iter()
                .map(|c| c.map(|s| Bytes::from_static(s.as_bytes()))),
        )
    }

    async fn collect(stream: EventStream) -> Vec<Result<StreamEvent, String>> {
        stream.map(|r| r.map_err(|e| e.to_string())).collect().await
    }

    const IDLE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn events_split_across_chunks_are_reassembled() {
        let s = decode(
            "t",
            body(vec![
                Ok("data: he"),
                Ok("llo\n"),
                Ok("\ndata: stop\n\ndata: after\n\n"),
            ]),
            Echo,
            IDLE,
            CancellationToken::new(),
        );
        assert_eq!(
            collect(s).await,
            vec![
                Ok(StreamEvent::TextDelta("hello".into())),
                Ok(StreamEvent::Done {
                    stop_reason: StopReason::EndTurn
                }),
            ]
        );
    }

    #[tokio::test]
    async fn clean_end_without_terminal_event_is_the_decoders_call() {
        let s = decode(
            "t",
            body(vec![Ok("data: a\n\n")]),
            Echo,
            IDLE,
            CancellationToken::new(),
        );
        assert_eq!(
            collect(s).await,
            vec![
                Ok(StreamEvent::TextDelta("a".into())),
                Err("t: stream cut off: no stop".into()),
            ]
        );
    }

    #[tokio::test]
    async fn transport_errors_cut_the_stream_off() {
        let s = decode(
            "t",
            body(vec![
                Ok("data: a\n\n"),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset by peer",
                )),
                Ok("data: stop\n\n"),
            ]),
            Echo,
            IDLE,
            CancellationToken::new(),
        );
        let got = collect(s).await;
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1],
            Err("t: stream cut off: connection error: reset by peer".into())
        );
    }

    #[tokio::test]
    async fn an_idle_body_times_out_as_cut_off() {
        let pending = futures::stream::pending::<Result<Bytes, std::io::Error>>();
        let s = decode(
            "t",
            pending,
            Echo,
            Duration::from_millis(20),
            CancellationToken::new(),
        );
        let got = collect(s).await;
        assert_eq!(got.len(), 1);
        assert!(
            matches!(&got[0], Err(e) if e.starts_with("t: stream cut off: no data for")),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn cancellation_ends_a_waiting_stream() {
        let cancel = CancellationToken::new();
        let pending = futures::stream::pending::<Result<Bytes, std::io::Error>>();
        let mut s = decode("t", pending, Echo, IDLE, cancel.clone());
        let waiter = tokio::spawn(async move {
            let first = s.next().await;
            (
                first.map(|r| r.map_err(|e| e.to_string())),
                s.next().await.is_none(),
            )
        });
        cancel.cancel();
        let (first, ended) = waiter.await.unwrap();
        assert_eq!(first, Some(Err("cancelled".into())));
        assert!(ended);
    }
}
