use super::*;
use crate::test_support::TestContext;
use serde_json::{Value, json};

/// A tool that panics when called.
struct Crasher;

#[async_trait::async_trait]
impl Tool for Crasher {
    fn name(&self) -> &'static str {
        "crasher"
    }
    fn description(&self) -> String {
        "Always panics.".to_owned()
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    fn is_read_only(&self) -> bool {
        true
    }
    async fn call(&self, _args: Value, _ctx: &dyn ToolContext) -> Result<String, ToolError> {
        panic!("index out of bounds: the len is 0 but the index is 3")
    }
}

#[test]
fn builtin_has_the_ten_tools_sorted_with_object_schemas() {
    let registry = ToolRegistry::builtin();
    let names: Vec<String> = registry.specs().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "bash",
            "edit",
            "glob",
            "grep",
            "list",
            "read",
            "shell_kill",
            "shell_output",
            "todo_write",
            "write"
        ]
    );
    for spec in registry.specs() {
        assert_eq!(spec.parameters["type"], "object", "{}", spec.name);
        assert!(!spec.description.is_empty());
    }
}

#[test]
fn parameter_names_are_the_public_contract() {
    let registry = ToolRegistry::builtin();
    let expect = |tool: &str, required: &[&str], optional: &[&str]| {
        let spec = registry
            .specs()
            .into_iter()
            .find(|s| s.name == tool)
            .unwrap();
        let mut props: Vec<String> = spec.parameters["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        props.sort();
        let mut all: Vec<String> = required
            .iter()
            .chain(optional)
            .map(|s| s.to_string())
            .collect();
        all.sort();
        assert_eq!(props, all, "{tool}");
        let mut req: Vec<String> = spec.parameters["required"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        req.sort();
        let mut want: Vec<String> = required.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(req, want, "{tool}");
    };
    expect("read", &["path"], &["offset", "limit"]);
    expect("write", &["path", "content"], &[]);
    expect(
        "edit",
        &["path", "old_string", "new_string"],
        &["replace_all"],
    );
    expect("glob", &["pattern"], &["path"]);
    expect(
        "grep",
        &["pattern"],
        &["path", "glob", "case_insensitive", "context"],
    );
    expect("list", &[], &["path"]);
    expect(
        "bash",
        &["command"],
        &["timeout_ms", "background", "description"],
    );
    expect("shell_output", &["shell_id"], &["filter"]);
    expect("shell_kill", &["shell_id"], &[]);
    expect("todo_write", &["todos"], &[]);
}

#[test]
fn read_only_flags_and_retain() {
    let mut registry = ToolRegistry::builtin();
    for name in ["read", "glob", "grep", "list", "shell_output"] {
        assert!(registry.is_read_only(name), "{name}");
    }
    for name in [
        "write",
        "edit",
        "bash",
        "shell_kill",
        "todo_write",
        "nonexistent",
    ] {
        assert!(!registry.is_read_only(name), "{name}");
    }
    registry.retain(|name| name == "read" || name == "grep");
    assert_eq!(registry.names(), ["grep", "read"]);
    assert!(registry.get("bash").is_none());
    registry.register(Arc::new(Crasher));
    assert_eq!(registry.names(), ["crasher", "grep", "read"]);
}

#[tokio::test]
async fn dispatch_runs_a_tool() {
    let ctx = TestContext::new();
    ctx.file("a.txt", "hi\n");
    let registry = ToolRegistry::builtin();
    let outcome = registry
        .dispatch("read", r#"{"path": "a.txt"}"#, &ctx)
        .await;
    assert_eq!(outcome, ToolOutcome::ok("     1\thi\n"));

    let listed = registry.dispatch("list", "", &ctx).await;
    assert!(!listed.is_error, "{}", listed.output);
    assert!(listed.output.contains("a.txt"));
}

#[tokio::test]
async fn unknown_tool_lists_the_available_ones() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin().dispatch("cat", "{}", &ctx).await;
    assert!(outcome.is_error);
    assert_eq!(
        outcome.output,
        "There is no tool called `cat`. Available tools: bash, edit, glob, grep, list, read, \
         shell_kill, shell_output, todo_write, write."
    );
}

#[tokio::test]
async fn non_json_arguments_are_reported_with_the_expected_parameters() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin()
        .dispatch("read", "{path: a.txt", &ctx)
        .await;
    assert!(outcome.is_error);
    assert!(
        outcome.output.contains("not valid JSON"),
        "{}",
        outcome.output
    );
    assert!(
        outcome.output.contains("  - path (string, required)"),
        "{}",
        outcome.output
    );
}

#[tokio::test]
async fn missing_fields_are_named() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin()
        .dispatch("edit", r#"{"path": "a.txt", "new_string": "x"}"#, &ctx)
        .await;
    assert!(outcome.is_error);
    let text = &outcome.output;
    assert!(text.starts_with("Invalid arguments for `edit`"), "{text}");
    assert!(
        text.contains("missing required parameter `old_string`"),
        "{text}"
    );
    assert!(text.contains("  - old_string (string, required)"), "{text}");
    assert!(
        text.contains("  - replace_all (boolean, optional, default false)"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_types_are_named() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin()
        .dispatch("read", r#"{"path": "a.txt", "limit": "ten"}"#, &ctx)
        .await;
    assert!(outcome.is_error);
    assert!(
        outcome
            .output
            .contains("parameter `limit` must be an integer, but got a string (\"ten\")"),
        "{}",
        outcome.output
    );

    let outcome = ToolRegistry::builtin()
        .dispatch("read", r#"["a.txt"]"#, &ctx)
        .await;
    assert!(
        outcome.output.contains("must be a JSON object"),
        "{}",
        outcome.output
    );
}

#[tokio::test]
async fn unknown_fields_are_named() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin()
        .dispatch(
            "write",
            r#"{"path": "a.txt", "content": "x", "mode": "0644"}"#,
            &ctx,
        )
        .await;
    assert!(outcome.is_error);
    assert!(
        outcome.output.contains("unknown parameter `mode`"),
        "{}",
        outcome.output
    );
    assert!(!ctx.root.join("a.txt").exists());
}

#[tokio::test]
async fn nested_problems_reach_the_model_with_the_parameters() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin()
        .dispatch(
            "todo_write",
            r#"{"todos": [{"content": "a", "status": "done"}]}"#,
            &ctx,
        )
        .await;
    assert!(outcome.is_error);
    assert!(
        outcome.output.contains("unknown variant `done`"),
        "{}",
        outcome.output
    );
    assert!(
        outcome.output.contains(
            "todos (array of objects {content: string, status: one of \"pending\", \
             \"in_progress\", \"completed\"}, required)"
        ),
        "{}",
        outcome.output
    );
}

#[tokio::test]
async fn tool_errors_become_error_outcomes() {
    let ctx = TestContext::new();
    let outcome = ToolRegistry::builtin()
        .dispatch("read", r#"{"path": "../../etc/passwd"}"#, &ctx)
        .await;
    assert!(outcome.is_error);
    assert!(
        outcome
            .output
            .starts_with("Access to `../../etc/passwd` refused"),
        "{}",
        outcome.output
    );
}

#[tokio::test]
async fn a_panicking_tool_is_reported_not_propagated() {
    let ctx = TestContext::new();
    let registry = ToolRegistry::with_tools(vec![Arc::new(Crasher)]);
    let outcome = registry.dispatch("crasher", "", &ctx).await;
    assert!(outcome.is_error);
    assert!(
        outcome
            .output
            .starts_with("The tool `crasher` failed unexpectedly: index out of bounds"),
        "{}",
        outcome.output
    );
    assert!(
        outcome.output.contains("a bug in baton"),
        "{}",
        outcome.output
    );
}

/// A tool whose blocking work panics.
struct BlockingCrasher;

#[async_trait::async_trait]
impl Tool for BlockingCrasher {
    fn name(&self) -> &'static str {
        "blocking_crasher"
    }
    fn description(&self) -> String {
        "Panics on the blocking pool.".to_owned()
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    fn is_read_only(&self) -> bool {
        true
    }
    async fn call(&self, _args: Value, _ctx: &dyn ToolContext) -> Result<String, ToolError> {
        crate::fs_util::run_blocking(|| -> Result<String, ToolError> {
            panic!("byte index 3 is not a char boundary")
        })
        .await
    }
}

#[tokio::test]
async fn a_panic_in_a_tools_blocking_work_is_reported_too() {
    let ctx = TestContext::new();
    let registry = ToolRegistry::with_tools(vec![Arc::new(BlockingCrasher)]);
    let outcome = registry.dispatch("blocking_crasher", "{}", &ctx).await;
    assert!(outcome.is_error);
    assert!(
        outcome.output.starts_with(
            "The tool `blocking_crasher` failed unexpectedly: byte index 3 is not a char boundary"
        ),
        "{}",
        outcome.output
    );
    // The registry still works afterwards.
    let again = registry.dispatch("blocking_crasher", "{}", &ctx).await;
    assert!(again.is_error);
}
