//! The mock's simulated prompt cache and context window, seen through each wire's client: cached
//! prompt tokens come back as `cache_read_tokens` (Anthropic's split input added up again), and a
//! prompt over the window is a typed context-too-long error.

use crate::common::{WIRES, call, msg, provider, request, server, user};
use baton_protocol::{Part, Role};

#[tokio::test]
async fn a_repeated_prefix_is_read_from_the_cache_on_every_wire() {
    for wire in WIRES {
        let server = server(
            r#"
[prompt_cache]
enabled = true
openai_min_tokens = 0
openai_increment = 1

[[rules]]
reply = { text = "Sure." }
"#,
        )
        .await;
        let provider = provider(&server, wire);
        let question = "Please read the whole repository and explain each module. ".repeat(4);
        let first = call(&provider, request(vec![user(&question)])).await;
        first.assert_complete();
        let first_usage = first.usage().unwrap();
        assert_eq!(first_usage.cache_read_tokens, 0, "{wire:?}");

        let second = call(
            &provider,
            request(vec![
                user(&question),
                msg(
                    Role::Assistant,
                    vec![Part::Text {
                        text: "Sure.".into(),
                    }],
                ),
                user("And the tests?"),
            ]),
        )
        .await;
        second.assert_complete();
        let usage = second.usage().unwrap();
        assert!(usage.cache_read_tokens > 0, "{wire:?}: {usage:?}");
        let recorded = server.requests();
        assert_eq!(
            usage.input_tokens, recorded[1].estimated_input_tokens,
            "{wire:?}: input tokens include the cached ones"
        );
        assert!(usage.cache_read_tokens < usage.input_tokens, "{wire:?}");
    }
}

#[tokio::test]
async fn a_prompt_over_the_context_window_is_context_too_long_on_every_wire() {
    for wire in WIRES {
        let server = server("context_window = 50\n[[rules]]\nreply = { text = \"fits\" }\n").await;
        let out = call(
            &provider(&server, wire),
            request(vec![user(&"many words ".repeat(100))]),
        )
        .await;
        let error = out.error.unwrap();
        assert!(error.is_context_too_long(), "{wire:?}: {error}");
        assert_eq!(error.status(), Some(400), "{wire:?}");
        let recorded = server.requests();
        assert_eq!(recorded.len(), 1, "{wire:?}: not retried");
        assert!(recorded[0].estimated_input_tokens > 50);
        assert_eq!(recorded[0].matched_rule, None);
    }
}
