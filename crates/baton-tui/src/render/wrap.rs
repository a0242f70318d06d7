//! Fitting styled lines into a number of columns.
//!
//! The conversation view needs every entry's height before it draws it, so
//! text is wrapped here, once, into lines that are never wider than the
//! columns they were wrapped for. Widths are measured with `unicode-width`
//! the way ratatui measures them, so a wrapped line never spills over.
//!
//! Text from tools and models may hold anything. Control characters, escape
//! sequences and bidirectional overrides are dropped before they reach the
//! terminal, where they could move the cursor, change colours or reorder
//! what the user reads.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// What a tab becomes: tabs have no width of their own in a terminal cell grid.
const TAB: &str = "    ";

/// The mark that ends a truncated line.
const ELLIPSIS: &str = "…";

/// Word-wraps a styled line at spaces into lines at most `width` columns wide.
///
/// Span styles are kept; a span may be split over several lines. Words longer
/// than a line are broken between characters. Spaces at a break are dropped;
/// leading spaces of the line are kept (as far as they fit). Tabs become four
/// spaces, a `\n` inside the line counts as a space, and control characters
/// are dropped. The result always has at least one line; at width 0 it is a
/// single empty line.
pub fn wrap_line(line: Line<'static>, width: u16) -> Vec<Line<'static>> {
    wrap_line_prefixed(line, width, &Line::default(), &Line::default())
}

/// Like [`wrap_line`], with `first_prefix` in front of the first line and
/// `rest_prefix` in front of every continuation line.
///
/// This is how hanging indents are made: a list item wraps with the prefix
/// `"• "` on its first line and `"  "` on the others; a quote with `"│ "` on
/// all of them. Prefixes count towards `width`; a prefix that would leave no
/// room for text is cut so that one column remains.
pub fn wrap_line_prefixed(
    line: Line<'static>,
    width: u16,
    first_prefix: &Line<'static>,
    rest_prefix: &Line<'static>,
) -> Vec<Line<'static>> {
    fill(&line, width, first_prefix, rest_prefix, Breaks::AtSpaces)
}

/// Cuts a line into pieces of at most `width` columns without looking for
/// word boundaries, for code and other text whose spaces matter.
///
/// Every character, space or not, is kept in order; `first_prefix` goes in
/// front of the first piece and `rest_prefix` in front of the others (for
/// instance a dim `↳ ` that marks a continued code line).
pub fn hard_wrap_prefixed(
    line: Line<'static>,
    width: u16,
    first_prefix: &Line<'static>,
    rest_prefix: &Line<'static>,
) -> Vec<Line<'static>> {
    fill(&line, width, first_prefix, rest_prefix, Breaks::Anywhere)
}

/// Shortens a line to at most `width` columns, ending it with `…` when
/// something was cut. Lines that fit come back unchanged apart from control
/// characters, which are dropped, and tabs, which become four spaces.
pub fn truncate_line(line: Line<'static>, width: u16) -> Line<'static> {
    let width = usize::from(width);
    let clusters = clusters(&line.spans, Breaks::Anywhere);
    let total: usize = clusters.iter().map(|c| c.width).sum();
    let mut out = Vec::new();
    if total <= width {
        for cluster in &clusters {
            push_cluster(&mut out, cluster.text, cluster.style);
        }
    } else if width > 0 {
        let room = width - ELLIPSIS.width();
        let mut used = 0;
        let mut last_style = line.style;
        for cluster in &clusters {
            if used + cluster.width > room {
                break;
            }
            used += cluster.width;
            last_style = cluster.style;
            push_cluster(&mut out, cluster.text, cluster.style);
        }
        push_cluster(&mut out, ELLIPSIS, last_style);
    }
    finish_line(out, &line)
}

/// Wraps multi-line plain text (such as tool output) in one style.
///
/// Each `\n` is a hard break, tabs become four spaces, and escape sequences
/// and other control characters are removed (see [`strip_control`]).
/// Empty input gives one empty line.
pub fn wrap_plain(text: &str, width: u16, style: Style) -> Vec<Line<'static>> {
    let clean = strip_control(text);
    let mut lines = Vec::new();
    for raw in clean.split('\n') {
        lines.extend(wrap_line(
            Line::from(Span::styled(raw.to_owned(), style)),
            width,
        ));
    }
    lines
}

/// Removes what must not reach the terminal: escape sequences (CSI, OSC and
/// the like, whole), control characters other than `\n` and `\t`, and
/// bidirectional overrides.
///
/// A carriage return ends the text before it on its line, as a terminal
/// would overwrite it: `"10%\r100%"` becomes `"100%"`, and `"\r\n"` is a
/// plain newline. Text with nothing to remove is returned borrowed.
pub fn strip_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    let line_start = out.rfind('\n').map_or(0, |i| i + 1);
                    out.truncate(line_start);
                }
            }
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Joins the text of lines with `\n`, dropping styles: for tests, copying
/// and measuring.
pub fn lines_to_plain(lines: &[Line<'_>]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for span in &line.spans {
            out.push_str(&span.content);
        }
    }
    out
}

/// True for characters that would act on the terminal instead of showing.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Skips what follows an ESC: a CSI, a string sequence, or a short sequence.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(' '..='/') => {
            // nF: intermediates then one final character.
            while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
            chars.next_if(|c| ('0'..='~').contains(c));
        }
        Some('0'..='~') => {
            chars.next();
        }
        _ => {}
    }
}

/// Skips a CSI's parameters and intermediates and its final byte. Stops
/// early, keeping the character, at anything a CSI cannot contain.
fn skip_csi(chars: &mut Peekable<Chars<'_>>) {
    while chars.next_if(|c| (' '..='?').contains(c)).is_some() {}
    chars.next_if(|c| ('@'..='~').contains(c));
}

/// Skips an OSC/DCS-like string up to its terminator (BEL, ST or ESC `\`).
/// A newline also ends it (and is kept), so a broken sequence cannot swallow
/// the rest of the output.
fn skip_string(chars: &mut Peekable<Chars<'_>>) {
    while let Some(c) = chars.next_if(|c| *c != '\n') {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if(|c| *c == '\\');
                return;
            }
            _ => {}
        }
    }
}

/// Where lines may break.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Breaks {
    /// At spaces, and inside words only when a word is wider than a line.
    AtSpaces,
    /// Between any two characters; spaces are ordinary characters.
    Anywhere,
}

/// The unit of wrapping: a character with the zero-width characters that
/// follow it (combining marks, variation selectors), measured together.
struct Cluster<'a> {
    text: &'a str,
    width: usize,
    style: Style,
    space: bool,
}

/// Splits spans into clusters, dropping unsafe characters.
fn clusters<'a>(spans: &'a [Span<'a>], breaks: Breaks) -> Vec<Cluster<'a>> {
    let mut out = Vec::new();
    for span in spans {
        let text: &str = &span.content;
        let style = span.style;
        let mut iter = text.char_indices().peekable();
        while let Some((start, c)) = iter.next() {
            match c {
                '\t' => out.push(Cluster {
                    text: TAB,
                    width: TAB.len(),
                    style,
                    space: breaks == Breaks::AtSpaces,
                }),
                '\n' => out.push(Cluster {
                    text: " ",
                    width: 1,
                    style,
                    space: breaks == Breaks::AtSpaces,
                }),
                c if is_unsafe(c) => {}
                c => {
                    let mut end = start + c.len_utf8();
                    while let Some((i, next)) = iter.next_if(|&(_, n)| {
                        n != '\t' && n != '\n' && !is_unsafe(n) && joins_previous(n)
                    }) {
                        end = i + next.len_utf8();
                    }
                    let piece = &text[start..end];
                    out.push(Cluster {
                        text: piece,
                        width: piece.width(),
                        style,
                        // A space that carries marks shows them: it is no
                        // place to break (where spaces are dropped).
                        space: piece == " " && breaks == Breaks::AtSpaces,
                    });
                }
            }
        }
    }
    out
}

/// True for characters that take no column of their own and belong to the
/// character before them.
fn joins_previous(c: char) -> bool {
    unicode_width::UnicodeWidthChar::width(c) == Some(0)
}

/// Appends text to a span list, merging with the last span of equal style.
///
/// Text that starts with a zero-width character (a mark or selector that
/// was parted from its base by a dropped control character or a span
/// boundary) is measured alone, as 0; merged back onto the character
/// before it, it could widen it (`❤` and U+FE0F are two columns together),
/// so it starts a span of its own.
fn push_cluster(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    let parted = text.chars().next().is_some_and(joins_previous);
    match spans.last_mut() {
        Some(last) if last.style == style && !parted => last.content.to_mut().push_str(text),
        _ => spans.push(Span::styled(text.to_owned(), style)),
    }
}

/// A finished line with the line-level style and alignment of `like`.
fn finish_line(spans: Vec<Span<'static>>, like: &Line<'_>) -> Line<'static> {
    let mut line = Line::from(spans).style(like.style);
    line.alignment = like.alignment;
    line
}

/// A prefix cut to at most `max` columns.
fn fit_prefix(prefix: &Line<'static>, max: usize) -> (Vec<Span<'static>>, usize) {
    let full = prefix.width();
    if full <= max {
        return (prefix.spans.clone(), full);
    }
    let mut spans = Vec::new();
    let mut used = 0;
    for cluster in clusters(&prefix.spans, Breaks::Anywhere) {
        if used + cluster.width > max {
            break;
        }
        used += cluster.width;
        push_cluster(&mut spans, cluster.text, cluster.style);
    }
    (spans, used)
}

/// Lines being filled left to right.
struct Filler<'l> {
    like: &'l Line<'static>,
    width: usize,
    rest_prefix: (Vec<Span<'static>>, usize),
    lines: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    used: usize,
    avail: usize,
}

impl Filler<'_> {
    fn remaining(&self) -> usize {
        self.avail - self.used
    }

    fn push(&mut self, cluster: &Cluster<'_>) {
        push_cluster(&mut self.spans, cluster.text, cluster.style);
        self.used += cluster.width;
    }

    fn newline(&mut self) {
        let spans = std::mem::replace(&mut self.spans, self.rest_prefix.0.clone());
        self.lines.push(finish_line(spans, self.like));
        self.used = 0;
        self.avail = self.width - self.rest_prefix.1;
    }

    /// Places clusters one by one, breaking wherever the line is full.
    /// A cluster wider than a whole line (a wide character at width 1) is
    /// dropped: it cannot be shown without overflowing.
    fn push_broken(&mut self, word: &[Cluster<'_>]) {
        for cluster in word {
            if cluster.width > self.remaining() {
                if self.used > 0 {
                    self.newline();
                }
                if cluster.width > self.remaining() {
                    continue;
                }
            }
            self.push(cluster);
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        let spans = std::mem::take(&mut self.spans);
        self.lines.push(finish_line(spans, self.like));
        self.lines
    }
}

/// The wrapping algorithm shared by the public functions: greedy, one pass.
fn fill(
    line: &Line<'static>,
    width: u16,
    first_prefix: &Line<'static>,
    rest_prefix: &Line<'static>,
    breaks: Breaks,
) -> Vec<Line<'static>> {
    let width = usize::from(width);
    if width == 0 {
        return vec![finish_line(Vec::new(), line)];
    }
    let (first_spans, first_width) = fit_prefix(first_prefix, width - 1);
    let rest = fit_prefix(rest_prefix, width - 1);
    let rest_avail = width - rest.1;
    let mut filler = Filler {
        like: line,
        width,
        rest_prefix: rest,
        lines: Vec::new(),
        spans: first_spans,
        used: 0,
        avail: width - first_width,
    };

    let clusters = clusters(&line.spans, breaks);
    if breaks == Breaks::Anywhere {
        filler.push_broken(&clusters);
        return filler.finish();
    }

    let mut placed_any = false;
    let mut i = 0;
    while i < clusters.len() {
        let gap_start = i;
        while i < clusters.len() && clusters[i].space {
            i += 1;
        }
        let gap = &clusters[gap_start..i];
        let word_start = i;
        while i < clusters.len() && !clusters[i].space {
            i += 1;
        }
        let word = &clusters[word_start..i];
        let gap_width: usize = gap.iter().map(|c| c.width).sum();
        let word_width: usize = word.iter().map(|c| c.width).sum();

        if !placed_any || word.is_empty() {
            // Leading indentation, or trailing spaces: keep what fits.
            for cluster in gap {
                if cluster.width > filler.remaining() {
                    break;
                }
                filler.push(cluster);
            }
        } else if filler.used == 0 {
            // A fresh line after a break: spaces at the break are dropped.
        } else if filler.used + gap_width + word_width <= filler.avail
            || (word_width > rest_avail && filler.used + gap_width < filler.avail)
        {
            // The word fits after the spaces, or it is too long for any line
            // and starts here to be broken rather than leave a hole.
            for cluster in gap {
                filler.push(cluster);
            }
        } else {
            filler.newline();
        }
        placed_any |= !word.is_empty() || !gap.is_empty();

        if word_width <= filler.remaining() {
            for cluster in word {
                filler.push(cluster);
            }
        } else {
            filler.push_broken(word);
        }
    }
    filler.finish()
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Modifier};

    use super::*;

    fn widths_ok(lines: &[Line<'_>], width: u16) {
        for line in lines {
            assert!(
                line.width() <= usize::from(width),
                "line {:?} is {} wide, more than {width}",
                lines_to_plain(std::slice::from_ref(line)),
                line.width()
            );
        }
    }

    /// Deterministic pseudo-random text mixing ASCII words, long words, wide
    /// characters, combining marks and runs of spaces.
    fn sample_text(seed: u64, words: usize) -> String {
        let pieces = [
            "the",
            "quick",
            "brown",
            "fox",
            "jumps",
            "over",
            "lazy",
            "dog",
            "a",
            "supercalifragilisticexpialidocious",
            "日本語のテキスト",
            "emoji😀here",
            "e\u{301}te\u{301}",
            "x",
            "   ",
            "https://example.com/a/very/long/path?q=1",
            "✓",
            "tab\there",
        ];
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut out = String::new();
        for _ in 0..words {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let piece = pieces[(state >> 33) as usize % pieces.len()];
            out.push_str(piece);
            out.push(' ');
        }
        out
    }

    #[test]
    fn no_line_is_wider_than_width() {
        for seed in 0..20 {
            let text = sample_text(seed, 60);
            for width in (0..=12).chain([17, 23, 40, 79, 120]) {
                let lines = wrap_plain(&text, width, Style::new());
                assert!(!lines.is_empty());
                widths_ok(&lines, width);
                let mid = text.char_indices().nth(text.chars().count() / 2);
                let mid = mid.map_or(0, |(i, _)| i);
                let styled = Line::from(vec![
                    Span::styled(text[..mid].to_owned(), STRONG_RED),
                    Span::raw(text[mid..].to_owned()),
                ]);
                let lines =
                    wrap_line_prefixed(styled.clone(), width, &Line::from("• "), &Line::from("  "));
                widths_ok(&lines, width);
                widths_ok(
                    &hard_wrap_prefixed(styled.clone(), width, &Line::default(), &Line::from("↳ ")),
                    width,
                );
                widths_ok(&[truncate_line(styled, width)], width);
            }
        }
    }

    const STRONG_RED: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);

    #[test]
    fn wraps_at_spaces_and_keeps_all_words() {
        let lines = wrap_line(Line::from("the quick brown fox jumps over"), 10);
        assert_eq!(lines_to_plain(&lines), "the quick\nbrown fox\njumps over");
    }

    #[test]
    fn text_that_fits_is_unchanged() {
        let line = Line::from(vec![
            Span::raw("  indented "),
            Span::styled("bold", STRONG_RED),
        ]);
        let lines = wrap_line(line.clone(), 40);
        assert_eq!(lines, vec![line]);
    }

    #[test]
    fn styles_survive_a_split_span() {
        let line = Line::from(vec![
            Span::raw("plain "),
            Span::styled("red words that wrap around", STRONG_RED),
            Span::raw(" tail"),
        ]);
        let lines = wrap_line(line, 12);
        assert_eq!(
            lines_to_plain(&lines),
            "plain red\nwords that\nwrap around\ntail"
        );
        assert_eq!(lines[0].spans[0], Span::raw("plain "));
        assert_eq!(lines[0].spans[1], Span::styled("red", STRONG_RED));
        assert_eq!(lines[1].spans, vec![Span::styled("words that", STRONG_RED)]);
        assert_eq!(
            lines[2].spans,
            vec![Span::styled("wrap around", STRONG_RED)]
        );
        assert_eq!(lines[3].spans, vec![Span::raw("tail")]);
    }

    #[test]
    fn a_word_spanning_two_styles_stays_together() {
        let line = Line::from(vec![
            Span::raw("aaaa bb"),
            Span::styled("cc", STRONG_RED),
            Span::raw(" d"),
        ]);
        let lines = wrap_line(line, 6);
        assert_eq!(lines_to_plain(&lines), "aaaa\nbbcc d");
    }

    #[test]
    fn long_words_are_broken_by_characters() {
        let lines = wrap_line(Line::from("abcdefghij"), 4);
        assert_eq!(lines_to_plain(&lines), "abcd\nefgh\nij");
        let lines = wrap_line(Line::from("see abcdefghij"), 6);
        assert_eq!(lines_to_plain(&lines), "see ab\ncdefgh\nij");
    }

    #[test]
    fn wide_characters_never_straddle_the_edge() {
        let lines = wrap_line(Line::from("日本語テキスト"), 5);
        assert_eq!(lines_to_plain(&lines), "日本\n語テ\nキス\nト");
        // At width 1 a double-width character cannot be shown at all.
        let lines = wrap_line(Line::from("a日b"), 1);
        widths_ok(&lines, 1);
        assert_eq!(lines_to_plain(&lines), "a\nb");
    }

    #[test]
    fn combining_marks_stay_with_their_letter() {
        let lines = wrap_line(Line::from("e\u{301}e\u{301}e\u{301}"), 2);
        assert_eq!(lines_to_plain(&lines), "e\u{301}e\u{301}\ne\u{301}");
    }

    #[test]
    fn marks_on_a_space_make_it_part_of_the_word() {
        // The space under the enclosing circle is no break point, so the
        // circle is never dropped with it.
        let lines = wrap_line(Line::from("ab \u{20dd}cd \u{fe0f}"), 2);
        assert_eq!(lines_to_plain(&lines), "ab\n \u{20dd}c\nd \u{fe0f}");
    }

    #[test]
    fn a_selector_parted_from_its_emoji_never_widens_the_line() {
        // A control character between them, or a span boundary: measured
        // alone the selector takes no column, so it must not be merged
        // back onto its emoji, where it would make it two columns wide.
        for line in [
            Line::from("❤\u{7}\u{fe0f}❤\u{7}\u{fe0f}"),
            Line::from(vec![
                Span::raw("❤"),
                Span::raw("\u{fe0f}❤"),
                Span::raw("\u{fe0f}"),
            ]),
        ] {
            for width in 1..4 {
                let lines = wrap_line(line.clone(), width);
                widths_ok(&lines, width);
                widths_ok(&[truncate_line(line.clone(), width)], width);
                widths_ok(
                    &hard_wrap_prefixed(line.clone(), width, &Line::default(), &Line::default()),
                    width,
                );
            }
        }
    }

    #[test]
    fn leading_indentation_is_kept_and_break_spaces_dropped() {
        let lines = wrap_line(Line::from("    one two three"), 10);
        assert_eq!(lines_to_plain(&lines), "    one\ntwo three");
    }

    #[test]
    fn width_zero_and_one_do_not_panic() {
        assert_eq!(wrap_line(Line::from("hello world"), 0).len(), 1);
        assert_eq!(wrap_line(Line::from("hello world"), 0)[0].width(), 0);
        let lines = wrap_line(Line::from("hi there"), 1);
        assert_eq!(lines_to_plain(&lines), "h\ni\nt\nh\ne\nr\ne");
        let lines = wrap_line_prefixed(Line::from("hi"), 1, &Line::from("• "), &Line::from("  "));
        assert_eq!(lines_to_plain(&lines), "h\ni");
    }

    #[test]
    fn prefixes_make_a_hanging_indent() {
        let lines = wrap_line_prefixed(
            Line::from("one two three four"),
            9,
            &Line::from("1. "),
            &Line::from("   "),
        );
        assert_eq!(lines_to_plain(&lines), "1. one\n   two\n   three\n   four");
        let lines = wrap_line_prefixed(Line::from(""), 9, &Line::from("• "), &Line::from("  "));
        assert_eq!(lines_to_plain(&lines), "• ");
    }

    #[test]
    fn prefix_wider_than_width_is_cut() {
        let lines = wrap_line_prefixed(
            Line::from("abc"),
            3,
            &Line::from("│ │ │ "),
            &Line::from("│ │ │ "),
        );
        widths_ok(&lines, 3);
        assert_eq!(lines_to_plain(&lines), "│ a\n│ b\n│ c");
    }

    #[test]
    fn hard_wrap_keeps_spaces_and_marks_continuations() {
        let lines = hard_wrap_prefixed(
            Line::from("    let x = 1;"),
            8,
            &Line::default(),
            &Line::from("↳ "),
        );
        assert_eq!(lines_to_plain(&lines), "    let \n↳ x = 1;");
    }

    #[test]
    fn hard_breaks_in_plain_text() {
        let lines = wrap_plain("one\n\ntwo three\n", 20, Style::new());
        assert_eq!(lines_to_plain(&lines), "one\n\ntwo three\n");
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn tabs_become_four_spaces() {
        let lines = wrap_plain("a\tb", 20, Style::new());
        assert_eq!(lines_to_plain(&lines), "a    b");
    }

    #[test]
    fn plain_text_takes_the_given_style() {
        let lines = wrap_plain("alpha beta", 5, STRONG_RED);
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert!(line.spans.iter().all(|s| s.style == STRONG_RED));
        }
    }

    #[test]
    fn control_characters_and_escape_sequences_are_stripped() {
        let text = "\u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}bell\u{7} nul\u{0} \
                    \u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{1b}(Bcharset \
                    \u{9b}2Jc1 \u{202e}bidi \u{1b}";
        let lines = wrap_plain(text, 200, Style::new());
        assert_eq!(lines_to_plain(&lines), "red bell nul link charset c1 bidi ");
        for line in &lines {
            for span in &line.spans {
                assert!(!span.content.chars().any(char::is_control), "{span:?}");
            }
        }
    }

    #[test]
    fn an_unterminated_osc_stops_at_the_newline() {
        let lines = wrap_plain("a\u{1b}]0;never ends\nnext line", 80, Style::new());
        assert_eq!(lines_to_plain(&lines), "a\nnext line");
    }

    #[test]
    fn carriage_returns_overwrite_like_a_terminal() {
        let text = "downloading 10%\rdownloading 100%\r\ndone\r\n";
        assert_eq!(strip_control(text), "downloading 100%\ndone\n");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(strip_control("fine\ttext\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn wrap_line_drops_control_characters() {
        let lines = wrap_line(Line::from("a\u{1b}b\u{7}c"), 10);
        assert_eq!(lines_to_plain(&lines), "abc");
    }

    #[test]
    fn truncation_ends_with_an_ellipsis() {
        let line = Line::from(vec![Span::raw("abc"), Span::styled("defgh", STRONG_RED)]);
        let cut = truncate_line(line.clone(), 5);
        assert_eq!(lines_to_plain(std::slice::from_ref(&cut)), "abcd…");
        assert_eq!(cut.spans.last(), Some(&Span::styled("d…", STRONG_RED)));
        assert_eq!(truncate_line(line.clone(), 8), line);
        assert_eq!(lines_to_plain(&[truncate_line(line.clone(), 1)]), "…");
        assert_eq!(truncate_line(line, 0).width(), 0);
        // A wide character that does not fit before the ellipsis is left out.
        assert_eq!(
            lines_to_plain(&[truncate_line(Line::from("a日本"), 4)]),
            "a日…"
        );
        assert_eq!(
            lines_to_plain(&[truncate_line(Line::from("a日本"), 3)]),
            "a…"
        );
    }

    #[test]
    fn line_style_and_alignment_carry_over() {
        let line = Line::from("one two").style(STRONG_RED).centered();
        for out in wrap_line(line, 4) {
            assert_eq!(out.style, STRONG_RED);
            assert_eq!(out.alignment, Some(ratatui::layout::Alignment::Center));
        }
    }
}
