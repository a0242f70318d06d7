//! What `grep` keeps of one file: its matching lines as `path:line:text`
//! and their context as `path-line-text`, groups apart separated by `--`,
//! within the result's caps. A long line (see [`super::long_lines`]) is
//! shown as a match exactly when its whole-line search matched, even where
//! the searcher, which saw only its start, thought otherwise.

use super::MAX_LINE_CHARS;
use super::long_lines::LongLines;
use crate::text::{char_prefix, whole_chars};
use grep_searcher::{Searcher, Sink, SinkContext, SinkFinish, SinkMatch};
use std::cell::RefCell;
use std::rc::Rc;

/// What one file may still add to the result.
pub(super) struct Budget {
    /// Matching lines.
    pub(super) matches: usize,
    /// Bytes of output.
    pub(super) bytes: usize,
}

/// Collects one file's lines, so a file that turns out to be binary can be
/// dropped whole.
pub(super) struct FileSink {
    shown: String,
    pub(super) lines: Vec<String>,
    pub(super) bytes: usize,
    pub(super) matches: usize,
    budget: Budget,
    pub(super) capped: bool,
    pub(super) binary: bool,
    with_context: bool,
    /// The number of the last line added, to separate groups.
    last_line: Option<u64>,
    long: Rc<RefCell<LongLines>>,
}

impl FileSink {
    /// A sink for the file shown as `shown`, learning of its long lines
    /// through `long`.
    pub(super) fn new(
        shown: String,
        budget: Budget,
        with_context: bool,
        long: Rc<RefCell<LongLines>>,
    ) -> Self {
        FileSink {
            shown,
            lines: Vec::new(),
            bytes: 0,
            matches: 0,
            budget,
            capped: false,
            binary: false,
            with_context,
            last_line: None,
            long,
        }
    }

    /// A line the searcher reports, as a match or as context.
    fn line(&mut self, number: u64, bytes: &[u8], searcher_matched: bool) -> bool {
        if !self.late_matches_before(number) {
            return false;
        }
        let long = self.long.borrow_mut().take(number);
        match long {
            None => {
                let text = String::from_utf8_lossy(without_terminator(bytes));
                let chars = text.chars().count();
                self.push(searcher_matched, number, &shortened(&text, chars))
            }
            // The searcher saw only the line's start, which can seem to
            // match where the line does not (`x$` at the cut).
            Some(long) if searcher_matched && !long.matched => true,
            Some(long) => {
                let seen = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                let start = String::from_utf8_lossy(whole_chars(seen));
                self.push(long.matched, number, &shortened(&start, long.chars))
            }
        }
    }

    /// Adds the long lines before line `number` that match where the
    /// searcher did not look; false once a cap is reached.
    fn late_matches_before(&mut self, number: u64) -> bool {
        let before = self.long.borrow_mut().take_before(number);
        for (line, long) in before {
            if let (true, Some(head)) = (long.matched, &long.head)
                && !self.push(true, line, &shortened(head, long.chars))
            {
                return false;
            }
        }
        true
    }

    /// Adds a line; false once a cap is reached.
    fn push(&mut self, is_match: bool, number: u64, text: &str) -> bool {
        if self.capped || self.binary {
            return false;
        }
        let separator = if is_match { ':' } else { '-' };
        let line = format!("{}{separator}{number}{separator}{text}", self.shown);
        let apart = self.with_context && self.last_line.is_some_and(|last| number > last + 1);
        let group_break = if apart { 3 } else { 0 };
        if self.bytes + group_break + line.len() > self.budget.bytes {
            self.capped = true;
            return false;
        }
        if apart {
            self.lines.push("--".to_owned());
        }
        self.bytes += group_break + line.len() + 1;
        self.lines.push(line);
        self.last_line = Some(number);
        if is_match {
            self.matches += 1;
            if self.matches >= self.budget.matches {
                self.capped = true;
                return false;
            }
        }
        true
    }
}

impl Sink for FileSink {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        Ok(self.line(mat.line_number().unwrap_or(0), mat.bytes(), true))
    }

    fn context(&mut self, _: &Searcher, context: &SinkContext<'_>) -> Result<bool, Self::Error> {
        Ok(self.line(context.line_number().unwrap_or(0), context.bytes(), false))
    }

    fn binary_data(&mut self, _: &Searcher, _offset: u64) -> Result<bool, Self::Error> {
        self.binary = true;
        self.lines.clear();
        self.matches = 0;
        self.bytes = 0;
        self.capped = false;
        Ok(false)
    }

    fn finish(&mut self, _: &Searcher, _: &SinkFinish) -> Result<(), Self::Error> {
        self.late_matches_before(u64::MAX);
        Ok(())
    }
}

/// A line without its terminator: `\n`, and one `\r` before it.
fn without_terminator(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// `start` (the start of a line `chars` characters long, or all of it) cut
/// at [`MAX_LINE_CHARS`], saying how much more the line has.
fn shortened(start: &str, chars: usize) -> String {
    let shown = char_prefix(start, MAX_LINE_CHARS);
    let more = chars.saturating_sub(shown.chars().count());
    if more == 0 {
        shown.to_owned()
    } else {
        format!("{shown}… [{more} more characters]")
    }
}
