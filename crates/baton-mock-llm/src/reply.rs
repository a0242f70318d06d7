//! A scripted reply made concrete for one request: ids assigned, arguments rendered, usage settled.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Wire;
use crate::cache::CacheUsage;
use crate::issued::Issued;
use crate::script::Reply;

/// Counters for the ids a server hands out, so ids are unique and predictable per server.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    messages: AtomicU64,
    tool_calls: AtomicU64,
    /// Thinking signatures and encrypted reasoning.
    reasoning: AtomicU64,
}

impl Ids {
    fn next(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Token counts to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenUsage {
    /// The whole prompt, cached parts included.
    pub(crate) input: u64,
    pub(crate) output: u64,
    /// What the prompt cache read and wrote of `input`: the script's `usage.cached_tokens` (read,
    /// nothing written) or else the simulated prompt cache's figures for an estimated input.
    /// `None` when neither applies, and then the wires report no cache figures (the Responses
    /// wire reports `cached_tokens: 0`, as it always carries the field).
    pub(crate) cache: Option<CacheUsage>,
    /// Of `output`, spent reasoning.
    pub(crate) reasoning: u64,
}

/// The reasoning of a reply, with the token that vouches for it on wires that send one back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedReasoning {
    pub(crate) text: String,
    /// Anthropic: the thinking block's signature (`sig_<n>`); Responses: the item's encrypted
    /// content (`enc_mock_<n>`); OpenAI chat: none.
    pub(crate) token: Option<String>,
}

/// A tool call ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedCall {
    pub(crate) id: String,
    pub(crate) name: String,
    /// The argument JSON text (possibly malformed on purpose).
    pub(crate) arguments: String,
}

/// Everything a renderer needs to write one reply.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// `chatcmpl-mock-<n>` or `msg_mock_<n>`.
    pub(crate) message_id: String,
    /// The request's model, echoed.
    pub(crate) model: String,
    /// Unix seconds.
    pub(crate) created: u64,
    /// Non-empty assistant text, if any.
    pub(crate) text: Option<String>,
    /// Non-empty reasoning, if any.
    pub(crate) reasoning: Option<PreparedReasoning>,
    /// Anthropic: the data of a redacted thinking block, if any.
    pub(crate) redacted_thinking: Option<String>,
    pub(crate) tool_calls: Vec<PreparedCall>,
    pub(crate) usage: TokenUsage,
    /// The scripted override, if any; renderers apply their wire's default otherwise.
    pub(crate) stop_reason: Option<String>,
}

/// The token estimate for `chars` characters: `chars / 4`, at least 1.
pub(crate) fn estimate_tokens(chars: usize) -> u64 {
    u64::try_from(chars / 4).unwrap_or(u64::MAX).max(1)
}

/// Where a reply's ids and reasoning tokens come from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Issuer<'a> {
    pub(crate) ids: &'a Ids,
    pub(crate) issued: &'a Issued,
}

/// The reply's reasoning, with a token issued for it where the wire sends one back.
fn prepare_reasoning(wire: Wire, text: &str, issuer: Issuer<'_>) -> PreparedReasoning {
    let token = match wire {
        Wire::OpenAi => None,
        Wire::Anthropic => Some(format!("sig_{}", Ids::next(&issuer.ids.reasoning))),
        Wire::Responses => Some(format!("enc_mock_{}", Ids::next(&issuer.ids.reasoning))),
    };
    if let Some(token) = &token {
        issuer.issued.issue(token, text);
    }
    PreparedReasoning {
        text: text.to_string(),
        token,
    }
}

/// Makes `reply` concrete for a request of `wire` whose input is estimated at `estimated_input`
/// tokens, of which the prompt cache (when simulated) read and wrote `cache`.
pub(crate) fn prepare(
    wire: Wire,
    reply: &Reply,
    model: &str,
    estimated_input: u64,
    cache: Option<CacheUsage>,
    issuer: Issuer<'_>,
) -> Prepared {
    let ids = issuer.ids;
    let message_number = Ids::next(&ids.messages);
    let message_id = match wire {
        Wire::OpenAi => format!("chatcmpl-mock-{message_number}"),
        Wire::Anthropic => format!("msg_mock_{message_number}"),
        Wire::Responses => format!("resp_mock_{message_number}"),
    };
    let tool_calls: Vec<PreparedCall> = reply
        .tool_calls
        .iter()
        .map(|call| PreparedCall {
            id: call.id.clone().unwrap_or_else(|| {
                let number = Ids::next(&ids.tool_calls);
                match wire {
                    Wire::OpenAi | Wire::Responses => format!("call_{number}"),
                    Wire::Anthropic => format!("toolu_{number}"),
                }
            }),
            name: call.name.clone(),
            arguments: call.arguments.to_json_text(),
        })
        .collect();
    let text = reply.text.clone().filter(|text| !text.is_empty());
    let reasoning = reply
        .reasoning
        .as_deref()
        .filter(|text| !text.is_empty())
        .map(|text| prepare_reasoning(wire, text, issuer));
    let redacted_thinking = reply
        .redacted_thinking
        .clone()
        .filter(|data| wire == Wire::Anthropic && !data.is_empty());
    if let Some(data) = &redacted_thinking {
        issuer.issued.issue(data, "");
    }
    let reasoning_chars = reasoning
        .as_ref()
        .map_or(0, |reasoning| reasoning.text.chars().count());
    let reply_chars = text.as_deref().map_or(0, |text| text.chars().count())
        + reasoning_chars
        + tool_calls
            .iter()
            .map(|call| call.name.chars().count() + call.arguments.chars().count())
            .sum::<usize>();
    let scripted = reply.usage.clone().unwrap_or_default();
    let usage = TokenUsage {
        input: scripted.input_tokens.unwrap_or(estimated_input),
        output: scripted
            .output_tokens
            .unwrap_or_else(|| estimate_tokens(reply_chars)),
        cache: match scripted.cached_tokens {
            // Scripted figures are reported as written.
            Some(read) => Some(CacheUsage { read, creation: 0 }),
            // The simulated cache only splits an estimated input; its parts never exceed the
            // whole.
            None => cache
                .filter(|_| scripted.input_tokens.is_none())
                .map(|cache| {
                    let read = cache.read.min(estimated_input);
                    CacheUsage {
                        read,
                        creation: cache.creation.min(estimated_input - read),
                    }
                }),
        },
        reasoning: scripted.reasoning_tokens.unwrap_or_else(|| {
            if reasoning_chars > 0 {
                estimate_tokens(reasoning_chars)
            } else {
                0
            }
        }),
    };
    Prepared {
        message_id,
        model: model.to_string(),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs()),
        text,
        reasoning,
        redacted_thinking,
        tool_calls,
        usage,
        stop_reason: reply.stop_reason.clone(),
    }
}

/// Takes one item from each list in turn (0, 1, 2, 0, 1, 2, ...) until all are empty.
pub(crate) fn round_robin<T>(lists: Vec<Vec<T>>) -> Vec<T> {
    let total = lists.iter().map(Vec::len).sum();
    let mut iterators: Vec<_> = lists.into_iter().map(Vec::into_iter).collect();
    let mut merged = Vec::with_capacity(total);
    while merged.len() < total {
        for iterator in &mut iterators {
            if let Some(item) = iterator.next() {
                merged.push(item);
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Script;

    fn issuer<'a>(ids: &'a Ids, issued: &'a Issued) -> Issuer<'a> {
        Issuer { ids, issued }
    }

    fn reply(toml_reply: &str) -> Reply {
        let script =
            Script::from_toml(&format!("[[rules]]\nreply = {toml_reply}\n")).expect("valid script");
        script.rules[0].reply.clone()
    }

    #[test]
    fn ids_are_generated_per_wire_and_count_up() {
        let ids = Ids::default();
        let issued = Issued::default();
        let ids = issuer(&ids, &issued);
        let r = reply(
            "{ tool_calls = [{ name = \"a\" }, { id = \"fixed\", name = \"b\" }, { name = \"c\" }] }",
        );
        let first = prepare(Wire::OpenAi, &r, "m", 10, None, ids);
        let ids_of = |p: &Prepared| {
            p.tool_calls
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(first.message_id, "chatcmpl-mock-1");
        assert_eq!(ids_of(&first), ["call_1", "fixed", "call_2"]);
        let second = prepare(Wire::Anthropic, &r, "m", 10, None, ids);
        assert_eq!(second.message_id, "msg_mock_2");
        assert_eq!(ids_of(&second), ["toolu_3", "fixed", "toolu_4"]);
        let third = prepare(Wire::Responses, &r, "m", 10, None, ids);
        assert_eq!(third.message_id, "resp_mock_3");
        assert_eq!(ids_of(&third), ["call_5", "fixed", "call_6"]);
    }

    #[test]
    fn usage_is_estimated_unless_scripted() {
        let ids = Ids::default();
        let issued = Issued::default();
        let ids = issuer(&ids, &issued);
        let estimated = prepare(
            Wire::OpenAi,
            &reply("{ text = \"12345678\" }"),
            "m",
            estimate_tokens(400),
            None,
            ids,
        );
        assert_eq!(
            estimated.usage,
            TokenUsage {
                input: 100,
                output: 2,
                cache: None,
                reasoning: 0,
            }
        );
        let tiny = prepare(
            Wire::OpenAi,
            &reply("{ text = \"1\" }"),
            "m",
            estimate_tokens(3),
            None,
            ids,
        );
        assert_eq!(
            tiny.usage,
            TokenUsage {
                input: 1,
                output: 1,
                cache: None,
                reasoning: 0,
            }
        );
        let scripted = prepare(
            Wire::OpenAi,
            &reply("{ text = \"x\", usage = { input_tokens = 7, output_tokens = 9 } }"),
            "m",
            400,
            Some(CacheUsage {
                read: 300,
                creation: 0,
            }),
            ids,
        );
        assert_eq!(
            scripted.usage,
            TokenUsage {
                input: 7,
                output: 9,
                cache: None,
                reasoning: 0,
            },
            "a scripted input leaves the simulated cache out"
        );
    }

    #[test]
    fn cache_figures_split_an_estimated_input_and_never_exceed_it() {
        let ids = Ids::default();
        let issued = Issued::default();
        let cached = |input: u64, read: u64, creation: u64| {
            prepare(
                Wire::Anthropic,
                &reply("{ text = \"x\" }"),
                "m",
                input,
                Some(CacheUsage { read, creation }),
                issuer(&ids, &issued),
            )
            .usage
            .cache
        };
        assert_eq!(
            cached(100, 60, 30),
            Some(CacheUsage {
                read: 60,
                creation: 30
            })
        );
        assert_eq!(
            cached(100, 90, 30),
            Some(CacheUsage {
                read: 90,
                creation: 10
            })
        );
        assert_eq!(
            cached(100, 130, 5),
            Some(CacheUsage {
                read: 100,
                creation: 0
            })
        );
    }

    #[test]
    fn scripted_cached_tokens_replace_the_simulated_figures() {
        let ids = Ids::default();
        let issued = Issued::default();
        let simulated = Some(CacheUsage {
            read: 60,
            creation: 30,
        });
        let scripted = |usage: &str, cache: Option<CacheUsage>| {
            prepare(
                Wire::Anthropic,
                &reply(&format!("{{ text = \"x\", usage = {usage} }}")),
                "m",
                100,
                cache,
                issuer(&ids, &issued),
            )
            .usage
        };
        let read_only = Some(CacheUsage {
            read: 80,
            creation: 0,
        });
        assert_eq!(
            scripted("{ cached_tokens = 80 }", simulated).cache,
            read_only
        );
        assert_eq!(scripted("{ cached_tokens = 80 }", None).cache, read_only);
        let both = scripted("{ input_tokens = 300, cached_tokens = 256 }", simulated);
        assert_eq!(both.input, 300);
        assert_eq!(
            both.cache,
            Some(CacheUsage {
                read: 256,
                creation: 0
            })
        );
    }

    #[test]
    fn empty_text_counts_as_no_text() {
        let prepared = prepare(
            Wire::OpenAi,
            &reply("{ text = \"\" }"),
            "m",
            1,
            None,
            issuer(&Ids::default(), &Issued::default()),
        );
        assert!(prepared.text.is_none());
    }

    #[test]
    fn reasoning_tokens_are_issued_per_wire_and_count_in_the_usage() {
        let ids = Ids::default();
        let issued = Issued::default();
        let r =
            reply("{ reasoning = \"12345678\", redacted_thinking = \"opaque\", text = \"abcd\" }");
        let anthropic = prepare(Wire::Anthropic, &r, "m", 1, None, issuer(&ids, &issued));
        let thought = anthropic.reasoning.expect("reasoning");
        assert_eq!(thought.token.as_deref(), Some("sig_1"));
        assert!(issued.vouches("sig_1", Some("12345678")));
        assert_eq!(anthropic.redacted_thinking.as_deref(), Some("opaque"));
        assert!(issued.vouches("opaque", None));
        assert_eq!(anthropic.usage.reasoning, 2);
        assert_eq!(anthropic.usage.output, 3, "reasoning counts as output");

        let responses = prepare(Wire::Responses, &r, "m", 1, None, issuer(&ids, &issued));
        assert_eq!(responses.message_id, "resp_mock_2");
        assert_eq!(
            responses.reasoning.and_then(|r| r.token).as_deref(),
            Some("enc_mock_2")
        );
        assert!(responses.redacted_thinking.is_none());
        let openai = prepare(Wire::OpenAi, &r, "m", 1, None, issuer(&ids, &issued));
        assert_eq!(openai.reasoning.and_then(|r| r.token), None);
    }

    #[test]
    fn round_robin_interleaves_uneven_lists() {
        assert_eq!(
            round_robin(vec![vec![1, 2, 3], vec![10], vec![20, 21]]),
            [1, 10, 20, 2, 21, 3]
        );
        assert!(round_robin::<u8>(vec![]).is_empty());
    }
}
