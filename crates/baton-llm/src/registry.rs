//! The configured providers, built from the environment and the config
//! file's `[providers.NAME]` tables.
//!
//! `openai` and `anthropic` always exist (from `OPENAI_BASE_URL`,
//! `OPENAI_API_KEY`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY`, or the
//! official hosts). A few other well-known names (`openrouter`, `ollama`,
//! `lmstudio`) get a default base URL and key variable when configured, so
//! an empty `[providers.ollama]` table is enough. Any other name needs a
//! `base_url`. A config table overrides the environment field by field.
//! `wire = "responses"` makes any of them speak the OpenAI Responses API
//! (`[providers.openai] wire = "responses"` moves OpenAI itself to it).

use crate::anthropic::AnthropicProvider;
use crate::endpoint::{Endpoint, EndpointSettings};
use crate::openai::OpenAiProvider;
use crate::responses::ResponsesProvider;
use crate::{LlmError, Provider, Wire};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// The longest silence allowed between two chunks of a response; longer
/// counts as a cut-off stream.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// One `[providers.NAME]` table of the config file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The request format: `openai`, `anthropic` or `responses`. Default:
    /// `anthropic` for the provider named `anthropic`, else `openai`.
    pub wire: Option<Wire>,
    /// The API's base URL (`https://api.openai.com/v1`,
    /// `https://api.anthropic.com`, `http://localhost:11434/v1`...).
    pub base_url: Option<String>,
    /// The environment variable holding the API key. Without a key no
    /// auth header is sent (fine for local servers).
    pub api_key_env: Option<String>,
    /// Extra headers sent with every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The most calls to this provider that may run at once.
    pub max_concurrency: Option<usize>,
}

/// Defaults for a well-known provider name.
struct Preset {
    name: &'static str,
    wire: Wire,
    base_url_env: Option<&'static str>,
    base_url: &'static str,
    api_key_env: Option<&'static str>,
    /// Registered even without a config table.
    always: bool,
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "openai",
        wire: Wire::OpenAi,
        base_url_env: Some("OPENAI_BASE_URL"),
        base_url: "https://api.openai.com/v1",
        api_key_env: Some("OPENAI_API_KEY"),
        always: true,
    },
    Preset {
        name: "anthropic",
        wire: Wire::Anthropic,
        base_url_env: Some("ANTHROPIC_BASE_URL"),
        base_url: "https://api.anthropic.com",
        api_key_env: Some("ANTHROPIC_API_KEY"),
        always: true,
    },
    Preset {
        name: "openrouter",
        wire: Wire::OpenAi,
        base_url_env: None,
        base_url: "https://openrouter.ai/api/v1",
        api_key_env: Some("OPENROUTER_API_KEY"),
        always: false,
    },
    Preset {
        name: "ollama",
        wire: Wire::OpenAi,
        base_url_env: None,
        base_url: "http://localhost:11434/v1",
        api_key_env: None,
        always: false,
    },
    Preset {
        name: "lmstudio",
        wire: Wire::OpenAi,
        base_url_env: None,
        base_url: "http://localhost:1234/v1",
        api_key_env: None,
        always: false,
    },
];

struct Entry {
    provider: Arc<dyn Provider>,
    max_concurrency: Option<usize>,
    /// Someone set it up: a config table, or its API key is set.
    configured: bool,
}

/// The providers baton can call, by name.
#[derive(Default)]
pub struct ProviderRegistry {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl ProviderRegistry {
    /// Builds the providers from the environment (`env` looks a variable
    /// up: tests pass a closure over a map, the binary `std::env::var`) and
    /// the config's `[providers.NAME]` tables. Fails on an invalid table
    /// (bad URL, bad header, unknown name without `base_url`). A missing
    /// key is not an error: the call fails later with an auth error that
    /// names the variable to set.
    pub fn build(
        env: &dyn Fn(&str) -> Option<String>,
        config: &BTreeMap<String, ProviderConfig>,
    ) -> Result<ProviderRegistry, LlmError> {
        let names: BTreeSet<&str> = PRESETS
            .iter()
            .filter(|p| p.always)
            .map(|p| p.name)
            .chain(config.keys().map(String::as_str))
            .collect();
        let mut registry = ProviderRegistry::default();
        let default_config = ProviderConfig::default();
        for name in names {
            let table = config.get(name).unwrap_or(&default_config);
            let mut entry = build_one(name, table, env)?;
            entry.configured |= config.contains_key(name);
            registry.entries.insert(name.to_owned(), entry);
        }
        Ok(registry)
    }

    /// Adds (or replaces) a provider under its own name; for embedders and
    /// tests that bring their own [`Provider`] (it counts as configured).
    pub fn insert(&mut self, provider: Arc<dyn Provider>, max_concurrency: Option<usize>) {
        self.entries.insert(
            provider.name().to_owned(),
            Entry {
                provider,
                max_concurrency,
                configured: true,
            },
        );
    }

    /// Whether the provider called `name` was set up by someone: it has a
    /// `[providers.NAME]` table or its API key is set (or it was
    /// [inserted](ProviderRegistry::insert)). `openai` and `anthropic`
    /// exist without either, but are not configured then.
    pub fn is_configured(&self, name: &str) -> bool {
        self.entries.get(name).is_some_and(|e| e.configured)
    }

    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.entries.get(name).map(|e| Arc::clone(&e.provider))
    }

    /// The providers' names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// The most calls to `name` that may run at once, if limited.
    pub fn max_concurrency(&self, name: &str) -> Option<usize> {
        self.entries.get(name).and_then(|e| e.max_concurrency)
    }
}

/// One provider with its concurrency limit, configured when its API key is
/// set.
fn build_one(
    name: &str,
    table: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Entry, LlmError> {
    let bad = |what: String| LlmError::Config(format!("[providers.{name}]: {what}"));
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_whitespace) {
        return Err(bad(
            "a provider name must be non-empty, without '/' or spaces".to_owned(),
        ));
    }
    let set = |var: &str| {
        env(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let preset = PRESETS.iter().find(|p| p.name == name);
    let wire = table
        .wire
        .or(preset.map(|p| p.wire))
        .unwrap_or(Wire::OpenAi);
    let base_url = table
        .base_url
        .clone()
        .or_else(|| preset.and_then(|p| p.base_url_env).and_then(set))
        .or_else(|| preset.map(|p| p.base_url.to_owned()))
        .ok_or_else(|| bad("base_url is required".to_owned()))?;
    let base_url = base_url.trim().trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&base_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {}
        _ => return Err(bad(format!("base_url {base_url:?} is not an http(s) URL"))),
    }
    let api_key_env = table
        .api_key_env
        .clone()
        .or_else(|| preset.and_then(|p| p.api_key_env).map(str::to_owned));
    let api_key = api_key_env.as_deref().and_then(set);
    let has_key = api_key.is_some();
    let mut headers = HeaderMap::new();
    for (key, value) in &table.headers {
        let header = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| bad(format!("invalid header name {key:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("invalid value for header {key:?}")))?;
        headers.insert(header, value);
    }
    if table.max_concurrency == Some(0) {
        return Err(bad("max_concurrency must be at least 1".to_owned()));
    }
    let endpoint = Endpoint::new(EndpointSettings {
        name: name.to_owned(),
        base_url,
        api_key,
        api_key_env,
        headers,
        idle_timeout: IDLE_TIMEOUT,
    })?;
    let provider: Arc<dyn Provider> = match wire {
        Wire::OpenAi => Arc::new(OpenAiProvider::new(endpoint)?),
        Wire::Anthropic => Arc::new(AnthropicProvider::new(endpoint)?),
        Wire::Responses => Arc::new(ResponsesProvider::new(endpoint)?),
    };
    tracing::debug!(provider = name, %wire, "provider configured");
    Ok(Entry {
        provider,
        max_concurrency: table.max_concurrency,
        configured: has_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn openai_and_anthropic_always_exist() {
        let r = ProviderRegistry::build(&env_of(&[]), &BTreeMap::new()).unwrap();
        assert_eq!(r.names(), ["anthropic", "openai"]);
        assert_eq!(r.get("anthropic").unwrap().wire(), Wire::Anthropic);
        assert_eq!(r.get("openai").unwrap().wire(), Wire::OpenAi);
        assert!(r.get("ollama").is_none());
        assert_eq!(r.max_concurrency("openai"), None);
        assert!(!r.is_configured("openai") && !r.is_configured("anthropic"));
    }

    #[test]
    fn a_provider_is_configured_by_its_key_or_its_table() {
        let mut config = BTreeMap::new();
        config.insert("ollama".to_owned(), ProviderConfig::default());
        let r = ProviderRegistry::build(&env_of(&[("ANTHROPIC_API_KEY", "sk")]), &config).unwrap();
        assert!(r.is_configured("anthropic"), "its key is set");
        assert!(r.is_configured("ollama"), "it has a table");
        assert!(!r.is_configured("openai"), "neither");
        assert!(!r.is_configured("nowhere"));
    }

    #[test]
    fn config_tables_add_providers_with_preset_defaults() {
        let config = BTreeMap::from([
            ("ollama".to_owned(), ProviderConfig::default()),
            (
                "work".to_owned(),
                ProviderConfig {
                    wire: Some(Wire::Anthropic),
                    base_url: Some("https://llm.example.com/".into()),
                    max_concurrency: Some(2),
                    ..ProviderConfig::default()
                },
            ),
        ]);
        let r = ProviderRegistry::build(&env_of(&[]), &config).unwrap();
        assert_eq!(r.names(), ["anthropic", "ollama", "openai", "work"]);
        assert_eq!(r.get("work").unwrap().wire(), Wire::Anthropic);
        assert_eq!(r.max_concurrency("work"), Some(2));
        let config = BTreeMap::from([(
            "openai".to_owned(),
            ProviderConfig {
                wire: Some(Wire::Responses),
                ..ProviderConfig::default()
            },
        )]);
        let r = ProviderRegistry::build(&env_of(&[]), &config).unwrap();
        assert_eq!(r.get("openai").unwrap().wire(), Wire::Responses);
    }

    #[test]
    fn invalid_tables_are_rejected_with_a_reason() {
        let cases = [
            ("custom", ProviderConfig::default(), "base_url is required"),
            (
                "x",
                ProviderConfig {
                    base_url: Some("not a url".into()),
                    ..ProviderConfig::default()
                },
                "is not an http(s) URL",
            ),
            (
                "x",
                ProviderConfig {
                    base_url: Some("http://h".into()),
                    headers: BTreeMap::from([("bad header".into(), "v".into())]),
                    ..ProviderConfig::default()
                },
                "invalid header name",
            ),
            (
                "x",
                ProviderConfig {
                    base_url: Some("http://h".into()),
                    max_concurrency: Some(0),
                    ..ProviderConfig::default()
                },
                "max_concurrency",
            ),
            ("a/b", ProviderConfig::default(), "provider name"),
        ];
        for (name, table, expected) in cases {
            let config = BTreeMap::from([(name.to_owned(), table)]);
            let err = ProviderRegistry::build(&env_of(&[]), &config).unwrap_err();
            assert!(err.to_string().contains(expected), "{name}: {err}");
            assert!(
                err.to_string().contains(&format!("[providers.{name}]")),
                "{err}"
            );
        }
    }

    #[test]
    fn config_deserializes_and_rejects_unknown_fields() {
        let v =
            serde_json::json!({"wire": "anthropic", "base_url": "http://x", "headers": {"a": "b"}});
        let c: ProviderConfig = serde_json::from_value(v).unwrap();
        assert_eq!(c.wire, Some(Wire::Anthropic));
        let v = serde_json::json!({"wire": "responses"});
        let c: ProviderConfig = serde_json::from_value(v).unwrap();
        assert_eq!(c.wire, Some(Wire::Responses));
        let v = serde_json::json!({"wire": "openai", "api_key": "sk-oops"});
        assert!(serde_json::from_value::<ProviderConfig>(v).is_err());
    }
}
