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
//! error bodies are OpenAI's (the context-window refusal in the Responses API's own wording).
//! Every feature of the script works on all three wires unless its description names a wire.
//!
//! # Script format
//!
//! A script is TOML. Rules are tried in order; the first rule whose conditions all hold answers.
//!
//! ```toml
//! require_api_key = "sk-test"   # optional: OpenAI and Responses need `Authorization: Bearer
//!                               # sk-test`, Anthropic `x-api-key: sk-test`; otherwise 401
//! context_window = 200000       # optional: refuse requests whose estimated input tokens exceed it
//!
//! [prompt_cache]                # optional: simulate the providers' prompt caches
//! enabled = true                # default false: usage carries no cache figures (Responses:
//!                               # cached_tokens = 0)
//! openai_min_tokens = 1024      # OpenAI and Responses: a shorter cached prefix counts as none
//! openai_increment = 128        # OpenAI and Responses: the cached prefix is rounded down to a
//!                               # multiple of this
//! anthropic_lookback = 20       # block boundaries checked before each breakpoint
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
//! any_text = "regex"            # ANY text of the request: the system prompt or any message's
//!                               # text (user, assistant, tool results; Responses: instructions,
//!                               # message texts, function_call_output items)
//! [rules.reply]
//! text = "Hello **world**"      # or `text_from` (see Echo replies), not both
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
//!                               # (+ cached_tokens: reported as read from the cache, replacing the
//!                               # simulated prompt cache's figures; reasoning_tokens, default
//!                               # reasoning chars / 4)
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
//! together and unknown fields are refused when the script is read, with the line and column (see
//! [Script validation](#script-validation)).
//!
//! Delivery options also apply to non-streaming replies: `write_bytes` cuts the JSON body into
//! writes and `drop_after_bytes` truncates it. Non-streaming Anthropic replies carry tool input as
//! an object, so `raw_arguments` that are not valid JSON are sent there as a JSON string.
//!
//! When no rule matches, the answer is `400` with the message
//! `baton-mock-llm: no rule matched this request (rules: N)`.
//!
//! ## Echo replies
//!
//! A reply may compute its text from the request instead of giving `text`:
//!
//! ```toml
//! [[rules]]
//! when = { any_text = "(?i)summari[sz]e the conversation" }
//! reply = { text_from = { pattern = "FACT-[0-9]+", source = "all", prefix = "Facts: ", separator = ", " } }
//! ```
//!
//! The text is `prefix`, then every distinct whole match of `pattern`, in order of first
//! appearance, joined by `separator` (default `", "`); when nothing matches it is `prefix` then
//! `none_text` (default `"(none)"`). `source` (default `"all"`) says where to look: `"all"` is the
//! system prompt, then every message's text in order (user, assistant, tool results);
//! `"last_user"` is the latest user message that has text, as the `last_user` condition sees it.
//! On the Responses wire `"all"` is `instructions`, then every input item's text in order (messages
//! of any role, `function_call_output`s), or the string `input`; function calls and reasoning items
//! have no text. `any_text` searches the same texts. The computed text is sent like `text` on every
//! wire (and counts in the output usage). `prefix` and `none_text` may use captures (`${name}`, see
//! below). `text` with `text_from`, and `status` with `text_from`, are refused when the script is
//! read.
//!
//! Captures: a `when` regex may name groups (`(?P<task>task_[0-9a-f]+)`) and the reply may use them
//! as `${task}` in its text and tool-call arguments; they come from `first_user`, `last_user`,
//! `system`, `model`, the first tool result `last_tool_result` matches and the first text
//! `any_text` matches. An unknown `${name}` stays as written.
//!
//! ## Token estimate and context window
//!
//! A request's input is estimated at its body's characters / 4 (at least 1) and recorded as
//! [`RecordedRequest::estimated_input_tokens`]; replies report it as input usage unless
//! `usage.input_tokens` is scripted. With `context_window = N`, a request estimated at more than
//! `N` tokens is refused before any rule is tried (so it uses up no `times`), with `400` and the
//! provider's own error:
//!
//! - OpenAI: `{"error": {"message": "This model's maximum context length is N tokens. However,
//!   your messages resulted in T tokens. Please reduce the length of the messages.", "type":
//!   "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}`
//! - Anthropic: `{"type": "error", "error": {"type": "invalid_request_error", "message":
//!   "prompt is too long: T tokens > N maximum"}}`
//! - Responses: OpenAI's shape in the Responses API's wording, which names no counts:
//!   `{"error": {"message": "Your input exceeds the context window of this model. Please adjust
//!   your input and try again.", "type": "invalid_request_error", "param": "input", "code":
//!   "context_length_exceeded"}}`
//!
//! The refusal is a JSON error response even when the request asked to stream. Only the input has to fit, as with the real providers: `max_tokens` is not added. A zero
//! window is refused when the script is read.
//!
//! ## Prompt cache
//!
//! With `[prompt_cache] enabled = true`, a reply whose input usage is estimated (no scripted
//! `usage.input_tokens` or `usage.cached_tokens`) also reports how much of the prompt an earlier request *of the same
//! model on this server* already sent, the way each provider reports its cache. The cache is
//! shared by every request of one [`MockServer`] and follows their arrival order. A request is
//! looked up and then stored when a rule answers it with content; refused requests and scripted
//! `status` errors neither read nor write. Token counts are characters / 4 (rounded down) of the
//! canonical texts below: JSON with object keys sorted and no whitespace.
//!
//! **OpenAI.** The request is a sequence of segments: the `tools` JSON (when present), then each
//! message. `cached_tokens` is the tokens of the longest common prefix, by characters (so it can
//! end inside a segment), of its concatenated segments with those of any earlier request; rounded
//! down to a multiple of `openai_increment`; `0` if that is below `openai_min_tokens`. It is sent
//! as `usage.prompt_tokens_details.cached_tokens` (the final usage chunk of a stream, or the
//! body); `prompt_tokens` stays the whole estimate.
//!
//! **Responses.** Counted like OpenAI chat (same `openai_min_tokens` and `openai_increment`), in a
//! cache of its own (a chat request never reads what a Responses request wrote, nor the other way
//! round). The segments are the `tools` JSON (when present), the `instructions` (when present, as
//! a JSON string), then each `input` item (a string `input` is one segment). It is sent as
//! `usage.input_tokens_details.cached_tokens` in the final response (`response.completed` or
//! `response.incomplete` of a stream, or the body); `input_tokens` stays the whole estimate. This
//! wire always carries the field: it is `0` when the cache is off and nothing is scripted.
//!
//! **Anthropic.** The request is a sequence of blocks in Anthropic's cache order: each tool, each
//! system block, then each content block of each message (a string `system` or `content` counts
//! as one text block), compared without their `cache_control` field (and with where each message
//! starts). A *breakpoint* is a block that carries `cache_control`. Each answered request *writes*
//! the prefix ending at each of its breakpoints. For a new request, each breakpoint, last first,
//! is checked for an earlier write of the prefix ending at it or at one of the
//! `anthropic_lookback` block boundaries before it; the longest such prefix is the *read*. Then:
//!
//! - `cache_read_input_tokens`: the tokens of the read prefix (0 if none);
//! - `cache_creation_input_tokens`: the tokens from the end of the read up to the last
//!   breakpoint (0 without breakpoints);
//! - `input_tokens`: the rest of the estimate, so that the three add up to it.
//!
//! They are sent in `message_start`'s `message.usage` and, like the real API's cumulative usage,
//! again in `message_delta`'s `usage` (streaming), and in the body's `usage`. Anthropic's minimum
//! cacheable length and the cache's lifetime are not simulated: every write lasts as long as the
//! server.
//!
//! A scripted `usage.cached_tokens` replaces the simulated figures (and works with the cache off):
//! it is reported as read from the cache with nothing written, i.e. OpenAI and Responses
//! `cached_tokens`, Anthropic `cache_read_input_tokens` (with `cache_creation_input_tokens: 0` and
//! `input_tokens` less the cached part). Without the cache and without a scripted
//! `cached_tokens`, OpenAI and Anthropic usage carries no cache figures at all.
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
//! no top-level `name`. A request that passes these checks but whose estimated input exceeds the
//! script's `context_window` is refused next (see
//! [Token estimate and context window](#token-estimate-and-context-window)).
//!
//! Every request is recorded, refused ones included, with its
//! [`estimated_input_tokens`](RecordedRequest::estimated_input_tokens).
//!
//! ## Script validation
//!
//! [`Script::from_toml`] and [`Script::load`] refuse a script, naming the line and column, when
//! it has an unknown field (in any table, `[prompt_cache]` and `text_from` included), a regex that
//! does not compile, a zero `context_window`, `openai_increment`, `text_chunk_chars` or
//! `args_chunk_chars`, an unknown `wire` or `text_from.source`, or a reply that contradicts
//! itself:
//!
//! - `status` outside 400..=599;
//! - `status` with any content field, with one message: ``"`status` replies with an error instead
//!   of content: remove `text`, `text_from`, `tool_calls`, `reasoning` (or `thinking`) and
//!   `redacted_thinking`"`` (an empty `tool_calls = []` is no content);
//! - `error_message` without `status`;
//! - `text` with `text_from` (``"`text` and `text_from` contradict each other: pick one"``);
//! - `reasoning` with its alias `thinking` (a duplicate field);
//! - `coalesce` with `write_bytes`;
//! - a tool call with both `arguments` and `raw_arguments`;
//! - a response header name or value that HTTP does not allow.

mod anthropic;
mod cache;
mod captures;
mod conversation;
mod echo;
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
    Pattern, PromptCache, Reply, Rule, Script, ScriptError, TextFrom, TextSource, ToolArguments,
    ToolCallSpec, UsageSpec, When,
};
pub use server::MockServer;
