//! Printing the event stream: `text` for people, `jsonl` for programs.

use crate::cli::Format;
use baton_protocol::{Event, EventKind};
use std::io::Write;

/// Prints events of one run and remembers how the run went.
pub struct Printer {
    format: Format,
    /// The last error message seen, if a turn failed.
    pub failure: Option<String>,
    /// Whether a turn was cancelled.
    pub cancelled: bool,
    line_open: bool,
}

impl Printer {
    /// A printer in the given format.
    pub fn new(format: Format) -> Self {
        Self {
            format,
            failure: None,
            cancelled: false,
            line_open: false,
        }
    }

    /// Handles one event of the run's session.
    pub fn event(&mut self, event: &Event) {
        let mut last_error = None;
        match &event.kind {
            EventKind::Error { message } => last_error = Some(message.clone()),
            EventKind::TurnCompleted { reason, .. } => match reason.as_str() {
                "cancelled" => self.cancelled = true,
                "end_turn" => self.failure = None,
                _ => {}
            },
            _ => {}
        }
        if let Some(message) = last_error {
            self.failure = Some(message);
        }
        match self.format {
            Format::Jsonl => self.jsonl(event),
            Format::Text => self.text(event),
        }
    }

    fn jsonl(&mut self, event: &Event) {
        let mut out = std::io::stdout().lock();
        match serde_json::to_string(event) {
            Ok(line) => {
                let _ = writeln!(out, "{line}");
            }
            Err(e) => tracing::error!("cannot serialize event {}: {e}", event.seq),
        }
        let _ = out.flush();
    }

    fn text(&mut self, event: &Event) {
        match &event.kind {
            EventKind::TextDelta { delta } => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(delta.as_bytes());
                let _ = out.flush();
                self.line_open = !delta.ends_with('\n');
            }
            EventKind::MessageCompleted { .. } | EventKind::TurnCompleted { .. } => {
                self.end_line();
            }
            EventKind::ToolStarted {
                name, arguments, ..
            } => {
                self.end_line();
                eprintln!("→ {name} {}", summarize_args(arguments));
            }
            EventKind::ToolCompleted {
                name,
                is_error: true,
                output,
                ..
            } => {
                let first = output.lines().next().unwrap_or("");
                eprintln!("✗ {name}: {first}");
            }
            EventKind::LlmRetry {
                attempt,
                delay_ms,
                error,
            } => {
                self.end_line();
                eprintln!("… retry {attempt} in {delay_ms} ms: {error}");
            }
            _ => {}
        }
    }

    fn end_line(&mut self) {
        if self.line_open {
            println!();
            self.line_open = false;
        }
    }
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
    for key in ["command", "path", "pattern", "description"] {
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
