//! What goes on the wire: asserted on the request the mock recorded (the
//! mock also refuses requests the real APIs would refuse).

use crate::common::{ANTHROPIC_KEY, OPENAI_KEY, WIRES, call, msg, provider, request, server, user};
use baton_llm::{ChatRequest, StopReason, Wire};
use baton_protocol::{CallId, NoticeKind, Part, Role, ToolCall, ToolSpec};
use serde_json::json;

const SCRIPT: &str = r#"
[[rules]]
name = "after-tools"
when = { tools_include = ["read", "glob"], last_tool_result = "fn main", system = "careful" }
reply = { text = "Both done." }
"#;

fn conversation() -> ChatRequest {
    let mut r = request(vec![
        user("Read main.rs and list the tests."),
        msg(
            Role::Assistant,
            vec![
                Part::Text {
                    text: "Looking.".into(),
                },
                Part::ToolCall(ToolCall {
                    call_id: CallId::from("call_1"),
                    name: "read".into(),
                    arguments: r#"{"path":"src/main.rs"}"#.into(),
                }),
                Part::ToolCall(ToolCall {
                    call_id: CallId::from("call_2"),
                    name: "glob".into(),
                    arguments: r#"{"pattern": "tests/*"#.into(),
                }),
            ],
        ),
        msg(
            Role::Tool,
            vec![
                Part::ToolResult {
                    call_id: CallId::from("call_1"),
                    name: "read".into(),
                    output: "fn main() {}".into(),
                    is_error: false,
                    images: Vec::new(),
                },
                Part::ToolResult {
                    call_id: CallId::from("call_2"),
                    name: "glob".into(),
                    output: "invalid arguments".into(),
                    is_error: true,
                    images: Vec::new(),
                },
            ],
        ),
        msg(
            Role::User,
            vec![Part::Notice {
                kind: NoticeKind::Task,
                source_id: "task_9".into(),
                text: "Task task_9 completed.".into(),
            }],
        ),
    ]);
    r.system = "Be careful.".into();
    r.temperature = Some(0.25);
    r.tools = vec![
        ToolSpec {
            name: "read".into(),
            description: "Read a file".into(),
            parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
        },
        ToolSpec {
            name: "glob".into(),
            description: "Find files".into(),
            parameters: json!({"type": "object", "properties": {"pattern": {"type": "string"}}}),
        },
    ];
    r
}

#[tokio::test]
async fn openai_request_shape() {
    let server = server(SCRIPT).await;
    let out = call(&provider(&server, Wire::OpenAi), conversation()).await;
    out.assert_complete();
    assert_eq!(out.text(), "Both done.");
    assert_eq!(out.stop_reason(), Some(StopReason::EndTurn));

    let recorded = &server.requests()[0];
    assert_eq!(recorded.path, "/v1/chat/completions");
    assert_eq!(
        recorded.headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(
        recorded.headers.get("accept").map(String::as_str),
        Some("text/event-stream")
    );
    let body = &recorded.body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    // Not the official host: the widely understood field.
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "function": {
            "name": "read", "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}})
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "Be careful."},
            {"role": "user", "content": "Read main.rs and list the tests."},
            {"role": "assistant", "content": "Looking.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"src/main.rs\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "glob", "arguments": "{\"pattern\": \"tests/*"}},
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "fn main() {}"},
            {"role": "tool", "tool_call_id": "call_2", "content": "invalid arguments"},
            {"role": "user", "content": "Task task_9 completed."},
        ])
    );
}

#[tokio::test]
async fn anthropic_request_shape() {
    let server = server(SCRIPT).await;
    let out = call(&provider(&server, Wire::Anthropic), conversation()).await;
    out.assert_complete();
    assert_eq!(out.text(), "Both done.");

    let recorded = &server.requests()[0];
    assert_eq!(recorded.path, "/v1/messages");
    assert_eq!(
        recorded.headers.get("x-api-key").map(String::as_str),
        Some(ANTHROPIC_KEY)
    );
    assert_eq!(
        recorded
            .headers
            .get("anthropic-version")
            .map(String::as_str),
        Some("2023-06-01")
    );
    assert!(!recorded.headers.contains_key("authorization"));
    let body = &recorded.body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["stream"], true);
    assert_eq!(body["system"][0]["text"], "Be careful.");
    assert_eq!(
        body["tools"][1],
        json!({"name": "glob", "description": "Find files",
               "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}}})
    );
    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(
        messages[1]["content"],
        json!([
            {"type": "text", "text": "Looking."},
            {"type": "tool_use", "id": "call_1", "name": "read", "input": {"path": "src/main.rs"}},
            // Arguments that are not a JSON object are sent as {}.
            {"type": "tool_use", "id": "call_2", "name": "glob", "input": {}},
        ])
    );
    let results = messages[2]["content"].as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"type": "tool_result", "tool_use_id": "call_1", "content": "fn main() {}", "is_error": false})
    );
    assert_eq!(
        results[1],
        json!({"type": "tool_result", "tool_use_id": "call_2", "content": "invalid arguments", "is_error": true})
    );
    assert_eq!(results[2]["type"], "text");
    assert_eq!(results[2]["text"], "Task task_9 completed.");
}

#[tokio::test]
async fn responses_request_shape() {
    let server = server(SCRIPT).await;
    let out = call(&provider(&server, Wire::Responses), conversation()).await;
    out.assert_complete();
    assert_eq!(out.text(), "Both done.");
    assert_eq!(out.stop_reason(), Some(StopReason::EndTurn));

    let recorded = &server.requests()[0];
    assert_eq!(recorded.wire, baton_mock_llm::Wire::Responses);
    assert_eq!(recorded.path, "/v1/responses");
    assert_eq!(
        recorded.headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    let body = &recorded.body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["store"], false);
    assert_eq!(body["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(body["instructions"], "Be careful.");
    assert_eq!(body["max_output_tokens"], 1024);
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(
        body["tools"][1],
        json!({"type": "function", "name": "glob", "description": "Find files",
               "parameters": {"type": "object", "properties": {"pattern": {"type": "string"}}},
               "strict": false})
    );
    assert_eq!(
        body["input"],
        json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Read main.rs and list the tests."}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Looking."}]},
            {"type": "function_call", "call_id": "call_1", "name": "read", "arguments": "{\"path\":\"src/main.rs\"}"},
            {"type": "function_call", "call_id": "call_2", "name": "glob", "arguments": "{\"pattern\": \"tests/*"},
            {"type": "function_call_output", "call_id": "call_1", "output": "fn main() {}"},
            {"type": "function_call_output", "call_id": "call_2", "output": "invalid arguments"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Task task_9 completed."}]},
        ])
    );
}

#[tokio::test]
async fn interrupted_calls_still_make_a_valid_request() {
    // A cancelled turn left a call without a result, then the user spoke.
    for wire in WIRES {
        let server =
            server("[[rules]]\nwhen = { last_user = \"^go on$\" }\nreply = { text = \"ok\" }\n")
                .await;
        let r = request(vec![
            user("start"),
            msg(
                Role::Assistant,
                vec![Part::ToolCall(ToolCall {
                    call_id: CallId::from("call_x"),
                    name: "bash".into(),
                    arguments: "{}".into(),
                })],
            ),
            user("go on"),
        ]);
        let out = call(&provider(&server, wire), r).await;
        out.assert_complete();
        assert_eq!(out.text(), "ok", "{wire}");
    }
}
