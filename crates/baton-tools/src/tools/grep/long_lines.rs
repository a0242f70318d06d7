//! Lines too long to hold: `grep` reads a file through [`CappedLines`],
//! which hands the searcher at most [`LineLimits::cap`] bytes of each line
//! and searches the rest of a longer line itself, a window at a time, so
//! no line is ever held whole (a 200 MB minified file is one line). What it
//! finds about each long line (its length, whether it matches) goes to the
//! sink through a shared [`LongLines`] record.

use super::MAX_LINE_CHARS;
use crate::text::{char_count, char_prefix, whole_chars};
use grep_matcher::Matcher;
use grep_regex::RegexMatcher;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// Bytes a match's start may look behind (`^`, `\b`): one character.
const LOOK_BEHIND: usize = 4;

/// How long lines are handled. `window` must exceed `overlap` by more than
/// [`LOOK_BEHIND`] bytes; a `cap` of at least 4 × [`MAX_LINE_CHARS`] lets
/// the searcher show a long line's first [`MAX_LINE_CHARS`] characters.
#[derive(Debug, Clone, Copy)]
pub(in crate::tools) struct LineLimits {
    /// Bytes of a line the searcher sees; a longer line is searched here.
    pub(in crate::tools) cap: usize,
    /// Bytes of a long line searched at once.
    pub(in crate::tools) window: usize,
    /// Bytes consecutive windows share. A match at least this long past the
    /// first window of a line can be missed.
    pub(in crate::tools) overlap: usize,
}

impl LineLimits {
    /// What `grep` uses: about 1.4 MiB held for a line of any length.
    pub(super) const DEFAULT: LineLimits = LineLimits {
        cap: 256 * 1024,
        window: 1024 * 1024,
        overlap: 64 * 1024,
    };
}

/// What was learned about one long line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LongLine {
    /// Its length in characters (as [`char_count`] counts them), without
    /// its terminator.
    pub(super) chars: usize,
    /// Whether the pattern matches it anywhere.
    pub(super) matched: bool,
    /// Its first [`MAX_LINE_CHARS`] characters, kept for a matching line
    /// the searcher may not report (the match is past what it saw).
    pub(super) head: Option<String>,
}

/// The long lines of one file, by line number, from the reader to the
/// sink; the sink takes each as the search passes it.
#[derive(Debug, Default)]
pub(super) struct LongLines {
    lines: BTreeMap<u64, LongLine>,
    /// How many of `lines` keep a head.
    heads: usize,
    /// Set when a NUL byte was seen where the searcher does not look.
    binary: bool,
}

impl LongLines {
    /// The record of line `number`, taken out.
    pub(super) fn take(&mut self, number: u64) -> Option<LongLine> {
        let line = self.lines.remove(&number)?;
        self.heads -= usize::from(line.head.is_some());
        Some(line)
    }

    /// The records of the lines before `number`, in order, taken out.
    pub(super) fn take_before(&mut self, number: u64) -> Vec<(u64, LongLine)> {
        let rest = self.lines.split_off(&number);
        let before = std::mem::replace(&mut self.lines, rest);
        let before: Vec<_> = before.into_iter().collect();
        self.heads -= before.iter().filter(|(_, l)| l.head.is_some()).count();
        before
    }

    /// Whether a NUL byte was seen past a line's cap (the file is binary).
    pub(super) fn binary(&self) -> bool {
        self.binary
    }
}

/// A reader that passes on at most `cap` bytes of each line and searches
/// the rest of a longer line itself.
pub(super) struct CappedLines<'m, R> {
    inner: R,
    state: LineState<'m>,
    /// The file's start was looked at for a UTF-8 byte order mark.
    bom_checked: bool,
    /// Bytes of a leading byte order mark still to pass on.
    bom_left: usize,
}

/// The UTF-8 byte order mark, which the searcher does not search.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where [`CappedLines`] is in its input.
struct LineState<'m> {
    matcher: &'m RegexMatcher,
    limits: LineLimits,
    found: Rc<RefCell<LongLines>>,
    /// Most heads kept at once (more could never be shown).
    max_heads: usize,
    /// The number of the line being read.
    line: u64,
    /// Bytes of that line read so far.
    len: usize,
    /// Its first `cap` bytes.
    head: Vec<u8>,
    /// Characters of it past `head`.
    skipped_chars: usize,
    /// Its last byte so far.
    last: Option<u8>,
    /// Its search, once it is longer than `cap`.
    scan: Option<WindowScan>,
    /// Nothing more is passed on (the file is binary).
    stopped: bool,
}

impl<'m, R: BufRead> CappedLines<'m, R> {
    /// Reads `inner`, recording long lines in `found`, with heads for at
    /// most `max_heads` matching lines at a time.
    pub(super) fn new(
        inner: R,
        matcher: &'m RegexMatcher,
        limits: LineLimits,
        found: Rc<RefCell<LongLines>>,
        max_heads: usize,
    ) -> Self {
        CappedLines {
            inner,
            state: LineState {
                matcher,
                limits,
                found,
                max_heads,
                line: 1,
                len: 0,
                head: Vec::new(),
                skipped_chars: 0,
                last: None,
                scan: None,
                stopped: false,
            },
            bom_checked: false,
            bom_left: 0,
        }
    }
}

impl LineState<'_> {
    /// Bytes of the current line within `cap`: passed on, and kept.
    fn pass(&mut self, bytes: &[u8]) {
        self.head.extend_from_slice(bytes);
        self.len += bytes.len();
        if let Some(&last) = bytes.last() {
            self.last = Some(last);
        }
    }

    /// Bytes of the current line past `cap`: searched and counted, not
    /// passed on. False when they hold a NUL byte (the file is binary).
    fn skip(&mut self, bytes: &[u8]) -> bool {
        if bytes.contains(&0) {
            self.found.borrow_mut().binary = true;
            self.stopped = true;
            return false;
        }
        let scan = self.scan.get_or_insert_with(|| {
            let mut scan = WindowScan::default();
            scan.feed(&self.head, self.matcher, self.limits);
            scan
        });
        scan.feed(bytes, self.matcher, self.limits);
        self.skipped_chars += char_count(bytes);
        self.len += bytes.len();
        if let Some(&last) = bytes.last() {
            self.last = Some(last);
        }
        true
    }

    /// The current line ended: records it if it was long.
    fn end_line(&mut self) {
        if let Some(scan) = self.scan.take() {
            let matched = scan.finish(self.matcher);
            let chars = (char_count(&self.head) + self.skipped_chars)
                .saturating_sub(usize::from(self.last == Some(b'\r')));
            let mut found = self.found.borrow_mut();
            let head = (matched && found.heads < self.max_heads).then(|| {
                let text = String::from_utf8_lossy(whole_chars(&self.head));
                char_prefix(&text, MAX_LINE_CHARS).to_owned()
            });
            found.heads += usize::from(head.is_some());
            found.lines.insert(
                self.line,
                LongLine {
                    chars,
                    matched,
                    head,
                },
            );
        }
        self.line += 1;
        self.len = 0;
        self.head.clear();
        self.skipped_chars = 0;
        self.last = None;
    }
}

impl<R: BufRead> Read for CappedLines<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.bom_checked {
            self.bom_checked = true;
            if self.inner.fill_buf()?.starts_with(UTF8_BOM) {
                self.inner.consume(UTF8_BOM.len());
                self.bom_left = UTF8_BOM.len();
            }
        }
        if self.bom_left > 0 {
            // Passed on for the searcher to drop (it drops a leading BOM,
            // and only one: a second one is text), and left out of the
            // long-line search, which so sees the text the searcher sees.
            let from = UTF8_BOM.len() - self.bom_left;
            let n = self.bom_left.min(buf.len());
            buf[..n].copy_from_slice(&UTF8_BOM[from..from + n]);
            self.bom_left -= n;
            return Ok(n);
        }
        let state = &mut self.state;
        let mut written = 0;
        while written < buf.len() && !state.stopped {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                if state.len > 0 {
                    state.end_line();
                }
                break;
            }
            let newline = chunk.iter().position(|&byte| byte == b'\n');
            let line_part = &chunk[..newline.unwrap_or(chunk.len())];
            let wanted = line_part
                .len()
                .min(state.limits.cap.saturating_sub(state.len));
            let pass = wanted.min(buf.len() - written);
            let (passed, rest) = line_part.split_at(pass);
            buf[written..written + pass].copy_from_slice(passed);
            written += pass;
            state.pass(passed);
            if pass < wanted {
                // `buf` is full: the rest waits for the next call.
                self.inner.consume(pass);
                break;
            }
            if !rest.is_empty() && !state.skip(rest) {
                break;
            }
            let mut used = line_part.len();
            if newline.is_some() {
                if written == buf.len() {
                    // No room for the newline: it waits for the next call.
                    self.inner.consume(used);
                    break;
                }
                buf[written] = b'\n';
                written += 1;
                used += 1;
                state.end_line();
            }
            self.inner.consume(used);
        }
        Ok(written)
    }
}

/// The search of one long line, a window at a time. Windows overlap so a
/// match that starts near a window's end is found whole in the next one;
/// the bytes before a window's region are there for look-behind only.
#[derive(Debug, Default)]
struct WindowScan {
    buf: Vec<u8>,
    /// Where in `buf` matches may start.
    from: usize,
    matched: bool,
}

impl WindowScan {
    fn feed(&mut self, mut bytes: &[u8], matcher: &RegexMatcher, limits: LineLimits) {
        while !bytes.is_empty() && !self.matched {
            let room = limits.window.saturating_sub(self.buf.len()).max(1);
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.buf.extend_from_slice(now);
            bytes = later;
            if self.buf.len() >= limits.window {
                self.search_window(matcher, limits);
            }
        }
    }

    /// Searches a full window: a match counts if it starts before the
    /// overlap and ends before the window does (so the window's artificial
    /// end cannot have made it); then slides on.
    fn search_window(&mut self, matcher: &RegexMatcher, limits: LineLimits) {
        let region_end = self.buf.len().saturating_sub(limits.overlap);
        if let Some(found) = find_at(matcher, &self.buf, self.from)
            && found.start() < region_end
            && found.end() < self.buf.len()
        {
            self.matched = true;
            self.buf = Vec::new();
            return;
        }
        let keep_from = region_end.saturating_sub(LOOK_BEHIND);
        self.buf.drain(..keep_from);
        self.from = region_end - keep_from;
    }

    /// Searches what is left, up to the line's real end.
    fn finish(self, matcher: &RegexMatcher) -> bool {
        self.matched || find_at(matcher, &self.buf, self.from).is_some()
    }
}

fn find_at(matcher: &RegexMatcher, haystack: &[u8], at: usize) -> Option<grep_matcher::Match> {
    matcher.find_at(haystack, at).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use grep_regex::RegexMatcherBuilder;

    const SMALL: LineLimits = LineLimits {
        cap: 8,
        window: 16,
        overlap: 6,
    };

    fn matcher(pattern: &str) -> RegexMatcher {
        RegexMatcherBuilder::new()
            .line_terminator(Some(b'\n'))
            .build(pattern)
            .unwrap()
    }

    /// What the searcher would be given, and the long lines recorded,
    /// reading in pieces of `piece` bytes.
    fn pass(input: &str, pattern: &str, piece: usize) -> (String, BTreeMap<u64, LongLine>) {
        let matcher = matcher(pattern);
        let found = Rc::new(RefCell::new(LongLines::default()));
        let inner = io::BufReader::with_capacity(5, input.as_bytes());
        let mut reader = CappedLines::new(inner, &matcher, SMALL, found.clone(), 10);
        let mut out = Vec::new();
        let mut buf = vec![0; piece];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let lines = std::mem::take(&mut found.borrow_mut().lines);
        (String::from_utf8(out).unwrap(), lines)
    }

    #[test]
    fn a_leading_byte_order_mark_is_not_searched() {
        // Passed on, uncounted, for the searcher to drop.
        let (out, lines) = pass("\u{feff}0123456789abcdef", "\u{feff}", 64);
        assert_eq!(out, "\u{feff}01234567");
        assert!(!lines[&1].matched);
        // Only one: a second one is text.
        for piece in [1, 2, 64] {
            let (out, lines) = pass("\u{feff}\u{feff}0123456789abcdef", "\u{feff}", piece);
            assert_eq!(out, "\u{feff}\u{feff}01234");
            assert!(lines[&1].matched);
        }
        // Only at the start of the file.
        let (_, lines) = pass("0123456789\u{feff}abcdef", "\u{feff}", 64);
        assert!(lines[&1].matched);
    }

    #[test]
    fn lines_are_cut_at_the_cap_and_long_ones_recorded() {
        for piece in [1, 3, 64] {
            let (out, lines) = pass("short\n0123456789abcdef\r\nxy", "zzz", piece);
            assert_eq!(out, "short\n01234567\nxy", "piece {piece}");
            assert_eq!(
                lines.into_iter().collect::<Vec<_>>(),
                [(
                    2,
                    LongLine {
                        chars: 16,
                        matched: false,
                        head: None
                    }
                )],
                "piece {piece}"
            );
        }
    }

    #[test]
    fn matches_past_the_cap_are_found_across_windows() {
        let line = format!("{}needle{}", "a".repeat(40), "b".repeat(30));
        for piece in [1, 7, 1024] {
            let (_, lines) = pass(&format!("{line}\nneedle\n"), "needle", piece);
            let long = &lines[&1];
            assert!(long.matched, "piece {piece}");
            assert_eq!(long.chars, 76);
            assert_eq!(long.head.as_deref(), Some("aaaaaaaa"));
        }
        // Anchors see the line's real start and end, not a window's.
        let (_, lines) = pass(&format!("{line}\n"), "^a+needle", 64);
        assert!(!lines[&1].matched);
        let (_, lines) = pass(&format!("{line}\n"), "b$", 64);
        assert!(lines[&1].matched);
        let (_, lines) = pass(&format!("{line}x\n"), "b$", 64);
        assert!(!lines[&1].matched);
    }

    #[test]
    fn a_nul_past_the_cap_marks_the_file_binary() {
        let matcher = matcher("x");
        let found = Rc::new(RefCell::new(LongLines::default()));
        let input = b"0123456789\x00abc\nnext\n";
        let mut reader = CappedLines::new(&input[..], &matcher, SMALL, found.clone(), 10);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"01234567");
        assert!(found.borrow().binary());
    }
}
