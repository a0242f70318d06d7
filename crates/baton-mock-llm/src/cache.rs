//! The simulated prompt cache: how much of a request an earlier request of the same model already
//! sent, counted the way each provider counts its prompt cache.
//!
//! - OpenAI caches prefixes automatically: the cached part is the longest common prefix, by
//!   characters, of the request's canonical text with that of any earlier request. Chat
//!   completions and the Responses API are counted alike, each in a cache of its own.
//! - Anthropic caches at explicit breakpoints (blocks with `cache_control`): a request writes the
//!   prefix ending at each of its breakpoints, and reads the longest earlier write that ends at one
//!   of its breakpoints or at one of the few block boundaries before it.
//!
//! Tokens are characters / 4, like every other estimate of the mock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Bound;

use serde_json::Value;

use crate::Wire;
use crate::conversation::role;
use crate::script::PromptCache;

/// What the cache did for one request, in tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUsage {
    /// Tokens read from the cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`).
    pub(crate) read: u64,
    /// Tokens written to the cache (Anthropic `cache_creation_input_tokens`; always 0 on OpenAI,
    /// which does not report writes).
    pub(crate) creation: u64,
}

/// A request in the form its wire's cache compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Canonical {
    /// OpenAI: the tools JSON (when the request has tools), then each message, each as canonical
    /// JSON (keys sorted, no spaces). Messages are objects and `tools` is an array, and no such
    /// text is a proper prefix of another, so a common prefix never runs on past the first
    /// segment that differs.
    OpenAi {
        /// The request's model.
        model: String,
        /// The canonical segments, in order.
        segments: Vec<String>,
    },
    /// OpenAI Responses: the tools JSON (when present), the `instructions` (when present), then
    /// each input item (a string `input` is one segment), each as canonical JSON. Like
    /// [`Canonical::OpenAi`], no segment text is a proper prefix of another.
    Responses {
        /// The request's model.
        model: String,
        /// The canonical segments, in order.
        segments: Vec<String>,
    },
    /// Anthropic: each tool, each system block, then each content block of each message.
    Anthropic {
        /// The request's model.
        model: String,
        /// The blocks, in cache order.
        blocks: Vec<Block>,
    },
}

/// One Anthropic block, as the cache sees the prefix that ends with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block {
    /// A hash of every block up to and including this one (their canonical JSON without
    /// `cache_control`, where each sits, and where messages start).
    prefix_hash: u64,
    /// The characters of every block up to and including this one.
    prefix_chars: usize,
    /// Whether this block carries `cache_control`.
    breakpoint: bool,
}

impl Canonical {
    /// The canonical form of a request body of `wire` (one that passed validation).
    pub(crate) fn of(wire: Wire, body: &Value) -> Canonical {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        match wire {
            Wire::OpenAi => {
                let tools = body.get("tools").filter(|tools| !tools.is_null());
                let segments = tools
                    .into_iter()
                    .chain(messages)
                    .map(|value| canonical_json(value, None))
                    .collect();
                Canonical::OpenAi { model, segments }
            }
            Wire::Anthropic => Canonical::Anthropic {
                model,
                blocks: anthropic_blocks(body, messages),
            },
            Wire::Responses => {
                let tools = body.get("tools").filter(|tools| !tools.is_null());
                let instructions = body
                    .get("instructions")
                    .filter(|instructions| !instructions.is_null());
                let input: Vec<&Value> = match body.get("input") {
                    Some(Value::Array(items)) => items.iter().collect(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(text) => vec![text],
                };
                let segments = tools
                    .into_iter()
                    .chain(instructions)
                    .chain(input)
                    .map(|value| canonical_json(value, None))
                    .collect();
                Canonical::Responses { model, segments }
            }
        }
    }
}

/// The Anthropic blocks in cache order: tools, system, then messages.
fn anthropic_blocks(body: &Value, messages: &[Value]) -> Vec<Block> {
    let mut chain = BlockChain::default();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        chain.push("tool", false, tool);
    }
    match body.get("system") {
        Some(Value::String(text)) => chain.push("system", false, &text_block(text)),
        Some(Value::Array(blocks)) => {
            for block in blocks {
                chain.push("system", false, block);
            }
        }
        _ => {}
    }
    for message in messages {
        let role = role(message);
        match message.get("content") {
            Some(Value::String(text)) => chain.push(role, true, &text_block(text)),
            Some(Value::Array(blocks)) => {
                for (position, block) in blocks.iter().enumerate() {
                    chain.push(role, position == 0, block);
                }
            }
            _ => {}
        }
    }
    chain.blocks
}

/// A string `content` or `system` counts as one text block.
fn text_block(text: &str) -> Value {
    serde_json::json!({"type": "text", "text": text})
}

/// Builds the blocks one by one, carrying the prefix hash and length along.
#[derive(Default)]
struct BlockChain {
    blocks: Vec<Block>,
}

impl BlockChain {
    /// Adds `block`, found in a `place` (`tool`, `system` or the message's role), `opens` when it
    /// is the first block of a message.
    fn push(&mut self, place: &str, opens: bool, block: &Value) {
        let text = canonical_json(block, Some("cache_control"));
        let (previous_hash, previous_chars) = self
            .blocks
            .last()
            .map_or((0, 0), |last| (last.prefix_hash, last.prefix_chars));
        let mut hasher = DefaultHasher::new();
        previous_hash.hash(&mut hasher);
        place.hash(&mut hasher);
        opens.hash(&mut hasher);
        text.hash(&mut hasher);
        let breakpoint = block
            .get("cache_control")
            .is_some_and(|control| !control.is_null());
        self.blocks.push(Block {
            prefix_hash: hasher.finish(),
            prefix_chars: previous_chars + text.chars().count(),
            breakpoint,
        });
    }
}

/// `value` as JSON with object keys sorted and no whitespace, leaving out the top-level key
/// `skip` (if any).
fn canonical_json(value: &Value, skip: Option<&str>) -> String {
    let mut out = String::new();
    write_canonical(value, skip, &mut out);
    out
}

fn write_canonical(value: &Value, skip: Option<&str>, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map
                .iter()
                .filter(|(key, _)| Some(key.as_str()) != skip)
                .collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(item, None, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, None, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn tokens(chars: usize) -> u64 {
    u64::try_from(chars / 4).unwrap_or(u64::MAX)
}

/// What one server's cache holds, per wire and model.
#[derive(Debug, Default)]
pub(crate) struct PromptCacheState {
    /// Every earlier OpenAI chat request's segments, per model.
    openai: HashMap<String, PrefixTree>,
    /// Every earlier OpenAI Responses request's segments, per model.
    responses: HashMap<String, PrefixTree>,
    /// Every earlier Anthropic write, per model: (blocks in the prefix, prefix hash).
    anthropic: HashMap<String, HashSet<(usize, u64)>>,
}

impl PromptCacheState {
    /// Counts what `request` reads from (and, on Anthropic, writes to) the cache left by earlier
    /// requests of its model, then remembers it for later ones.
    pub(crate) fn serve(&mut self, config: &PromptCache, request: Canonical) -> CacheUsage {
        match request {
            Canonical::OpenAi { model, segments } => {
                openai_usage(self.openai.entry(model).or_default(), config, segments)
            }
            Canonical::Responses { model, segments } => {
                openai_usage(self.responses.entry(model).or_default(), config, segments)
            }
            Canonical::Anthropic { model, blocks } => {
                let writes = self.anthropic.entry(model).or_default();
                let usage = anthropic_usage(writes, &blocks, config.anthropic_lookback);
                writes.extend(
                    blocks
                        .iter()
                        .enumerate()
                        .filter(|(_, block)| block.breakpoint)
                        .map(|(index, block)| (index + 1, block.prefix_hash)),
                );
                usage
            }
        }
    }
}

/// OpenAI's automatic cache: the longest common prefix with an earlier request of `tree`, rounded
/// down to `openai_increment` and counted only from `openai_min_tokens` on; then `segments` are
/// remembered.
fn openai_usage(tree: &mut PrefixTree, config: &PromptCache, segments: Vec<String>) -> CacheUsage {
    let cached = tokens(tree.longest_common_prefix(&segments));
    tree.insert(segments);
    let rounded = cached - cached % config.openai_increment.get();
    CacheUsage {
        read: if rounded < config.openai_min_tokens {
            0
        } else {
            rounded
        },
        creation: 0,
    }
}

/// The read is the longest earlier write ending at a breakpoint or up to `lookback` block
/// boundaries before one; the creation is everything after the read up to the last breakpoint.
fn anthropic_usage(
    writes: &HashSet<(usize, u64)>,
    blocks: &[Block],
    lookback: usize,
) -> CacheUsage {
    let breakpoints: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, block)| block.breakpoint)
        .map(|(index, _)| index)
        .collect();
    let Some(&last) = breakpoints.last() else {
        return CacheUsage::default();
    };
    // Windows of later breakpoints reach further, so the first hit, last breakpoint first and
    // each window from its end, is the longest.
    let hit = breakpoints.iter().rev().find_map(|&breakpoint| {
        (breakpoint.saturating_sub(lookback)..=breakpoint)
            .rev()
            .find(|&end| {
                blocks
                    .get(end)
                    .is_some_and(|block| writes.contains(&(end + 1, block.prefix_hash)))
            })
    });
    let chars_through = |index: usize| blocks.get(index).map_or(0, |block| block.prefix_chars);
    let read = hit.map_or(0, |end| tokens(chars_through(end)));
    CacheUsage {
        read,
        creation: tokens(chars_through(last)).saturating_sub(read),
    }
}

/// The OpenAI segments of earlier requests as a tree: a path from the root per request, one
/// node per segment. Nodes live in one arena so that a long conversation is no deep recursion.
#[derive(Debug)]
struct PrefixTree {
    /// Each node's children, by their segment text. Node 0 is the root.
    nodes: Vec<BTreeMap<String, usize>>,
}

impl Default for PrefixTree {
    fn default() -> Self {
        PrefixTree {
            nodes: vec![BTreeMap::new()],
        }
    }
}

impl PrefixTree {
    /// The characters of the longest common prefix of `segments` (concatenated) with any stored
    /// request's. Whole segments match along the tree; at the first segment that differs, the
    /// stored segments closest to it in sort order are the ones sharing the longest prefix with it.
    fn longest_common_prefix(&self, segments: &[String]) -> usize {
        let mut node = 0;
        let mut chars = 0;
        for segment in segments {
            let Some(children) = self.nodes.get(node) else {
                break;
            };
            if let Some(&next) = children.get(segment) {
                chars += segment.chars().count();
                node = next;
                continue;
            }
            let before = children
                .range::<str, _>((Bound::Unbounded, Bound::Excluded(segment.as_str())))
                .next_back();
            let after = children
                .range::<str, _>((Bound::Excluded(segment.as_str()), Bound::Unbounded))
                .next();
            chars += before
                .into_iter()
                .chain(after)
                .map(|(stored, _)| common_prefix_chars(stored, segment))
                .max()
                .unwrap_or(0);
            break;
        }
        chars
    }

    /// Stores a request's segments.
    fn insert(&mut self, segments: Vec<String>) {
        let mut node = 0;
        for segment in segments {
            let fresh = self.nodes.len();
            let Some(children) = self.nodes.get_mut(node) else {
                return;
            };
            node = *children.entry(segment).or_insert(fresh);
            if node == fresh {
                self.nodes.push(BTreeMap::new());
            }
        }
    }
}

fn common_prefix_chars(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use serde_json::json;

    use super::*;

    fn config(min_tokens: u64, increment: u64, lookback: usize) -> PromptCache {
        PromptCache {
            enabled: true,
            openai_min_tokens: min_tokens,
            openai_increment: NonZeroU64::new(increment).expect("non-zero"),
            anthropic_lookback: lookback,
        }
    }

    fn openai(messages: &[Value]) -> Canonical {
        Canonical::of(
            Wire::OpenAi,
            &json!({"model": "gpt", "messages": messages, "tools": [{"type": "function", "function": {"name": "read"}}]}),
        )
    }

    fn segment_chars(request: &Canonical) -> Vec<usize> {
        match request {
            Canonical::OpenAi { segments, .. } | Canonical::Responses { segments, .. } => {
                segments.iter().map(|s| s.chars().count()).collect()
            }
            Canonical::Anthropic { .. } => panic!("an OpenAI request"),
        }
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": text})
    }

    fn assistant(text: &str) -> Value {
        json!({"role": "assistant", "content": text})
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_the_skipped_top_level_key() {
        let value = json!({"b": 1, "a": {"z": [true, null], "cache_control": "kept"}, "cache_control": {"type": "ephemeral"}});
        assert_eq!(
            canonical_json(&value, Some("cache_control")),
            r#"{"a":{"cache_control":"kept","z":[true,null]},"b":1}"#
        );
        assert_eq!(canonical_json(&json!("é\n"), None), "\"é\\n\"");
    }

    #[test]
    fn openai_request_extending_an_earlier_one_reads_its_whole_prompt() {
        let mut cache = PromptCacheState::default();
        let exact = config(0, 1, 20);
        let first = openai(&[user(&"first question ".repeat(20))]);
        let first_chars: usize = segment_chars(&first).iter().sum();
        assert_eq!(cache.serve(&exact, first), CacheUsage::default());

        let second = openai(&[
            user(&"first question ".repeat(20)),
            assistant("an answer"),
            user("a follow-up"),
        ]);
        assert_eq!(
            cache.serve(&exact, second),
            CacheUsage {
                read: tokens(first_chars),
                creation: 0
            }
        );
    }

    #[test]
    fn openai_common_prefix_counts_characters_inside_a_differing_segment() {
        let mut cache = PromptCacheState::default();
        let exact = config(0, 1, 20);
        cache.serve(&exact, openai(&[user("shared start, then one ending")]));
        cache.serve(&exact, openai(&[user("zzz: something else entirely")]));
        let request = openai(&[user("shared start, then another ending")]);
        let chars = segment_chars(&request);
        // The tools segment, then `{"content":"shared start, then ` ("one" and "another" differ).
        let prefix = chars[0] + "{\"content\":\"shared start, then ".chars().count();
        assert_eq!(cache.serve(&exact, request).read, tokens(prefix));
    }

    #[test]
    fn openai_cache_is_per_model() {
        let mut cache = PromptCacheState::default();
        let exact = config(0, 1, 20);
        let body = |model: &str| {
            Canonical::of(
                Wire::OpenAi,
                &json!({"model": model, "messages": [user(&"x".repeat(200))]}),
            )
        };
        cache.serve(&exact, body("a"));
        assert_eq!(cache.serve(&exact, body("b")).read, 0);
        assert!(cache.serve(&exact, body("a")).read > 0);
    }

    #[test]
    fn openai_cached_tokens_are_rounded_down_and_need_the_minimum() {
        let messages = [user(&"y".repeat(1000))];
        let chars: usize = segment_chars(&openai(&messages)).iter().sum();
        let full = tokens(chars);
        let read = |config: &PromptCache| {
            let mut cache = PromptCacheState::default();
            cache.serve(config, openai(&messages));
            cache.serve(config, openai(&messages)).read
        };
        assert_eq!(read(&config(0, 1, 20)), full);
        assert_eq!(read(&config(0, 64, 20)), full / 64 * 64);
        assert!(full / 64 * 64 < full, "the example must need rounding");
        assert_eq!(read(&config(full / 64 * 64, 64, 20)), full / 64 * 64);
        assert_eq!(read(&config(full / 64 * 64 + 1, 64, 20)), 0);
        assert_eq!(
            read(&PromptCache::default()),
            0,
            "below OpenAI's 1024 tokens"
        );
    }

    fn responses(instructions: &str, items: &[Value]) -> Canonical {
        Canonical::of(
            Wire::Responses,
            &json!({
                "model": "gpt",
                "instructions": instructions,
                "input": items,
                "tools": [{"type": "function", "name": "read", "parameters": {}}],
            }),
        )
    }

    fn input_message(role: &str, text: &str) -> Value {
        let part = if role == "assistant" {
            "output_text"
        } else {
            "input_text"
        };
        json!({"type": "message", "role": role, "content": [{"type": part, "text": text}]})
    }

    #[test]
    fn responses_segments_are_tools_instructions_then_input_items() {
        let request = responses("Be brief.", &[input_message("user", "hi")]);
        let Canonical::Responses { model, segments } = &request else {
            panic!("a Responses request");
        };
        assert_eq!(model, "gpt");
        assert_eq!(
            segments,
            &[
                r#"[{"name":"read","parameters":{},"type":"function"}]"#.to_string(),
                r#""Be brief.""#.to_string(),
                r#"{"content":[{"text":"hi","type":"input_text"}],"role":"user","type":"message"}"#
                    .to_string(),
            ]
        );
        let plain = Canonical::of(Wire::Responses, &json!({"model": "gpt", "input": "hello"}));
        assert_eq!(
            plain,
            Canonical::Responses {
                model: "gpt".into(),
                segments: vec![r#""hello""#.into()]
            }
        );
    }

    #[test]
    fn responses_request_extending_an_earlier_one_reads_its_whole_prompt_apart_from_chat() {
        let mut cache = PromptCacheState::default();
        let exact = config(0, 1, 20);
        let question = input_message("user", &"first question ".repeat(20));
        let first = responses("Be brief.", std::slice::from_ref(&question));
        let first_chars: usize = segment_chars(&first).iter().sum();
        assert_eq!(cache.serve(&exact, first), CacheUsage::default());
        let second = responses(
            "Be brief.",
            &[
                question.clone(),
                json!({"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"}),
                json!({"type": "function_call_output", "call_id": "c1", "output": "A"}),
            ],
        );
        assert_eq!(cache.serve(&exact, second).read, tokens(first_chars));
        // Other instructions change the prefix right after the tools.
        let changed = responses("Be thorough.", std::slice::from_ref(&question));
        let tools_chars = segment_chars(&changed)[0] + r#""Be "#.chars().count();
        assert_eq!(cache.serve(&exact, changed).read, tokens(tools_chars));
        // A chat request of the same model shares nothing with the Responses cache.
        assert_eq!(
            cache.serve(&exact, openai(&[user(&"first question ".repeat(20))])),
            CacheUsage::default()
        );
    }

    fn text(text: &str, breakpoint: bool) -> Value {
        if breakpoint {
            json!({"type": "text", "text": text, "cache_control": {"type": "ephemeral"}})
        } else {
            json!({"type": "text", "text": text})
        }
    }

    /// An Anthropic request with a system prompt (a breakpoint) and user/assistant turns, each
    /// turn one text block; `breakpoint_at` marks that turn's block.
    fn anthropic(turns: usize, breakpoint_at: Option<usize>) -> Canonical {
        let messages: Vec<Value> = (0..turns)
            .map(|turn| {
                let role = if turn % 2 == 0 { "user" } else { "assistant" };
                json!({"role": role, "content": [text(&format!("turn {turn}: {}", "words ".repeat(10)), breakpoint_at == Some(turn))]})
            })
            .collect();
        Canonical::of(
            Wire::Anthropic,
            &json!({
                "model": "claude",
                "max_tokens": 100,
                "system": [text(&"You are baton. ".repeat(10), true)],
                "messages": messages,
            }),
        )
    }

    fn prefix_tokens(request: &Canonical, blocks_in_prefix: usize) -> u64 {
        match request {
            Canonical::Anthropic { blocks, .. } => {
                tokens(blocks[blocks_in_prefix - 1].prefix_chars)
            }
            Canonical::OpenAi { .. } | Canonical::Responses { .. } => {
                panic!("an Anthropic request")
            }
        }
    }

    #[test]
    fn anthropic_first_request_writes_up_to_its_last_breakpoint() {
        let mut cache = PromptCacheState::default();
        let request = anthropic(3, Some(2));
        // Blocks: system, turn 0, turn 1, turn 2 (the breakpoint).
        let written = prefix_tokens(&request, 4);
        assert_eq!(
            cache.serve(&config(0, 1, 20), request),
            CacheUsage {
                read: 0,
                creation: written
            }
        );
    }

    #[test]
    fn anthropic_breakpoint_moved_to_the_new_end_reads_the_old_prefix_and_writes_the_rest() {
        let mut cache = PromptCacheState::default();
        let settings = config(0, 1, 20);
        cache.serve(&settings, anthropic(3, Some(2)));
        let second = anthropic(5, Some(4));
        let read = prefix_tokens(&second, 4);
        let through_last = prefix_tokens(&second, 6);
        assert_eq!(
            cache.serve(&settings, second),
            CacheUsage {
                read,
                creation: through_last - read
            }
        );
        // The very same request again reads everything up to its breakpoint.
        let again = anthropic(5, Some(4));
        let all = prefix_tokens(&again, 6);
        assert_eq!(
            cache.serve(&settings, again),
            CacheUsage {
                read: all,
                creation: 0
            }
        );
    }

    #[test]
    fn anthropic_lookback_limits_how_far_before_a_breakpoint_a_write_is_found() {
        let settings = config(0, 1, 3);
        let run = |turns: usize| {
            let mut cache = PromptCacheState::default();
            cache.serve(&settings, anthropic(1, Some(0)));
            let request = anthropic(turns, Some(turns - 1));
            (prefix_tokens(&request, 2), cache.serve(&settings, request))
        };
        // The old write ends with block 1 (turn 0); the new breakpoint is block `turns`.
        let (old, within) = run(4);
        assert_eq!(within.read, old, "3 boundaries back is within the lookback");
        // Four boundaries back is too far: only the system prompt's own breakpoint (block 0,
        // written too) is found then.
        let (_, beyond) = run(5);
        assert_eq!(beyond.read, prefix_tokens(&anthropic(5, Some(4)), 1));
    }

    #[test]
    fn anthropic_earlier_breakpoints_are_looked_up_too_and_cache_control_is_not_compared() {
        let settings = config(0, 1, 0);
        let mut cache = PromptCacheState::default();
        cache.serve(&settings, anthropic(2, Some(1)));
        // Same blocks, but the breakpoint is on turn 3: with no lookback only the system prompt's
        // breakpoint and turn 3 are checked; turn 3 was never written, the system prompt was.
        let request = anthropic(4, Some(3));
        let system = prefix_tokens(&request, 1);
        let through_last = prefix_tokens(&request, 5);
        assert_eq!(
            cache.serve(&settings, request),
            CacheUsage {
                read: system,
                creation: through_last - system
            }
        );
        // A write at turn 0 (with cache_control there) is found from a breakpoint on turn 1,
        // one boundary later, although turn 0 carries no cache_control this time.
        let settings = config(0, 1, 1);
        let mut cache = PromptCacheState::default();
        cache.serve(&settings, anthropic(2, Some(0)));
        let moved = anthropic(2, Some(1));
        let through_turn_0 = prefix_tokens(&moved, 2);
        let through_turn_1 = prefix_tokens(&moved, 3);
        assert_eq!(
            cache.serve(&settings, moved),
            CacheUsage {
                read: through_turn_0,
                creation: through_turn_1 - through_turn_0
            }
        );
    }

    #[test]
    fn anthropic_request_without_breakpoints_neither_reads_nor_writes() {
        let settings = config(0, 1, 20);
        let mut cache = PromptCacheState::default();
        let plain = |text: &str| {
            Canonical::of(
                Wire::Anthropic,
                &json!({"model": "claude", "max_tokens": 1, "messages": [{"role": "user", "content": text}]}),
            )
        };
        assert_eq!(
            cache.serve(&settings, plain("hello")),
            CacheUsage::default()
        );
        assert_eq!(
            cache.serve(&settings, plain("hello")),
            CacheUsage::default()
        );
    }

    #[test]
    fn anthropic_blocks_follow_cache_order_and_message_boundaries() {
        let body = json!({
            "model": "claude",
            "max_tokens": 1,
            "tools": [{"name": "read", "input_schema": {}, "cache_control": {"type": "ephemeral"}}],
            "system": "sys",
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": [text("b", false), text("c", false)]},
            ],
        });
        let Canonical::Anthropic { blocks, .. } = Canonical::of(Wire::Anthropic, &body) else {
            panic!("an Anthropic request");
        };
        let breakpoints: Vec<bool> = blocks.iter().map(|block| block.breakpoint).collect();
        assert_eq!(breakpoints, [true, false, false, false, false]);
        let tool_chars = r#"{"input_schema":{},"name":"read"}"#.chars().count();
        assert_eq!(blocks[0].prefix_chars, tool_chars);
        assert_eq!(
            blocks[1].prefix_chars,
            tool_chars + r#"{"text":"sys","type":"text"}"#.chars().count()
        );
        // One message of blocks b, c differs from two messages b and c.
        let split = json!({
            "model": "claude",
            "max_tokens": 1,
            "messages": [
                {"role": "user", "content": [text("b", false)]},
                {"role": "user", "content": [text("c", false)]},
            ],
        });
        let joined = json!({
            "model": "claude",
            "max_tokens": 1,
            "messages": [{"role": "user", "content": [text("b", false), text("c", false)]}],
        });
        assert_ne!(
            Canonical::of(Wire::Anthropic, &split),
            Canonical::of(Wire::Anthropic, &joined)
        );
    }
}
