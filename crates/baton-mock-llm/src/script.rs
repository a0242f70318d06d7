//! The script a [`MockServer`](crate::MockServer) follows: ordered rules, read from TOML.
//!
//! Every check that can be made on the script itself (regexes compile, chunk sizes are not zero,
//! statuses are errors, headers are valid, options do not contradict each other) is made while the
//! TOML is read, so a bad script fails with the line and column of the bad value instead of
//! misbehaving later in the middle of a test.

use std::collections::BTreeMap;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};

use axum::http::{HeaderName, HeaderValue};
use regex::Regex;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::Wire;

/// Why a script could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The TOML text is not a valid script. The message names the line, the column and the problem.
    #[error("invalid mock-llm script: {0}")]
    Parse(toml::de::Error),
    /// The script file could not be read.
    #[error("cannot read mock-llm script {}: {error}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The script file was read but is not a valid script.
    #[error("invalid mock-llm script {}: {error}", path.display())]
    InvalidFile {
        /// The file that was read.
        path: PathBuf,
        /// The problem, with its line and column.
        error: toml::de::Error,
    },
}

/// A script: the ordered rules the server answers with. The first rule that matches a request wins.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// When set, every model request must carry this key (`Authorization: Bearer KEY` on the
    /// OpenAI wire, `x-api-key: KEY` on the Anthropic wire) or it gets a 401.
    #[serde(default)]
    pub require_api_key: Option<String>,
    /// The model's context window in tokens: a request whose estimated input tokens (body
    /// characters / 4) exceed it is refused with `400` in the provider's "prompt is too long"
    /// shape, before any rule is tried.
    #[serde(default)]
    pub context_window: Option<NonZeroU64>,
    /// The simulated prompt cache (off unless `enabled`).
    #[serde(default)]
    pub prompt_cache: PromptCache,
    /// The rules, tried in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Script {
    /// Parses a script from TOML text.
    ///
    /// A bad script is refused with a message naming the line and column and the problem
    /// (unknown field, regex that does not compile, contradicting options, ...).
    pub fn from_toml(text: &str) -> Result<Script, ScriptError> {
        toml::from_str(text).map_err(ScriptError::Parse)
    }

    /// Reads and parses a `.toml` script file. Errors name the file.
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScriptError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        toml::from_str(&text).map_err(|error| ScriptError::InvalidFile {
            path: path.to_path_buf(),
            error,
        })
    }
}

/// The simulated prompt cache: when enabled, replies whose input usage is estimated report the
/// part of the prompt an earlier request of the same model on this server already sent, the way
/// each provider reports its prompt cache (see the crate docs for the exact rules).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptCache {
    /// Whether the cache is simulated at all. Off by default, so usage figures stay plain.
    #[serde(default)]
    pub enabled: bool,
    /// OpenAI wire: a cached prefix shorter than this many tokens counts as none (OpenAI caches
    /// prompts from 1024 tokens on).
    #[serde(default = "default_openai_min_tokens")]
    pub openai_min_tokens: u64,
    /// OpenAI wire: the cached prefix is rounded down to a multiple of this many tokens (OpenAI
    /// caches in steps of 128).
    #[serde(default = "default_openai_increment")]
    pub openai_increment: NonZeroU64,
    /// Anthropic wire: how many block boundaries before each cache breakpoint are also checked
    /// for an earlier write (Anthropic checks about 20).
    #[serde(default = "default_anthropic_lookback")]
    pub anthropic_lookback: usize,
}

const DEFAULT_OPENAI_INCREMENT: NonZeroU64 = match NonZeroU64::new(128) {
    Some(n) => n,
    None => NonZeroU64::MIN,
};

fn default_openai_min_tokens() -> u64 {
    1024
}

fn default_openai_increment() -> NonZeroU64 {
    DEFAULT_OPENAI_INCREMENT
}

fn default_anthropic_lookback() -> usize {
    20
}

impl Default for PromptCache {
    fn default() -> Self {
        PromptCache {
            enabled: false,
            openai_min_tokens: default_openai_min_tokens(),
            openai_increment: DEFAULT_OPENAI_INCREMENT,
            anthropic_lookback: default_anthropic_lookback(),
        }
    }
}

/// One rule: when a request matches [`Rule::when`], answer with [`Rule::reply`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A name shown in recorded requests and logs. Unnamed rules are called `#<index>` (0-based).
    #[serde(default)]
    pub name: Option<String>,
    /// The rule matches at most this many times; after that it is skipped.
    #[serde(default)]
    pub times: Option<u32>,
    /// The conditions; all given ones must hold. No condition matches every request.
    #[serde(default)]
    pub when: When,
    /// What to answer.
    #[serde(deserialize_with = "checked_reply")]
    pub reply: Reply,
}

impl Rule {
    /// The rule's name, or `#<index>` when it has none (`index` is its 0-based position).
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("#{index}"),
        }
    }
}

/// The conditions of a rule. Every condition that is set must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// Only requests arriving on this wire.
    #[serde(default)]
    pub wire: Option<Wire>,
    /// Matches the text of the first user message that has text.
    #[serde(default)]
    pub first_user: Option<Pattern>,
    /// Matches the text of the latest user message that has text (a user message holding only
    /// tool results does not count).
    #[serde(default)]
    pub last_user: Option<Pattern>,
    /// Matches the content of any tool result after the latest assistant message; when there is no
    /// such result the condition does not hold.
    #[serde(default)]
    pub last_tool_result: Option<Pattern>,
    /// `true`: there is no tool result after the latest assistant message; `false`: there is one.
    #[serde(default)]
    pub no_tool_results: Option<bool>,
    /// Matches the system prompt; a request without one does not match.
    #[serde(default)]
    pub system: Option<Pattern>,
    /// All these tool names are offered in the request.
    #[serde(default)]
    pub tools_include: Vec<String>,
    /// None of these tool names are offered in the request.
    #[serde(default)]
    pub tools_exclude: Vec<String>,
    /// Matches the request's `model` field.
    #[serde(default)]
    pub model: Option<Pattern>,
    /// Matches any text of the request: the system prompt, or the text of any message (user,
    /// assistant, tool results; on the Responses wire `instructions`, then every message's text
    /// and every `function_call_output`). A request with no text does not match.
    #[serde(default)]
    pub any_text: Option<Pattern>,
}

/// A regular expression in a script (searched anywhere in the text: anchor it with `^`/`$` if needed).
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl Pattern {
    /// Compiles a pattern.
    pub fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        Regex::new(pattern).map(Pattern)
    }

    /// The pattern's source text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }

    /// The compiled regex.
    pub(crate) fn regex(&self) -> &Regex {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Pattern::new(&source)
            .map_err(|error| D::Error::custom(format!("invalid regex {source:?}: {error}")))
    }
}

const DEFAULT_CHUNK_CHARS: NonZeroUsize = match NonZeroUsize::new(16) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

fn default_chunk_chars() -> NonZeroUsize {
    DEFAULT_CHUNK_CHARS
}

/// What a rule answers: content (text and tool calls) or an HTTP error, and how to deliver it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The assistant text.
    #[serde(default)]
    pub text: Option<String>,
    /// The assistant text, computed from the request (instead of [`Reply::text`]).
    #[serde(default)]
    pub text_from: Option<TextFrom>,
    /// Tool calls, in order.
    #[serde(default)]
    pub tool_calls: Vec<ToolCallSpec>,
    /// The model's reasoning, streamed before the answer in each wire's shape: an Anthropic
    /// thinking block with a signature (only when the request enables thinking), OpenAI
    /// `reasoning_content`, a Responses API reasoning item (its summary when the request asks for
    /// one, its encrypted content when the request includes it). Also written `thinking`.
    #[serde(default, alias = "thinking")]
    pub reasoning: Option<String>,
    /// Anthropic wire, with thinking enabled: a redacted thinking block carrying this `data`,
    /// before the thinking text. Other wires ignore it.
    #[serde(default)]
    pub redacted_thinking: Option<String>,
    /// Token usage to report; missing numbers are estimated (characters / 4, at least 1).
    #[serde(default)]
    pub usage: Option<UsageSpec>,
    /// Overrides the stop reason (OpenAI `finish_reason`, Anthropic `stop_reason`; on the
    /// Responses wire anything but `completed`, such as `max_output_tokens` or
    /// `content_filter`, ends the response with `response.incomplete` and that reason).
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// Delay before the response starts; the status line and headers are sent after it.
    #[serde(default)]
    pub first_byte_delay_ms: u64,
    /// Delay between two body writes.
    #[serde(default)]
    pub chunk_delay_ms: u64,
    /// The text is streamed in deltas of this many characters.
    #[serde(default = "default_chunk_chars")]
    pub text_chunk_chars: NonZeroUsize,
    /// Each tool call's argument JSON is streamed in deltas of this many characters.
    #[serde(default = "default_chunk_chars")]
    pub args_chunk_chars: NonZeroUsize,
    /// OpenAI wire: interleave the deltas of parallel tool calls (index 0, 1, 0, 1, ...).
    /// The Anthropic wire streams content blocks one after the other, so it ignores this.
    #[serde(default)]
    pub interleave_tool_calls: bool,
    /// `0`: one body write per SSE event. `N > 0`: the whole body re-cut into writes of `N` bytes,
    /// splitting events and multi-byte UTF-8 characters across writes.
    #[serde(default)]
    pub write_bytes: usize,
    /// The whole body in one single write.
    #[serde(default)]
    pub coalesce: bool,
    /// Answer with this HTTP error status (400..=599) and the provider's error body instead of content.
    #[serde(default)]
    pub status: Option<u16>,
    /// Extra response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The message inside the error body sent with [`Reply::status`].
    #[serde(default)]
    pub error_message: Option<String>,
    /// The body stops after this many bytes by dropping the connection (no terminal event, no
    /// chunked-encoding terminator).
    #[serde(default)]
    pub drop_after_bytes: Option<usize>,
    /// End the stream cleanly but without its terminal event (`[DONE]` / `message_stop`).
    #[serde(default)]
    pub omit_terminal: bool,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            text: None,
            text_from: None,
            tool_calls: Vec::new(),
            reasoning: None,
            redacted_thinking: None,
            usage: None,
            stop_reason: None,
            first_byte_delay_ms: 0,
            chunk_delay_ms: 0,
            text_chunk_chars: DEFAULT_CHUNK_CHARS,
            args_chunk_chars: DEFAULT_CHUNK_CHARS,
            interleave_tool_calls: false,
            write_bytes: 0,
            coalesce: false,
            status: None,
            headers: BTreeMap::new(),
            error_message: None,
            drop_after_bytes: None,
            omit_terminal: false,
        }
    }
}

impl Reply {
    /// Whether the reply has any content field: `text`, `text_from`, tool calls, `reasoning` or
    /// `redacted_thinking` (what a `status` reply must not have).
    fn has_content(&self) -> bool {
        self.text.is_some()
            || self.text_from.is_some()
            || !self.tool_calls.is_empty()
            || self.reasoning.is_some()
            || self.redacted_thinking.is_some()
    }

    /// Checks what serde cannot: options that contradict each other, statuses, header syntax.
    fn check(&self) -> Result<(), String> {
        if self.text.is_some() && self.text_from.is_some() {
            return Err("`text` and `text_from` contradict each other: pick one".to_string());
        }
        if self.coalesce && self.write_bytes > 0 {
            return Err("`coalesce` and `write_bytes` contradict each other: pick one".to_string());
        }
        if let Some(status) = self.status {
            if !(400..=599).contains(&status) {
                return Err(format!(
                    "`status` must be an HTTP error status (400..=599), got {status}"
                ));
            }
            if self.has_content() {
                return Err(
                    "`status` replies with an error instead of content: remove `text`, \
                     `text_from`, `tool_calls`, `reasoning` (or `thinking`) and \
                     `redacted_thinking`"
                        .to_string(),
                );
            }
        } else if self.error_message.is_some() {
            return Err("`error_message` needs `status`".to_string());
        }
        for (name, value) in &self.headers {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid response header name {name:?}"))?;
            HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value {value:?} for response header {name:?}"))?;
        }
        Ok(())
    }
}

fn checked_reply<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Reply, D::Error> {
    let reply = Reply::deserialize(deserializer)?;
    reply.check().map_err(D::Error::custom)?;
    Ok(reply)
}

/// A reply text computed from the request: `prefix`, then every distinct match of `pattern` in
/// the chosen texts, in order of first appearance, joined by `separator`; `prefix` then
/// `none_text` when nothing matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextFrom {
    /// What to look for; each whole match is one item.
    pub pattern: Pattern,
    /// Which texts of the request are searched.
    #[serde(default)]
    pub source: TextSource,
    /// Put before the matches (or before `none_text`).
    #[serde(default)]
    pub prefix: String,
    /// Put between two matches.
    #[serde(default = "default_separator")]
    pub separator: String,
    /// Sent after `prefix` when nothing matches.
    #[serde(default = "default_none_text")]
    pub none_text: String,
}

fn default_separator() -> String {
    ", ".to_string()
}

fn default_none_text() -> String {
    "(none)".to_string()
}

/// The texts a [`TextFrom`] searches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// Every text of the request, in order: the system prompt, then every message's text (user,
    /// assistant, tool results). Written `"all"`.
    #[default]
    All,
    /// The latest user message that has text (as the `last_user` condition sees it). Written
    /// `"last_user"`.
    LastUser,
}

/// One scripted tool call.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawToolCall")]
pub struct ToolCallSpec {
    /// The call id; generated when absent (OpenAI `call_<n>`, Anthropic `toolu_<n>`).
    pub id: Option<String>,
    /// The tool name.
    pub name: String,
    /// The arguments.
    pub arguments: ToolArguments,
}

/// The arguments of a scripted tool call.
#[derive(Debug, Clone)]
pub enum ToolArguments {
    /// A JSON object (written as a TOML table in the script).
    Json(Map<String, Value>),
    /// Text sent verbatim, valid JSON or not (to test how clients handle malformed arguments).
    Raw(String),
}

impl ToolArguments {
    /// The arguments as the JSON text sent on the wire.
    pub fn to_json_text(&self) -> String {
        match self {
            ToolArguments::Json(map) => Value::Object(map.clone()).to_string(),
            ToolArguments::Raw(text) => text.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToolCall {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
    #[serde(default)]
    raw_arguments: Option<String>,
}

impl TryFrom<RawToolCall> for ToolCallSpec {
    type Error = String;

    fn try_from(raw: RawToolCall) -> Result<Self, Self::Error> {
        let arguments = match (raw.arguments, raw.raw_arguments) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "tool call {:?}: give `arguments` or `raw_arguments`, not both",
                    raw.name
                ));
            }
            (Some(map), None) => ToolArguments::Json(map),
            (None, Some(text)) => ToolArguments::Raw(text),
            (None, None) => ToolArguments::Json(Map::new()),
        };
        Ok(ToolCallSpec {
            id: raw.id,
            name: raw.name,
            arguments,
        })
    }
}

/// Scripted token usage; a missing number is estimated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageSpec {
    /// Prompt tokens (OpenAI `prompt_tokens`, Anthropic `input_tokens`).
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Completion tokens (OpenAI `completion_tokens`, Anthropic `output_tokens`).
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Prompt tokens served from the cache (OpenAI `cached_tokens`, Anthropic
    /// `cache_read_input_tokens`, none written). When set it replaces what the simulated prompt
    /// cache would report; when unset, only the simulated cache (if enabled) reports cache
    /// figures, and without it none are sent (the Responses wire then sends `cached_tokens: 0`).
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    /// Output tokens spent reasoning (OpenAI `reasoning_tokens`); default: the reasoning's
    /// characters / 4 when there is reasoning, else 0.
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(text: &str) -> String {
        match Script::from_toml(text) {
            Ok(script) => panic!("expected an error, parsed {script:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn full_rule_parses_with_every_field() {
        let script = Script::from_toml(
            r#"
require_api_key = "sk-test"
context_window = 1000

[[rules]]
name = "read-file"
times = 2
[rules.when]
wire = "anthropic"
first_user = "^hello"
last_user = "file"
last_tool_result = "ok"
no_tool_results = false
system = "agent"
tools_include = ["read"]
tools_exclude = ["task"]
model = "claude"
any_text = "summar"
[rules.reply]
text = "Hi"
tool_calls = [
  { name = "read", arguments = { path = "a.txt", limit = 3 } },
  { name = "edit", raw_arguments = "{\"path\": \"a.tx" },
  { id = "call_fixed", name = "x", arguments = {} },
  { name = "y" },
]
thinking = "Let me see"
redacted_thinking = "opaque"
usage = { input_tokens = 100, output_tokens = 20, cached_tokens = 80, reasoning_tokens = 5 }
stop_reason = "max_tokens"
first_byte_delay_ms = 5
chunk_delay_ms = 1
text_chunk_chars = 3
args_chunk_chars = 4
interleave_tool_calls = true
write_bytes = 7
drop_after_bytes = 120
omit_terminal = true
headers = { "x-extra" = "1" }
"#,
        )
        .expect("valid script");
        assert_eq!(script.require_api_key.as_deref(), Some("sk-test"));
        assert_eq!(script.context_window.map(NonZeroU64::get), Some(1000));
        let rule = &script.rules[0];
        assert_eq!(rule.label(0), "read-file");
        assert_eq!(rule.times, Some(2));
        assert_eq!(rule.when.wire, Some(Wire::Anthropic));
        assert_eq!(
            rule.when.first_user.as_ref().map(Pattern::as_str),
            Some("^hello")
        );
        assert_eq!(rule.when.no_tool_results, Some(false));
        assert_eq!(rule.when.tools_include, ["read"]);
        assert_eq!(
            rule.when.any_text.as_ref().map(Pattern::as_str),
            Some("summar")
        );
        let reply = &rule.reply;
        assert_eq!(reply.tool_calls.len(), 4);
        assert_eq!(
            reply.tool_calls[0].arguments.to_json_text(),
            r#"{"limit":3,"path":"a.txt"}"#
        );
        assert_eq!(
            reply.tool_calls[1].arguments.to_json_text(),
            r#"{"path": "a.tx"#
        );
        assert_eq!(reply.tool_calls[2].id.as_deref(), Some("call_fixed"));
        assert_eq!(reply.tool_calls[3].arguments.to_json_text(), "{}");
        assert_eq!(reply.reasoning.as_deref(), Some("Let me see"));
        assert_eq!(reply.redacted_thinking.as_deref(), Some("opaque"));
        let usage = reply.usage.as_ref().expect("usage");
        assert_eq!(
            (usage.cached_tokens, usage.reasoning_tokens),
            (Some(80), Some(5))
        );
        assert_eq!(reply.text_chunk_chars.get(), 3);
        assert_eq!(reply.args_chunk_chars.get(), 4);
        assert_eq!(reply.write_bytes, 7);
        assert_eq!(reply.drop_after_bytes, Some(120));
        assert!(reply.omit_terminal && reply.interleave_tool_calls);
    }

    #[test]
    fn defaults_apply_when_fields_are_missing() {
        let script = Script::from_toml("[[rules]]\nreply = { text = \"x\" }\n").expect("valid");
        let rule = &script.rules[0];
        assert_eq!(rule.label(0), "#0");
        assert!(rule.times.is_none());
        assert_eq!(rule.reply.text_chunk_chars.get(), 16);
        assert_eq!(rule.reply.args_chunk_chars.get(), 16);
        assert!(!rule.reply.coalesce);
        assert!(script.require_api_key.is_none());
        assert!(script.context_window.is_none());
        assert_eq!(script.prompt_cache, PromptCache::default());
        assert!(!script.prompt_cache.enabled);
    }

    #[test]
    fn prompt_cache_table_parses_with_provider_defaults() {
        let script = Script::from_toml("[prompt_cache]\nenabled = true\n").expect("valid");
        assert_eq!(
            script.prompt_cache,
            PromptCache {
                enabled: true,
                openai_min_tokens: 1024,
                openai_increment: DEFAULT_OPENAI_INCREMENT,
                anthropic_lookback: 20,
            }
        );
        let tuned = Script::from_toml(
            "[prompt_cache]\nenabled = true\nopenai_min_tokens = 0\nopenai_increment = 1\n\
             anthropic_lookback = 3\n",
        )
        .expect("valid");
        assert_eq!(tuned.prompt_cache.openai_min_tokens, 0);
        assert_eq!(tuned.prompt_cache.openai_increment.get(), 1);
        assert_eq!(tuned.prompt_cache.anthropic_lookback, 3);
    }

    #[test]
    fn bad_prompt_cache_settings_are_refused() {
        let zero = parse_error("[prompt_cache]\nenabled = true\nopenai_increment = 0\n");
        assert!(
            zero.contains("line 3") && zero.contains("nonzero"),
            "{zero}"
        );
        let typo = parse_error("[prompt_cache]\nenabeld = true\n");
        assert!(typo.contains("unknown field `enabeld`"), "{typo}");
    }

    #[test]
    fn zero_context_window_is_refused() {
        let message = parse_error("context_window = 0\n");
        assert!(message.contains("line 1"), "{message}");
        assert!(message.contains("nonzero"), "{message}");
    }

    #[test]
    fn empty_script_has_no_rules() {
        assert!(Script::from_toml("").expect("valid").rules.is_empty());
    }

    #[test]
    fn parse_error_names_line_column_and_problem() {
        let message = parse_error("[[rules]]\nreply = { text = \"x\" }\nnmae = \"typo\"\n");
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("column"), "{message}");
        assert!(message.contains("unknown field `nmae`"), "{message}");
    }

    #[test]
    fn bad_regex_is_refused_at_its_line() {
        let message =
            parse_error("[[rules]]\nreply = {}\n[rules.when]\nlast_user = \"(unclosed\"\n");
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("invalid regex"), "{message}");
    }

    #[test]
    fn contradicting_delivery_options_are_refused_at_their_line() {
        let message = parse_error(
            "[[rules]]\nname = \"a\"\n[rules.reply]\ntext = \"x\"\ncoalesce = true\nwrite_bytes = 3\n",
        );
        assert!(message.contains("line "), "{message}");
        assert!(message.contains("contradict"), "{message}");
    }

    #[test]
    fn status_must_be_an_error_and_exclude_content() {
        assert!(parse_error("[[rules]]\nreply = { status = 200 }\n").contains("400..=599"));
        assert!(
            parse_error("[[rules]]\nreply = { status = 429, text = \"x\" }\n")
                .contains("remove `text`")
        );
        assert!(
            parse_error("[[rules]]\nreply = { error_message = \"x\" }\n")
                .contains("needs `status`")
        );
        assert!(
            parse_error("[[rules]]\nreply = { status = 500, reasoning = \"x\" }\n")
                .contains("remove `text`")
        );
        assert!(
            parse_error("[[rules]]\nreply = { reasoning = \"x\", thinking = \"y\" }\n")
                .contains("duplicate field")
        );
    }

    #[test]
    fn status_with_any_content_field_is_refused_with_one_message() {
        let expected = "`status` replies with an error instead of content: remove `text`, \
                        `text_from`, `tool_calls`, `reasoning` (or `thinking`) and \
                        `redacted_thinking`";
        for content in [
            "text = \"x\"",
            "text_from = { pattern = \"x\" }",
            "tool_calls = [{ name = \"read\" }]",
            "reasoning = \"x\"",
            "thinking = \"x\"",
            "redacted_thinking = \"x\"",
        ] {
            let message = parse_error(&format!(
                "[[rules]]\nreply = {{ status = 500, {content} }}\n"
            ));
            assert!(message.contains(expected), "{content}: {message}");
            assert!(message.contains("line 2"), "{content}: {message}");
        }
        assert!(
            Script::from_toml("[[rules]]\nreply = { status = 500, tool_calls = [] }\n").is_ok(),
            "an empty tool_calls list is no content"
        );
        assert!(
            parse_error("[[rules]]\nreply = { status = 500, text_from = { pattern = \"x\" } }\n")
                .contains("remove `text`, `text_from`")
        );
    }

    #[test]
    fn text_from_parses_with_defaults() {
        let script = Script::from_toml(
            "[[rules]]\nreply = { text_from = { pattern = \"FACT-[0-9]+\" } }\n\
             [[rules]]\nreply = { text_from = { pattern = \"x\", source = \"last_user\", \
             prefix = \"P: \", separator = \"/\", none_text = \"nothing\" } }\n",
        )
        .expect("valid");
        let defaults = script.rules[0].reply.text_from.as_ref().expect("text_from");
        assert_eq!(defaults.pattern.as_str(), "FACT-[0-9]+");
        assert_eq!(defaults.source, TextSource::All);
        assert_eq!(
            (
                defaults.prefix.as_str(),
                defaults.separator.as_str(),
                defaults.none_text.as_str()
            ),
            ("", ", ", "(none)")
        );
        let given = script.rules[1].reply.text_from.as_ref().expect("text_from");
        assert_eq!(given.source, TextSource::LastUser);
        assert_eq!(given.none_text, "nothing");
    }

    #[test]
    fn text_and_text_from_together_are_refused() {
        let message =
            parse_error("[[rules]]\nreply = { text = \"a\", text_from = { pattern = \"b\" } }\n");
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("`text` and `text_from`"), "{message}");
        let unknown = parse_error(
            "[[rules]]\nreply = { text_from = { pattern = \"b\", source = \"first_user\" } }\n",
        );
        assert!(
            unknown.contains("unknown variant `first_user`"),
            "{unknown}"
        );
        let typo =
            parse_error("[[rules]]\nreply = { text_from = { pattern = \"b\", prefx = \"\" } }\n");
        assert!(typo.contains("unknown field `prefx`"), "{typo}");
    }

    #[test]
    fn invalid_header_is_refused() {
        let message = parse_error(
            "[[rules]]\nreply = { status = 429, headers = { \"bad name\" = \"1\" } }\n",
        );
        assert!(
            message.contains("invalid response header name"),
            "{message}"
        );
    }

    #[test]
    fn zero_chunk_size_is_refused() {
        let message = parse_error("[[rules]]\nreply = { text = \"x\", text_chunk_chars = 0 }\n");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn both_argument_forms_are_refused() {
        let message = parse_error(
            "[[rules]]\nreply = { tool_calls = [{ name = \"a\", arguments = {}, raw_arguments = \"{}\" }] }\n",
        );
        assert!(message.contains("not both"), "{message}");
    }

    #[test]
    fn rule_without_reply_is_refused() {
        let message = parse_error("[[rules]]\nname = \"a\"\n");
        assert!(message.contains("missing field `reply`"), "{message}");
    }

    #[test]
    fn load_names_the_file_for_missing_and_invalid_files() {
        let dir =
            std::env::temp_dir().join(format!("baton-mock-llm-script-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("missing.toml");
        let message = Script::load(&missing).expect_err("missing").to_string();
        assert!(message.contains("missing.toml"), "{message}");

        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[[rules]]\nreply = 3\n").expect("write");
        let message = Script::load(&bad).expect_err("invalid").to_string();
        assert!(
            message.contains("bad.toml") && message.contains("line 2"),
            "{message}"
        );

        let good = dir.join("good.toml");
        std::fs::write(&good, "[[rules]]\nreply = { text = \"ok\" }\n").expect("write");
        assert_eq!(Script::load(&good).expect("valid").rules.len(), 1);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
