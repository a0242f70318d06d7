//! Decodes a Responses API SSE stream.
//!
//! Every event names its type in its data (`{"type": "response.…"}`).
//! Output comes as items, announced by `response.output_item.added` and
//! closed by `response.output_item.done`, each at its `output_index`:
//! messages (their text in `response.output_text.delta`s), function calls
//! (their arguments in `response.function_call_arguments.delta`s) and
//! reasoning (its summary in `response.reasoning_summary_text.delta`s, its
//! encrypted content on the done item). The response ends with
//! `response.completed` or `response.incomplete` (both carry the usage);
//! `response.failed` and `error` fail the call with a typed error; a stream
//! that ends without one of them was cut off.

use crate::classify;
use crate::sse::{Progress, WireDecoder};
use crate::{LlmError, StopReason, StreamEvent, Wire};
use baton_protocol::{CallId, Part, ToolCall, Usage};
use eventsource_stream::Event;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};

#[derive(Deserialize)]
#[serde(tag = "type")]
enum WireEvent {
    #[serde(rename = "response.output_item.added")]
    ItemAdded {
        output_index: Option<usize>,
        item: Item,
    },
    #[serde(rename = "response.output_item.done")]
    ItemDone {
        output_index: Option<usize>,
        item: Item,
    },
    #[serde(rename = "response.output_text.delta")]
    TextDelta { delta: String },
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta { delta: String },
    #[serde(rename = "response.function_call_arguments.delta")]
    ArgumentsDelta {
        #[serde(flatten)]
        at: ItemRef,
        delta: String,
    },
    #[serde(rename = "response.function_call_arguments.done")]
    ArgumentsDone {
        #[serde(flatten)]
        at: ItemRef,
        arguments: String,
    },
    #[serde(rename = "response.reasoning_summary_text.delta")]
    SummaryDelta {
        #[serde(flatten)]
        at: ItemRef,
        summary_index: Option<usize>,
        delta: String,
    },
    /// Raw reasoning text (open-weight models behind a Responses server).
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta {
        #[serde(flatten)]
        at: ItemRef,
        delta: String,
    },
    #[serde(rename = "response.completed")]
    Completed { response: WireResponse },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: WireResponse },
    #[serde(rename = "response.failed")]
    Failed { response: WireResponse },
    #[serde(rename = "error")]
    Error {
        code: Option<String>,
        message: Option<String>,
        /// Some servers nest the error instead.
        error: Option<WireError>,
    },
    /// `response.created`, `response.in_progress`, content part and
    /// `.done` events whose content the deltas already gave, and event
    /// types newer than this code.
    #[serde(other)]
    Ignored,
}

/// Where an event belongs: the item's output index and id.
#[derive(Deserialize)]
struct ItemRef {
    output_index: Option<usize>,
    item_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Item {
    FunctionCall {
        id: Option<String>,
        call_id: Option<String>,
        name: Option<String>,
        arguments: Option<String>,
    },
    Reasoning {
        id: Option<String>,
        #[serde(default)]
        summary: Vec<SummaryPart>,
        encrypted_content: Option<String>,
    },
    /// Messages (streamed as text deltas) and items baton does not use.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct SummaryPart {
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct WireResponse {
    usage: Option<WireUsage>,
    incomplete_details: Option<IncompleteDetails>,
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct IncompleteDetails {
    reason: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<InputDetails>,
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Deserialize)]
struct InputDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct OutputDetails {
    reasoning_tokens: Option<u64>,
}

/// A function call being assembled.
struct OpenCall {
    /// Position among this response's tool calls.
    index: usize,
    call_id: CallId,
    name: String,
    arguments: String,
}

/// A reasoning item being assembled.
#[derive(Default)]
struct OpenReasoning {
    item_id: Option<String>,
    /// The summary streamed so far, its parts separated by blank lines.
    summary: String,
    /// The summary part being streamed.
    summary_index: Option<usize>,
    /// Raw reasoning text, from servers that stream it.
    raw: String,
    encrypted_content: Option<String>,
}

impl OpenReasoning {
    /// The item as the reasoning part kept in the history; `None` when it
    /// holds nothing worth keeping.
    fn into_part(self) -> Option<Part> {
        let text = if self.summary.is_empty() {
            self.raw
        } else {
            self.summary
        };
        if text.is_empty() && self.encrypted_content.is_none() {
            return None;
        }
        Some(Part::Reasoning {
            text,
            signature: None,
            data: self.encrypted_content,
            item_id: self.item_id,
            origin: Wire::Responses.as_str().to_owned(),
        })
    }
}

enum OpenItem {
    Call(OpenCall),
    Reasoning(OpenReasoning),
}

/// Decoder state for one Responses API response.
pub(crate) struct ResponsesDecoder {
    provider: String,
    /// Open function calls and reasoning items by output index.
    open: BTreeMap<usize, OpenItem>,
    /// Item id → output index, for events that name only the item.
    by_item_id: HashMap<String, usize>,
    /// Items announced so far (the output index of one that comes without).
    items_seen: usize,
    calls_started: usize,
    refused: bool,
}

impl ResponsesDecoder {
    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            open: BTreeMap::new(),
            by_item_id: HashMap::new(),
            items_seen: 0,
            calls_started: 0,
            refused: false,
        }
    }

    /// The output index an event refers to.
    fn locate(&self, at: &ItemRef) -> Option<usize> {
        at.output_index
            .filter(|i| self.open.contains_key(i))
            .or_else(|| {
                at.item_id
                    .as_ref()
                    .and_then(|id| self.by_item_id.get(id).copied())
            })
    }

    fn on_added(
        &mut self,
        output_index: Option<usize>,
        item: Item,
        out: &mut VecDeque<StreamEvent>,
    ) {
        let key = output_index.unwrap_or(self.items_seen);
        self.items_seen += 1;
        let (id, open) = match item {
            Item::FunctionCall {
                id,
                call_id,
                name,
                arguments,
            } => {
                let mut call = self.start_call(id.as_deref(), call_id, name, out);
                if let Some(arguments) = arguments {
                    Self::add_arguments(&mut call, arguments, out);
                }
                (id, OpenItem::Call(call))
            }
            Item::Reasoning {
                id,
                summary,
                encrypted_content,
            } => {
                let reasoning = OpenReasoning {
                    item_id: id.clone(),
                    summary: joined(summary),
                    encrypted_content,
                    ..OpenReasoning::default()
                };
                (id, OpenItem::Reasoning(reasoning))
            }
            Item::Other => return,
        };
        if let Some(id) = id {
            self.by_item_id.insert(id, key);
        }
        self.open.insert(key, open);
    }

    fn start_call(
        &mut self,
        id: Option<&str>,
        call_id: Option<String>,
        name: Option<String>,
        out: &mut VecDeque<StreamEvent>,
    ) -> OpenCall {
        let call_id = call_id
            .or_else(|| id.map(str::to_owned))
            .filter(|id| !id.is_empty())
            .map_or_else(CallId::generate, CallId::from);
        let call = OpenCall {
            index: self.calls_started,
            call_id,
            name: name.unwrap_or_default(),
            arguments: String::new(),
        };
        self.calls_started += 1;
        out.push_back(StreamEvent::ToolCallStarted {
            index: call.index,
            call_id: call.call_id.clone(),
            name: call.name.clone(),
        });
        call
    }

    fn add_arguments(call: &mut OpenCall, arguments: String, out: &mut VecDeque<StreamEvent>) {
        if arguments.is_empty() {
            return;
        }
        call.arguments.push_str(&arguments);
        out.push_back(StreamEvent::ToolCallDelta {
            index: call.index,
            arguments,
        });
    }

    fn on_done(
        &mut self,
        output_index: Option<usize>,
        item: Item,
        out: &mut VecDeque<StreamEvent>,
    ) {
        let item_id = match &item {
            Item::FunctionCall { id, .. } | Item::Reasoning { id, .. } => id.clone(),
            // A message's text came as deltas.
            Item::Other => return,
        };
        let at = ItemRef {
            output_index,
            item_id,
        };
        let open = self.locate(&at).and_then(|key| self.open.remove(&key));
        match item {
            Item::FunctionCall {
                id,
                call_id,
                name,
                arguments,
            } => {
                let mut call = match open {
                    Some(OpenItem::Call(call)) => call,
                    _ => self.start_call(id.as_deref(), call_id, name, out),
                };
                if call.arguments.is_empty()
                    && let Some(arguments) = arguments
                {
                    Self::add_arguments(&mut call, arguments, out);
                }
                Self::complete(OpenItem::Call(call), out);
            }
            Item::Reasoning {
                id,
                summary,
                encrypted_content,
            } => {
                let mut reasoning = match open {
                    Some(OpenItem::Reasoning(reasoning)) => reasoning,
                    _ => OpenReasoning::default(),
                };
                // The done item is the authority on what the item holds.
                let summary = joined(summary);
                if !summary.is_empty() {
                    reasoning.summary = summary;
                }
                reasoning.item_id = id.or(reasoning.item_id);
                reasoning.encrypted_content = encrypted_content.or(reasoning.encrypted_content);
                Self::complete(OpenItem::Reasoning(reasoning), out);
            }
            Item::Other => {}
        }
    }

    fn complete(item: OpenItem, out: &mut VecDeque<StreamEvent>) {
        match item {
            OpenItem::Call(call) => {
                let arguments = if call.arguments.is_empty() {
                    "{}".to_owned()
                } else {
                    call.arguments
                };
                out.push_back(StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: call.call_id,
                    name: call.name,
                    arguments,
                }));
            }
            OpenItem::Reasoning(reasoning) => {
                if let Some(part) = reasoning.into_part() {
                    out.push_back(StreamEvent::ReasoningCompleted(part));
                }
            }
        }
    }

    fn on_summary_delta(
        &mut self,
        at: &ItemRef,
        summary_index: Option<usize>,
        delta: String,
        out: &mut VecDeque<StreamEvent>,
    ) {
        let Some(OpenItem::Reasoning(reasoning)) =
            self.locate(at).and_then(|key| self.open.get_mut(&key))
        else {
            return;
        };
        if summary_index != reasoning.summary_index {
            reasoning.summary_index = summary_index;
            if !reasoning.summary.is_empty() {
                reasoning.summary.push_str(SUMMARY_BREAK);
                out.push_back(StreamEvent::ReasoningDelta(SUMMARY_BREAK.to_owned()));
            }
        }
        if !delta.is_empty() {
            reasoning.summary.push_str(&delta);
            out.push_back(StreamEvent::ReasoningDelta(delta));
        }
    }

    /// Closes what is still open (in output order), reports the usage and
    /// ends the response.
    fn finish(
        &mut self,
        response: WireResponse,
        stop_reason: StopReason,
        out: &mut VecDeque<StreamEvent>,
    ) -> Progress {
        for (_, item) in std::mem::take(&mut self.open) {
            Self::complete(item, out);
        }
        if let Some(usage) = response.usage {
            out.push_back(StreamEvent::Usage(Usage {
                input_tokens: usage.input_tokens.unwrap_or(0),
                output_tokens: usage.output_tokens.unwrap_or(0),
                cache_read_tokens: usage
                    .input_tokens_details
                    .and_then(|d| d.cached_tokens)
                    .unwrap_or(0),
                reasoning_tokens: usage
                    .output_tokens_details
                    .and_then(|d| d.reasoning_tokens)
                    .unwrap_or(0),
                ..Usage::default()
            }));
        }
        out.push_back(StreamEvent::Done { stop_reason });
        Progress::Finished
    }

    fn completed_stop_reason(&self) -> StopReason {
        if self.refused {
            StopReason::Refusal
        } else if self.calls_started > 0 {
            StopReason::ToolUse
        } else {
            StopReason::EndTurn
        }
    }

    fn error(&self, error: Option<WireError>, fallback: &str) -> LlmError {
        let (code, message) = error.map_or((None, None), |e| (e.code, e.message));
        classify::stream_error(
            &self.provider,
            code.as_deref().unwrap_or(""),
            message.as_deref().unwrap_or(fallback),
        )
    }
}

/// What separates two parts of a reasoning summary.
const SUMMARY_BREAK: &str = "\n\n";

/// A summary's parts as one text.
fn joined(summary: Vec<SummaryPart>) -> String {
    let parts: Vec<String> = summary
        .into_iter()
        .map(|p| p.text)
        .filter(|t| !t.is_empty())
        .collect();
    parts.join(SUMMARY_BREAK)
}

impl WireDecoder for ResponsesDecoder {
    fn on_event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Progress, LlmError> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Progress::More);
        }
        let parsed: WireEvent = serde_json::from_str(data).map_err(|e| LlmError::Decode {
            provider: self.provider.clone(),
            message: format!(
                "invalid JSON in `{}` event ({e}): {}",
                event.event,
                classify::one_line(data, "")
            ),
        })?;
        match parsed {
            WireEvent::ItemAdded { output_index, item } => self.on_added(output_index, item, out),
            WireEvent::ItemDone { output_index, item } => self.on_done(output_index, item, out),
            WireEvent::TextDelta { delta } => {
                if !delta.is_empty() {
                    out.push_back(StreamEvent::TextDelta(delta));
                }
            }
            WireEvent::RefusalDelta { delta } => {
                self.refused = true;
                if !delta.is_empty() {
                    out.push_back(StreamEvent::TextDelta(delta));
                }
            }
            WireEvent::ArgumentsDelta { at, delta } => {
                if let Some(OpenItem::Call(call)) =
                    self.locate(&at).and_then(|key| self.open.get_mut(&key))
                {
                    Self::add_arguments(call, delta, out);
                }
            }
            WireEvent::ArgumentsDone { at, arguments } => {
                if let Some(OpenItem::Call(call)) =
                    self.locate(&at).and_then(|key| self.open.get_mut(&key))
                    && call.arguments.is_empty()
                {
                    Self::add_arguments(call, arguments, out);
                }
            }
            WireEvent::SummaryDelta {
                at,
                summary_index,
                delta,
            } => self.on_summary_delta(&at, summary_index, delta, out),
            WireEvent::ReasoningTextDelta { at, delta } => {
                if let Some(OpenItem::Reasoning(reasoning)) =
                    self.locate(&at).and_then(|key| self.open.get_mut(&key))
                    && !delta.is_empty()
                {
                    reasoning.raw.push_str(&delta);
                    out.push_back(StreamEvent::ReasoningDelta(delta));
                }
            }
            WireEvent::Completed { response } => {
                let stop = self.completed_stop_reason();
                return Ok(self.finish(response, stop, out));
            }
            WireEvent::Incomplete { response } => {
                let reason = response
                    .incomplete_details
                    .as_ref()
                    .and_then(|d| d.reason.clone());
                let stop = match reason.as_deref() {
                    Some("max_output_tokens") => StopReason::MaxTokens,
                    Some("content_filter") => StopReason::Refusal,
                    Some(other) => StopReason::Other(other.to_owned()),
                    None => StopReason::Other("incomplete".to_owned()),
                };
                return Ok(self.finish(response, stop, out));
            }
            WireEvent::Failed { response } => {
                return Err(self.error(response.error, "the response failed"));
            }
            WireEvent::Error {
                code,
                message,
                error,
            } => {
                let error = match (code, message) {
                    (None, None) => error,
                    (code, message) => Some(WireError { code, message }),
                };
                return Err(self.error(error, data));
            }
            WireEvent::Ignored => {}
        }
        Ok(Progress::More)
    }

    fn on_end(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError> {
        Err(LlmError::StreamCutOff {
            provider: self.provider.clone(),
            reason: "the stream ended without response.completed".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(data: &[&str]) -> Result<Vec<StreamEvent>, LlmError> {
        let mut decoder = ResponsesDecoder::new("openai");
        let mut out = VecDeque::new();
        for d in data {
            let event = Event {
                event: "message".into(),
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

    const CREATED: &str = r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}"#;

    #[test]
    fn text_usage_and_completion() {
        let events = feed(&[
            CREATED,
            r#"{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_1","status":"in_progress"}}"#,
            r#"{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}"#,
            r#"{"type":"response.content_part.added","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}"#,
            r#"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hel"}"#,
            r#"{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"lo"}"#,
            r#"{"type":"response.output_text.done","sequence_number":6,"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hello"}"#,
            r#"{"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello"}]}}"#,
            r#"{"type":"response.completed","sequence_number":8,"response":{"id":"resp_1","status":"completed","usage":{"input_tokens":120,"input_tokens_details":{"cached_tokens":100},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":127}}}"#,
        ])
        .unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::TextDelta("Hel".into()),
                StreamEvent::TextDelta("lo".into()),
                StreamEvent::Usage(Usage {
                    input_tokens: 120,
                    output_tokens: 7,
                    cache_read_tokens: 100,
                    ..Usage::default()
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::EndTurn
                },
            ]
        );
    }

    #[test]
    fn function_calls_are_assembled_by_output_index_and_item_id() {
        let events = feed(&[
            r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","status":"in_progress","call_id":"call_a","name":"read","arguments":""}}"#,
            r#"{"type":"response.function_call_arguments.delta","output_index":0,"item_id":"fc_1","delta":"{\"path\":"}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"\"a\"}"}"#,
            r#"{"type":"response.function_call_arguments.done","output_index":0,"item_id":"fc_1","arguments":"{\"path\":\"a\"}"}"#,
            r#"{"type":"response.output_item.done","output_index":0,"item":{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_a","name":"read","arguments":"{\"path\":\"a\"}"}}"#,
            r#"{"type":"response.output_item.added","output_index":1,"item":{"id":"fc_2","type":"function_call","call_id":"call_b","name":"list","arguments":""}}"#,
            // Arguments only on the done event; the item left for the end.
            r#"{"type":"response.function_call_arguments.done","output_index":1,"item_id":"fc_2","arguments":"{\"dir\":\".\"}"}"#,
            r#"{"type":"response.completed","response":{"status":"completed"}}"#,
        ])
        .unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::ToolCallStarted {
                    index: 0,
                    call_id: CallId::from("call_a"),
                    name: "read".into()
                },
                StreamEvent::ToolCallDelta {
                    index: 0,
                    arguments: "{\"path\":".into()
                },
                StreamEvent::ToolCallDelta {
                    index: 0,
                    arguments: "\"a\"}".into()
                },
                StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: CallId::from("call_a"),
                    name: "read".into(),
                    arguments: "{\"path\":\"a\"}".into()
                }),
                StreamEvent::ToolCallStarted {
                    index: 1,
                    call_id: CallId::from("call_b"),
                    name: "list".into()
                },
                StreamEvent::ToolCallDelta {
                    index: 1,
                    arguments: "{\"dir\":\".\"}".into()
                },
                StreamEvent::ToolCallCompleted(ToolCall {
                    call_id: CallId::from("call_b"),
                    name: "list".into(),
                    arguments: "{\"dir\":\".\"}".into()
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::ToolUse
                },
            ]
        );
    }

    #[test]
    fn reasoning_summaries_stream_and_the_item_completes_with_its_encrypted_content() {
        let events = feed(&[
            r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}"#,
            r#"{"type":"response.reasoning_summary_part.added","item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}"#,
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"summary_index":0,"delta":"**Plan**"}"#,
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"summary_index":1,"delta":"Read a."}"#,
            r#"{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"**Plan**"},{"type":"summary_text","text":"Read a."}],"encrypted_content":"gAAAAB"}}"#,
            r#"{"type":"response.output_item.added","output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","content":[]}}"#,
            r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":1,"content_index":0,"delta":"Ok."}"#,
            r#"{"type":"response.completed","response":{"usage":{"input_tokens":10,"output_tokens":50,"output_tokens_details":{"reasoning_tokens":40}}}}"#,
        ])
        .unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::ReasoningDelta("**Plan**".into()),
                StreamEvent::ReasoningDelta("\n\n".into()),
                StreamEvent::ReasoningDelta("Read a.".into()),
                StreamEvent::ReasoningCompleted(Part::Reasoning {
                    text: "**Plan**\n\nRead a.".into(),
                    signature: None,
                    data: Some("gAAAAB".into()),
                    item_id: Some("rs_1".into()),
                    origin: "responses".into(),
                }),
                StreamEvent::TextDelta("Ok.".into()),
                StreamEvent::Usage(Usage {
                    input_tokens: 10,
                    output_tokens: 50,
                    reasoning_tokens: 40,
                    ..Usage::default()
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::EndTurn
                },
            ]
        );
    }

    #[test]
    fn raw_reasoning_text_and_empty_reasoning_items() {
        let events = feed(&[
            r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}"#,
            r#"{"type":"response.reasoning_text.delta","item_id":"rs_1","output_index":0,"content_index":0,"delta":"hmm"}"#,
            r#"{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}"#,
            r#"{"type":"response.output_item.added","output_index":1,"item":{"id":"rs_2","type":"reasoning","summary":[]}}"#,
            r#"{"type":"response.output_item.done","output_index":1,"item":{"id":"rs_2","type":"reasoning","summary":[]}}"#,
            r#"{"type":"response.completed","response":{}}"#,
        ])
        .unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::ReasoningDelta("hmm".into()),
                StreamEvent::ReasoningCompleted(Part::Reasoning {
                    text: "hmm".into(),
                    signature: None,
                    data: None,
                    item_id: Some("rs_1".into()),
                    origin: "responses".into(),
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::EndTurn
                },
            ]
        );
    }

    #[test]
    fn incomplete_responses_say_why() {
        for (reason, stop) in [
            (r#""max_output_tokens""#, StopReason::MaxTokens),
            (r#""content_filter""#, StopReason::Refusal),
            (
                r#""something_new""#,
                StopReason::Other("something_new".into()),
            ),
            ("null", StopReason::Other("incomplete".into())),
        ] {
            let incomplete = format!(
                r#"{{"type":"response.incomplete","response":{{"status":"incomplete","incomplete_details":{{"reason":{reason}}},"usage":{{"input_tokens":3,"output_tokens":9}}}}}}"#
            );
            let events = feed(&[
                r#"{"type":"response.output_text.delta","delta":"cut"}"#,
                &incomplete,
            ])
            .unwrap();
            assert_eq!(
                events.last(),
                Some(&StreamEvent::Done { stop_reason: stop })
            );
            assert!(events.contains(&StreamEvent::TextDelta("cut".into())));
        }
        let refused = feed(&[
            r#"{"type":"response.refusal.delta","delta":"I can't help with that."}"#,
            r#"{"type":"response.completed","response":{}}"#,
        ])
        .unwrap();
        assert_eq!(
            refused,
            vec![
                StreamEvent::TextDelta("I can't help with that.".into()),
                StreamEvent::Done {
                    stop_reason: StopReason::Refusal
                },
            ]
        );
    }

    #[test]
    fn failures_and_error_events_are_typed() {
        let err = feed(&[
            CREATED,
            r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"rate_limit_exceeded","message":"Slow down."}}}"#,
        ])
        .unwrap_err();
        assert!(matches!(err, LlmError::RateLimited(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "openai: error in stream (rate limited): Slow down."
        );
        let err = feed(&[r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The server had an error."}}}"#]).unwrap_err();
        assert!(
            matches!(err, LlmError::Server(_)) && err.is_retryable(),
            "{err}"
        );
        let err = feed(&[r#"{"type":"error","code":"context_length_exceeded","message":"Your input exceeds the context window of this model.","param":"input"}"#]).unwrap_err();
        assert!(err.is_context_too_long(), "{err}");
        let err = feed(&[
            r#"{"type":"error","error":{"code":"invalid_prompt","message":"Invalid prompt."}}"#,
        ])
        .unwrap_err();
        assert!(matches!(err, LlmError::BadRequest(_)), "{err}");
        let err = feed(&[r#"{"type":"response.failed","response":{}}"#]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "openai: error in stream (server error): the response failed"
        );
    }

    #[test]
    fn a_stream_without_its_final_event_is_cut_off() {
        for data in [
            &[
                CREATED,
                r#"{"type":"response.output_text.delta","delta":"partial"}"#,
            ][..],
            &[CREATED, "[DONE]"][..],
        ] {
            let err = feed(data).unwrap_err();
            assert!(matches!(err, LlmError::StreamCutOff { .. }), "{err}");
            assert!(
                err.to_string().ends_with("without response.completed"),
                "{err}"
            );
        }
        let err = feed(&["{oops"]).unwrap_err();
        assert!(matches!(err, LlmError::Decode { .. }), "{err}");
    }
}
