//! The names of baton's built-in tools, as the model sees them.

/// Every built-in tool.
pub(crate) const BUILTIN_TOOLS: &[&str] = &[
    "read",
    "write",
    "edit",
    "glob",
    "grep",
    "list",
    "bash",
    "shell_output",
    "shell_kill",
    "task",
    "task_status",
    "task_output",
    "task_wait",
    "task_send",
    "task_cancel",
    "message",
    "todo_write",
];

/// The tools that only look at the project.
pub(crate) const SEARCH_TOOLS: &[&str] = &["read", "glob", "grep", "list"];

/// The tools that delegate to sub-agents and follow them.
pub(crate) const TASK_TOOLS: &[&str] = &[
    "task",
    "task_status",
    "task_output",
    "task_wait",
    "task_send",
    "task_cancel",
];

/// The tools that change files or run commands.
pub(crate) const CHANGING_TOOLS: &[&str] = &["write", "edit", "bash", "shell_kill"];

/// Whether `name` is a built-in tool.
pub(crate) fn is_builtin(name: &str) -> bool {
    BUILTIN_TOOLS.contains(&name)
}

/// Adds `name` to `list` unless it is there already (several foreign tool
/// names can map to one of ours).
pub(crate) fn push_unique(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|t| t == name) {
        list.push(name.to_owned());
    }
}
