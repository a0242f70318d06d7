//! How one conversation entry looks: pre-wrapped styled lines.

use super::tab_bar::activity_mark;
use crate::render::{
    EditReport, diff_stats, edit_diff_at, highlight_file, render_markdown, theme, truncate_line,
    wrap_plain,
};
use crate::state::{Activity, Entry, EntryKind, ToolEntry};
use crate::words::plural;
use baton_protocol::{NoticeKind, Timestamp};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Lines of a compact tool output or diff before "… more".
const COMPACT_LINES: usize = 12;
/// A finished call shows how long it took when it took this long (a
/// running one always does).
const SHOW_ELAPSED_AFTER: f64 = 2.0;
/// Lines of a bash output tail shown compact.
const COMPACT_TAIL: usize = 4;

/// What an entry's drawing depends on besides the entry itself: it is
/// drawn again when this changes (a running call's elapsed seconds, a
/// task's spinner).
pub fn entry_stamp(entry: &Entry, now: Timestamp, frame: u64) -> u64 {
    match &entry.kind {
        EntryKind::Tool(tool) if tool.running() => tool.elapsed_s(now).map_or(0, |s| s as u64 + 1),
        EntryKind::Tool(ToolEntry {
            task_activity: Some(Activity::Running),
            ..
        }) => frame + 1,
        _ => 0,
    }
}

/// The lines of an entry, `width` columns wide at most, followed by one
/// blank line. `expanded`: every tool call of the tab is shown in full;
/// the entry's own `expanded` shows it alone in full.
pub fn entry_lines(
    entry: &Entry,
    width: u16,
    expanded: bool,
    now: Timestamp,
    frame: u64,
) -> Vec<Line<'static>> {
    let width = width.max(4);
    let expanded = expanded || entry.expanded;
    let mut lines = match &entry.kind {
        EntryKind::User { text, queued } => user_lines(text, *queued, width),
        EntryKind::Assistant { text, streaming } => assistant_lines(text, *streaming, width),
        EntryKind::Reasoning { text, streaming } => {
            reasoning_lines(text, *streaming, width, expanded)
        }
        EntryKind::Tool(tool) => tool_lines(tool, width, expanded, now, frame),
        EntryKind::Notice {
            kind,
            source_id,
            text,
        } => notice_lines(*kind, source_id, text, width, expanded),
        EntryKind::Error(text) => prefixed(
            wrap_plain(text, width - 2, Style::new().fg(Color::Red)),
            Span::styled("✗ ", Style::new().fg(Color::Red)),
            Span::raw("  "),
        ),
        EntryKind::Info(text) => prefixed(
            wrap_plain(text, width - 2, theme::DIM),
            Span::styled("· ", theme::DIM),
            Span::raw("  "),
        ),
    };
    lines.push(Line::default());
    lines
}

fn prefixed(
    lines: Vec<Line<'static>>,
    first: Span<'static>,
    rest: Span<'static>,
) -> Vec<Line<'static>> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, mut line)| {
            let prefix = if i == 0 { first.clone() } else { rest.clone() };
            line.spans.insert(0, prefix);
            line
        })
        .collect()
}

fn user_lines(text: &str, queued: bool, width: u16) -> Vec<Line<'static>> {
    let style = if queued {
        theme::DIM
    } else {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    };
    let mut lines = prefixed(
        wrap_plain(text, width - 2, style),
        Span::styled("› ", Style::new().fg(Color::Cyan)),
        Span::raw("  "),
    );
    if queued {
        lines.push(Line::from(Span::styled(
            "  queued: taken at the next step",
            theme::DIM.add_modifier(Modifier::ITALIC),
        )));
    }
    lines
}

fn assistant_lines(text: &str, streaming: bool, width: u16) -> Vec<Line<'static>> {
    let mut lines = prefixed(
        render_markdown(text, width - 2),
        Span::raw("  "),
        Span::raw("  "),
    );
    if streaming {
        match lines.last_mut() {
            Some(last) if last.width() < usize::from(width) => {
                last.spans.push(Span::styled("▍", theme::DIM));
            }
            _ => lines.push(Line::from(Span::styled("  ▍", theme::DIM))),
        }
    }
    lines
}

/// Lines of reasoning shown while it streams (its latest), folded.
const REASONING_TAIL: usize = 3;

/// Reasoning: a dim header; while it streams, its latest lines; once done,
/// folded to the header unless expanded (Ctrl+E).
fn reasoning_lines(text: &str, streaming: bool, width: u16, expanded: bool) -> Vec<Line<'static>> {
    let style = theme::DIM.add_modifier(Modifier::ITALIC);
    let body = wrap_plain(text.trim(), width - 2, style);
    let header = if streaming {
        "thinking…".to_owned()
    } else if expanded {
        "thought".to_owned()
    } else {
        format!(
            "thought ({}, Ctrl+E shows it)",
            plural(body.len(), "line", "lines")
        )
    };
    let mut lines = vec![truncate_line(
        Line::from(vec![
            Span::styled("∴ ", theme::DIM),
            Span::styled(header, style),
        ]),
        width,
    )];
    let shown: Vec<Line<'static>> = if expanded {
        body
    } else if streaming {
        let skip = body.len().saturating_sub(REASONING_TAIL);
        body.into_iter().skip(skip).collect()
    } else {
        Vec::new()
    };
    lines.extend(prefixed(shown, Span::raw("  "), Span::raw("  ")));
    lines
}

fn notice_lines(
    kind: NoticeKind,
    source: &str,
    text: &str,
    width: u16,
    expanded: bool,
) -> Vec<Line<'static>> {
    let what = match kind {
        NoticeKind::Task => "task",
        NoticeKind::Shell => "shell",
        NoticeKind::System => "notice",
        NoticeKind::Message => "message",
    };
    let style = Style::new().fg(Color::Magenta);
    let mut lines = vec![truncate_line(
        Line::from(vec![
            Span::styled("◆ ", style),
            Span::styled(
                format!("{what} notice "),
                style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(source.to_owned(), theme::DIM),
        ]),
        width,
    )];
    // A task's result is Markdown, like any answer.
    let body = cap(render_markdown(text.trim_end(), width - 2), expanded);
    lines.extend(prefixed(
        body,
        Span::styled("│ ", style),
        Span::styled("│ ", style),
    ));
    lines
}

/// The mark in front of a tool call: running, done or failed; for a
/// `task` call, what its task is doing (the call itself returns at once).
fn tool_mark(tool: &ToolEntry, frame: u64) -> Span<'static> {
    if let Some(activity) = tool.task_activity
        && !tool.is_error
    {
        let (mark, color) = activity_mark(activity, frame);
        return Span::styled(format!("{mark} "), Style::new().fg(color));
    }
    if tool.running() {
        Span::styled("⋯ ", Style::new().fg(Color::Yellow))
    } else if tool.is_error {
        Span::styled("✗ ", Style::new().fg(Color::Red))
    } else {
        Span::styled("✓ ", Style::new().fg(Color::Green))
    }
}

fn tool_lines(
    tool: &ToolEntry,
    width: u16,
    expanded: bool,
    now: Timestamp,
    frame: u64,
) -> Vec<Line<'static>> {
    let name = Span::styled(
        format!("{} ", tool.name),
        Style::new().add_modifier(Modifier::BOLD),
    );
    let (summary, body) = match tool.name.as_str() {
        "bash" => bash_parts(tool, width, expanded),
        "edit" => edit_parts(tool, width, expanded),
        "write" => write_parts(tool, width, expanded),
        _ => generic_parts(tool, width, expanded),
    };
    let mut head = vec![tool_mark(tool, frame), name];
    head.extend(summary);
    // What the call is doing and for how long stays visible: a long
    // command line is cut before it, not it.
    let mut state = Vec::new();
    if let Some(activity) = tool.task_activity
        && !tool.is_error
    {
        state.push(Span::styled(format!("  {}", activity.words()), theme::DIM));
    }
    // A `task` call's own time says nothing (it returns at once): its
    // task's state stands there instead.
    if let Some(seconds) = tool.elapsed_s(now)
        && tool.task_activity.is_none()
        && (tool.running() || seconds >= SHOW_ELAPSED_AFTER)
    {
        state.push(Span::styled(format!("  {}", elapsed(seconds)), theme::DIM));
    }
    let state_width: usize = state.iter().map(Span::width).sum();
    let room = usize::from(width).saturating_sub(state_width).max(8);
    let mut head = truncate_line(Line::from(head), room as u16);
    head.spans.extend(state);
    let mut lines = vec![truncate_line(head, width)];
    lines.extend(prefixed(body, Span::raw("  "), Span::raw("  ")));
    lines
}

type Parts = (Vec<Span<'static>>, Vec<Line<'static>>);

fn bash_parts(tool: &ToolEntry, width: u16, expanded: bool) -> Parts {
    let command = tool.arg("command").unwrap_or_default();
    let first = command.lines().next().unwrap_or_default().to_owned();
    let mut summary = vec![Span::styled(
        format!("$ {first}"),
        Style::new().fg(Color::Yellow),
    )];
    if tool.arg("background").as_deref() == Some("true") {
        summary.push(Span::styled("  (background)", theme::DIM));
    }
    let mut body = Vec::new();
    if expanded && command.lines().count() > 1 {
        body.extend(wrap_plain(
            &command,
            width - 2,
            Style::new().fg(Color::Yellow),
        ));
    }
    // Running, its live output shows as the stored output will: the
    // same tail, the same cut.
    let shown = match &tool.output {
        Some(output) => Some(output.as_str()),
        None if !tool.live.is_empty() => Some(tool.live.as_str()),
        None => None,
    };
    if let Some(output) = shown {
        body.extend(output_lines(
            output,
            tool.is_error,
            width - 2,
            expanded,
            true,
        ));
    }
    (summary, body)
}

/// A duration as the tool line shows it: `0.4 s`, `12 s`, `3 min 05 s`.
fn elapsed(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else if seconds < 60.0 {
        format!("{} s", seconds as u64)
    } else {
        let s = seconds as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

fn edit_parts(tool: &ToolEntry, width: u16, expanded: bool) -> Parts {
    let path = tool.arg("path").unwrap_or_default();
    let old = tool.arg("old_string").unwrap_or_default();
    let new = tool.arg("new_string").unwrap_or_default();
    let (added, removed) = diff_stats(&old, &new);
    let report = tool
        .output
        .as_deref()
        .filter(|_| !tool.is_error)
        .and_then(EditReport::parse);
    let mut summary = vec![
        Span::raw(format!("{path} ")),
        Span::styled(format!("+{added}"), theme::DIFF_ADD),
        Span::raw(" "),
        Span::styled(format!("-{removed}"), theme::DIFF_DEL),
    ];
    // Line numbers only where they are true of every line shown: an edit
    // that replaced several places shows the change once, unnumbered.
    let first_line = match report {
        Some(r) if r.replacements == 1 => Some(r.first_line),
        Some(r) => {
            summary.push(Span::styled(
                format!("  ({})", plural(r.replacements, "place", "places")),
                theme::DIM,
            ));
            None
        }
        None => None,
    };
    let mut body = cap(edit_diff_at(&old, &new, first_line, width - 2), expanded);
    if tool.is_error
        && let Some(output) = &tool.output
    {
        body.extend(output_lines(output, true, width - 2, expanded, false));
    }
    (summary, body)
}

fn write_parts(tool: &ToolEntry, width: u16, expanded: bool) -> Parts {
    let path = tool.arg("path").unwrap_or_default();
    let content = tool.arg("content").unwrap_or_default();
    let summary = vec![
        Span::raw(format!("{path} ")),
        Span::styled(plural(content.lines().count(), "line", "lines"), theme::DIM),
    ];
    let mut body = Vec::new();
    if expanded {
        body = highlight_file(&content, &path)
            .into_iter()
            .map(|l| truncate_line(l, width - 2))
            .collect();
    }
    if tool.is_error
        && let Some(output) = &tool.output
    {
        body.extend(output_lines(output, true, width - 2, expanded, false));
    }
    (summary, body)
}

fn generic_parts(tool: &ToolEntry, width: u16, expanded: bool) -> Parts {
    let subject = [
        "path",
        "pattern",
        "description",
        "task_id",
        "shell_id",
        "task_ids",
    ]
    .iter()
    .find_map(|k| tool.arg(k))
    .unwrap_or_default();
    let first = subject.lines().next().unwrap_or_default().to_owned();
    let summary = vec![Span::raw(first)];
    let body = match &tool.output {
        Some(output) if expanded || tool.is_error => {
            output_lines(output, tool.is_error, width - 2, expanded, false)
        }
        _ => Vec::new(),
    };
    (summary, body)
}

/// A tool's output: all of it when expanded; else its tail (bash) or
/// head, a few lines.
fn output_lines(
    output: &str,
    is_error: bool,
    width: u16,
    expanded: bool,
    tail: bool,
) -> Vec<Line<'static>> {
    let style = if is_error {
        Style::new().fg(Color::Red)
    } else {
        theme::DIM
    };
    if expanded {
        return wrap_plain(output.trim_end(), width, style);
    }
    let lines: Vec<Line<'static>> = output
        .trim_end()
        .lines()
        .map(|l| truncate_line(Line::styled(l.to_owned(), style), width))
        .collect();
    if lines.len() <= COMPACT_TAIL {
        return lines;
    }
    let hidden = lines.len() - COMPACT_TAIL;
    let more = Line::styled(
        format!(
            "… {} (click or Ctrl+E shows all)",
            plural(hidden, "more line", "more lines")
        ),
        theme::DIM.add_modifier(Modifier::ITALIC),
    );
    if tail {
        let mut out = vec![more];
        out.extend(lines[hidden..].iter().cloned());
        out
    } else {
        let mut out: Vec<_> = lines[..COMPACT_TAIL].to_vec();
        out.push(more);
        out
    }
}

fn cap(lines: Vec<Line<'static>>, expanded: bool) -> Vec<Line<'static>> {
    if expanded || lines.len() <= COMPACT_LINES {
        return lines;
    }
    let hidden = lines.len() - COMPACT_LINES;
    let mut out: Vec<_> = lines.into_iter().take(COMPACT_LINES).collect();
    out.push(Line::styled(
        format!(
            "… {} (click or Ctrl+E shows all)",
            plural(hidden, "more line", "more lines")
        ),
        theme::DIM.add_modifier(Modifier::ITALIC),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn reasoning_shows_its_tail_while_streaming_and_folds_when_done() {
        let text = "one\ntwo\nthree\nfour\nfive";
        let live = reasoning_lines(text, true, 40, false);
        assert_eq!(
            text_of(&live),
            ["∴ thinking…", "  three", "  four", "  five"]
        );
        let done = reasoning_lines(text, false, 40, false);
        assert_eq!(text_of(&done), ["∴ thought (5 lines, Ctrl+E shows it)"]);
        let open = reasoning_lines(text, false, 40, true);
        assert_eq!(open.len(), 6);
        assert_eq!(text_of(&open)[5], "  five");
    }
}
