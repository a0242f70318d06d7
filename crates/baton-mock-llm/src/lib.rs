//! A scripted model server that speaks the OpenAI chat-completions, OpenAI Responses and Anthropic
//! messages wires.
//!
//! baton's test double, demo model and benchmark model. It is a real HTTP server: real status
//! codes, real chunked bodies, faithful SSE framing, error bodies shaped like each provider's. Only
//! the *content* is scripted. It also refuses requests that the real providers would refuse
//! (see [Validation](#validation)), which keeps the client honest.
//!
//! This crate owns the mock server and its script format. It depends on no other baton crate, and
//! nothing in baton's runtime path may depend on it except the `baton mock-llm` command.
//!
//! # Example
//!
//! ```
//! use baton_mock_llm::{MockServer, Script};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let script = Script::from_toml(r#"
//!     [[rules]]
//!     name = "greet"
//!     when = { last_user = "(?i)hello" }
//!     reply = { text = "Hello! How can I help?" }
//! "#)?;
//! let server = MockServer::start(script).await?;
//! // Point an OpenAI client (chat completions or Responses) at server.openai_base_url(), an
//! // Anthropic one at server.anthropic_base_url(); afterwards inspect what they sent:
//! assert!(server.requests().is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/chat/completions` | OpenAI wire ([`MockServer::openai_base_url`] is `url()/v1`) |
//! | `POST /v1/responses` | OpenAI Responses wire (same base URL as the OpenAI wire) |
//! | `POST /v1/messages` | Anthropic wire ([`MockServer::anthropic_base_url`] is `url()`) |
//! | `GET /_mock/requests` | every request received, as a JSON array of [`RecordedRequest`] |
//! | `GET /_mock/health` | `200 {"status":"ok"}` |
//!
//! A request streams (SSE, `text/event-stream`) when its body has `"stream": true`; otherwise it
//! gets one JSON response in the provider's non-streaming shape. The Responses wire streams the
//! real event names in the real order (`response.created`, `response.in_progress`, each output
//! item between `response.output_item.added` and `response.output_item.done` with its
//! `content_part`, `output_text`, `function_call_arguments` or `reasoning_summary_*` events, then
//! `response.completed` or `response.incomplete`), each event numbered by `sequence_number`; its
//! error bodies are OpenAI's.
//!
//! # Script format
//!
//! A script is TOML. Rules are tried in order; the first rule whose conditions all hold answers.
//!
//! ```toml
//! require_api_key = "sk-test"   # optional: OpenAI and Responses need `Authorization: Bearer
//!                               # sk-test`, Anthropic `x-api-key: sk-test`; otherwise 401
//!
//! [[rules]]
//! name = "read-file"            # optional; unnamed rules are called "#<index>" (0-based)
//! times = 1                     # optional: match at most this many times, then skip the rule
//! [rules.when]                  # every given condition must hold; no condition matches anything
//! wire = "openai"               # or "anthropic", "responses"
//! first_user = "regex"          # text of the FIRST user message that has text
//! last_user = "regex"           # text of the LATEST user message that has text (one holding
//!                               # only tool results does not count)
//! last_tool_result = "regex"    # ANY tool result after the latest assistant message (the results
//!                               # this call answers; Responses: function_call_output items after
//!                               # the latest output item); none => no match
//! no_tool_results = true        # true: no tool result after the latest assistant message;
//!                               # false: at least one
//! system = "regex"              # the system prompt (Responses: `instructions` and system or
//!                               # developer messages; absent => no match)
//! tools_include = ["bash", "read"]  # all these tools are offered
//! tools_exclude = ["task"]          # none of these tools are offered
//! model = "regex"               # the request's `model`
//! [rules.reply]
//! text = "Hello **world**"
//! tool_calls = [
//!   { name = "read", arguments = { path = "a.txt" } },       # a TOML table, sent as JSON
//!   { name = "edit", raw_arguments = "{\"path\": \"a.tx" },  # sent verbatim (malformed on purpose)
//!   { id = "call_fixed", name = "x", arguments = {} },       # ids default to call_<n> / toolu_<n>
//! ]
//! reasoning = "Let me think"    # (or `thinking`) streamed before the answer: Anthropic a thinking
//!                               # block with thinking_delta chunks and a signature_delta
//!                               # (`sig_<n>`), only when the request enables thinking; OpenAI
//!                               # `delta.reasoning_content` chunks; Responses a reasoning item, its
//!                               # summary when the request sets reasoning.summary, its
//!                               # encrypted_content (`enc_mock_<n>`) when the request includes
//!                               # "reasoning.encrypted_content"
//! redacted_thinking = "opaque"  # Anthropic, thinking enabled: a redacted_thinking block with this data
//! usage = { input_tokens = 100, output_tokens = 20 }  # default: request chars / 4, reply chars / 4
//!                               # (+ cached_tokens, default 0; reasoning_tokens, default reasoning
//!                               # chars / 4)
//! stop_reason = "length"        # default: tool calls => tool_calls / tool_use, else stop / end_turn;
//!                               # Responses: anything but "completed" (e.g. "max_output_tokens",
//!                               # "content_filter") ends with response.incomplete and that reason
//! first_byte_delay_ms = 0       # before the status line and headers
//! chunk_delay_ms = 0            # between body writes
//! text_chunk_chars = 16         # text deltas of this many characters
//! args_chunk_chars = 16         # argument deltas of this many characters
//! interleave_tool_calls = false # OpenAI chat: argument deltas of parallel calls alternate 0, 1, 0, 1
//! write_bytes = 0               # 0: one write per SSE event; N: the body re-cut into N-byte writes
//! coalesce = false              # the whole body in one write
//! drop_after_bytes = 120        # stop after N body bytes by dropping the connection
//! omit_terminal = false         # end cleanly but without [DONE] / message_stop /
//!                               # response.completed
//! headers = { "x-request-id" = "abc" }   # extra response headers
//!
//! [[rules]]
//! when = { wire = "anthropic" }
//! reply = { status = 529, headers = { "retry-after" = "1" }, error_message = "busy" }
//! ```
//!
//! A reply with `status` (400..=599) answers with that status and an error body in the provider's
//! shape (`error_message`, or a sensible default) instead of content. Options that cannot go
//! together (`status` with content, `coalesce` with `write_bytes`, `arguments` with
//! `raw_arguments`) and unknown fields are refused when the script is read, with the line and
//! column.
//!
//! Delivery options also apply to non-streaming replies: `write_bytes` cuts the JSON body into
//! writes and `drop_after_bytes` truncates it. Non-streaming Anthropic replies carry tool input as
//! an object, so `raw_arguments` that are not valid JSON are sent there as a JSON string.
//!
//! When no rule matches, the answer is `400` with the message
//! `baton-mock-llm: no rule matched this request (rules: N)`.
//!
//! # Validation
//!
//! Requests are refused with `400` and a message naming the offending field when:
//! the body is not JSON; `model` is missing; on the chat wires `messages` is missing or empty;
//! on the Anthropic wire, `max_tokens` or the `anthropic-version` header is missing, the first
//! message is not from the user, roles do not alternate, a `tool_use` block has no matching
//! `tool_result` in the next user message, or a `tool_result` answers no `tool_use` of the message
//! before; with thinking enabled, `budget_tokens` is below 1024 or not below `max_tokens`,
//! `temperature` is set to anything but 1, or the assistant message that opens the tool loop the
//! request ends in does not start with a thinking block; a `thinking` block (anywhere) lacks the
//! signature this server issued for its text (`invalid signature in thinking block`), a
//! `redacted_thinking` block carries data this server did not issue, or either appears outside an
//! assistant message; on the OpenAI wire, an assistant `tool_calls` entry is not answered by a
//! `tool` message with its `tool_call_id` in the run of tool messages right after it, a `tool`
//! message answers no such call, or a call's `function.arguments` is not a string; on the
//! Responses wire, `input` is missing or empty, an item is malformed or of an unknown type, a
//! message's content parts do not fit its role (`output_text` for the assistant, `input_text` for
//! the others), a `function_call_output` answers no `function_call` with its `call_id` earlier in
//! the input, a `reasoning` item lacks the `encrypted_content` this server issued, an item carries
//! an `id` while `store` is false (nothing was stored for it to refer to), or a function tool has
//! no top-level `name`.
//!
//! Every request is recorded, refused ones included.

mod anthropic;
mod captures;
mod conversation;
mod handler;
mod issued;
mod matching;
mod openai;
mod recording;
mod reply;
mod responses;
mod script;
mod server;
mod sse;
mod validation;

pub use recording::{RecordedRequest, Wire};
pub use script::{
    Pattern, Reply, Rule, Script, ScriptError, ToolArguments, ToolCallSpec, UsageSpec, When,
};
pub use server::MockServer;
