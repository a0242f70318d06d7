//! Printing the event stream of a session tree: `text` for people (a live
//! transcript), `jsonl` for programs (every event, one JSON object a line).

use crate::cli::Format;
use baton_protocol::{Event, EventKind, SessionId};
use std::collections::HashMap;
use std::io::Write;

/// Prints the events of one session and its descendants and remembers how
/// the top-level session's run went.
pub struct Printer {
    format: Format,
    root: SessionId,
    /// Sessions of the tree, with the label their text lines carry.
    tree: HashMap<SessionId, String>,
    /// Task descriptions by task id, for labels.
    labels: HashMap<String, String>,
    /// The description of the task being spawned now (from its `task`
    /// call; the spawn events carry only ids).
    pending: Option<String>,
    /// The last error message of the top-level session, if its turn failed.
    pub failure: Option<String>,
    /// Whether the top-level session's turn was cancelled.
    pub cancelled: bool,
    /// Root text received but not yet printed (an unfinished line).
    partial: String,
}

impl Printer {
    /// A printer following `root` and everything it delegates.
    pub fn new(format: Format, root: SessionId) -> Self {
        let mut tree = HashMap::new();
        tree.insert(root.clone(), String::new());
        Self {
            format,
            root,
            tree,
            labels: HashMap::new(),
            pending: None,
            failure: None,
            cancelled: false,
            partial: String::new(),
        }
    }

    /// Handles one event; events of other sessions are ignored.
    pub fn event(&mut self, event: &Event) {
        if !self.tree.contains_key(&event.session_id) {
            // A child announces itself before its parent says it spawned it.
            match &event.kind {
                EventKind::SessionCreated {
                    parent_id: Some(parent),
                    ..
                } if self.tree.contains_key(parent) => {
                    let label = self.pending.clone().unwrap_or_else(|| "task".into());
                    self.tree.insert(event.session_id.clone(), label);
                }
                _ => return,
            }
        }
        if event.session_id == self.root {
            match &event.kind {
                EventKind::Error { message } => self.failure = Some(message.clone()),
                EventKind::TurnCompleted { reason, .. } => match reason.as_str() {
                    "cancelled" => self.cancelled = true,
                    "end_turn" => self.failure = None,
                    _ => {}
                },
                _ => {}
            }
        }
        if let EventKind::TaskSpawned {
            task_id,
            child_session_id,
            ..
        } = &event.kind
        {
            let label = self.pending.take().unwrap_or_else(|| task_id.clone());
            self.labels.insert(task_id.clone(), label.clone());
            self.tree.insert(child_session_id.clone(), label);
        }
        match self.format {
            Format::Jsonl => jsonl(event),
            Format::Text => self.text(event),
        }
    }

    fn text(&mut self, event: &Event) {
        let child = event.session_id != self.root;
        let label = self
            .tree
            .get(&event.session_id)
            .cloned()
            .unwrap_or_default();
        match &event.kind {
            EventKind::TextDelta { delta } if !child => {
                // Whole lines go out as they complete, so activity lines of
                // sub-agents fall between lines, never inside one.
                self.partial.push_str(delta);
                if let Some(end) = self.partial.rfind('\n') {
                    let done: String = self.partial.drain(..=end).collect();
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(done.as_bytes());
                    let _ = out.flush();
                }
            }
            EventKind::MessageCompleted { .. } | EventKind::TurnCompleted { .. } if !child => {
                self.end_line();
            }
            EventKind::MessageCompleted { role, text, .. }
                if child && *role == baton_protocol::Role::Assistant =>
            {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    eprintln!("  [{label}] {line}");
                }
            }
            EventKind::SessionCreated {
                parent_id: Some(_),
                agent,
                model,
                ..
            } => {
                eprintln!("  [{label}] started: {agent} on {model}");
            }
            EventKind::ToolStarted {
                name, arguments, ..
            } => {
                if name == "task" {
                    self.pending = description_of(arguments);
                }
                let indent = if child {
                    format!("  [{label}] ")
                } else {
                    String::new()
                };
                eprintln!("{indent}→ {name} {}", summarize_args(arguments));
            }
            EventKind::ToolCompleted {
                name,
                is_error: true,
                output,
                ..
            } => {
                let indent = if child {
                    format!("  [{label}] ")
                } else {
                    String::new()
                };
                let first = output.lines().next().unwrap_or("");
                eprintln!("{indent}✗ {name}: {first}");
            }
            EventKind::TaskCompleted { task_id, status } => {
                let name = self.task_label(task_id);
                eprintln!("✓ task [{name}] {status}");
            }
            EventKind::ShellExited {
                shell_id,
                exit_code,
            } => {
                let code = exit_code.map_or("signal".to_owned(), |c| c.to_string());
                eprintln!("✓ background shell {shell_id} exited ({code})");
            }
            EventKind::NotificationDelivered { source_id } if !child => {
                eprintln!("… notice delivered: {}", self.task_label(source_id));
            }
            EventKind::HookCompleted {
                event,
                command,
                outcome,
                message,
                ..
            } if outcome != "ok" => {
                let why = message.as_deref().unwrap_or("");
                eprintln!("! {event} hook `{command}` {outcome}: {why}");
            }
            EventKind::LlmRetry {
                attempt,
                delay_ms,
                error,
            } => {
                eprintln!("… retry {attempt} in {delay_ms} ms: {error}");
            }
            _ => {}
        }
    }

    fn task_label(&self, task_id: &str) -> String {
        self.labels
            .get(task_id)
            .cloned()
            .unwrap_or_else(|| task_id.to_owned())
    }

    /// Prints the root's unfinished line, if any.
    fn end_line(&mut self) {
        if !self.partial.is_empty() {
            println!("{}", std::mem::take(&mut self.partial));
        }
    }
}

fn jsonl(event: &Event) {
    let mut out = std::io::stdout().lock();
    match serde_json::to_string(event) {
        Ok(line) => {
            let _ = writeln!(out, "{line}");
        }
        Err(e) => tracing::error!("cannot serialize event {}: {e}", event.seq),
    }
    let _ = out.flush();
}

/// The `description` argument of a `task` call.
fn description_of(arguments: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(arguments).ok()?;
    value.get("description")?.as_str().map(str::to_owned)
}

/// One short line from a tool call's JSON arguments.
fn summarize_args(arguments: &str) -> String {
    let value: serde_json::Value = match serde_json::from_str(arguments) {
        Ok(v) => v,
        Err(_) => return truncate(arguments, 80),
    };
    let Some(obj) = value.as_object() else {
        return truncate(arguments, 80);
    };
    for key in [
        "command",
        "path",
        "pattern",
        "description",
        "task_id",
        "shell_id",
    ] {
        if let Some(s) = obj.get(key).and_then(|v| v.as_str()) {
            return truncate(s, 80);
        }
    }
    truncate(arguments, 80)
}

fn truncate(s: &str, max: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut t: String = one_line.chars().take(max).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_arguments_are_summarised_by_their_main_field() {
        assert_eq!(summarize_args(r#"{"command":"ls -la"}"#), "ls -la");
        assert_eq!(summarize_args(r#"{"path":"a.rs","limit":3}"#), "a.rs");
        assert_eq!(summarize_args("{bad"), "{bad");
        assert_eq!(summarize_args(&"x".repeat(100)).chars().count(), 81);
    }
}
