//! Drawing the state. Pure: the same state and size give the same screen,
//! which is what the snapshot tests rely on.

pub mod conversation;
mod entry;
mod input;
mod panels;
mod status;
mod tab_bar;

pub use conversation::Cache;

use crate::state::{App, Level};
use baton_protocol::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draws the whole screen. `now` is the wall clock (for elapsed times).
pub fn draw(frame: &mut Frame, app: &mut App, cache: &mut Cache, now: Timestamp) {
    let area = frame.area();
    let prompt = input::permission_height(app, area.width);
    let editor = input::editor_height(app, area.height);
    let [tabs, body, prompt_area, editor_area, status_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(prompt),
        Constraint::Length(editor),
        Constraint::Length(1),
    ])
    .areas(area);
    app.hits.tab_row = tabs.y;
    app.hits.tabs = tab_bar::draw(frame, tabs, app);
    app.viewport_height = usize::from(body.height);
    cache.retain(|id| app.tabs.contains_key(id));
    let focused = app.focused_id().cloned();
    let spin = app.frame;
    app.hits.entries = match focused.and_then(|id| app.tabs.get_mut(&id)) {
        Some(tab) => conversation::draw(frame, body, tab, cache, now, spin),
        None => {
            frame.render_widget(Paragraph::new(start_screen(app)), body);
            Vec::new()
        }
    };
    input::draw_permission(frame, prompt_area, app);
    input::draw_editor(frame, editor_area, app);
    input::draw_completion(frame, body, app);
    status::draw(frame, status_area, app);
    draw_toasts(frame, body, app);
    panels::draw(frame, body, app, now);
}

fn start_screen(app: &App) -> Vec<Line<'static>> {
    let dim = crate::render::theme::DIM;
    vec![
        Line::default(),
        Line::styled("  baton", Style::new().fg(Color::Cyan)),
        Line::styled(format!("  {}", app.setup.cwd.display()), dim),
        Line::default(),
        Line::raw("  Type a message and press Enter. Sub-agents the agent delegates to"),
        Line::raw("  appear as tabs above and work in the background while you type."),
        Line::default(),
        Line::styled(
            "  Ctrl+S sessions · Ctrl+T tasks · Ctrl+O shells · ? all keys",
            dim,
        ),
    ]
}

/// Toasts stack in the top right corner of the conversation.
fn draw_toasts(frame: &mut Frame, body: Rect, app: &App) {
    let mut y = body.y;
    let width = body.width.min(52);
    for toast in app.toasts.iter().collect::<Vec<_>>().into_iter().rev() {
        let color = match toast.level {
            Level::Info => Color::Green,
            Level::Attention => Color::Yellow,
            Level::Error => Color::Red,
        };
        let inner = width.saturating_sub(2);
        let lines = crate::render::wrap_plain(&toast.text, inner, Style::new());
        let lines: Vec<Line<'static>> = lines.into_iter().take(3).collect();
        let h = lines.len() as u16 + 2;
        if y + h > body.bottom() {
            break;
        }
        let rect = Rect::new(body.right().saturating_sub(width), y, width, h);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(Style::new().fg(color)),
            ),
            rect,
        );
        y += h;
    }
}

/// A rectangle of at most `w` x `h` in the middle of `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
