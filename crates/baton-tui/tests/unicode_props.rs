//! Property tests over arbitrary Unicode: emoji (modifiers, ZWJ
//! families, flags, presentation selectors), wide CJK, combining marks,
//! zero-width characters, tabs, carriage returns, control characters and
//! escape sequences, bidirectional overrides, and very long words.
//!
//! Wrapping and Markdown never panic, never give a line wider than the
//! width asked for (measured with `unicode-width` the way ratatui
//! measures it: each span's text for layout, each grapheme for the cells
//! it draws), and wrapping keeps every character that is not white space
//! in order. The editor never panics, keeps its cursor on the text, and
//! inserting or deleting anywhere changes exactly what was typed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_tui::render::{
    hard_wrap_prefixed, render_markdown, strip_control, truncate_line, wrap_line,
    wrap_line_prefixed, wrap_plain,
};
use baton_tui::state::{App, Editor, Setup};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Pieces that are known to be hard on width arithmetic.
const HARD: &[&str] = &[
    "😀",
    "👍🏽",
    "\u{1F3FD}",
    "👨\u{200D}👩\u{200D}👧\u{200D}👦",
    "🏳\u{FE0F}\u{200D}🌈",
    "❤\u{FE0F}",
    "❤\u{7}\u{FE0F}",
    "❤\u{1b}[0m\u{FE0F}",
    "❤",
    "☝\u{1F3FD}",
    "\u{FE0F}",
    "\u{FE0E}",
    "😀\u{FE0E}",
    "🇯🇵",
    "🇦",
    "1\u{FE0F}\u{20E3}",
    "‘\u{FE01}",
    "日本語のテキスト",
    "한국어",
    "ᄀᄀ",
    "\u{1161}",
    "ｗｉｄｅ",
    "e\u{301}",
    "\u{301}",
    "a\u{301}\u{302}\u{303}\u{304}",
    "\u{20DD}",
    "\u{200D}",
    "\u{200C}",
    "\u{200B}",
    "\u{2060}",
    "\u{AD}",
    "\u{FEFF}",
    "\u{17D8}",
    "\u{17D2}\u{1780}",
    "لا",
    "ل\u{64B}ا",
    "א\u{200D}ל",
    "क्ष",
    "का",
    "ไทย",
    "\u{600}1",
    "𝕏",
    "\u{E000}",
    "\u{10FFFF}",
    "\u{A0}",
    "\u{3000}",
    "\u{2028}",
    "\u{2029}",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\u{0}",
    "\u{7}",
    "\u{8}",
    "\u{1b}",
    "\u{1b}[31m",
    "\u{1b}]0;title\u{7}",
    "\u{1b}]8;;http://x\u{1b}\\",
    "\u{7f}",
    "\u{85}",
    "\u{9b}2J",
    "\u{9d}",
    "\u{202E}",
    "\u{2066}",
    "<\u{338}",
];

/// Markdown syntax, mixed into the Markdown cases.
const MARKUP: &[&str] = &[
    "# ",
    "### ",
    "\n- ",
    "\n  - ",
    "\n1. ",
    "\n> ",
    "\n> > ",
    "\n```\n",
    "\n```rust\n",
    "\n~~~\n",
    "`",
    "**",
    "*",
    "_",
    "~~",
    "|",
    "\n| a | b |\n|---|:-:|\n| ",
    "\n|",
    "[link](http://example.com/ü)",
    "<https://example.com>",
    "![img](x.png)",
    "<div>",
    "&amp;",
    "&#x1F600;",
    "\\",
    "\n\n",
    "\n    ",
    "- [x] ",
    "\n---\n",
    "\n***\n",
    "[^1]",
    "  \n",
];

/// Very long words: base strings repeated.
const LONG: &[&str] = &["a", "日", "e\u{301}", "😀", "\u{200D}", "ab ", "\t", "👍🏽"];

/// One piece of text: mostly ordinary words, often a hard piece, now and
/// then any character at all or a very long word.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9]{1,8}",
        3 => Just(" ".to_owned()),
        1 => "[ ]{2,5}",
        4 => prop::sample::select(HARD).prop_map(str::to_owned),
        2 => any::<char>().prop_map(String::from),
        1 => (prop::sample::select(LONG), 10usize..300).prop_map(|(b, n)| b.repeat(n)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|p| p.concat())
}

fn markdown() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => piece(),
            2 => prop::sample::select(MARKUP).prop_map(str::to_owned),
        ],
        0..60,
    )
    .prop_map(|p| p.concat())
}

/// Two plain styles and a bold one: neighbours often share a style, so
/// spans get merged.
fn style(i: u8) -> Style {
    match i % 3 {
        0 => Style::new(),
        1 => Style::new().fg(Color::Green),
        _ => Style::new().add_modifier(Modifier::BOLD),
    }
}

/// A line of a few spans, cut anywhere (inside a grapheme too).
fn line() -> impl Strategy<Value = Line<'static>> {
    (
        text(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
    )
        .prop_map(|(text, cuts)| {
            let chars: Vec<char> = text.chars().collect();
            let mut at: Vec<usize> = cuts.iter().map(|(i, _)| i % (chars.len() + 1)).collect();
            at.sort_unstable();
            let mut spans = Vec::new();
            let mut from = 0;
            for (to, (_, s)) in at
                .into_iter()
                .chain([chars.len()])
                .zip(cuts.iter().copied().chain([(0, 0)]))
            {
                spans.push(Span::styled(
                    chars[from..to].iter().collect::<String>(),
                    style(s),
                ));
                from = to;
            }
            Line::from(spans)
        })
}

/// The prefixes' own style, told apart from the text's.
const PREFIX: Style = Style::new().fg(Color::Magenta);

fn prefix() -> impl Strategy<Value = Line<'static>> {
    prop::sample::select(&["", "• ", "│ │ ", "12. ", "↳ ", "日本", "e\u{301} "][..])
        .prop_map(|p| Line::from(Span::styled(p, PREFIX)))
}

/// Columns a line takes, as ratatui lays it out (each span's text
/// measured whole) and as its buffer draws it (grapheme by grapheme,
/// zero-width graphemes taking no cell); the larger of the two.
fn drawn_width(line: &Line<'_>) -> usize {
    let layout: usize = line.spans.iter().map(|s| s.content.width()).sum();
    let cells: usize = line
        .spans
        .iter()
        .flat_map(|s| s.content.graphemes(true))
        .map(UnicodeWidthStr::width)
        .sum();
    assert_eq!(layout, line.width());
    layout.max(cells)
}

fn assert_fits(lines: &[Line<'_>], width: u16) -> Result<(), TestCaseError> {
    for l in lines {
        prop_assert!(
            drawn_width(l) <= usize::from(width),
            "{:?} is {} wide, more than {width}",
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<Vec<_>>(),
            drawn_width(l)
        );
    }
    Ok(())
}

/// Characters the renderer drops on purpose: they would act on the
/// terminal instead of showing.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The characters that must survive wrapping, in order.
fn visible(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !is_unsafe(*c))
        .collect()
}

/// The text of the spans not in the prefix style.
fn body_text(lines: &[Line<'_>]) -> String {
    lines
        .iter()
        .flat_map(|l| &l.spans)
        .filter(|s| s.style != PREFIX)
        .map(|s| s.content.as_ref())
        .collect()
}

fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Whether a cluster of `text` could be wider than `room` columns (and
/// so be dropped rather than overflow).
fn has_wider_than(text: &str, room: usize) -> bool {
    text.chars()
        .any(|c| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) >= room)
        || text.graphemes(true).any(|g| g.width() >= room)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn wrapping_fits_the_width_and_keeps_every_visible_character(
        line in line(),
        width in 0u16..50,
        first in prefix(),
        rest in prefix(),
    ) {
        let input = line_text(&line);
        let plain = wrap_line(line.clone(), width);
        prop_assert!(!plain.is_empty());
        assert_fits(&plain, width)?;
        let hanging = wrap_line_prefixed(line.clone(), width, &first, &rest);
        assert_fits(&hanging, width)?;
        let hard = hard_wrap_prefixed(line.clone(), width, &first, &rest);
        assert_fits(&hard, width)?;
        // Prefixes are cut to leave a column; every cluster fits a line
        // of 3 or more, so nothing is dropped.
        let room = usize::from(width)
            .saturating_sub(first.width().max(rest.width()).min(usize::from(width).saturating_sub(1)));
        if width >= 1 && (room >= 3 || !has_wider_than(&input, room + 1)) {
            prop_assert_eq!(visible(&body_text(&plain)), visible(&input));
            prop_assert_eq!(visible(&body_text(&hanging)), visible(&input));
            prop_assert_eq!(visible(&body_text(&hard)), visible(&input));
        }
    }

    #[test]
    fn truncation_fits_and_keeps_a_beginning(line in line(), width in 0u16..50) {
        let cut = truncate_line(line.clone(), width);
        assert_fits(std::slice::from_ref(&cut), width)?;
        let kept = visible(&line_text(&cut));
        let kept = kept.strip_suffix('…').unwrap_or(&kept);
        prop_assert!(visible(&line_text(&line)).starts_with(kept));
    }

    #[test]
    fn plain_text_fits_and_keeps_what_the_terminal_would_show(
        text in text(),
        width in 0u16..50,
    ) {
        let lines = wrap_plain(&text, width, Style::new());
        prop_assert!(!lines.is_empty());
        assert_fits(&lines, width)?;
        for l in &lines {
            for s in &l.spans {
                prop_assert!(!s.content.chars().any(is_unsafe), "{:?}", s.content);
            }
        }
        if width >= 3 {
            prop_assert_eq!(
                visible(&body_text(&lines)),
                visible(&strip_control(&text))
            );
        }
    }

    #[test]
    fn markdown_fits_the_width_and_never_panics(text in markdown(), width in 0u16..60) {
        let lines = render_markdown(&text, width);
        assert_fits(&lines, width)?;
        for l in &lines {
            for s in &l.spans {
                prop_assert!(!s.content.chars().any(is_unsafe), "{:?}", s.content);
            }
        }
    }

    #[test]
    fn markdown_of_plain_words_keeps_every_visible_character(
        words in prop::collection::vec(
            prop_oneof![
                3 => "[a-zA-Z0-9]{1,12}",
                2 => Just(" ".to_owned()),
                1 => Just("\n".to_owned()),
                2 => prop::sample::select(
                    &["日本語", "😀", "👍🏽", "e\u{301}", "한국어", "ไทย", "क्ष", "🇯🇵"][..]
                ).prop_map(str::to_owned),
                1 => ("[a-z]", 40usize..200).prop_map(|(b, n)| b.repeat(n)),
            ],
            0..50,
        ),
        width in 4u16..60,
    ) {
        let text = words.concat();
        let lines = render_markdown(&text, width);
        assert_fits(&lines, width)?;
        // Code lines too long for the width continue after a `↳`.
        let shown: String = lines.iter().map(line_text).collect::<String>().replace('↳', "");
        prop_assert_eq!(visible(&shown), visible(&text));
    }
}

/// One thing done to the editor.
#[derive(Debug, Clone)]
enum Op {
    /// A paste.
    Insert(String),
    /// A key, with modifiers.
    Key(KeyCode, KeyModifiers),
    Newline,
    CursorUp,
    CursorDown,
    HistoryBack,
    HistoryForward,
    Take,
    Clear,
    SetText(String),
    Complete,
    SelectCompletion(bool),
    AcceptCompletion,
    ReplaceToken(String),
}

fn printable() -> impl Strategy<Value = char> {
    prop_oneof![
        "[a-z @/]".prop_map(|s| s.chars().next().unwrap_or('a')),
        prop::sample::select(
            &[
                '日', '😀', '\u{301}', '\u{200D}', '\u{FE0F}', 'é', '\u{17D8}'
            ][..]
        ),
        any::<char>().prop_filter("printable", |c| !c.is_control()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let code = prop_oneof![
        4 => printable().prop_map(KeyCode::Char),
        2 => Just(KeyCode::Backspace),
        2 => Just(KeyCode::Delete),
        2 => Just(KeyCode::Left),
        2 => Just(KeyCode::Right),
        1 => Just(KeyCode::Up),
        1 => Just(KeyCode::Down),
        1 => Just(KeyCode::Home),
        1 => Just(KeyCode::End),
        1 => Just(KeyCode::Tab),
        1 => Just(KeyCode::Enter),
        1 => Just(KeyCode::PageUp),
        1 => Just(KeyCode::PageDown),
    ];
    let modifiers = prop_oneof![
        6 => Just(KeyModifiers::NONE),
        1 => Just(KeyModifiers::CONTROL),
        1 => Just(KeyModifiers::ALT),
        1 => Just(KeyModifiers::SHIFT),
    ];
    prop_oneof![
        3 => text().prop_map(Op::Insert),
        8 => (code, modifiers).prop_map(|(c, m)| Op::Key(c, m)),
        1 => Just(Op::Newline),
        1 => Just(Op::CursorUp),
        1 => Just(Op::CursorDown),
        1 => Just(Op::HistoryBack),
        1 => Just(Op::HistoryForward),
        1 => Just(Op::Take),
        1 => Just(Op::Clear),
        1 => text().prop_map(Op::SetText),
        1 => Just(Op::Complete),
        1 => any::<bool>().prop_map(Op::SelectCompletion),
        1 => Just(Op::AcceptCompletion),
        1 => text().prop_map(Op::ReplaceToken),
    ]
}

/// The cursor as an offset into the text (lines joined with `\n`).
fn offset(editor: &Editor) -> usize {
    let cursor = editor.area().cursor();
    let (row, col) = (cursor.0, cursor.1);
    let lines = editor.area().lines();
    lines[..row]
        .iter()
        .map(|l| l.chars().count() + 1)
        .sum::<usize>()
        + col
}

fn remove_at(text: &str, at: usize) -> String {
    text.chars()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, c)| c)
        .collect()
}

/// Checks what an edit did, where its effect is certain.
fn check_edit(
    before: &str,
    at: usize,
    selecting: bool,
    op: &Op,
    editor: &Editor,
) -> Result<(), TestCaseError> {
    let after = editor.text();
    let cursor = editor.area().cursor();
    let (row, col) = (cursor.0, cursor.1);
    let lines = editor.area().lines();
    prop_assert!(
        row < lines.len(),
        "cursor row {row} of {} lines",
        lines.len()
    );
    prop_assert!(
        col <= lines[row].chars().count(),
        "cursor column {col} past {:?}",
        lines[row]
    );
    if selecting {
        return Ok(());
    }
    let chars: Vec<char> = before.chars().collect();
    let split = |at: usize| -> (String, String) {
        (chars[..at].iter().collect(), chars[at..].iter().collect())
    };
    match op {
        Op::Insert(text) => {
            let clean = text.replace("\r\n", "\n").replace('\r', "\n");
            let (head, tail) = split(at);
            prop_assert_eq!(after, format!("{head}{clean}{tail}"));
        }
        Op::Key(KeyCode::Char(c), KeyModifiers::NONE) => {
            let (head, tail) = split(at);
            prop_assert_eq!(after, format!("{head}{c}{tail}"));
        }
        Op::Newline | Op::Key(KeyCode::Enter, KeyModifiers::NONE) => {
            let (head, tail) = split(at);
            prop_assert_eq!(after, format!("{head}\n{tail}"));
        }
        Op::Key(KeyCode::Backspace, KeyModifiers::NONE) => {
            let expected = if at == 0 {
                before.to_owned()
            } else {
                remove_at(before, at - 1)
            };
            prop_assert_eq!(after, expected);
        }
        Op::Key(KeyCode::Delete, KeyModifiers::NONE)
        | Op::Key(KeyCode::Char('d'), KeyModifiers::CONTROL) => {
            // The next character as it shows: its whole grapheme on the
            // line, or the line break.
            let (head, tail) = split(at);
            let line_rest = tail.split('\n').next().unwrap_or_default();
            let next = match line_rest.graphemes(true).next() {
                Some(g) => g.chars().count(),
                None => usize::from(!tail.is_empty()),
            };
            let tail: String = tail.chars().skip(next).collect();
            prop_assert_eq!(after, format!("{head}{tail}"));
        }
        Op::Key(
            KeyCode::Left
            | KeyCode::Right
            | KeyCode::Up
            | KeyCode::Down
            | KeyCode::Home
            | KeyCode::End
            | KeyCode::PageUp
            | KeyCode::PageDown,
            _,
        )
        | Op::CursorUp
        | Op::CursorDown
        | Op::Complete
        | Op::SelectCompletion(_) => {
            prop_assert_eq!(after, before, "a move changed the text");
        }
        _ => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn the_editor_survives_any_edit_anywhere_and_draws_at_any_size(
        ops in prop::collection::vec(op(), 1..40),
        width in 1u16..60,
        height in 3u16..20,
    ) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/日本.rs"), "").unwrap();
        std::fs::write(root.path().join("e\u{301}.md"), "").unwrap();
        let mut app = App::new(Setup {
            cwd: root.path().to_owned(),
            ..Setup::default()
        });
        for op in &ops {
            let editor = &mut app.editor;
            let before = editor.text();
            let at = offset(editor);
            let selecting = editor.area().is_selecting();
            match op.clone() {
                Op::Insert(text) => editor.insert(&text),
                Op::Key(code, modifiers) => {
                    editor.edit(KeyEvent::new(code, modifiers));
                }
                Op::Newline => editor.newline(),
                Op::CursorUp => editor.cursor_up(),
                Op::CursorDown => editor.cursor_down(),
                Op::HistoryBack => editor.history_back(),
                Op::HistoryForward => editor.history_forward(),
                Op::Take => {
                    prop_assert_eq!(editor.take(), before.clone());
                    prop_assert!(editor.is_empty());
                }
                Op::Clear => editor.clear(),
                Op::SetText(text) => {
                    editor.set_text(&text);
                    prop_assert_eq!(editor.text(), text);
                }
                Op::Complete => editor.update_completion(root.path(), baton_tui::state::COMMANDS),
                Op::SelectCompletion(down) => editor.select_completion(down),
                Op::AcceptCompletion => {
                    editor.accept_completion();
                }
                Op::ReplaceToken(with) => editor.replace_token(&with),
            }
            check_edit(&before, at, selecting, op, &app.editor)?;
            let _ = app.editor.token();
        }
        // However it ends, it draws.
        let screen = common::screen(&mut app, width, height);
        prop_assert!(!screen.is_empty());
    }
}
