//! Drawing the state. Pure: the same state and size give the same screen,
//! which is what the snapshot tests rely on.

pub mod conversation;
mod entry;
mod input;
mod panels;
mod status;
mod tab_bar;
mod timeline;
mod toasts;

pub use conversation::Cache;

use crate::state::App;
use baton_protocol::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// Draws the whole screen. `now` is the wall clock (for elapsed times).
pub fn draw(frame: &mut Frame, app: &mut App, cache: &mut Cache, now: Timestamp) {
    let area = frame.area();
    let prompt = input::permission_height(app, area.width);
    let editor = input::editor_height(app, area.height);
    let strip = toasts::height(app);
    let [
        tabs,
        body,
        strip_area,
        prompt_area,
        editor_area,
        status_area,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(strip),
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
    toasts::draw(frame, strip_area, app);
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
            "  Ctrl+S sessions · Ctrl+T tasks · Ctrl+O shells · Ctrl+L timeline · ? all keys",
            dim,
        ),
    ]
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
