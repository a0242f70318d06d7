//! Decodes an Anthropic Messages SSE stream.
//!
//! `message_start` carries the input usage; content arrives as blocks
//! (`content_block_start` / `_delta` / `_stop`): text blocks with
//! `text_delta`s, tool-use blocks with `input_json_delta`s, thinking blocks
//! with `thinking_delta`s and a `signature_delta`, redacted thinking blocks
//! whole (their `data`); `message_delta` carries the stop reason and output
//! usage; `message_stop` ends the stream. An `error` event fails the call
//! with a typed error; a stream without `message_stop` was cut off.
//!
//! A thinking block is streamed for display as it comes
//! ([`StreamEvent::ReasoningDelta`]) and, when it closes, handed over whole
//! with its signature ([`StreamEvent::ReasoningCompleted`]): Anthropic
//! requires it back unchanged in later requests.

use crate::classify;
use crate::sse::{Progress, WireDecoder};
use crate::{LlmError, StopReason, StreamEvent, Wire};
use baton_protocol::{CallId, Part, ToolCall, Usage};
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
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
    /// Blocks baton does not use (server tool results, ...).
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
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
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

/// A thinking or redacted thinking block being assembled.
#[derive(Default)]
struct OpenThinking {
    text: String,
    signature: String,
    /// A redacted block's opaque content.
    data: Option<String>,
}

impl OpenThinking {
    /// The block as the reasoning part kept in the history.
    fn into_part(self) -> Part {
        Part::Reasoning {
            text: self.text,
            signature: Some(self.signature).filter(|s| !s.is_empty()),
            data: self.data,
            item_id: None,
            origin: Wire::Anthropic.as_str().to_owned(),
        }
    }
}

/// A content block that is assembled before it is handed over.
enum OpenBlock {
    Call(OpenCall),
    Thinking(OpenThinking),
}

/// Decoder state for one Anthropic response.
pub(crate) struct AnthropicDecoder {
    provider: String,
    /// Open tool-use and thinking blocks by block index.
    open: BTreeMap<usize, OpenBlock>,
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

    fn complete(block: OpenBlock, out: &mut VecDeque<StreamEvent>) {
        let call = match block {
            OpenBlock::Call(call) => call,
            OpenBlock::Thinking(thinking) => {
                out.push_back(StreamEvent::ReasoningCompleted(thinking.into_part()));
                return;
            }
        };
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
                    self.open.insert(index, OpenBlock::Call(call));
                }
                Block::Thinking {
                    thinking,
                    signature,
                } => {
                    if !thinking.is_empty() {
                        out.push_back(StreamEvent::ReasoningDelta(thinking.clone()));
                    }
                    let block = OpenThinking {
                        text: thinking,
                        signature,
                        data: None,
                    };
                    self.open.insert(index, OpenBlock::Thinking(block));
                }
                Block::RedactedThinking { data } => {
                    let block = OpenThinking {
                        data: Some(data),
                        ..OpenThinking::default()
                    };
                    self.open.insert(index, OpenBlock::Thinking(block));
                }
                Block::Text { .. } | Block::Other => {}
            },
            WireEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } if !text.is_empty() => {
                    out.push_back(StreamEvent::TextDelta(text));
                }
                BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    if let Some(OpenBlock::Call(call)) = self.open.get_mut(&index) {
                        call.arguments.push_str(&partial_json);
                        out.push_back(StreamEvent::ToolCallDelta {
                            index: call.index,
                            arguments: partial_json,
                        });
                    }
                }
                BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                    if let Some(OpenBlock::Thinking(block)) = self.open.get_mut(&index) {
                        block.text.push_str(&thinking);
                        out.push_back(StreamEvent::ReasoningDelta(thinking));
                    }
                }
                BlockDelta::SignatureDelta { signature } => {
                    if let Some(OpenBlock::Thinking(block)) = self.open.get_mut(&index) {
                        block.signature.push_str(&signature);
                    }
                }
                _ => {}
            },
            WireEvent::ContentBlockStop { index } => {
                if let Some(block) = self.open.remove(&index) {
                    Self::complete(block, out);
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
                for (_, block) in std::mem::take(&mut self.open) {
                    Self::complete(block, out);
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
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
                r#"{"type":"content_block_stop","index":0}"#,
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

    fn reasoning(text: &str, signature: Option<&str>, data: Option<&str>) -> StreamEvent {
        StreamEvent::ReasoningCompleted(Part::Reasoning {
            text: text.into(),
            signature: signature.map(str::to_owned),
            data: data.map(str::to_owned),
            item_id: None,
            origin: "anthropic".into(),
        })
    }

    #[test]
    fn thinking_streams_for_display_and_completes_with_its_signature() {
        let events = feed(
            &mut AnthropicDecoder::new("anthropic"),
            &[
                START,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"#,
                r#"{"type":"content_block_stop","index":0}"#,
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Done."}}"#,
                r#"{"type":"content_block_stop","index":1}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#,
                r#"{"type":"message_stop"}"#,
            ],
        )
        .unwrap();
        let shown: Vec<&StreamEvent> = events
            .iter()
            .filter(|e| !matches!(e, StreamEvent::Usage(_)))
            .collect();
        assert_eq!(
            shown,
            [
                &StreamEvent::ReasoningDelta("Let me ".into()),
                &StreamEvent::ReasoningDelta("think.".into()),
                &reasoning("Let me think.", Some("EqQBCgIYAhIM"), None),
                &StreamEvent::TextDelta("Done.".into()),
                &StreamEvent::Done {
                    stop_reason: StopReason::EndTurn
                },
            ]
        );
    }

    #[test]
    fn redacted_thinking_is_kept_whole_and_blocks_close_in_order() {
        let events = feed(
            &mut AnthropicDecoder::new("anthropic"),
            &[
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3p"}}"#,
                r#"{"type":"content_block_stop","index":0}"#,
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"cut"}}"#,
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"read","input":{}}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"}}"#,
                r#"{"type":"message_stop"}"#,
            ],
        )
        .unwrap();
        assert_eq!(
            events,
            [
                reasoning("", None, Some("EmwKAhgBEgy3va3p")),
                StreamEvent::ReasoningDelta("cut".into()),
                StreamEvent::ToolCallStarted {
                    index: 0,
                    call_id: CallId::from("toolu_1"),
                    name: "read".into()
                },
                // Blocks left open are closed at message_stop, in block order;
                // one without a signature is kept unsigned.
                reasoning("cut", None, None),
                StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: CallId::from("toolu_1"),
                    name: "read".into(),
                    arguments: "{}".into()
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::ToolUse
                },
            ]
        );
    }
}
