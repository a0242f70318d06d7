//! The notification strip: the newest toasts, one line each, in rows of
//! their own between the conversation and the input. It takes rows only
//! while there is something to say, and so it never covers the
//! conversation, a panel or a picker.

use crate::render::{strip_control, theme, truncate_line};
use crate::state::{App, Level};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Rows the strip takes: one per toast shown (none when there are none).
pub fn height(app: &App) -> u16 {
    app.toasts.visible().count() as u16
}

/// The strip's lines, `width` columns wide at most: each toast behind a
/// mark in its level's colour, the first one ending with how many older
/// toasts are not shown ("+3 more").
pub fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let hidden = app.toasts.hidden();
    app.toasts
        .visible()
        .enumerate()
        .map(|(i, toast)| {
            let (mark, color) = match toast.level {
                Level::Info => ("●", Color::Green),
                Level::Attention => ("◆", Color::Yellow),
                Level::Error => ("✗", Color::Red),
            };
            let more = if i == 0 && hidden > 0 {
                format!("  +{hidden} more")
            } else {
                String::new()
            };
            let room = width.saturating_sub(more.chars().count() as u16);
            let text = toast.text.lines().collect::<Vec<_>>().join(" ");
            let text = Line::from(vec![
                Span::styled(format!(" {mark} "), Style::new().fg(color)),
                Span::styled(strip_control(&text).into_owned(), Style::new().fg(color)),
            ]);
            let mut line = truncate_line(text, room);
            if !more.is_empty() {
                line.spans.push(Span::styled(more, theme::DIM));
            }
            truncate_line(line, width)
        })
        .collect()
}

/// Draws the strip.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    if area.height == 0 {
        return;
    }
    frame.render_widget(Paragraph::new(lines(app, area.width)), area);
}
