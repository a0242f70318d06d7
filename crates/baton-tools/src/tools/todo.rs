//! `todo_write`: replace the session's todo list.

use crate::schema::{parse_args, schema_for};
use crate::{Todo, TodoStatus, Tool, ToolContext, ToolError};

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TodoWriteArgs {
    /// The complete new list, in order. Replaces the previous list.
    todos: Vec<Todo>,
}

/// The `todo_write` tool.
pub(crate) struct TodoWriteTool;

#[async_trait::async_trait]
impl Tool for TodoWriteTool {
    fn name(&self) -> &'static str {
        "todo_write"
    }

    fn description(&self) -> String {
        "Replace the todo list for this session with `todos` (send the whole list every time). \
         Use it for work with several steps: plan the steps, mark one `in_progress` before \
         starting it (at most one at a time), and mark it `completed` as soon as it is done. \
         Statuses: `pending`, `in_progress`, `completed`. The user sees the list. Skip it for \
         single, trivial steps."
            .to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<TodoWriteArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: TodoWriteArgs = parse_args(args)?;
        if let Some(position) = args.todos.iter().position(|t| t.content.trim().is_empty()) {
            return Err(ToolError::invalid(format!(
                "todo {} has empty `content`; describe the step",
                position + 1
            )));
        }
        let in_progress = args
            .todos
            .iter()
            .filter(|t| t.status == TodoStatus::InProgress)
            .count();
        if in_progress > 1 {
            return Err(ToolError::invalid(format!(
                "{in_progress} todos are `in_progress`; at most one may be. Mark the others \
                 `pending` (or `completed`)"
            )));
        }
        let rendered = render(&args.todos);
        ctx.set_todos(args.todos);
        Ok(rendered)
    }
}

fn render(todos: &[Todo]) -> String {
    if todos.is_empty() {
        return "Todo list cleared.".to_owned();
    }
    todos
        .iter()
        .map(|todo| {
            let mark = match todo.status {
                TodoStatus::Completed => "[x]",
                TodoStatus::InProgress => "[>]",
                TodoStatus::Pending => "[ ]",
            };
            format!("{mark} {}", todo.content)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use serde_json::json;

    #[tokio::test]
    async fn stores_and_renders_the_list() {
        let ctx = TestContext::new();
        let out = TodoWriteTool
            .call(
                json!({"todos": [
                    {"content": "done thing", "status": "completed"},
                    {"content": "current", "status": "in_progress"},
                    {"content": "next", "status": "pending"}
                ]}),
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(out, "[x] done thing\n[>] current\n[ ] next");
        let stored = ctx.todos.lock().unwrap().clone().unwrap();
        assert_eq!(stored.len(), 3);
        assert_eq!(stored[1].status, TodoStatus::InProgress);

        let cleared = TodoWriteTool
            .call(json!({"todos": []}), &ctx)
            .await
            .unwrap();
        assert_eq!(cleared, "Todo list cleared.");
        assert_eq!(ctx.todos.lock().unwrap().clone().unwrap(), vec![]);
    }

    #[tokio::test]
    async fn refuses_two_in_progress_and_leaves_the_list_alone() {
        let ctx = TestContext::new();
        let err = TodoWriteTool
            .call(
                json!({"todos": [
                    {"content": "a", "status": "in_progress"},
                    {"content": "b", "status": "in_progress"}
                ]}),
                &ctx,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at most one"), "{err}");
        assert!(ctx.todos.lock().unwrap().is_none());
    }

    #[tokio::test]
    async fn unknown_status_is_an_argument_error() {
        let ctx = TestContext::new();
        let err = TodoWriteTool
            .call(json!({"todos": [{"content": "a", "status": "done"}]}), &ctx)
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidArguments { .. }));
        assert!(err.to_string().contains("in_progress"), "{err}");
    }
}
