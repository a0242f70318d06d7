//! The bottom of the screen: a permission prompt for the focused session,
//! the editor and its completion list.

use crate::render::{theme, truncate_line, wrap_plain};
use crate::state::{App, command_help};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Most lines the editor grows to.
const MAX_EDITOR_LINES: usize = 8;

/// Rows the editor takes: its lines (at most a few) and a top border.
pub fn editor_height(app: &App, screen: u16) -> u16 {
    let lines = app.editor.line_count().clamp(1, MAX_EDITOR_LINES) as u16;
    (lines + 1).min(screen.saturating_sub(4).max(2))
}

fn permission_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let Some(id) = app.focused_id() else {
        return Vec::new();
    };
    let Some(request) = app.permissions_of(id).next() else {
        return Vec::new();
    };
    let more = app.permissions_of(id).count() - 1;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} asks to use {}", request.agent, request.tool),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            if more > 0 {
                format!("  (+{more} more)")
            } else {
                String::new()
            },
            theme::DIM,
        ),
    ])];
    lines.extend(
        wrap_plain(
            &request.detail,
            width.saturating_sub(4),
            Style::new().fg(Color::White),
        )
        .into_iter()
        .take(4)
        .map(|mut l| {
            l.spans.insert(0, Span::raw("  "));
            l
        }),
    );
    lines.push(truncate_line(
        Line::from(vec![
            Span::styled(
                "Ctrl+P",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(" to answer: allow once or always, deny, or deny and say why"),
            Span::styled("  · typing goes to the editor", theme::DIM),
        ]),
        width,
    ));
    lines
}

/// Rows the permission prompt takes (0 when nothing is asked).
pub fn permission_height(app: &App, width: u16) -> u16 {
    let n = permission_lines(app, width).len() as u16;
    if n == 0 { 0 } else { n + 1 }
}

/// Draws the focused session's oldest permission request.
pub fn draw_permission(frame: &mut Frame, area: Rect, app: &App) {
    if area.height == 0 {
        return;
    }
    let lines = permission_lines(app, area.width);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(Style::new().fg(Color::Yellow))
                .title(Span::styled(" permission ", Style::new().fg(Color::Yellow))),
        ),
        area,
    );
}

/// Draws the editor with a title naming where the message goes.
pub fn draw_editor(frame: &mut Frame, area: Rect, app: &App) {
    let title = match app.focused() {
        Some(tab) => {
            let queued = tab.conversation.queued();
            let target = if tab.task.is_some() {
                format!(" steer {} ", tab.view.agent)
            } else {
                format!(" {} ", tab.view.agent)
            };
            if queued > 0 {
                format!("{target}· {queued} queued ")
            } else {
                target
            }
        }
        None if app.creating => " creating the session… ".to_owned(),
        None => format!(
            " new session · {} ",
            app.setup.agent.as_deref().unwrap_or("build")
        ),
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme::DIM)
        .title(Span::styled(title, theme::DIM));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(app.editor.area(), inner);
}

/// Most rows the completion list takes.
const MAX_COMPLETION_ROWS: usize = 12;

/// One row of the completion list: the candidate, and for a command how it
/// is typed and what it does.
fn completion_row(candidate: &str, usage_width: usize) -> Line<'static> {
    match command_help(candidate) {
        Some((usage, text)) => Line::from(vec![
            Span::raw(format!(" {candidate}")),
            Span::styled(
                format!(
                    "{:<pad$}  ",
                    &usage[candidate.len()..],
                    pad = usage_width.saturating_sub(candidate.chars().count())
                ),
                theme::DIM,
            ),
            Span::styled(format!("{text} "), theme::DIM),
        ]),
        None => Line::raw(format!(" {candidate} ")),
    }
}

/// Draws the completion list just above the editor: paths after `@`, or
/// the commands after `/` with their arguments and what they do, the
/// highlighted one kept in view.
pub fn draw_completion(frame: &mut Frame, body: Rect, app: &App) {
    let Some(c) = &app.editor.completion else {
        return;
    };
    let usage_width = c
        .candidates
        .iter()
        .map(|s| command_help(s).map_or(s.chars().count(), |(u, _)| u.chars().count()))
        .max()
        .unwrap_or(0);
    let rows: Vec<Line<'static>> = c
        .candidates
        .iter()
        .map(|s| completion_row(s, usage_width))
        .collect();
    let widest = rows.iter().map(Line::width).max().unwrap_or(0);
    let w = (widest.max(10) as u16 + 2).min(body.width.saturating_sub(1));
    let shown = rows
        .len()
        .min(MAX_COMPLETION_ROWS)
        .min(usize::from(body.height.saturating_sub(2)));
    let h = shown as u16 + 2;
    let rect = Rect::new(
        body.x + 1,
        body.bottom().saturating_sub(h),
        w,
        h.min(body.height),
    );
    let start = c.selected.saturating_sub(shown.saturating_sub(1));
    let inner = w.saturating_sub(2);
    let lines: Vec<Line<'static>> = rows
        .into_iter()
        .enumerate()
        .skip(start)
        .take(shown)
        .map(|(i, line)| {
            let line = truncate_line(line, inner);
            if i == c.selected {
                line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    let more = if c.candidates.len() > shown {
        format!(" {}/{} ", c.selected + 1, c.candidates.len())
    } else {
        String::new()
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme::DIM)
                .title(Span::styled(" Tab ", theme::DIM))
                .title_bottom(Span::styled(more, theme::DIM)),
        ),
        rect,
    );
}
