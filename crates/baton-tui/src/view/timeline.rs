//! The timeline (Ctrl+L, `/timeline`): every session, task and shell of
//! the tree as a bar over time, from the tree's first start to now.

use super::tab_bar::status_mark;
use crate::render::{theme, truncate_line};
use crate::state::{App, Bar, Selection, TimelineRow};
use baton_protocol::api::ShellState;
use baton_protocol::{SessionStatus, Timestamp};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Widest the label column gets.
const MAX_LABEL: u16 = 32;
/// About this many columns between two time labels.
const TICK_EVERY: u16 = 16;

/// The columns `[first, last)` of a bar from `start` to `end` on an axis
/// `width` columns wide that runs from `t0` to `t1`. Times outside the axis
/// are clamped to it; a bar is at least one column wide, so the shortest
/// work still shows (none at all on an axis of no columns).
pub fn bar_columns(
    start: Timestamp,
    end: Timestamp,
    t0: Timestamp,
    t1: Timestamp,
    width: u16,
) -> (u16, u16) {
    if width == 0 {
        return (0, 0);
    }
    let span = (t1 - t0).num_milliseconds().max(1);
    let at = |t: Timestamp| (t - t0).num_milliseconds().clamp(0, span);
    let (a, b) = (at(start), at(end));
    let b = b.max(a);
    let w = i64::from(width);
    let first = (a * w / span).min(w - 1);
    // Round the end up, so a bar covers every column it touches.
    let last = ((b * w + span - 1) / span).clamp(first + 1, w);
    (first as u16, last as u16)
}

/// A compact duration: `45s`, `2m05s`, `1h02m`.
pub fn short_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The glyph and colour of a bar.
fn bar_look(bar: Bar) -> (char, Color) {
    match bar {
        Bar::Session(status) => match status {
            SessionStatus::Running => ('█', Color::Cyan),
            SessionStatus::Queued => ('░', Color::DarkGray),
            SessionStatus::Waiting => ('┄', Color::DarkGray),
            SessionStatus::AwaitingPermission => ('▒', Color::Yellow),
            SessionStatus::Idle => ('─', Color::DarkGray),
            SessionStatus::Completed => ('━', Color::Green),
            SessionStatus::Failed => ('═', Color::Red),
            SessionStatus::Cancelled => ('╌', Color::DarkGray),
            SessionStatus::Interrupted => ('╌', Color::Yellow),
        },
        Bar::Shell { state, exit_code } => match (state, exit_code) {
            (ShellState::Running, _) => ('█', Color::Cyan),
            (ShellState::Exited, Some(0)) => ('━', Color::Green),
            (ShellState::Exited, Some(_)) => ('═', Color::Red),
            (ShellState::Exited, None) => ('━', Color::DarkGray),
            (ShellState::Killed, _) => ('╌', Color::DarkGray),
        },
    }
}

/// The mark in front of a row's label.
fn row_mark(bar: Bar, frame: u64) -> (&'static str, Color) {
    match bar {
        Bar::Session(status) => status_mark(status, frame),
        Bar::Shell { state, exit_code } => match (state, exit_code) {
            (ShellState::Running, _) => status_mark(SessionStatus::Running, frame),
            (ShellState::Exited, Some(0)) => ("✓", Color::Green),
            (ShellState::Exited, Some(_)) => ("✗", Color::Red),
            (ShellState::Exited, None) => ("·", Color::DarkGray),
            (ShellState::Killed, _) => ("⊘", Color::DarkGray),
        },
    }
}

/// Steps between time labels, in seconds: the first that leaves about
/// [`TICK_EVERY`] columns between two labels is used.
const STEPS: &[i64] = &[
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400,
];

/// The time labels under the axis: the elapsed time since `t0` at round
/// steps about [`TICK_EVERY`] columns apart, and "now" at the right end.
fn axis(t0: Timestamp, t1: Timestamp, width: u16) -> String {
    let w = usize::from(width);
    let mut out = vec![' '; w];
    let total = (t1 - t0).num_milliseconds().max(0);
    let mut put = |col: usize, text: &str| {
        let text: Vec<char> = text.chars().collect();
        let col = col.min(w.saturating_sub(text.len()));
        let free = out
            .get(col.saturating_sub(1)..(col + text.len() + 1).min(w))
            .is_some_and(|cells| cells.iter().all(|c| *c == ' '));
        if free && col + text.len() <= w {
            out[col..col + text.len()].copy_from_slice(&text);
        }
    };
    let now = format!("now {}", short_duration(total / 1000));
    put(w.saturating_sub(now.chars().count()), &now);
    let ticks = i64::from((width / TICK_EVERY).max(1));
    let step = STEPS
        .iter()
        .copied()
        .find(|s| s * 1000 * ticks >= total)
        .unwrap_or(86400);
    let mut at = 0;
    while at * 1000 <= total {
        let col = (at * 1000 * i64::from(width)) / total.max(1);
        put(
            usize::try_from(col).unwrap_or(usize::MAX),
            &format!("│{}", short_duration(at)),
        );
        at += step;
    }
    out.into_iter().collect()
}

/// One row: its mark and indented label, then its bar.
fn row_line(
    row: &TimelineRow,
    t0: Timestamp,
    now: Timestamp,
    label_width: u16,
    axis_width: u16,
    frame: u64,
    selected: bool,
) -> Line<'static> {
    let (mark, mark_color) = row_mark(row.bar, frame);
    let label = truncate_line(
        Line::from(vec![
            Span::raw(format!(" {}", "  ".repeat(row.depth))),
            Span::styled(format!("{mark} "), Style::new().fg(mark_color)),
            Span::raw(row.label.clone()),
        ]),
        label_width,
    );
    let pad = usize::from(label_width).saturating_sub(label.width());
    let mut label = label;
    label.spans.push(Span::raw(" ".repeat(pad)));
    if selected {
        label = label.patch_style(Style::new().add_modifier(Modifier::REVERSED));
    }
    let end = row.end.unwrap_or(now);
    let (first, last) = bar_columns(row.start, end, t0, now, axis_width);
    let (glyph, color) = bar_look(row.bar);
    let mut spans = label.spans;
    spans.push(Span::raw(" "));
    spans.push(Span::raw(" ".repeat(usize::from(first))));
    spans.push(Span::styled(
        glyph.to_string().repeat(usize::from(last - first)),
        Style::new().fg(color),
    ));
    Line::from(spans)
}

/// The legend under the rows.
fn legend() -> Line<'static> {
    let items = [
        ('█', Color::Cyan, "running"),
        ('┄', Color::DarkGray, "waiting"),
        ('░', Color::DarkGray, "queued"),
        ('▒', Color::Yellow, "asking"),
        ('─', Color::DarkGray, "idle"),
        ('━', Color::Green, "done"),
        ('═', Color::Red, "failed"),
        ('╌', Color::DarkGray, "stopped"),
    ];
    let mut spans = vec![Span::raw(" ")];
    for (glyph, color, what) in items {
        spans.push(Span::styled(
            format!("{glyph}{glyph} "),
            Style::new().fg(color),
        ));
        spans.push(Span::styled(format!("{what}  "), theme::DIM));
    }
    Line::from(spans)
}

/// Draws the timeline over the whole conversation area.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, sel: Selection, now: Timestamp) {
    let rect = body;
    let inner = rect.width.saturating_sub(2);
    let rows = app.timeline_rows();
    let t0 = rows.iter().map(|r| r.start).min().unwrap_or(now).min(now);
    let label_width = (inner / 3).clamp(8, MAX_LABEL).min(inner);
    let axis_width = inner.saturating_sub(label_width + 1);
    let mut lines = vec![truncate_line(
        Line::styled(
            format!(
                " {} to {} (UTC)",
                t0.format("%H:%M:%S"),
                now.format("%H:%M:%S")
            ),
            theme::DIM,
        ),
        inner,
    )];
    lines.push(truncate_line(
        Line::from(vec![
            Span::raw(" ".repeat(usize::from(label_width) + 1)),
            Span::styled(axis(t0, now, axis_width), theme::DIM),
        ]),
        inner,
    ));
    if rows.is_empty() {
        lines.push(Line::styled(" nothing has run yet", theme::DIM));
    }
    // Title and axis above, legend below, borders around.
    let room = usize::from(rect.height.saturating_sub(5));
    let visible = super::panels::window(rows.len(), sel, room);
    for i in visible {
        let line = row_line(
            &rows[i],
            t0,
            now,
            label_width,
            axis_width,
            app.frame,
            i == sel.selected,
        );
        lines.push(truncate_line(line, inner));
    }
    let filler = (room + 2).saturating_sub(lines.len());
    lines.extend(std::iter::repeat_n(Line::default(), filler));
    lines.push(truncate_line(legend(), inner));
    super::panels::panel(
        frame,
        rect,
        "timeline",
        lines,
        "↑↓ move · Enter open tab · Esc close",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn bars_cover_the_columns_of_their_time() {
        let (t0, t1) = (at(0), at(100));
        assert_eq!(bar_columns(at(10), at(30), t0, t1, 50), (5, 15));
        assert_eq!(bar_columns(at(0), at(100), t0, t1, 50), (0, 50));
        // Partly covered columns count: 11s..31s touches columns 5 to 15.
        assert_eq!(bar_columns(at(11), at(31), t0, t1, 50), (5, 16));
        // Something that took no time still shows as one column.
        assert_eq!(bar_columns(at(40), at(40), t0, t1, 50), (20, 21));
        assert_eq!(bar_columns(at(100), at(100), t0, t1, 50), (49, 50));
        // Clamped to the axis.
        assert_eq!(bar_columns(at(-5), at(200), t0, t1, 50), (0, 50));
        // No width, no bar; an axis of no time is one instant.
        assert_eq!(bar_columns(at(10), at(30), t0, t1, 0), (0, 0));
        assert_eq!(bar_columns(at(0), at(0), t0, t0, 10), (0, 1));
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(0), "0s");
        assert_eq!(short_duration(45), "45s");
        assert_eq!(short_duration(125), "2m05s");
        assert_eq!(short_duration(3720), "1h02m");
        assert_eq!(short_duration(-3), "0s");
    }

    #[test]
    fn the_axis_labels_the_start_and_now() {
        let line = axis(at(0), at(90), 64);
        assert_eq!(line.chars().count(), 64);
        assert!(line.starts_with("│0s"), "{line}");
        assert!(line.ends_with("now 1m30s"), "{line}");
        assert!(line.contains("│30s") && line.contains("│1m00s"), "{line}");
        // A label that would touch another is left out.
        let narrow = axis(at(0), at(90), 40);
        assert_eq!(narrow.chars().count(), 40);
        assert!(narrow.starts_with("│0s") && narrow.ends_with("now 1m30s"));
        assert!(!narrow.contains("1m00s"), "{narrow}");
    }
}
