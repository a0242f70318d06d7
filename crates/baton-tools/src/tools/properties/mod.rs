//! Property tests of the file tools over arbitrary Unicode: every case is
//! compared with a plain in-memory model of what the tool promises.

mod edit;
mod grep;
mod read;
mod write;

use proptest::prelude::*;
use std::future::Future;

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
}

/// Runs a tool call to its end.
fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// Cases per property: enough to find boundary bugs, few enough for two
/// cores to run them all in seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Characters that stress text handling: any at all, plain ones, multi-byte
/// ones (emoji, skin tones, combining marks, a zero-width joiner, a byte
/// order mark) and line ends.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        3 => prop::sample::select(vec!['a', 'b', 'x', ' ', '\t', '.']),
        3 => prop::sample::select(vec![
            'é', 'ß', '中', '🎉', '👍', '\u{1F3FD}', '\u{0301}', '\u{0308}', '\u{200D}',
            '\u{FEFF}',
        ]),
        1 => Just('\n'),
        1 => Just('\r'),
    ]
}

/// A run of characters with no line end, `len` long.
fn run(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    (prop::sample::select(vec!['x', 'é', '🎉', '\u{0301}']), len)
        .prop_map(|(c, n)| c.to_string().repeat(n))
}

/// Text made of pieces: short runs of tricky characters, CRLF, LF and lone
/// CR line ends, empty strings, and now and then a line longer than the
/// tools show (`grep` cuts at 500 characters, `read` at 2000).
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::collection::vec(tricky_char(), 0..12)
            .prop_map(|chars| chars.into_iter().collect::<String>()),
        2 => Just("\r\n".to_owned()),
        2 => Just("\n".to_owned()),
        1 => Just("\r".to_owned()),
        1 => Just(String::new()),
        1 => run(490..520),
        1 => run(1990..2010),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// The lines of `content` as the tools number them: split at `\n`, a last
/// line without one counts, and one `\r` before a line's end belongs to
/// its terminator.
fn model_lines(content: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = content.split('\n').collect();
    if content.is_empty() || content.ends_with('\n') {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect()
}

/// `line` cut at `max` characters the way the tools mark a cut.
fn model_cut(line: &str, max: usize, marker: &str) -> String {
    let count = line.chars().count();
    if count > max {
        let kept: String = line.chars().take(max).collect();
        format!("{kept}… [{marker}{} more characters]", count - max)
    } else {
        line.to_owned()
    }
}
