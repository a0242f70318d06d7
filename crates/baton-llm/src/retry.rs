//! Retrying a model call: bounded, jittered exponential backoff, with the
//! provider's `Retry-After` taking precedence.

use crate::{ChatRequest, EventStream, LlmError, Provider, StreamEvent};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How hard to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 4).
    pub max_retries: u32,
    /// The first backoff (default 500ms); doubles with each retry.
    pub initial_backoff: Duration,
    /// The longest backoff (default 20s).
    pub max_backoff: Duration,
    /// The longest wait a provider's `Retry-After` may impose (default 60s).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based) after `error`.
    fn delay(&self, attempt: u32, error: &LlmError) -> Duration {
        if let Some(asked) = error.retry_after() {
            return asked.min(self.max_retry_after);
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let base = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        // Equal jitter: between half and all of the exponential step.
        let half = base / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Calls the provider, retrying retryable failures (before or during the
/// stream). Before each retry yields [`StreamEvent::Retrying`]; the
/// consumer discards what it received for the failed attempt. When retries
/// run out yields the final error, wrapped in [`LlmError::AfterRetries`]
/// when any retry was made. Cancellation stops waiting and streaming at
/// once, with `Err(LlmError::Cancelled)`.
pub fn stream_with_retry(
    provider: Arc<dyn Provider>,
    request: ChatRequest,
    policy: RetryPolicy,
    cancel: CancellationToken,
) -> EventStream {
    let state = Retrier {
        provider,
        request,
        policy,
        cancel,
        retries: 0,
        pending_delay: None,
        current: None,
        finished: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })
    .boxed()
}

struct Retrier {
    provider: Arc<dyn Provider>,
    request: ChatRequest,
    policy: RetryPolicy,
    cancel: CancellationToken,
    /// Retries made so far.
    retries: u32,
    /// The wait owed before the next attempt.
    pending_delay: Option<Duration>,
    current: Option<EventStream>,
    finished: bool,
}

impl Retrier {
    async fn next(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        if self.finished {
            return None;
        }
        loop {
            if self.cancel.is_cancelled() {
                return self.fail(LlmError::Cancelled);
            }
            let Some(current) = self.current.as_mut() else {
                if let Some(delay) = self.pending_delay.take() {
                    tokio::select! {
                        () = self.cancel.cancelled() => continue,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                let attempt = tokio::select! {
                    () = self.cancel.cancelled() => continue,
                    attempt = self.provider.stream(self.request.clone(), self.cancel.clone()) => attempt,
                };
                match attempt {
                    Ok(stream) => self.current = Some(stream),
                    Err(error) => return self.on_error(error),
                }
                continue;
            };
            let next = tokio::select! {
                () = self.cancel.cancelled() => continue,
                next = current.next() => next,
            };
            return match next {
                Some(Ok(event)) => {
                    if matches!(event, StreamEvent::Done { .. }) {
                        self.finished = true;
                        self.current = None;
                    }
                    Some(Ok(event))
                }
                Some(Err(error)) => self.on_error(error),
                None => self.on_error(LlmError::StreamCutOff {
                    provider: self.provider.name().to_owned(),
                    reason: "the response ended without its final event".to_owned(),
                }),
            };
        }
    }

    /// Schedules a retry (announcing it), or ends the stream with `error`.
    fn on_error(&mut self, error: LlmError) -> Option<Result<StreamEvent, LlmError>> {
        self.current = None;
        if matches!(error, LlmError::Cancelled) || self.cancel.is_cancelled() {
            return self.fail(LlmError::Cancelled);
        }
        if !error.is_retryable() || self.retries >= self.policy.max_retries {
            let error = if self.retries == 0 {
                error
            } else {
                LlmError::AfterRetries {
                    retries: self.retries,
                    last: Box::new(error),
                }
            };
            return self.fail(error);
        }
        self.retries += 1;
        let delay = self.policy.delay(self.retries, &error);
        tracing::debug!(provider = %self.provider.name(), attempt = self.retries, ?delay, %error, "retrying model call");
        self.pending_delay = Some(delay);
        Some(Ok(StreamEvent::Retrying {
            attempt: self.retries,
            delay,
            error: error.to_string(),
        }))
    }

    fn fail(&mut self, error: LlmError) -> Option<Result<StreamEvent, LlmError>> {
        self.finished = true;
        self.current = None;
        Some(Err(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::{StopReason, Wire};
    use std::collections::VecDeque;
    use std::sync::Mutex;

    type Script = VecDeque<Result<Vec<Result<StreamEvent, LlmError>>, LlmError>>;

    /// A provider that plays back one scripted outcome per call.
    struct Scripted {
        outcomes: Mutex<Script>,
        calls: Mutex<u32>,
    }

    impl Scripted {
        fn new(outcomes: Script) -> Arc<Self> {
            Arc::new(Self {
                outcomes: Mutex::new(outcomes),
                calls: Mutex::new(0),
            })
        }
    }

    #[async_trait::async_trait]
    impl Provider for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn wire(&self) -> Wire {
            Wire::OpenAi
        }
        async fn stream(
            &self,
            _request: ChatRequest,
            _cancel: CancellationToken,
        ) -> Result<EventStream, LlmError> {
            *self.calls.lock().unwrap() += 1;
            let next = self.outcomes.lock().unwrap().pop_front();
            match next {
                Some(Ok(events)) => Ok(futures::stream::iter(events).boxed()),
                Some(Err(e)) => Err(e),
                None => Ok(futures::stream::pending().boxed()),
            }
        }
    }

    fn server_error(retry_after: Option<Duration>) -> LlmError {
        LlmError::Server(ApiError {
            provider: "scripted".into(),
            status: Some(500),
            message: "boom".into(),
            retry_after,
            hint: None,
        })
    }

    fn request() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            system: String::new(),
            messages: Default::default(),
            tools: vec![],
            max_tokens: 10,
            temperature: None,
            reasoning: None,
            images: false,
        }
    }

    fn tiny() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(5),
        }
    }

    fn done() -> Result<StreamEvent, LlmError> {
        Ok(StreamEvent::Done {
            stop_reason: StopReason::EndTurn,
        })
    }

    #[test]
    fn backoff_grows_is_bounded_and_yields_to_retry_after() {
        let policy = RetryPolicy::default();
        let e = server_error(None);
        for attempt in 1..=10 {
            let d = policy.delay(attempt, &e);
            let step = (policy.initial_backoff * 2u32.pow(attempt - 1)).min(policy.max_backoff);
            assert!(d >= step / 2 && d <= step, "attempt {attempt}: {d:?}");
        }
        assert_eq!(
            policy.delay(1, &server_error(Some(Duration::from_secs(3)))),
            Duration::from_secs(3)
        );
        assert_eq!(
            policy.delay(1, &server_error(Some(Duration::from_secs(3600)))),
            policy.max_retry_after
        );
    }

    #[tokio::test]
    async fn retries_failures_before_and_during_the_stream() {
        let provider = Scripted::new(VecDeque::from([
            Err(server_error(None)),
            Ok(vec![
                Ok(StreamEvent::TextDelta("partial".into())),
                Err(LlmError::StreamCutOff {
                    provider: "scripted".into(),
                    reason: "dropped".into(),
                }),
            ]),
            Ok(vec![Ok(StreamEvent::TextDelta("whole".into())), done()]),
        ]));
        let events: Vec<_> = stream_with_retry(
            provider.clone(),
            request(),
            tiny(),
            CancellationToken::new(),
        )
        .collect()
        .await;
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match e {
                Ok(StreamEvent::Retrying { attempt, .. }) => format!("retry{attempt}"),
                Ok(StreamEvent::TextDelta(t)) => t.clone(),
                Ok(StreamEvent::Done { .. }) => "done".into(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["retry1", "partial", "retry2", "whole", "done"]);
        assert_eq!(*provider.calls.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_with_a_one_line_error() {
        let provider = Scripted::new((0..5).map(|_| Err(server_error(None))).collect());
        let events: Vec<_> = stream_with_retry(
            provider.clone(),
            request(),
            tiny(),
            CancellationToken::new(),
        )
        .collect()
        .await;
        assert_eq!(events.len(), 3, "two Retrying events, then the error");
        let err = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(
            err.to_string(),
            "scripted: HTTP 500 (server error): boom (after 2 retries)"
        );
        assert_eq!(*provider.calls.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn non_retryable_errors_end_at_once() {
        let auth = LlmError::Auth(ApiError {
            provider: "scripted".into(),
            status: Some(401),
            message: "bad key".into(),
            retry_after: None,
            hint: None,
        });
        let provider = Scripted::new(VecDeque::from([Err(auth)]));
        let events: Vec<_> =
            stream_with_retry(provider, request(), tiny(), CancellationToken::new())
                .collect()
                .await;
        assert_eq!(events.len(), 1);
        assert!(matches!(events[0], Err(LlmError::Auth(_))));
    }

    #[tokio::test]
    async fn a_stream_that_just_ends_is_retried_not_complete() {
        let provider = Scripted::new(VecDeque::from([
            Ok(vec![Ok(StreamEvent::TextDelta("half".into()))]),
            Ok(vec![done()]),
        ]));
        let events: Vec<_> =
            stream_with_retry(provider, request(), tiny(), CancellationToken::new())
                .collect()
                .await;
        assert!(matches!(events[1], Ok(StreamEvent::Retrying { .. })));
        assert!(matches!(events[2], Ok(StreamEvent::Done { .. })));
    }

    #[tokio::test]
    async fn cancellation_stops_a_backoff_wait() {
        let slow = RetryPolicy {
            max_retry_after: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let provider = Scripted::new(VecDeque::from([Err(server_error(Some(
            Duration::from_secs(3600),
        )))]));
        let cancel = CancellationToken::new();
        let mut stream = stream_with_retry(provider, request(), slow, cancel.clone());
        assert!(matches!(
            stream.next().await,
            Some(Ok(StreamEvent::Retrying { .. }))
        ));
        cancel.cancel();
        assert!(matches!(
            stream.next().await,
            Some(Err(LlmError::Cancelled))
        ));
        assert!(stream.next().await.is_none());
    }
}
