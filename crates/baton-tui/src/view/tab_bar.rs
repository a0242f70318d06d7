//! The tab bar: every session of the tree with its agent, title and a live
//! status mark.

use crate::state::{Activity, App, Tab};
use baton_protocol::SessionStatus;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Spinner frames for a running session.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// Longest title shown in a tab.
const TITLE_CHARS: usize = 18;

/// The mark and colour of a status.
pub fn status_mark(status: SessionStatus, frame: u64) -> (&'static str, Color) {
    match status {
        SessionStatus::Running => (
            SPINNER[(frame % SPINNER.len() as u64) as usize],
            Color::Cyan,
        ),
        SessionStatus::Queued => ("◌", Color::DarkGray),
        SessionStatus::Waiting => ("◇", Color::DarkGray),
        SessionStatus::AwaitingPermission => ("?", Color::Yellow),
        SessionStatus::Completed => ("✓", Color::Green),
        SessionStatus::Failed => ("✗", Color::Red),
        SessionStatus::Cancelled => ("⊘", Color::DarkGray),
        SessionStatus::Interrupted => ("⏸", Color::Yellow),
        SessionStatus::Idle => ("·", Color::DarkGray),
    }
}

/// The mark and colour of what a session is doing.
pub fn activity_mark(activity: Activity, frame: u64) -> (&'static str, Color) {
    match activity {
        Activity::Queued => status_mark(SessionStatus::Queued, frame),
        Activity::Waiting => status_mark(SessionStatus::Waiting, frame),
        Activity::Running => status_mark(SessionStatus::Running, frame),
        Activity::Asking => status_mark(SessionStatus::AwaitingPermission, frame),
        Activity::Shell | Activity::Tasks => ("◷", Color::Blue),
        Activity::Idle => status_mark(SessionStatus::Idle, frame),
        Activity::Ended(status) => status_mark(status, frame),
    }
}

fn label(app: &App, index: usize, tab: &Tab, focused: bool) -> Vec<Span<'static>> {
    let (mark, color) = activity_mark(app.activity_of(&tab.view.id), app.frame);
    let mut title: String = tab.title().chars().take(TITLE_CHARS).collect();
    if tab.title().chars().count() > TITLE_CHARS {
        title.push('…');
    }
    let base = if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    let mut spans = vec![
        Span::styled(format!(" {} ", index + 1), base.add_modifier(Modifier::DIM)),
        Span::styled(format!("{mark} "), base.fg(color)),
        Span::styled(
            format!("{} ", tab.view.agent),
            base.add_modifier(Modifier::BOLD),
        ),
        Span::styled(title, base),
    ];
    let asks = app.permissions_of(&tab.view.id).count();
    if asks > 0 {
        spans.push(Span::styled(
            format!(" !{asks}"),
            base.fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ));
    } else if tab.unseen && !focused {
        spans.push(Span::styled(" •", base.fg(Color::Cyan)));
    }
    spans.push(Span::styled(" ", base));
    spans
}

/// Draws the tab bar, scrolled so the focused tab is visible; returns
/// the columns each visible tab takes (`start..end`, tab index).
pub fn draw(frame: &mut Frame, area: Rect, app: &App) -> Vec<(u16, u16, usize)> {
    let labels: Vec<Vec<Span<'static>>> = app
        .order
        .iter()
        .enumerate()
        .filter_map(|(i, id)| Some(label(app, i, app.tabs.get(id)?, i == app.focus)))
        .collect();
    if labels.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                " baton · new session ",
                Style::new().add_modifier(Modifier::REVERSED),
            )),
            area,
        );
        return Vec::new();
    }
    let widths: Vec<usize> = labels
        .iter()
        .map(|l| l.iter().map(Span::width).sum::<usize>() + 1)
        .collect();
    let room = usize::from(area.width).saturating_sub(2);
    // Start far enough right that the focused tab fits.
    let focus = app.focus.min(labels.len() - 1);
    let mut first = 0;
    while first < focus && widths[first..=focus].iter().sum::<usize>() > room {
        first += 1;
    }
    let mut spans = Vec::new();
    if first > 0 {
        spans.push(Span::styled("‹", Style::new().fg(Color::DarkGray)));
    }
    let mut used = usize::from(first > 0);
    let mut last = first;
    let mut hits = Vec::new();
    for (i, label) in labels.into_iter().enumerate().skip(first) {
        if used + widths[i] > room && i > focus {
            break;
        }
        let start = area.x.saturating_add(used as u16);
        used += widths[i];
        hits.push((start, area.x.saturating_add(used as u16 - 1), i));
        spans.extend(label);
        spans.push(Span::styled("│", Style::new().fg(Color::DarkGray)));
        last = i;
    }
    if last + 1 < app.order.len() {
        spans.push(Span::styled("›", Style::new().fg(Color::DarkGray)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    hits
}
