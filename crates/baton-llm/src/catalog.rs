//! What well-known models cost and how much context they hold.
//!
//! The built-in figures are approximate list prices (US dollars per million
//! tokens) as published by the vendors at the time of writing; providers
//! change them, and resellers (OpenRouter...) add margins. Config entries
//! (`[models."provider/model"]`) add models or override these.

use crate::ModelRef;
use baton_protocol::Usage;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A model's context window and prices.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// Tokens the model can read and write in one call.
    pub context_window: u64,
    /// The most tokens one answer may have; `None` when unknown (the
    /// configured `[agent] max_output_tokens` is then what is reserved).
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    /// Dollars per million uncached input tokens; `None` when unknown
    /// (such usage costs nothing in baton's figures).
    #[serde(default)]
    pub input_per_mtok: Option<f64>,
    /// Dollars per million output tokens; `None` when unknown.
    #[serde(default)]
    pub output_per_mtok: Option<f64>,
    /// Dollars per million input tokens read from the cache (defaults to
    /// the input price).
    #[serde(default)]
    pub cache_read_per_mtok: Option<f64>,
    /// Dollars per million input tokens written to the cache (defaults to
    /// the input price).
    #[serde(default)]
    pub cache_write_per_mtok: Option<f64>,
    /// Whether the model reads images (an MCP tool's screenshot); `None`
    /// when unknown, which sends text only.
    #[serde(default)]
    pub images: Option<bool>,
}

impl ModelInfo {
    /// What `usage` costs, in US dollars. `usage.input_tokens` includes
    /// cached tokens, which are priced at the cache rates.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cache_read_tokens + usage.cache_write_tokens;
        let uncached = usage.input_tokens.saturating_sub(cached);
        let per_token = |tokens: u64, per_mtok: Option<f64>| {
            tokens as f64 * per_mtok.unwrap_or(0.0) / 1_000_000.0
        };
        per_token(uncached, self.input_per_mtok)
            + per_token(
                usage.cache_read_tokens,
                self.cache_read_per_mtok.or(self.input_per_mtok),
            )
            + per_token(
                usage.cache_write_tokens,
                self.cache_write_per_mtok.or(self.input_per_mtok),
            )
            + per_token(usage.output_tokens, self.output_per_mtok)
    }
}

/// Model facts, keyed by bare model name (`claude-sonnet-4`) or by
/// `provider/model`.
#[derive(Clone, Debug)]
pub struct Catalog {
    entries: BTreeMap<String, ModelInfo>,
}

/// The built-in models with approximate list prices per million tokens,
/// under the name of the provider that serves them.
const BUILTIN: &[(&str, &[Row])] = &[("openai", OPENAI), ("anthropic", ANTHROPIC)];

/// The built-in models that read no images.
const TEXT_ONLY: &[&str] = &["o3-mini"];

/// (name, context window, max output, input, output, cache read, cache
/// write).
type Row = (&'static str, u64, u64, f64, f64, Option<f64>, Option<f64>);

/// OpenAI's models (served by the `openai` provider).
const OPENAI: &[Row] = &[
    ("gpt-4o", 128_000, 16_384, 2.50, 10.00, Some(1.25), None),
    (
        "gpt-4o-mini",
        128_000,
        16_384,
        0.15,
        0.60,
        Some(0.075),
        None,
    ),
    ("gpt-4.1", 1_047_576, 32_768, 2.00, 8.00, Some(0.50), None),
    (
        "gpt-4.1-mini",
        1_047_576,
        32_768,
        0.40,
        1.60,
        Some(0.10),
        None,
    ),
    (
        "gpt-4.1-nano",
        1_047_576,
        32_768,
        0.10,
        0.40,
        Some(0.025),
        None,
    ),
    ("o3", 200_000, 100_000, 2.00, 8.00, Some(0.50), None),
    ("o3-mini", 200_000, 100_000, 1.10, 4.40, Some(0.55), None),
    ("o4-mini", 200_000, 100_000, 1.10, 4.40, Some(0.275), None),
    ("gpt-5", 400_000, 128_000, 1.25, 10.00, Some(0.125), None),
    (
        "gpt-5-mini",
        400_000,
        128_000,
        0.25,
        2.00,
        Some(0.025),
        None,
    ),
    (
        "gpt-5-nano",
        400_000,
        128_000,
        0.05,
        0.40,
        Some(0.005),
        None,
    ),
];

/// Anthropic's models (served by the `anthropic` provider).
const ANTHROPIC: &[Row] = &[
    (
        "claude-opus-4",
        200_000,
        32_000,
        15.00,
        75.00,
        Some(1.50),
        Some(18.75),
    ),
    (
        "claude-opus-4-1",
        200_000,
        32_000,
        15.00,
        75.00,
        Some(1.50),
        Some(18.75),
    ),
    (
        "claude-opus-4-5",
        200_000,
        64_000,
        5.00,
        25.00,
        Some(0.50),
        Some(6.25),
    ),
    (
        "claude-sonnet-4",
        200_000,
        64_000,
        3.00,
        15.00,
        Some(0.30),
        Some(3.75),
    ),
    (
        "claude-sonnet-4-5",
        200_000,
        64_000,
        3.00,
        15.00,
        Some(0.30),
        Some(3.75),
    ),
    (
        "claude-haiku-4-5",
        200_000,
        64_000,
        1.00,
        5.00,
        Some(0.10),
        Some(1.25),
    ),
    (
        "claude-3-7-sonnet",
        200_000,
        64_000,
        3.00,
        15.00,
        Some(0.30),
        Some(3.75),
    ),
    (
        "claude-3-5-sonnet",
        200_000,
        8_192,
        3.00,
        15.00,
        Some(0.30),
        Some(3.75),
    ),
    (
        "claude-3-5-haiku",
        200_000,
        8_192,
        0.80,
        4.00,
        Some(0.08),
        Some(1.00),
    ),
];

impl Catalog {
    /// The built-in entries (approximate; see the module docs).
    pub fn builtin() -> Catalog {
        let entries = BUILTIN
            .iter()
            .flat_map(|(_, rows)| rows.iter())
            .map(
                |&(name, context_window, max_output, input, output, cache_read, cache_write)| {
                    (
                        name.to_owned(),
                        ModelInfo {
                            context_window,
                            max_output_tokens: Some(max_output),
                            input_per_mtok: Some(input),
                            output_per_mtok: Some(output),
                            cache_read_per_mtok: cache_read,
                            cache_write_per_mtok: cache_write,
                            images: Some(!TEXT_ONLY.contains(&name)),
                        },
                    )
                },
            )
            .collect();
        Catalog { entries }
    }

    /// The models the catalog names with the provider that serves them:
    /// every built-in model under its vendor's provider (`openai/gpt-4o`,
    /// `anthropic/claude-sonnet-4`), and every `provider/model` entry
    /// added; sorted by id, each once. Bare names added by overrides name
    /// no provider and are left out.
    pub fn models(&self) -> Vec<ModelRef> {
        let builtin = BUILTIN.iter().flat_map(|(provider, rows)| {
            rows.iter().map(move |row| ModelRef {
                provider: (*provider).to_owned(),
                model: row.0.to_owned(),
            })
        });
        let added = self
            .entries
            .keys()
            .filter_map(|key| ModelRef::parse(key).ok());
        let mut models: Vec<ModelRef> = builtin.chain(added).collect();
        models.sort_by_key(ModelRef::to_string);
        models.dedup();
        models
    }

    /// This catalog with `entries` added, replacing any of the same name.
    /// Keys are `provider/model` or bare model names.
    pub fn with_overrides(mut self, entries: BTreeMap<String, ModelInfo>) -> Catalog {
        for (name, info) in entries {
            self.entries.insert(name.to_lowercase(), info);
        }
        self
    }

    /// Finds a model: by `provider/model` first, then by its bare name
    /// (after the last `/`), then by the longest entry the name starts with
    /// followed by `-`, `.`, `:` or `@` (so dated names such as
    /// `claude-sonnet-4-20250514` find `claude-sonnet-4`).
    pub fn lookup(&self, model: &ModelRef) -> Option<&ModelInfo> {
        let full = model.to_string().to_lowercase();
        let bare = model.bare_model().to_lowercase();
        let candidates = [full.as_str(), bare.as_str()];
        candidates
            .iter()
            .find_map(|c| self.entries.get(*c))
            .or_else(|| candidates.iter().find_map(|c| self.longest_prefix(c)))
    }

    fn longest_prefix(&self, name: &str) -> Option<&ModelInfo> {
        self.entries
            .iter()
            .filter(|(key, _)| {
                name.strip_prefix(key.as_str())
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(|c| matches!(c, '-' | '.' | ':' | '@'))
            })
            .max_by_key(|(key, _)| key.len())
            .map(|(_, info)| info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(catalog: &Catalog, name: &str) -> Option<ModelInfo> {
        catalog.lookup(&ModelRef::parse(name).unwrap()).cloned()
    }

    fn info(context_window: u64, input: f64) -> ModelInfo {
        ModelInfo {
            context_window,
            max_output_tokens: None,
            input_per_mtok: Some(input),
            output_per_mtok: Some(1.0),
            cache_read_per_mtok: None,
            cache_write_per_mtok: None,
            images: None,
        }
    }

    #[test]
    fn models_are_named_with_the_provider_serving_them() {
        let mut extra = BTreeMap::new();
        extra.insert("ollama/llama3".to_owned(), info(8_000, 0.0));
        extra.insert("bare-local".to_owned(), info(8_000, 0.0));
        extra.insert("anthropic/claude-sonnet-4".to_owned(), info(1, 1.0));
        let models: Vec<String> = Catalog::builtin()
            .with_overrides(extra)
            .models()
            .iter()
            .map(ModelRef::to_string)
            .collect();
        for id in [
            "openai/gpt-4o",
            "openai/o3",
            "anthropic/claude-sonnet-4",
            "ollama/llama3",
        ] {
            assert!(models.iter().any(|m| m == id), "{id} in {models:?}");
        }
        assert!(!models.iter().any(|m| m.contains("bare-local")));
        assert!(!models.iter().any(|m| m == "openai/claude-sonnet-4"));
        let mut sorted = models.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(models, sorted, "sorted by id, each once");
        assert_eq!(
            models.len(),
            BUILTIN.iter().map(|(_, rows)| rows.len()).sum::<usize>() + 1
        );
    }

    #[test]
    fn finds_models_by_full_bare_and_dated_names() {
        let c = Catalog::builtin();
        let sonnet = find(&c, "anthropic/claude-sonnet-4").unwrap();
        assert_eq!(sonnet.input_per_mtok, Some(3.0));
        assert_eq!(
            find(&c, "openrouter/anthropic/claude-sonnet-4"),
            Some(sonnet.clone())
        );
        assert_eq!(find(&c, "anthropic/claude-sonnet-4-20250514"), Some(sonnet));
        let sonnet45 = find(&c, "anthropic/claude-sonnet-4-5-20250929").unwrap();
        assert_eq!(sonnet45, find(&c, "anthropic/claude-sonnet-4-5").unwrap());
        assert_eq!(
            find(&c, "openai/gpt-4o-mini-2024-07-18")
                .unwrap()
                .input_per_mtok,
            Some(0.15)
        );
        assert_eq!(find(&c, "openai/gpt-4o").unwrap().input_per_mtok, Some(2.5));
        assert_eq!(
            find(&c, "openai/o3-mini").unwrap().input_per_mtok,
            Some(1.1)
        );
        assert_eq!(
            find(&c, "ollama/gpt-4o:latest").unwrap().input_per_mtok,
            Some(2.5)
        );
        assert!(find(&c, "ollama/llama3.2").is_none());
        assert!(
            find(&c, "openai/gpt-4omni").is_none(),
            "a prefix must end at a separator"
        );
    }

    #[test]
    fn overrides_add_and_replace_entries() {
        let c = Catalog::builtin().with_overrides(BTreeMap::from([
            ("ollama/qwen3-coder".to_owned(), info(32_768, 0.0)),
            ("claude-sonnet-4".to_owned(), info(1_000_000, 6.0)),
            (
                "openrouter/anthropic/claude-sonnet-4".to_owned(),
                info(1, 9.0),
            ),
        ]));
        assert_eq!(
            find(&c, "ollama/qwen3-coder").unwrap().context_window,
            32_768
        );
        assert!(find(&c, "lmstudio/qwen3-coder").is_none());
        assert_eq!(
            find(&c, "anthropic/claude-sonnet-4")
                .unwrap()
                .input_per_mtok,
            Some(6.0)
        );
        assert_eq!(
            find(&c, "openrouter/anthropic/claude-sonnet-4")
                .unwrap()
                .input_per_mtok,
            Some(9.0),
            "the full name wins over the bare name"
        );
    }

    #[test]
    fn cost_prices_cached_tokens_at_cache_rates() {
        let sonnet = find(&Catalog::builtin(), "anthropic/claude-sonnet-4").unwrap();
        let usage = Usage {
            input_tokens: 1_000_000 + 2_000_000 + 100_000,
            output_tokens: 10_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 100_000,
            ..Usage::default()
        };
        // 1M uncached × $3 + 2M read × $0.30 + 0.1M written × $3.75 + 10k out × $15.
        let expected = 3.0 + 0.6 + 0.375 + 0.15;
        assert!(
            (sonnet.cost(&usage) - expected).abs() < 1e-9,
            "{}",
            sonnet.cost(&usage)
        );
        let plain = info(1, 2.0);
        let cost = plain.cost(&Usage {
            input_tokens: 500_000,
            cache_read_tokens: 250_000,
            ..Usage::default()
        });
        assert!(
            (cost - 1.0).abs() < 1e-9,
            "cache rates default to the input price"
        );
    }

    #[test]
    fn model_info_deserializes_from_config() {
        let v = serde_json::json!({"context_window": 8192, "input_per_mtok": 0.5, "output_per_mtok": 1.5});
        let m: ModelInfo = serde_json::from_value(v).unwrap();
        assert_eq!(m.cache_read_per_mtok, None);
        assert_eq!(m.context_window, 8192);
        // A window alone is enough: prices and the output limit are
        // optional, and unknown prices cost nothing.
        let m: ModelInfo =
            serde_json::from_value(serde_json::json!({"context_window": 4096})).unwrap();
        assert_eq!((m.input_per_mtok, m.max_output_tokens), (None, None));
        let usage = Usage {
            input_tokens: 1000,
            output_tokens: 10,
            ..Usage::default()
        };
        assert_eq!(m.cost(&usage), 0.0);
        let bad = serde_json::from_value::<ModelInfo>(serde_json::json!({"input_per_mtok": 1.0}));
        assert!(bad.is_err(), "the window is required");
    }
}
