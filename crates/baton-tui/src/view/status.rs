//! The status line: running work and the tree's tokens and cost.

use crate::render::{theme, truncate_line};
use crate::state::App;
use crate::words::plural;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// `12345` as `12.3k`.
pub fn tokens(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// ` (87% cached)`: the share of input tokens read from the provider's
/// prompt cache, when any was.
fn cached_share(input: u64, cached: u64) -> String {
    if input == 0 || cached == 0 {
        return String::new();
    }
    format!(" ({}% cached)", cached.min(input) * 100 / input)
}

/// Draws the status line.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let totals = app.totals();
    let (tasks, shells) = (app.running_tasks(), app.running_shells());
    let asks = app.permissions.len();
    let mut left = vec![
        Span::styled(
            format!(" {} ", plural(tasks, "task", "tasks")),
            if tasks > 0 {
                Style::new().fg(Color::Cyan)
            } else {
                theme::DIM
            },
        ),
        Span::styled("· ", theme::DIM),
        Span::styled(
            format!("{} ", plural(shells, "shell", "shells")),
            if shells > 0 {
                Style::new().fg(Color::Cyan)
            } else {
                theme::DIM
            },
        ),
    ];
    if asks > 0 {
        left.push(Span::styled("· ", theme::DIM));
        left.push(Span::styled(
            format!("{asks} asking: Ctrl+P answers "),
            Style::new().fg(Color::Yellow),
        ));
    }
    left.push(Span::styled("· ", theme::DIM));
    left.push(Span::raw(format!(
        "{} tok{} ${:.2}",
        tokens(totals.total_tokens()),
        cached_share(totals.input_tokens, totals.cache_read_tokens),
        totals.cost_usd
    )));
    let right = match app.focused() {
        Some(tab) => format!("{} · {} · ? keys ", tab.view.agent, tab.view.model),
        None => "? keys ".to_owned(),
    };
    let left_w: usize = left.iter().map(Span::width).sum();
    // The right part gives way first when the line is short of room.
    let pad = usize::from(area.width)
        .saturating_sub(left_w + right.chars().count())
        .max(1);
    left.push(Span::raw(" ".repeat(pad)));
    left.push(Span::styled(right, theme::DIM));
    frame.render_widget(
        Paragraph::new(truncate_line(Line::from(left), area.width)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cached_share_shows_only_when_something_was_cached() {
        assert_eq!(cached_share(0, 0), "");
        assert_eq!(cached_share(1000, 0), "");
        assert_eq!(cached_share(1000, 870), " (87% cached)");
        assert_eq!(cached_share(10, 20), " (100% cached)");
    }
}
