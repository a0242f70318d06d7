//! A bounded in-memory record of a shell's output: the last `capacity`
//! bytes, addressed by absolute offsets (bytes since the shell started), so
//! a reader that fell behind can tell how much it missed.

use super::capture::{whole_chars_prefix, whole_chars_suffix};
use std::collections::VecDeque;

/// The last bytes of a shell's output.
pub(super) struct Ring {
    bytes: VecDeque<u8>,
    capacity: usize,
    /// The absolute offset of `bytes[0]`: how many bytes fell out so far.
    start: u64,
}

/// A piece of output read from the ring.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Chunk {
    /// The bytes, raw.
    pub(super) bytes: Vec<u8>,
    /// Bytes between the cursor and the start of `bytes` that are gone.
    pub(super) dropped: u64,
    /// Where the next read should start.
    pub(super) next: u64,
}

/// How much of the newest output a read may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Take {
    /// Everything (the output is complete).
    All,
    /// Everything but an incomplete UTF-8 character at the end.
    WholeChars,
    /// Only up to the last newline.
    WholeLines,
}

impl Ring {
    pub(super) fn new(capacity: usize) -> Self {
        Ring {
            bytes: VecDeque::new(),
            capacity,
            start: 0,
        }
    }

    /// The absolute offset just past the newest byte (all output so far).
    pub(super) fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    /// The absolute offset of the oldest byte still held.
    pub(super) fn start(&self) -> u64 {
        self.start
    }

    pub(super) fn push(&mut self, mut data: &[u8]) {
        if data.len() > self.capacity {
            let cut = data.len() - self.capacity;
            self.start += cut as u64;
            data = &data[cut..];
        }
        let overflow = (self.bytes.len() + data.len()).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.start += overflow as u64;
        self.bytes.extend(data);
    }

    /// The output from absolute offset `cursor` on. If the cursor fell out
    /// of the ring, the read starts at the oldest byte held (skipping the
    /// rest of a character cut there) and `dropped` says how much is gone.
    pub(super) fn read_from(&self, cursor: u64, take: Take) -> Chunk {
        let from = cursor.clamp(self.start, self.end());
        let offset = usize::try_from(from - self.start).unwrap_or(self.bytes.len());
        let held: Vec<u8> = self.bytes.range(offset..).copied().collect();
        let mut body: &[u8] = &held;
        if from > cursor {
            body = whole_chars_suffix(body);
        }
        let skipped = held.len() - body.len();
        let body = match take {
            Take::All => body,
            Take::WholeChars => whole_chars_prefix(body),
            Take::WholeLines => match body.iter().rposition(|&byte| byte == b'\n') {
                Some(last) => &body[..=last],
                None => &[],
            },
        };
        Chunk {
            dropped: from - cursor + skipped as u64,
            next: from + (skipped + body.len()) as u64,
            bytes: body.to_vec(),
        }
    }

    /// The last lines of the output: at most `max_lines` lines and
    /// `max_bytes` bytes, without a line cut at its start (unless that line
    /// alone is longer than `max_bytes`) or a trailing newline.
    pub(super) fn tail(&self, max_lines: usize, max_bytes: usize) -> String {
        let skip = self.bytes.len().saturating_sub(max_bytes);
        let last: Vec<u8> = self.bytes.range(skip..).copied().collect();
        let mut body: &[u8] = whole_chars_suffix(&last);
        let cut = skip > 0 || self.start > 0;
        if cut
            && let Some(newline) = body.iter().position(|&byte| byte == b'\n')
            && newline + 1 < body.len()
        {
            body = &body[newline + 1..];
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim_end_matches('\n');
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(max_lines)..].join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(chunk: &Chunk) -> &str {
        std::str::from_utf8(&chunk.bytes).unwrap()
    }

    #[test]
    fn keeps_the_last_bytes_and_counts_the_rest() {
        let mut ring = Ring::new(8);
        ring.push(b"0123");
        ring.push(b"456789");
        assert_eq!((ring.start(), ring.end()), (2, 10));
        let chunk = ring.read_from(0, Take::All);
        assert_eq!(text(&chunk), "23456789");
        assert_eq!((chunk.dropped, chunk.next), (2, 10));

        ring.push(b"abcdefghijklmnop");
        assert_eq!((ring.start(), ring.end()), (18, 26));
        let chunk = ring.read_from(10, Take::All);
        assert_eq!(text(&chunk), "ijklmnop");
        assert_eq!((chunk.dropped, chunk.next), (8, 26));
    }

    #[test]
    fn a_ring_of_no_capacity_only_counts() {
        let mut ring = Ring::new(0);
        ring.push(b"abc");
        assert_eq!((ring.start(), ring.end()), (3, 3));
        let chunk = ring.read_from(0, Take::All);
        assert_eq!((chunk.bytes.len(), chunk.dropped, chunk.next), (0, 3, 3));
        assert_eq!(ring.tail(20, 2048), "");
    }

    #[test]
    fn a_read_at_the_end_is_empty() {
        let mut ring = Ring::new(8);
        ring.push(b"abc");
        let chunk = ring.read_from(3, Take::All);
        assert_eq!(
            chunk,
            Chunk {
                bytes: Vec::new(),
                dropped: 0,
                next: 3
            }
        );
    }

    #[test]
    fn a_read_after_a_drop_skips_the_rest_of_a_cut_character() {
        let mut ring = Ring::new(5);
        // "é" is two bytes; the ring keeps its second byte only.
        ring.push("aé1234".as_bytes());
        let chunk = ring.read_from(0, Take::All);
        assert_eq!(text(&chunk), "1234");
        assert_eq!((chunk.dropped, chunk.next), (3, 7));
    }

    #[test]
    fn whole_chars_holds_back_an_incomplete_character() {
        let mut ring = Ring::new(64);
        let euro = "€".as_bytes();
        ring.push(b"ab");
        ring.push(&euro[..2]);
        let chunk = ring.read_from(0, Take::WholeChars);
        assert_eq!(text(&chunk), "ab");
        assert_eq!(chunk.next, 2);
        ring.push(&euro[2..]);
        let chunk = ring.read_from(chunk.next, Take::WholeChars);
        assert_eq!(text(&chunk), "€");
        assert_eq!(chunk.next, 5);
    }

    #[test]
    fn whole_lines_stops_after_the_last_newline() {
        let mut ring = Ring::new(64);
        ring.push(b"one\ntw");
        let chunk = ring.read_from(0, Take::WholeLines);
        assert_eq!(text(&chunk), "one\n");
        assert_eq!(chunk.next, 4);
        let chunk = ring.read_from(4, Take::WholeLines);
        assert_eq!((text(&chunk), chunk.next), ("", 4));
        let chunk = ring.read_from(4, Take::All);
        assert_eq!((text(&chunk), chunk.next), ("tw", 6));
    }

    #[test]
    fn tail_keeps_the_last_whole_lines_within_both_limits() {
        let mut ring = Ring::new(1024);
        for n in 1..=30 {
            ring.push(format!("line {n}\n").as_bytes());
        }
        let expected: Vec<String> = (21..=30).map(|n| format!("line {n}")).collect();
        assert_eq!(ring.tail(10, 4096), expected.join("\n"));
        // 20 bytes reach back into "line 28": that cut line is left out.
        assert_eq!(ring.tail(10, 20), "line 29\nline 30");
        assert_eq!(Ring::new(8).tail(20, 2048), "");
    }

    #[test]
    fn tail_of_a_ring_that_dropped_output_skips_the_cut_line() {
        let mut ring = Ring::new(10);
        ring.push(b"aaaa\nbbbb\ncccc\n");
        assert_eq!(ring.tail(20, 2048), "cccc");
        let mut ring = Ring::new(10);
        ring.push(b"one long line without end");
        assert_eq!(ring.tail(20, 2048), "ithout end");
    }
}
