//! Decodes an OpenAI chat-completions SSE stream.
//!
//! Each event is a `chat.completion.chunk`; text arrives in
//! `choices[0].delta.content`, tool calls in `choices[0].delta.tool_calls`
//! as pieces keyed by `index` (parallel calls may interleave). A chunk with
//! `finish_reason` closes the choice; a final chunk with empty `choices`
//! carries `usage`; `data: [DONE]` ends the stream. The response counts as
//! complete only with both a `finish_reason` and `[DONE]`: a stream that
//! ends otherwise was cut off (and may have lost its usage chunk). Every
//! server baton targets (OpenAI, OpenRouter, Ollama, vLLM, llama.cpp, LM
//! Studio) sends `[DONE]`.
//!
//! Reasoning models served this way (DeepSeek, vLLM, llama.cpp, OpenRouter)
//! stream their reasoning in `delta.reasoning_content` (or
//! `delta.reasoning`): shown as it comes, and handed over whole as one
//! reasoning part when the choice finishes, before its tool calls.

use crate::classify;
use crate::sse::{Progress, WireDecoder};
use crate::{LlmError, StopReason, StreamEvent, Wire};
use baton_protocol::{CallId, Part, ToolCall, Usage};
use eventsource_stream::Event;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};

#[derive(Deserialize)]
struct Chunk {
    choices: Option<Vec<Choice>>,
    usage: Option<WireUsage>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    index: Option<u32>,
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: Option<Vec<ToolCallPiece>>,
}

#[derive(Deserialize)]
struct ToolCallPiece {
    index: Option<usize>,
    id: Option<String>,
    function: Option<FunctionPiece>,
}

#[derive(Deserialize)]
struct FunctionPiece {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

/// A tool call being assembled.
struct Slot {
    call_id: CallId,
    /// Whether `call_id` came from the provider (not generated).
    id_from_wire: bool,
    name: String,
    arguments: String,
}

/// Decoder state for one OpenAI response.
pub(crate) struct OpenAiDecoder {
    provider: String,
    calls: Vec<Slot>,
    /// Wire `index` → position in `calls` of the call it currently names.
    by_wire_index: HashMap<usize, usize>,
    /// All the reasoning text streamed so far.
    reasoning: String,
    finish_reason: Option<String>,
}

impl OpenAiDecoder {
    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            calls: Vec::new(),
            by_wire_index: HashMap::new(),
            reasoning: String::new(),
            finish_reason: None,
        }
    }

    fn on_tool_piece(&mut self, piece: ToolCallPiece, out: &mut VecDeque<StreamEvent>) {
        let wire_index = piece.index.unwrap_or(0);
        let id = piece.id.filter(|id| !id.is_empty());
        let (name, arguments) = piece
            .function
            .map(|f| {
                (
                    f.name.filter(|n| !n.is_empty()),
                    f.arguments.unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        let current = self.by_wire_index.get(&wire_index).copied().filter(|&i| {
            // Some servers reuse one index for several calls; a new id
            // means a new call.
            let slot = &self.calls[i];
            !matches!(&id, Some(new) if slot.id_from_wire && slot.call_id.as_str() != new)
        });
        let index = match current {
            Some(i) => {
                let slot = &mut self.calls[i];
                if slot.name.is_empty() {
                    slot.name = name.unwrap_or_default();
                }
                i
            }
            None if id.is_none() && name.is_none() && arguments.is_empty() => return,
            None => {
                let index = self.calls.len();
                let slot = Slot {
                    id_from_wire: id.is_some(),
                    call_id: id.map(CallId::from).unwrap_or_else(CallId::generate),
                    name: name.unwrap_or_default(),
                    arguments: String::new(),
                };
                out.push_back(StreamEvent::ToolCallStarted {
                    index,
                    call_id: slot.call_id.clone(),
                    name: slot.name.clone(),
                });
                self.calls.push(slot);
                self.by_wire_index.insert(wire_index, index);
                index
            }
        };
        if !arguments.is_empty() {
            self.calls[index].arguments.push_str(&arguments);
            out.push_back(StreamEvent::ToolCallDelta { index, arguments });
        }
    }

    fn on_finish(&mut self, reason: String, out: &mut VecDeque<StreamEvent>) {
        if !self.reasoning.is_empty() {
            out.push_back(StreamEvent::ReasoningCompleted(Part::Reasoning {
                text: std::mem::take(&mut self.reasoning),
                signature: None,
                data: None,
                item_id: None,
                origin: Wire::OpenAi.as_str().to_owned(),
            }));
        }
        for slot in &self.calls {
            let arguments = if slot.arguments.is_empty() {
                "{}".to_owned()
            } else {
                slot.arguments.clone()
            };
            out.push_back(StreamEvent::ToolCallCompleted(ToolCall {
                call_id: slot.call_id.clone(),
                name: slot.name.clone(),
                arguments,
            }));
        }
        self.finish_reason = Some(reason);
    }

    fn done(&self, out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError> {
        let Some(reason) = &self.finish_reason else {
            return Err(LlmError::StreamCutOff {
                provider: self.provider.clone(),
                reason: "the stream ended without a finish_reason".to_owned(),
            });
        };
        let stop_reason = match reason.as_str() {
            "tool_calls" | "function_call" => StopReason::ToolUse,
            // Some servers say "stop" even when the model called tools.
            "stop" if !self.calls.is_empty() => StopReason::ToolUse,
            "stop" => StopReason::EndTurn,
            "length" => StopReason::MaxTokens,
            "content_filter" => StopReason::Refusal,
            other => StopReason::Other(other.to_owned()),
        };
        out.push_back(StreamEvent::Done { stop_reason });
        Ok(())
    }

    fn in_stream_error(&self, error: &serde_json::Value) -> LlmError {
        let message = error
            .get("message")
            .and_then(|m| m.as_str())
            .map_or_else(|| error.to_string(), str::to_owned);
        let kind = match error.get("code").and_then(serde_json::Value::as_u64) {
            Some(429) => "rate_limit_error",
            Some(503 | 529) => "overloaded_error",
            _ => error
                .get("type")
                .or_else(|| error.get("code"))
                .and_then(|k| k.as_str())
                .unwrap_or(""),
        };
        classify::stream_error(&self.provider, kind, &message)
    }
}

impl WireDecoder for OpenAiDecoder {
    fn on_event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Progress, LlmError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done(out)?;
            return Ok(Progress::Finished);
        }
        if data.is_empty() {
            return Ok(Progress::More);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| LlmError::Decode {
            provider: self.provider.clone(),
            message: format!(
                "invalid JSON in stream event ({e}): {}",
                classify::one_line(data, "")
            ),
        })?;
        if let Some(error) = &chunk.error {
            return Err(self.in_stream_error(error));
        }
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.unwrap_or(0) != 0 || self.finish_reason.is_some() {
                continue;
            }
            if let Some(delta) = choice.delta {
                if let Some(reasoning) = delta
                    .reasoning_content
                    .or(delta.reasoning)
                    .filter(|t| !t.is_empty())
                {
                    self.reasoning.push_str(&reasoning);
                    out.push_back(StreamEvent::ReasoningDelta(reasoning));
                }
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    out.push_back(StreamEvent::TextDelta(text));
                }
                for piece in delta.tool_calls.unwrap_or_default() {
                    self.on_tool_piece(piece, out);
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.on_finish(reason, out);
            }
        }
        if let Some(usage) = chunk.usage {
            out.push_back(StreamEvent::Usage(Usage {
                input_tokens: usage.prompt_tokens.unwrap_or(0),
                output_tokens: usage.completion_tokens.unwrap_or(0),
                cache_read_tokens: usage
                    .prompt_tokens_details
                    .and_then(|d| d.cached_tokens)
                    .unwrap_or(0),
                reasoning_tokens: usage
                    .completion_tokens_details
                    .and_then(|d| d.reasoning_tokens)
                    .unwrap_or(0),
                ..Usage::default()
            }));
        }
        Ok(Progress::More)
    }

    fn on_end(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError> {
        let reason = if self.finish_reason.is_some() {
            "the stream ended without [DONE]"
        } else {
            "the stream ended without a finish_reason"
        };
        Err(LlmError::StreamCutOff {
            provider: self.provider.clone(),
            reason: reason.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(decoder: &mut OpenAiDecoder, data: &[&str]) -> Result<Vec<StreamEvent>, LlmError> {
        let mut out = VecDeque::new();
        for d in data {
            let event = Event {
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

    fn completed(events: &[StreamEvent]) -> Vec<ToolCall> {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallCompleted(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn text_usage_and_done() {
        let events = feed(
            &mut OpenAiDecoder::new("openai"),
            &[
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":8}}}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::TextDelta("Hel".into()),
                StreamEvent::TextDelta("lo".into()),
                StreamEvent::Usage(Usage {
                    input_tokens: 12,
                    output_tokens: 3,
                    cache_read_tokens: 8,
                    ..Usage::default()
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::EndTurn
                },
            ]
        );
    }

    #[test]
    fn interleaved_parallel_calls_are_assembled_by_index() {
        let events = feed(
            &mut OpenAiDecoder::new("openai"),
            &[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read","arguments":""}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"glob","arguments":"{\"pat"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"tern\":\"*\"}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a\"}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        assert_eq!(
            events[0],
            StreamEvent::ToolCallStarted {
                index: 0,
                call_id: CallId::from("call_a"),
                name: "read".into()
            }
        );
        assert_eq!(
            completed(&events),
            vec![
                ToolCall {
                    call_id: CallId::from("call_a"),
                    name: "read".into(),
                    arguments: r#"{"path":"a"}"#.into()
                },
                ToolCall {
                    call_id: CallId::from("call_b"),
                    name: "glob".into(),
                    arguments: r#"{"pattern":"*"}"#.into()
                },
            ]
        );
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Done {
                stop_reason: StopReason::ToolUse
            })
        );
    }

    #[test]
    fn calls_without_ids_or_with_reused_indexes() {
        let events = feed(
            &mut OpenAiDecoder::new("p"),
            &[
                r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"list","arguments":""}}]}}]}"#,
                r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"x1","function":{"name":"read","arguments":"{}"}}]}}]}"#,
                r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"x2","function":{"name":"read","arguments":"{\"a\":1}"}}]}}]}"#,
                r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        let calls = completed(&events);
        assert_eq!(calls.len(), 3);
        assert!(calls[0].call_id.as_str().starts_with(CallId::PREFIX));
        assert_eq!(
            calls[0].arguments, "{}",
            "no arguments means an empty object"
        );
        assert_eq!(calls[1].call_id.as_str(), "x1");
        assert_eq!(calls[2].call_id.as_str(), "x2");
        assert_eq!(calls[2].arguments, r#"{"a":1}"#);
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Done {
                stop_reason: StopReason::ToolUse
            })
        );
    }

    #[test]
    fn a_response_needs_both_finish_reason_and_done() {
        let text = r#"{"choices":[{"index":0,"delta":{"content":"partial"}}]}"#;
        let finish = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        for (data, reason) in [
            (&[text, "[DONE]"][..], "without a finish_reason"),
            (&[text][..], "without a finish_reason"),
            (&[text, finish][..], "without [DONE]"),
        ] {
            let err = feed(&mut OpenAiDecoder::new("openai"), data).unwrap_err();
            assert!(matches!(err, LlmError::StreamCutOff { .. }), "{err}");
            assert!(err.to_string().ends_with(reason), "{err}");
        }
    }

    #[test]
    fn bad_json_and_error_chunks_are_typed() {
        let err = feed(&mut OpenAiDecoder::new("openai"), &["{not json"]).unwrap_err();
        assert!(matches!(err, LlmError::Decode { .. }), "{err}");
        assert!(err.to_string().contains("{not json"));
        let err = feed(
            &mut OpenAiDecoder::new("openrouter"),
            &[r#"{"error":{"code":429,"message":"Rate limit exceeded upstream"}}"#],
        )
        .unwrap_err();
        assert!(matches!(err, LlmError::RateLimited(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "openrouter: error in stream (rate limited): Rate limit exceeded upstream"
        );
    }

    #[test]
    fn length_maps_to_max_tokens() {
        let events = feed(
            &mut OpenAiDecoder::new("openai"),
            &[
                r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"length"}]}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Done {
                stop_reason: StopReason::MaxTokens
            })
        );
    }

    #[test]
    fn reasoning_content_streams_and_completes_before_the_calls() {
        let events = feed(
            &mut OpenAiDecoder::new("deepseek"),
            &[
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"The user "}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"reasoning":"wants a.rs."}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"Reading.","reasoning_content":null}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"read","arguments":"{}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":30,"completion_tokens_details":{"reasoning_tokens":21}}}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::ReasoningDelta("The user ".into()),
                StreamEvent::ReasoningDelta("wants a.rs.".into()),
                StreamEvent::TextDelta("Reading.".into()),
                StreamEvent::ToolCallStarted {
                    index: 0,
                    call_id: CallId::from("call_1"),
                    name: "read".into()
                },
                StreamEvent::ToolCallDelta {
                    index: 0,
                    arguments: "{}".into()
                },
                StreamEvent::ReasoningCompleted(Part::Reasoning {
                    text: "The user wants a.rs.".into(),
                    signature: None,
                    data: None,
                    item_id: None,
                    origin: "openai".into(),
                }),
                StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: CallId::from("call_1"),
                    name: "read".into(),
                    arguments: "{}".into()
                }),
                StreamEvent::Usage(Usage {
                    input_tokens: 5,
                    output_tokens: 30,
                    reasoning_tokens: 21,
                    ..Usage::default()
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::ToolUse
                },
            ]
        );
    }
}
