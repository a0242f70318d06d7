//! The focused session's conversation. Only what is on screen is laid
//! out: entries are drawn from the bottom up until the view is full, and
//! each entry's lines are cached until it changes, so a frame costs the
//! same for ten messages and for ten thousand.

use super::entry::{entry_lines, entry_stamp};
use crate::render::theme;
use crate::state::Tab;
use baton_protocol::{SessionId, Timestamp};
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
    stamp: u64,
    lines: Vec<Line<'static>>,
}

/// What the lines of an entry depend on besides the entry.
#[derive(Clone, Copy)]
struct Clock {
    now: Timestamp,
    frame: u64,
}

impl SessionCache {
    /// The lines of entry `i`, drawn again only if it changed.
    fn lines(&mut self, tab: &Tab, i: usize, clock: Clock) -> &[Line<'static>] {
        let entry = &tab.conversation.entries()[i];
        let stamp = entry_stamp(entry, clock.now, clock.frame);
        let stale =
            !matches!(&self.entries[i], Some(c) if c.version == entry.version && c.stamp == stamp);
        if stale {
            self.entries[i] = Some(Cached {
                version: entry.version,
                stamp,
                lines: entry_lines(entry, self.width, self.expand, clock.now, clock.frame),
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

/// Draws a tab's conversation into `area`; returns, for each screen row
/// showing an entry, the row and the entry's index (what a click hits).
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    tab: &mut Tab,
    cache: &mut Cache,
    now: Timestamp,
    spin: u64,
) -> Vec<(u16, usize)> {
    if area.height == 0 || area.width == 0 {
        return Vec::new();
    }
    let clock = Clock { now, frame: spin };
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
        let after: usize = (from..len).map(|i| sc.lines(tab, i, clock).len()).sum();
        tab.scroll = (tab.scroll + after).saturating_sub(before);
    }
    let height = usize::from(area.height);
    if let Some(selected) = tab.selected.filter(|_| tab.reveal)
        && selected < len
    {
        tab.reveal = false;
        // Scroll so the selected entry's first line is on screen.
        let below: usize = (selected + 1..len)
            .map(|i| sc.lines(tab, i, clock).len())
            .sum();
        let own = sc.lines(tab, selected, clock).len();
        // Rows are counted from the bottom: the view shows [scroll,
        // scroll + height); the entry's first line is `first`.
        let first = below + own.saturating_sub(1);
        if first >= tab.scroll + height {
            tab.scroll = (first + 1).saturating_sub(height);
        } else if first < tab.scroll {
            tab.scroll = below + own.saturating_sub(height);
        }
    }
    let want = height + tab.scroll;
    let mut collected = 0;
    let mut i = len;
    // Draw from the bottom up until the view (plus the scroll) is full.
    let mut heights = Vec::new();
    while i > 0 && collected < want {
        i -= 1;
        let h = sc.lines(tab, i, clock).len();
        heights.push((i, h));
        collected += h;
    }
    if collected < want {
        // The top is reached: no scrolling past it.
        tab.scroll = collected.saturating_sub(height);
    }
    if len == 0 {
        frame.render_widget(Paragraph::new(welcome(tab)), area);
        return Vec::new();
    }
    let end = collected.saturating_sub(tab.scroll);
    let start = end.saturating_sub(height);
    let mut visible: Vec<Line<'static>> = Vec::new();
    let mut rows = Vec::new();
    let mut at = 0;
    for (index, h) in heights.iter().rev() {
        let Some(Some(c)) = sc.entries.get(*index) else {
            continue;
        };
        for (n, line) in c.lines.iter().enumerate() {
            if at >= start && at < end {
                let row = area.y + (at - start) as u16;
                let mut line = line.clone();
                if tab.selected == Some(*index) && n + 1 < *h {
                    line = line.patch_style(theme::SELECTED);
                }
                // The blank line after an entry belongs to none.
                if n + 1 < *h {
                    rows.push((row, *index));
                }
                visible.push(line);
            }
            at += 1;
        }
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
    rows
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
