//! However the bytes arrive, the events come out whole and in order.

use crate::common::{WIRES, call, provider, request, server, user};
use baton_llm::{StopReason, StreamEvent, Wire};
use baton_protocol::Usage;
use serde_json::{Value, json};

async fn text_reply(wire: Wire, delivery: &str, text: &str) -> crate::common::Outcome {
    let script = format!(
        "[[rules]]\nreply = {{ text = {text:?}, usage = {{ input_tokens = 100, output_tokens = 20 }}, {delivery} }}\n"
    );
    let server = server(&script).await;
    call(&provider(&server, wire), request(vec![user("hi")])).await
}

#[tokio::test]
async fn events_split_across_tcp_writes() {
    let text = "Hello, world! This reply is cut into 7-byte writes.";
    for wire in WIRES {
        let out = text_reply(wire, "write_bytes = 7, chunk_delay_ms = 1", text).await;
        out.assert_complete();
        assert_eq!(out.text(), text, "{wire}");
        assert_eq!(out.stop_reason(), Some(StopReason::EndTurn), "{wire}");
        assert_eq!(
            out.usage(),
            Some(Usage {
                input_tokens: 100,
                output_tokens: 20,
                ..Usage::default()
            }),
            "{wire}"
        );
    }
}

#[tokio::test]
async fn multi_byte_characters_split_across_writes() {
    let text = "é✓🦀 and again é✓🦀";
    for wire in WIRES {
        let out = text_reply(wire, "write_bytes = 1, text_chunk_chars = 3", text).await;
        out.assert_complete();
        assert_eq!(out.text(), text, "{wire}");
    }
}

#[tokio::test]
async fn many_events_in_one_write() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            [rules.reply]
            text = "All of this arrives in a single write, in many small deltas."
            text_chunk_chars = 4
            tool_calls = [{ name = "read", arguments = { path = "a.txt" } }]
            coalesce = true
            "#,
        )
        .await;
        let out = call(&provider(&server, wire), request(vec![user("hi")])).await;
        out.assert_complete();
        assert_eq!(
            out.text(),
            "All of this arrives in a single write, in many small deltas."
        );
        let calls = out.calls();
        assert_eq!(calls.len(), 1, "{wire}");
        assert_eq!(calls[0].name, "read");
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].arguments).unwrap(),
            json!({"path": "a.txt"})
        );
        assert_eq!(out.stop_reason(), Some(StopReason::ToolUse), "{wire}");
    }
}

#[tokio::test]
async fn tool_arguments_split_into_many_deltas() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            [rules.reply]
            tool_calls = [{ name = "edit", arguments = { path = "src/main.rs", old_string = "fn main() {}", new_string = "fn main() { println!(\"é🦀\"); }" } }]
            args_chunk_chars = 1
            "#,
        )
        .await;
        let out = call(&provider(&server, wire), request(vec![user("edit")])).await;
        out.assert_complete();
        let deltas: Vec<&StreamEvent> = out
            .events
            .iter()
            .filter(|e| matches!(e, StreamEvent::ToolCallDelta { index: 0, .. }))
            .collect();
        assert!(deltas.len() > 40, "{wire}: {} deltas", deltas.len());
        let calls = out.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].arguments).unwrap(),
            json!({"path": "src/main.rs", "old_string": "fn main() {}", "new_string": "fn main() { println!(\"é🦀\"); }"}),
            "{wire}"
        );
        // The deltas add up to the completed arguments.
        let joined: String = deltas
            .iter()
            .map(|e| match e {
                StreamEvent::ToolCallDelta { arguments, .. } => arguments.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(joined, calls[0].arguments);
    }
}

#[tokio::test]
async fn two_parallel_tool_calls() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            [rules.reply]
            text = "Reading both."
            tool_calls = [
              { id = "call_one", name = "read", arguments = { path = "a.txt" } },
              { id = "call_two", name = "glob", arguments = { pattern = "**/*.rs" } },
            ]
            args_chunk_chars = 3
            interleave_tool_calls = true
            "#,
        )
        .await;
        let out = call(&provider(&server, wire), request(vec![user("both")])).await;
        out.assert_complete();
        let started: Vec<(usize, String, String)> = out
            .events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallStarted {
                    index,
                    call_id,
                    name,
                } => Some((*index, call_id.to_string(), name.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            started,
            [
                (0, "call_one".into(), "read".into()),
                (1, "call_two".into(), "glob".into())
            ],
            "{wire}"
        );
        let calls = out.calls();
        assert_eq!(calls.len(), 2, "{wire}");
        assert_eq!(
            (calls[0].call_id.as_str(), calls[0].name.as_str()),
            ("call_one", "read")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].arguments).unwrap(),
            json!({"path": "a.txt"})
        );
        assert_eq!(
            (calls[1].call_id.as_str(), calls[1].name.as_str()),
            ("call_two", "glob")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&calls[1].arguments).unwrap(),
            json!({"pattern": "**/*.rs"})
        );
        assert_eq!(out.text(), "Reading both.");
        assert_eq!(out.stop_reason(), Some(StopReason::ToolUse));
        if wire == Wire::OpenAi {
            // The deltas really were interleaved: index 1 speaks before index 0 is done.
            let order: Vec<usize> = out
                .events
                .iter()
                .filter_map(|e| match e {
                    StreamEvent::ToolCallDelta { index, .. } => Some(*index),
                    _ => None,
                })
                .collect();
            let first_one = order.iter().position(|&i| i == 1).unwrap();
            let last_zero = order.iter().rposition(|&i| i == 0).unwrap();
            assert!(first_one < last_zero, "{order:?}");
        }
    }
}

#[tokio::test]
async fn malformed_arguments_are_kept_verbatim() {
    for wire in WIRES {
        let server = server(
            r#"
            [[rules]]
            reply = { tool_calls = [{ name = "edit", raw_arguments = "{\"path\": \"a.tx" }] }
            "#,
        )
        .await;
        let out = call(&provider(&server, wire), request(vec![user("edit")])).await;
        out.assert_complete();
        assert_eq!(out.calls()[0].arguments, "{\"path\": \"a.tx", "{wire}");
    }
}
