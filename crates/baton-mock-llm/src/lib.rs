//! A scripted model server that speaks the OpenAI chat-completions and Anthropic messages wires.
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
//! // Point an OpenAI client at server.openai_base_url(), an Anthropic one at
//! // server.anthropic_base_url(); afterwards inspect what they sent:
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
//! | `POST /v1/messages` | Anthropic wire ([`MockServer::anthropic_base_url`] is `url()`) |
//! | `GET /_mock/requests` | every request received, as a JSON array of [`RecordedRequest`] |
//! | `GET /_mock/health` | `200 {"status":"ok"}` |
//!
//! A request streams (SSE, `text/event-stream`) when its body has `"stream": true`; otherwise it
//! gets one JSON response in the provider's non-streaming shape.
//!
//! # Script format
//!
//! A script is TOML. Rules are tried in order; the first rule whose conditions all hold answers.
//!
//! ```toml
//! require_api_key = "sk-test"   # optional: OpenAI needs `Authorization: Bearer sk-test`,
//!                               # Anthropic `x-api-key: sk-test`; otherwise 401
//! context_window = 200000       # optional: refuse requests whose estimated input tokens exceed it
//!
//! [prompt_cache]                # optional: simulate the providers' prompt caches
//! enabled = true                # default false: usage carries no cache figures
//! openai_min_tokens = 1024      # a shorter cached prefix counts as none (OpenAI's minimum)
//! openai_increment = 128        # the cached prefix is rounded down to a multiple of this
//! anthropic_lookback = 20       # block boundaries checked before each breakpoint
//!
//! [[rules]]
//! name = "read-file"            # optional; unnamed rules are called "#<index>" (0-based)
//! times = 1                     # optional: match at most this many times, then skip the rule
//! [rules.when]                  # every given condition must hold; no condition matches anything
//! wire = "openai"               # or "anthropic"
//! first_user = "regex"          # text of the FIRST user message that has text
//! last_user = "regex"           # text of the LATEST user message that has text (one holding
//!                               # only tool results does not count)
//! last_tool_result = "regex"    # ANY tool result after the latest assistant message (the results
//!                               # this call answers); none => no match
//! no_tool_results = true        # true: no tool result after the latest assistant message;
//!                               # false: at least one
//! system = "regex"              # the system prompt (absent => no match)
//! tools_include = ["bash", "read"]  # all these tools are offered
//! tools_exclude = ["task"]          # none of these tools are offered
//! model = "regex"               # the request's `model`
//! any_text = "regex"            # ANY text of the request: the system prompt or any message's
//!                               # text (user, assistant, tool results)
//! [rules.reply]
//! text = "Hello **world**"      # or `text_from` (see Echo replies), not both
//! tool_calls = [
//!   { name = "read", arguments = { path = "a.txt" } },       # a TOML table, sent as JSON
//!   { name = "edit", raw_arguments = "{\"path\": \"a.tx" },  # sent verbatim (malformed on purpose)
//!   { id = "call_fixed", name = "x", arguments = {} },       # ids default to call_<n> / toolu_<n>
//! ]
//! usage = { input_tokens = 100, output_tokens = 20 }  # default: request chars / 4, reply chars / 4
//! stop_reason = "length"        # default: tool calls => tool_calls / tool_use, else stop / end_turn
//! first_byte_delay_ms = 0       # before the status line and headers
//! chunk_delay_ms = 0            # between body writes
//! text_chunk_chars = 16         # text deltas of this many characters
//! args_chunk_chars = 16         # argument deltas of this many characters
//! interleave_tool_calls = false # OpenAI: argument deltas of parallel calls alternate 0, 1, 0, 1
//! write_bytes = 0               # 0: one write per SSE event; N: the body re-cut into N-byte writes
//! coalesce = false              # the whole body in one write
//! drop_after_bytes = 120        # stop after N body bytes by dropping the connection
//! omit_terminal = false         # end cleanly but without [DONE] / message_stop
//! headers = { "x-request-id" = "abc" }   # extra response headers
//!
//! [[rules]]
//! when = { wire = "anthropic" }
//! reply = { status = 529, headers = { "retry-after" = "1" }, error_message = "busy" }
//! ```
//!
//! A reply with `status` (400..=599) answers with that status and an error body in the provider's
//! shape (`error_message`, or a sensible default) instead of content. Options that cannot go
//! together (`status` with content, `text` with `text_from`, `coalesce` with `write_bytes`,
//! `arguments` with `raw_arguments`) and unknown fields are refused when the script is read, with the line and
//! column.
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
//! `prefix` and `none_text` may use captures (`${name}`, see below). `text` with `text_from`, and
//! `status` with `text_from`, are refused when the script is read.
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
//!
//! Only the input has to fit, as with the real providers: `max_tokens` is not added. A zero
//! window is refused when the script is read.
//!
//! ## Prompt cache
//!
//! With `[prompt_cache] enabled = true`, a reply whose input usage is estimated (no scripted
//! `usage.input_tokens`) also reports how much of the prompt an earlier request *of the same
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
//! They are sent in `message_start`'s `message.usage` (streaming) and in the body's `usage`.
//! Anthropic's minimum cacheable length and the cache's lifetime are not simulated: every write
//! lasts as long as the server.
//!
//! # Validation
//!
//! Requests are refused with `400` and a message naming the offending field when:
//! the body is not JSON; `model` or `messages` is missing (or `messages` is empty);
//! on the Anthropic wire, `max_tokens` or the `anthropic-version` header is missing, the first
//! message is not from the user, roles do not alternate, a `tool_use` block has no matching
//! `tool_result` in the next user message, or a `tool_result` answers no `tool_use` of the message
//! before; on the OpenAI wire, an assistant `tool_calls` entry is not answered by a `tool` message
//! with its `tool_call_id` in the run of tool messages right after it, a `tool` message answers no
//! such call, or a call's `function.arguments` is not a string.
//!
//! Every request is recorded, refused ones included.

mod anthropic;
mod cache;
mod captures;
mod conversation;
mod echo;
mod handler;
mod matching;
mod openai;
mod recording;
mod reply;
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
