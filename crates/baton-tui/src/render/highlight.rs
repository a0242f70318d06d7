//! Syntax highlighting of code with syntect.
//!
//! The syntax definitions and the theme are loaded once, on first use (or
//! earlier through [`preload`]), and shared by every call. Colours become
//! `Color::Rgb` foregrounds; backgrounds are left to the terminal.
//!
//! syntect runs its grammars on a pure-Rust regex engine here, which costs
//! roughly 150-200 µs per line of code in a release build. Recent results
//! are therefore cached (see [`highlight_code`]); a block seen for the first
//! time still pays the full price, so callers showing large files should
//! highlight only what they show.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, HighlightState, Theme, ThemeSet};
use syntect::parsing::{ParseState, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use super::theme;
use super::wrap::strip_control;

/// Code with a line longer than this (in bytes) is not highlighted.
const MAX_HIGHLIGHT_LINE: usize = 4096;

/// The highlighting theme, one of syntect's defaults.
const THEME_NAME: &str = "base16-ocean.dark";

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

static THEME: LazyLock<Theme> = LazyLock::new(|| {
    let mut themes = ThemeSet::load_defaults();
    themes.themes.remove(THEME_NAME).unwrap_or_default()
});

/// Loads the syntax definitions and the theme now rather than on the first
/// code block. Loading takes tens of milliseconds; call this from a
/// background thread at start-up to keep the first render quick.
pub fn preload() {
    LazyLock::force(&SYNTAXES);
    LazyLock::force(&THEME);
}

/// Highlights `code` written in `lang`, one line per source line, not
/// wrapped.
///
/// `lang` is a Markdown info-string language: a name (`rust`, `Python`) or
/// an extension (`rs`, `py`); common aliases such as `sh`, `shell`,
/// `console`, `ts` and `jsonc` are understood. An empty or unknown language
/// gives the lines in the plain [`theme::CODE`] style, and so does code with
/// a line longer than 4 KiB, which would take the regex engine too long.
/// Tabs become four spaces and control characters are removed.
///
/// Results are cached: highlighting the same code again costs a copy, and
/// code that grew at its end since it was last highlighted (a streaming
/// reply) continues from the last complete line instead of starting over.
/// The output is the same either way.
pub fn highlight_code(code: &str, lang: &str) -> Vec<Line<'static>> {
    highlight_with(code, syntax_for_lang(lang))
}

/// Highlights the contents of the file at `path`, choosing the syntax by its
/// extension or name (`main.rs`, `Makefile`) and, failing that, by its first
/// line (a `#!` line). Same output as [`highlight_code`].
pub fn highlight_file(code: &str, path: &str) -> Vec<Line<'static>> {
    let path = Path::new(path);
    let by_name = [path.extension(), path.file_name()]
        .into_iter()
        .flatten()
        .filter_map(|part| part.to_str())
        .find_map(|part| SYNTAXES.find_syntax_by_extension(part));
    let syntax = by_name.or_else(|| {
        let first_line = code.lines().next().unwrap_or_default();
        SYNTAXES.find_syntax_by_first_line(first_line)
    });
    highlight_with(code, syntax)
}

/// The syntax for a Markdown language tag, or `None` for plain text.
fn syntax_for_lang(lang: &str) -> Option<&'static SyntaxReference> {
    let lang = lang.trim();
    let token = match lang.to_ascii_lowercase().as_str() {
        "" | "text" | "txt" | "plain" | "plaintext" => return None,
        "shell" | "sh" | "zsh" | "console" | "shell-session" | "bash" => "bash",
        "ts" | "typescript" | "tsx" | "jsx" | "mjs" | "cjs" => "js",
        "jsonc" | "json5" => "json",
        "yml" => "yaml",
        "c++" => "cpp",
        "golang" => "go",
        "py3" | "python3" => "py",
        _ => lang,
    };
    SYNTAXES.find_syntax_by_token(token)
}

/// Highlights with `syntax`, or shows plain code when there is none.
fn highlight_with(code: &str, syntax: Option<&SyntaxReference>) -> Vec<Line<'static>> {
    let clean = strip_control(code);
    let clean = if clean.contains('\t') {
        clean.replace('\t', "    ").into()
    } else {
        clean
    };
    // A single enormous line (minified code, a data dump) would take the
    // regex engine seconds; such text is shown without colours.
    let too_long = clean.lines().any(|line| line.len() > MAX_HIGHLIGHT_LINE);
    match syntax.filter(|s| s.name != "Plain Text" && !too_long) {
        Some(syntax) => highlight_cached(&clean, syntax),
        None => plain_lines(&clean),
    }
}

// Highlighting costs about as much as everything else in a message together
// (syntect's pure-Rust regex engine parses a line of Rust in tens to hundreds
// of microseconds), and the same code is highlighted again and again: when
// the view is resized, when a message is re-laid out, and above all while a
// reply streams in and its last code block grows by a few characters per
// delta. So recent results are kept, with the highlighter's state after
// their last complete line: an exact repeat costs a copy, and a block that
// grew continues from where it was instead of starting over. Resuming from a
// saved state gives exactly what highlighting from the start gives.

/// How many highlighted blocks are kept.
const CACHE_ENTRIES: usize = 64;

/// Longer texts are highlighted every time rather than kept.
const CACHE_MAX_TEXT: usize = 64 * 1024;

/// Recently highlighted blocks, least recently used first.
static CACHE: Mutex<VecDeque<Cached>> = Mutex::new(VecDeque::new());

/// A highlighted text, and what is needed to continue it.
struct Cached {
    syntax: String,
    text: String,
    lines: Vec<Line<'static>>,
    /// Bytes of `text` up to and including its last `\n`.
    complete_len: usize,
    /// How many of `lines` those complete lines are.
    complete_lines: usize,
    /// The highlighter's state after the complete lines.
    state: (HighlightState, ParseState),
}

/// What the cache offers for a text.
enum Reuse {
    /// The text was highlighted before: its lines.
    Exact(Vec<Line<'static>>),
    /// A shorter version was: the lines of its complete lines, where they
    /// end in the text, and the state to continue from.
    Prefix {
        lines: Vec<Line<'static>>,
        offset: usize,
        state: (HighlightState, ParseState),
    },
    /// Nothing to reuse.
    Nothing,
}

fn lock_cache() -> MutexGuard<'static, VecDeque<Cached>> {
    // The cache holds no invariant a panic could break halfway.
    CACHE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Looks `text` up. A prefix entry is taken out: the longer text replaces it.
fn reuse(syntax: &str, text: &str) -> Reuse {
    let mut cache = lock_cache();
    if let Some(index) = cache
        .iter()
        .position(|c| c.syntax == syntax && c.text == text)
        && let Some(entry) = cache.remove(index)
    {
        let lines = entry.lines.clone();
        cache.push_back(entry);
        return Reuse::Exact(lines);
    }
    let prefix = cache
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.syntax == syntax && c.complete_len > 0 && text.starts_with(&c.text[..c.complete_len])
        })
        .max_by_key(|(_, c)| c.complete_len)
        .map(|(index, _)| index);
    match prefix.and_then(|index| cache.remove(index)) {
        Some(mut entry) => {
            entry.lines.truncate(entry.complete_lines);
            Reuse::Prefix {
                lines: entry.lines,
                offset: entry.complete_len,
                state: entry.state,
            }
        }
        None => Reuse::Nothing,
    }
}

/// Highlights `text`, reusing and refreshing the cache.
fn highlight_cached(text: &str, syntax: &SyntaxReference) -> Vec<Line<'static>> {
    let (mut lines, offset, mut highlighter) = match reuse(&syntax.name, text) {
        Reuse::Exact(lines) => return lines,
        Reuse::Prefix {
            lines,
            offset,
            state: (highlight_state, parse_state),
        } => (
            lines,
            offset,
            HighlightLines::from_state(&THEME, highlight_state, parse_state),
        ),
        Reuse::Nothing => (Vec::new(), 0, HighlightLines::new(syntax, &THEME)),
    };
    let rest = &text[offset..];
    let (complete, tail) = rest.split_at(rest.rfind('\n').map_or(0, |i| i + 1));
    if let Err(error) = highlight_into(&mut highlighter, complete, &mut lines) {
        return plain_rest(text, lines, &syntax.name, &error);
    }
    let complete_lines = lines.len();
    let state = highlighter.state();
    if !tail.is_empty() {
        let (highlight_state, parse_state) = state.clone();
        let mut highlighter = HighlightLines::from_state(&THEME, highlight_state, parse_state);
        if let Err(error) = highlight_into(&mut highlighter, tail, &mut lines) {
            return plain_rest(text, lines, &syntax.name, &error);
        }
    }
    if text.len() <= CACHE_MAX_TEXT {
        let mut cache = lock_cache();
        while cache.len() >= CACHE_ENTRIES {
            cache.pop_front();
        }
        cache.push_back(Cached {
            syntax: syntax.name.clone(),
            text: text.to_owned(),
            lines: lines.clone(),
            complete_len: offset + complete.len(),
            complete_lines,
            state,
        });
    }
    lines
}

/// Highlights the lines of `text` onto `lines`.
fn highlight_into(
    highlighter: &mut HighlightLines<'_>,
    text: &str,
    lines: &mut Vec<Line<'static>>,
) -> Result<(), syntect::Error> {
    for source_line in LinesWithEndings::from(text) {
        let tokens = highlighter.highlight_line(source_line, &SYNTAXES)?;
        lines.push(tokens_to_line(&tokens));
    }
    Ok(())
}

/// After a grammar failure: the lines highlighted so far, then the rest of
/// the text without colours, so no text is lost.
fn plain_rest(
    text: &str,
    mut lines: Vec<Line<'static>>,
    syntax: &str,
    error: &syntect::Error,
) -> Vec<Line<'static>> {
    tracing::debug!(%error, syntax, "highlighting failed");
    let done = lines.len();
    lines.extend(plain_lines(text).into_iter().skip(done));
    lines
}

/// Lines in the plain code style.
fn plain_lines(code: &str) -> Vec<Line<'static>> {
    code.lines()
        .map(|line| Line::from(Span::styled(line.to_owned(), theme::CODE)))
        .collect()
}

/// A highlighted source line as a `Line`, without its line ending, merging
/// neighbouring tokens of the same style.
fn tokens_to_line(tokens: &[(syntect::highlighting::Style, &str)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::with_capacity(tokens.len());
    for (style, text) in tokens {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            continue;
        }
        let style = convert_style(*style);
        match spans.last_mut() {
            Some(last) if last.style == style || text.trim().is_empty() => {
                last.content.to_mut().push_str(text);
            }
            _ => spans.push(Span::styled(text.to_owned(), style)),
        }
    }
    Line::from(spans)
}

/// A syntect style as a ratatui foreground colour and modifiers.
fn convert_style(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::new().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        out = out.add_modifier(Modifier::UNDERLINED);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::render::wrap::lines_to_plain;

    const RUST: &str = "fn main() {\n    let x: u32 = 42; // answer\n    println!(\"{x}\");\n}\n";

    fn colours(lines: &[Line<'_>]) -> HashSet<Color> {
        lines
            .iter()
            .flat_map(|l| &l.spans)
            .filter_map(|s| s.style.fg)
            .collect()
    }

    #[test]
    fn rust_gets_several_colours_and_keeps_its_text() {
        let lines = highlight_code(RUST, "rust");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines_to_plain(&lines), RUST.trim_end());
        assert!(colours(&lines).len() >= 3, "{:?}", colours(&lines));
        for span in lines.iter().flat_map(|l| &l.spans) {
            assert!(matches!(span.style.fg, Some(Color::Rgb(..))));
            assert_eq!(span.style.bg, None);
        }
    }

    #[test]
    fn languages_are_found_by_name_extension_and_alias() {
        for lang in [
            "rust", "rs", "Rust", "python", "py", "sh", "shell", "json", "ts", "yml",
        ] {
            assert!(syntax_for_lang(lang).is_some(), "{lang}");
        }
    }

    #[test]
    fn unknown_language_is_plain_code() {
        for lang in ["", "nosuchlang", "text"] {
            let lines = highlight_code("a b\nc", lang);
            assert_eq!(lines_to_plain(&lines), "a b\nc");
            for span in lines.iter().flat_map(|l| &l.spans) {
                assert_eq!(span.style, theme::CODE);
            }
        }
    }

    #[test]
    fn files_are_highlighted_by_extension_name_or_shebang() {
        assert!(colours(&highlight_file(RUST, "src/main.rs")).len() >= 3);
        let makefile = "all:\n\tcc -o x x.c\n";
        assert!(colours(&highlight_file(makefile, "Makefile")).len() >= 2);
        let script = "#!/bin/bash\necho \"hi\" # greet\n";
        assert!(colours(&highlight_file(script, "run")).len() >= 2);
        let plain = highlight_file("just words", "notes.unknownext");
        assert_eq!(plain[0].spans[0].style, theme::CODE);
    }

    #[test]
    fn tabs_and_control_characters_are_cleaned() {
        let lines = highlight_code("\tlet a = \u{1b}[31m1;\r\n", "rust");
        assert_eq!(lines_to_plain(&lines), "    let a = 1;");
        let lines = highlight_code("\tx\u{7}", "");
        assert_eq!(lines_to_plain(&lines), "    x");
    }

    #[test]
    fn code_with_an_enormous_line_is_plain() {
        let code = format!(
            "let x = \"{}\";\nfn f() {{}}",
            "a".repeat(MAX_HIGHLIGHT_LINE)
        );
        let lines = highlight_code(&code, "rust");
        assert_eq!(lines.len(), 2);
        for span in lines.iter().flat_map(|l| &l.spans) {
            assert_eq!(span.style, theme::CODE);
        }
    }

    #[test]
    fn empty_lines_are_kept() {
        let lines = highlight_code("a\n\nb", "rust");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].width(), 0);
    }

    /// Highlighting from scratch, bypassing the cache.
    fn uncached(code: &str, lang: &str) -> Vec<Line<'static>> {
        let syntax = syntax_for_lang(lang).unwrap_or_else(|| panic!("no syntax for {lang}"));
        let mut highlighter = HighlightLines::new(syntax, &THEME);
        let mut lines = Vec::new();
        highlight_into(&mut highlighter, code, &mut lines).unwrap_or_else(|e| panic!("{e}"));
        lines
    }

    #[test]
    fn a_growing_block_highlights_as_if_from_scratch() {
        // Grow a block the way a streamed reply does, a few bytes at a time,
        // inside a string and a block comment so the state carried across
        // lines matters.
        let code = "/* a comment\n   over lines */\nfn f() -> &'static str {\n    \"a string\n    over lines\"\n}\n// done\n";
        let mut end = 0;
        while end < code.len() {
            end = (end + 5).min(code.len());
            while !code.is_char_boundary(end) {
                end += 1;
            }
            let prefix = &code[..end];
            assert_eq!(
                highlight_code(prefix, "rust"),
                uncached(prefix, "rust"),
                "{prefix:?}"
            );
            // Asking again (an exact repeat) gives the same again.
            assert_eq!(
                highlight_code(prefix, "rust"),
                uncached(prefix, "rust"),
                "{prefix:?}"
            );
        }
        // An edit in the middle is not mistaken for growth.
        let edited = code.replace("a comment", "changed");
        assert_eq!(highlight_code(&edited, "rust"), uncached(&edited, "rust"));
    }

    #[test]
    fn the_same_code_in_two_languages_is_not_confused() {
        let code = "def f(x): return x # py\n";
        assert_eq!(highlight_code(code, "python"), uncached(code, "python"));
        assert_eq!(highlight_code(code, "rust"), uncached(code, "rust"));
        assert_ne!(highlight_code(code, "python"), highlight_code(code, "rust"));
    }

    #[test]
    fn highlighting_is_deterministic() {
        preload();
        assert_eq!(highlight_code(RUST, "rust"), highlight_code(RUST, "rust"));
    }
}
