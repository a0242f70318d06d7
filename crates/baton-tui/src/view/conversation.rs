//! The focused session's conversation. Only what is on screen is laid
//! out: entries are drawn from the bottom up until the view is full, and
//! each entry's lines are cached until it changes, so a frame costs the
//! same for ten messages and for ten thousand.

use super::entry::entry_lines;
use crate::render::theme;
use crate::state::Tab;
use baton_protocol::SessionId;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::HashMap;

/// Drawn entries, per session, kept between frames.
#[derive(Default)]
pub struct Cache {
    sessions: HashMap<SessionId, SessionCache>,
}

#[derive(Default)]
struct SessionCache {
    width: u16,
    expand: bool,
    entries: Vec<Option<Cached>>,
}

struct Cached {
    version: u64,
    lines: Vec<Line<'static>>,
}

impl SessionCache {
    /// The lines of entry `i`, drawn again only if it changed.
    fn lines(&mut self, tab: &Tab, i: usize) -> &[Line<'static>] {
        let entry = &tab.conversation.entries()[i];
        let stale = !matches!(&self.entries[i], Some(c) if c.version == entry.version);
        if stale {
            self.entries[i] = Some(Cached {
                version: entry.version,
                lines: entry_lines(entry, self.width, self.expand),
            });
        }
        match &self.entries[i] {
            Some(c) => &c.lines,
            None => &[],
        }
    }

    fn cached_height(&self, i: usize) -> usize {
        self.entries
            .get(i)
            .and_then(|c| c.as_ref())
            .map_or(0, |c| c.lines.len())
    }
}

impl Cache {
    /// Forgets sessions no longer shown.
    pub fn retain(&mut self, keep: impl Fn(&SessionId) -> bool) {
        self.sessions.retain(|id, _| keep(id));
    }
}

/// Draws a tab's conversation into `area`.
pub fn draw(frame: &mut Frame, area: Rect, tab: &mut Tab, cache: &mut Cache) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let sc = cache.sessions.entry(tab.view.id.clone()).or_default();
    let width = area.width.saturating_sub(1).max(4);
    if sc.width != width || sc.expand != tab.expand_tools {
        sc.entries.clear();
        sc.width = width;
        sc.expand = tab.expand_tools;
    }
    let len = tab.conversation.len();
    sc.entries.resize_with(len, || None);
    if let Some(from) = tab.conversation.take_changed()
        && tab.scroll > 0
    {
        // Scrolled up: what arrives below must not move the view.
        let before: usize = (from..len).map(|i| sc.cached_height(i)).sum();
        let after: usize = (from..len).map(|i| sc.lines(tab, i).len()).sum();
        tab.scroll = (tab.scroll + after).saturating_sub(before);
    }
    let height = usize::from(area.height);
    let want = height + tab.scroll;
    let mut chunks: Vec<&[Line<'static>]> = Vec::new();
    let mut collected = 0;
    let mut i = len;
    // Draw from the bottom up until the view (plus the scroll) is full.
    let mut heights = Vec::new();
    while i > 0 && collected < want {
        i -= 1;
        let h = sc.lines(tab, i).len();
        heights.push((i, h));
        collected += h;
    }
    if collected < want {
        // The top is reached: no scrolling past it.
        tab.scroll = collected.saturating_sub(height);
    }
    for (index, _) in heights.iter().rev() {
        if let Some(Some(c)) = sc.entries.get(*index) {
            chunks.push(&c.lines);
        }
    }
    let end = collected.saturating_sub(tab.scroll);
    let start = end.saturating_sub(height);
    let visible: Vec<Line<'static>> = chunks
        .iter()
        .flat_map(|c| c.iter())
        .skip(start)
        .take(end - start)
        .cloned()
        .collect();
    if len == 0 {
        frame.render_widget(Paragraph::new(welcome(tab)), area);
        return;
    }
    frame.render_widget(Paragraph::new(visible), area);
    if tab.scroll > 0 {
        let note = format!(
            " ↓ {} below · Ctrl+End ",
            crate::words::plural(tab.scroll, "line", "lines")
        );
        let w = (note.chars().count() as u16).min(area.width);
        let spot = Rect::new(area.right() - w, area.bottom() - 1, w, 1);
        frame.render_widget(
            Paragraph::new(Span::styled(
                note,
                Style::new().add_modifier(Modifier::REVERSED),
            )),
            spot,
        );
    }
}

fn welcome(tab: &Tab) -> Vec<Line<'static>> {
    if tab.loaded {
        vec![Line::styled(
            format!(
                "  {} on {}: say what to do.",
                tab.view.agent, tab.view.model
            ),
            theme::DIM,
        )]
    } else {
        vec![Line::styled("  loading the conversation…", theme::DIM)]
    }
}
