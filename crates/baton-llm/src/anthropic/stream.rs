//! Decodes an Anthropic Messages SSE stream.
//!
//! `message_start` carries the input usage; content arrives as blocks
//! (`content_block_start` / `_delta` / `_stop`): text blocks with
//! `text_delta`s, tool-use blocks with `input_json_delta`s; `message_delta`
//! carries the stop reason and output usage; `message_stop` ends the
//! stream. An `error` event fails the call with a typed error; a stream
//! without `message_stop` was cut off.

use crate::classify;
use crate::sse::{Progress, WireDecoder};
use crate::{LlmError, StopReason, StreamEvent};
use baton_protocol::{CallId, ToolCall, Usage};
use eventsource_stream::Event;
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDeltaBody,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: WireError,
    },
    /// `ping` and event types newer than this code.
    #[serde(other)]
    Ignored,
}

#[derive(Deserialize)]
struct MessageStart {
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Option<serde_json::Value>,
    },
    /// Thinking and other blocks baton does not use.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDeltaBody {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

/// A tool-use block being assembled.
struct OpenCall {
    /// Position among this response's tool calls.
    index: usize,
    call_id: CallId,
    name: String,
    arguments: String,
    /// The block's `input` when it came whole rather than as deltas.
    initial_input: Option<serde_json::Value>,
}

/// Decoder state for one Anthropic response.
pub(crate) struct AnthropicDecoder {
    provider: String,
    /// Open tool-use blocks by block index.
    open: BTreeMap<usize, OpenCall>,
    calls_started: usize,
    /// Token counts; Anthropic's `input_tokens` excludes cache reads and
    /// writes, which these keep apart.
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    stop_reason: Option<String>,
}

impl AnthropicDecoder {
    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            open: BTreeMap::new(),
            calls_started: 0,
            input: 0,
            output: 0,
            cache_read: 0,
            cache_write: 0,
            stop_reason: None,
        }
    }

    fn on_usage(&mut self, usage: WireUsage, out: &mut VecDeque<StreamEvent>) {
        self.input = usage.input_tokens.unwrap_or(self.input);
        self.output = usage.output_tokens.unwrap_or(self.output);
        self.cache_read = usage.cache_read_input_tokens.unwrap_or(self.cache_read);
        self.cache_write = usage
            .cache_creation_input_tokens
            .unwrap_or(self.cache_write);
        out.push_back(StreamEvent::Usage(Usage {
            input_tokens: self.input + self.cache_read + self.cache_write,
            output_tokens: self.output,
            cache_read_tokens: self.cache_read,
            cache_write_tokens: self.cache_write,
            ..Usage::default()
        }));
    }

    fn complete(call: OpenCall, out: &mut VecDeque<StreamEvent>) {
        let arguments = if !call.arguments.is_empty() {
            call.arguments
        } else {
            match call.initial_input {
                Some(input @ serde_json::Value::Object(_)) => input.to_string(),
                _ => "{}".to_owned(),
            }
        };
        out.push_back(StreamEvent::ToolCallCompleted(ToolCall {
            call_id: call.call_id,
            name: call.name,
            arguments,
        }));
    }
}

impl WireDecoder for AnthropicDecoder {
    fn on_event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Progress, LlmError> {
        if event.data.trim().is_empty() {
            return Ok(Progress::More);
        }
        let parsed: WireEvent =
            serde_json::from_str(&event.data).map_err(|e| LlmError::Decode {
                provider: self.provider.clone(),
                message: format!(
                    "invalid JSON in `{}` event ({e}): {}",
                    event.event,
                    classify::one_line(&event.data, "")
                ),
            })?;
        match parsed {
            WireEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.on_usage(usage, out);
                }
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Block::Text { text } if !text.is_empty() => {
                    out.push_back(StreamEvent::TextDelta(text));
                }
                Block::ToolUse { id, name, input } => {
                    let call = OpenCall {
                        index: self.calls_started,
                        call_id: if id.is_empty() {
                            CallId::generate()
                        } else {
                            CallId::from(id)
                        },
                        name,
                        arguments: String::new(),
                        initial_input: input,
                    };
                    self.calls_started += 1;
                    out.push_back(StreamEvent::ToolCallStarted {
                        index: call.index,
                        call_id: call.call_id.clone(),
                        name: call.name.clone(),
                    });
                    self.open.insert(index, call);
                }
                Block::Text { .. } | Block::Other => {}
            },
            WireEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } if !text.is_empty() => {
                    out.push_back(StreamEvent::TextDelta(text));
                }
                BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    if let Some(call) = self.open.get_mut(&index) {
                        call.arguments.push_str(&partial_json);
                        out.push_back(StreamEvent::ToolCallDelta {
                            index: call.index,
                            arguments: partial_json,
                        });
                    }
                }
                _ => {}
            },
            WireEvent::ContentBlockStop { index } => {
                if let Some(call) = self.open.remove(&index) {
                    Self::complete(call, out);
                }
            }
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(usage) = usage {
                    self.on_usage(usage, out);
                }
            }
            WireEvent::MessageStop => {
                for (_, call) in std::mem::take(&mut self.open) {
                    Self::complete(call, out);
                }
                let stop_reason = match self.stop_reason.as_deref() {
                    None | Some("end_turn") => StopReason::EndTurn,
                    Some("tool_use") => StopReason::ToolUse,
                    Some("max_tokens") => StopReason::MaxTokens,
                    Some("refusal") => StopReason::Refusal,
                    Some("pause_turn") => StopReason::PauseTurn,
                    Some(other) => StopReason::Other(other.to_owned()),
                };
                out.push_back(StreamEvent::Done { stop_reason });
                return Ok(Progress::Finished);
            }
            WireEvent::Error { error } => {
                return Err(classify::stream_error(
                    &self.provider,
                    &error.kind,
                    &error.message,
                ));
            }
            WireEvent::Ignored => {}
        }
        Ok(Progress::More)
    }

    fn on_end(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError> {
        Err(LlmError::StreamCutOff {
            provider: self.provider.clone(),
            reason: "the stream ended without message_stop".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(decoder: &mut AnthropicDecoder, data: &[&str]) -> Result<Vec<StreamEvent>, LlmError> {
        let mut out = VecDeque::new();
        for d in data {
            let event = Event {
                event: "x".into(),
                data: (*d).to_owned(),
                ..Event::default()
            };
            if decoder.on_event(&event, &mut out)? == Progress::Finished {
                return Ok(out.into());
            }
        }
        decoder.on_end(&mut out)?;
        Ok(out.into())
    }

    const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":5,"output_tokens":1}}}"#;

    #[test]
    fn text_tool_use_usage_and_stop() {
        let events = feed(
            &mut AnthropicDecoder::new("anthropic"),
            &[
                START,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                r#"{"type":"ping"}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me look."}}"#,
                r#"{"type":"content_block_stop","index":0}"#,
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read","input":{}}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": "}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"a.rs\"}"}}"#,
                r#"{"type":"content_block_stop","index":1}"#,
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"list","input":{}}}"#,
                r#"{"type":"content_block_stop","index":2}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}"#,
                r#"{"type":"message_stop"}"#,
            ],
        )
        .unwrap();
        let usage = |output| {
            StreamEvent::Usage(Usage {
                input_tokens: 115,
                output_tokens: output,
                cache_read_tokens: 100,
                cache_write_tokens: 5,
                ..Usage::default()
            })
        };
        assert_eq!(
            events,
            vec![
                usage(1),
                StreamEvent::TextDelta("Let me look.".into()),
                StreamEvent::ToolCallStarted {
                    index: 0,
                    call_id: CallId::from("toolu_1"),
                    name: "read".into()
                },
                StreamEvent::ToolCallDelta {
                    index: 0,
                    arguments: "{\"path\": ".into()
                },
                StreamEvent::ToolCallDelta {
                    index: 0,
                    arguments: "\"a.rs\"}".into()
                },
                StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: CallId::from("toolu_1"),
                    name: "read".into(),
                    arguments: "{\"path\": \"a.rs\"}".into()
                }),
                StreamEvent::ToolCallStarted {
                    index: 1,
                    call_id: CallId::from("toolu_2"),
                    name: "list".into()
                },
                StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: CallId::from("toolu_2"),
                    name: "list".into(),
                    arguments: "{}".into()
                }),
                usage(42),
                StreamEvent::Done {
                    stop_reason: StopReason::ToolUse
                },
            ]
        );
    }

    #[test]
    fn missing_message_stop_is_a_cut_off() {
        let err = feed(
            &mut AnthropicDecoder::new("anthropic"),
            &[
                START,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"hi"}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
            ],
        )
        .unwrap_err();
        assert!(matches!(err, LlmError::StreamCutOff { .. }), "{err}");
    }

    #[test]
    fn error_events_are_typed() {
        let err = feed(
            &mut AnthropicDecoder::new("anthropic"),
            &[
                START,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ],
        )
        .unwrap_err();
        assert!(matches!(err, LlmError::Overloaded(_)), "{err}");
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "anthropic: error in stream (overloaded): Overloaded"
        );
    }

    #[test]
    fn bad_json_is_a_decode_error_and_unknown_events_are_skipped() {
        let err = feed(&mut AnthropicDecoder::new("anthropic"), &["{\"type\":"]).unwrap_err();
        assert!(matches!(err, LlmError::Decode { .. }), "{err}");
        let events = feed(
            &mut AnthropicDecoder::new("anthropic"),
            &[
                r#"{"type":"some_future_event","x":1}"#,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"}}"#,
                r#"{"type":"message_stop"}"#,
            ],
        )
        .unwrap();
        assert_eq!(
            events,
            vec![StreamEvent::Done {
                stop_reason: StopReason::MaxTokens
            }]
        );
    }
}
