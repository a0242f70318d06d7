//! Named styles shared by the renderers and the rest of the UI.
//!
//! Colours are the terminal's named colours where the user's palette should
//! decide (headings, links, diff signs), so the UI fits light and dark
//! terminals alike. Code uses the RGB colours of the highlighting theme, and
//! [`CODE`] matches that theme's foreground so unhighlighted code looks like
//! highlighted code without colours.

use ratatui::style::{Color, Modifier, Style};

/// Body text: the terminal's default colours.
pub const TEXT: Style = Style::new();

/// The entry selected in the conversation (Ctrl+↑/↓, a click).
pub const SELECTED: Style = Style::new().bg(Color::Rgb(40, 44, 56));

/// Secondary information: separators, gutters, URLs, hints.
pub const DIM: Style = Style::new().fg(Color::DarkGray);

/// Emphasis (`*text*`).
pub const EMPHASIS: Style = Style::new().add_modifier(Modifier::ITALIC);

/// Strong emphasis (`**text**`).
pub const STRONG: Style = Style::new().add_modifier(Modifier::BOLD);

/// Strikethrough (`~~text~~`).
pub const STRIKETHROUGH: Style = Style::new().add_modifier(Modifier::CROSSED_OUT);

/// Code without syntax colours (unknown language, indented code blocks).
///
/// The foreground of the "base16-ocean.dark" theme used for highlighting.
pub const CODE: Style = Style::new().fg(Color::Rgb(192, 197, 206));

/// Inline code (`` `text` ``) inside prose.
pub const INLINE_CODE: Style = Style::new().fg(Color::Cyan);

/// The marker in front of a wrapped continuation of a code line.
pub const CODE_CONTINUATION: Style = DIM;

/// Block quote text.
pub const QUOTE: Style = Style::new().add_modifier(Modifier::ITALIC);

/// The `│` gutter in front of block quote lines.
pub const QUOTE_GUTTER: Style = DIM;

/// Link text.
pub const LINK: Style = Style::new()
    .fg(Color::Blue)
    .add_modifier(Modifier::UNDERLINED);

/// The URL shown after a link's text.
pub const LINK_URL: Style = DIM;

/// List markers: `•`, `1.`.
pub const LIST_MARKER: Style = Style::new().fg(Color::Yellow);

/// An open task list box: `[ ]`.
pub const TASK_OPEN: Style = Style::new().fg(Color::Yellow);

/// A ticked task list box: `[x]`.
pub const TASK_DONE: Style = Style::new().fg(Color::Green);

/// Horizontal rules.
pub const RULE: Style = DIM;

/// Table header cells.
pub const TABLE_HEADER: Style = Style::new().add_modifier(Modifier::BOLD);

/// Table borders: the ` │ ` between cells and the rule under the header.
pub const TABLE_BORDER: Style = DIM;

/// Raw HTML that Markdown passes through; shown as text, not interpreted.
pub const HTML: Style = DIM;

/// An added line of a diff, sign included.
pub const DIFF_ADD: Style = Style::new().fg(Color::Green);

/// A removed line of a diff, sign included.
pub const DIFF_DEL: Style = Style::new().fg(Color::Red);

/// An unchanged context line of a diff.
pub const DIFF_CONTEXT: Style = DIM;

/// The `⋯` line between two hunks of a diff.
pub const DIFF_HUNK_SEPARATOR: Style = DIM;

/// The style of a Markdown heading of the given level (1 = `#`).
///
/// Level 1 is bold, underlined and magenta, level 2 bold magenta, deeper
/// levels bold cyan: all stand apart from body text.
pub const fn heading(level: u8) -> Style {
    match level {
        0 | 1 => Style::new()
            .fg(Color::Magenta)
            .add_modifier(Modifier::BOLD)
            .add_modifier(Modifier::UNDERLINED),
        2 => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        _ => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_bold_and_distinct_from_body() {
        for level in 1..=6 {
            let style = heading(level);
            assert!(style.add_modifier.contains(Modifier::BOLD));
            assert_ne!(style, TEXT);
            assert!(style.fg.is_some());
        }
        assert!(heading(1).add_modifier.contains(Modifier::UNDERLINED));
        assert_ne!(heading(1), heading(2));
    }

    #[test]
    fn diff_styles_differ() {
        assert_ne!(DIFF_ADD.fg, DIFF_DEL.fg);
        assert_ne!(DIFF_ADD.fg, DIFF_CONTEXT.fg);
        assert_ne!(INLINE_CODE, TEXT);
    }
}
