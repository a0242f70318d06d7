//! Providers built from the environment and config reach the right place
//! with the right headers; the catalog prices what they report.

use crate::common::{call, env_for, registry, request, server, user};
use baton_llm::{Catalog, ModelRef, ProviderConfig, Wire};
use std::collections::BTreeMap;

#[tokio::test]
async fn config_overrides_env_and_sends_extra_headers() {
    let server = server("[[rules]]\nreply = { text = \"hi\", usage = { input_tokens = 1000, output_tokens = 500 } }\n").await;
    let mut env = env_for(&server);
    env.insert("OPENAI_BASE_URL".into(), "http://127.0.0.1:9/v1".into());
    env.insert("TEAM_KEY".into(), "sk-team".into());
    let config = BTreeMap::from([
        (
            // Overrides the env-derived provider of the same name.
            "openai".to_owned(),
            ProviderConfig {
                base_url: Some(server.openai_base_url()),
                api_key_env: Some("TEAM_KEY".into()),
                headers: BTreeMap::from([("X-Team".into(), "baton".into())]),
                max_concurrency: Some(3),
                ..ProviderConfig::default()
            },
        ),
        (
            // A local server without a key.
            "local".to_owned(),
            ProviderConfig {
                base_url: Some(format!("{}/", server.openai_base_url())),
                ..ProviderConfig::default()
            },
        ),
        (
            "claude-proxy".to_owned(),
            ProviderConfig {
                wire: Some(Wire::Anthropic),
                base_url: Some(server.anthropic_base_url()),
                headers: BTreeMap::from([("anthropic-beta".into(), "test-beta".into())]),
                ..ProviderConfig::default()
            },
        ),
    ]);
    let registry = registry(&env, &config);
    assert_eq!(
        registry.names(),
        ["anthropic", "claude-proxy", "local", "openai"]
    );
    assert_eq!(registry.max_concurrency("openai"), Some(3));
    assert_eq!(registry.max_concurrency("local"), None);

    for name in ["openai", "local", "claude-proxy"] {
        let out = call(&registry.get(name).unwrap(), request(vec![user("hi")])).await;
        out.assert_complete();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let openai = &requests[0].headers;
    assert_eq!(
        openai.get("authorization").map(String::as_str),
        Some("Bearer sk-team")
    );
    assert_eq!(openai.get("x-team").map(String::as_str), Some("baton"));
    let local = &requests[1].headers;
    assert!(
        !local.contains_key("authorization"),
        "no key, no auth header"
    );
    assert!(!local.contains_key("x-team"));
    let proxy = &requests[2];
    assert_eq!(proxy.path, "/v1/messages");
    assert_eq!(
        proxy.headers.get("anthropic-beta").map(String::as_str),
        Some("test-beta")
    );
    assert!(!proxy.headers.contains_key("x-api-key"));
}

#[tokio::test]
async fn reported_usage_is_priced_by_the_catalog() {
    let server = server("[[rules]]\nreply = { text = \"hi\", usage = { input_tokens = 1000, output_tokens = 500 } }\n").await;
    let registry = registry(&env_for(&server), &BTreeMap::new());
    let model = ModelRef::parse("anthropic/claude-sonnet-4-20250514").unwrap();
    let provider = registry.get(&model.provider).unwrap();
    let mut r = request(vec![user("hi")]);
    r.model = model.model.clone();
    let out = call(&provider, r).await;
    out.assert_complete();
    assert_eq!(
        server.requests()[0].body["model"],
        "claude-sonnet-4-20250514"
    );
    let usage = out.usage().unwrap();
    let info = Catalog::builtin().lookup(&model).unwrap().clone();
    assert_eq!(info.context_window, 200_000);
    // 1000 in × $3/M + 500 out × $15/M.
    assert!(
        (info.cost(&usage) - 0.0105).abs() < 1e-12,
        "{}",
        info.cost(&usage)
    );
}
