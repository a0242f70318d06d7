//! A bounded capture of a command's output: the first and the last bytes
//! are kept, the middle is counted and dropped.

use std::collections::VecDeque;

/// Output collected so far, at most `max` bytes kept.
pub(crate) struct HeadTail {
    head: Vec<u8>,
    head_max: usize,
    tail: VecDeque<u8>,
    tail_max: usize,
    total: usize,
}

impl HeadTail {
    /// Keeps up to `max` bytes: half from the start, half from the end.
    pub(crate) fn new(max: usize) -> Self {
        let head_max = max / 2;
        HeadTail {
            head: Vec::new(),
            head_max,
            tail: VecDeque::new(),
            tail_max: max - head_max,
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len();
        let room = self.head_max - self.head.len();
        if room > 0 {
            let take = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        if bytes.len() >= self.tail_max {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_max..]);
        } else {
            self.tail.extend(bytes);
            let excess = self.tail.len().saturating_sub(self.tail_max);
            self.tail.drain(..excess);
        }
    }

    /// The text: everything when it fit, else the head, a marker saying how
    /// many bytes were left out, and the tail. Never splits a UTF-8
    /// character; invalid UTF-8 is shown with replacement characters.
    pub(crate) fn render(&self) -> String {
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        if self.total == self.head.len() + tail.len() {
            let mut all = self.head.clone();
            all.extend_from_slice(&tail);
            return String::from_utf8_lossy(&all).into_owned();
        }
        let head = whole_chars_prefix(&self.head);
        let tail = whole_chars_suffix(&tail);
        let omitted = self.total - head.len() - tail.len();
        format!(
            "{}\n[... {omitted} bytes omitted ...]\n{}",
            String::from_utf8_lossy(head),
            String::from_utf8_lossy(tail)
        )
    }
}

/// `bytes` without an incomplete UTF-8 sequence at its end.
pub(super) fn whole_chars_prefix(bytes: &[u8]) -> &[u8] {
    let start = bytes.len().saturating_sub(4);
    for pos in (start..bytes.len()).rev() {
        let byte = bytes[pos];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let needed = match byte {
            0xF0..=0xF7 => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        return if pos + needed > bytes.len() {
            &bytes[..pos]
        } else {
            bytes
        };
    }
    bytes
}

/// `bytes` without the continuation bytes of a character cut at its start.
pub(super) fn whole_chars_suffix(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .take(3)
        .take_while(|&&byte| byte & 0xC0 == 0x80)
        .count();
    &bytes[skip..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let mut capture = HeadTail::new(10);
        capture.push(b"hello");
        capture.push(b"world");
        assert_eq!(capture.render(), "helloworld");
    }

    #[test]
    fn long_output_keeps_head_and_tail_with_a_marker() {
        let mut capture = HeadTail::new(10);
        for chunk in [&b"abc"[..], b"defgh", b"ijklmnop", b"qrstuvwxyz"] {
            capture.push(chunk);
        }
        assert_eq!(capture.render(), "abcde\n[... 16 bytes omitted ...]\nvwxyz");
    }

    #[test]
    fn never_splits_a_character() {
        let mut capture = HeadTail::new(8);
        // "é" is two bytes: the head ends and the tail starts mid-character.
        capture.push("aaaé".as_bytes());
        capture.push(&[b'x'; 20]);
        capture.push("éaaa".as_bytes());
        let text = capture.render();
        assert!(!text.contains('\u{FFFD}'), "{text}");
        assert!(text.starts_with("aaa\n[... "), "{text}");
        assert!(text.ends_with(" bytes omitted ...]\naaa"), "{text}");
        assert!(text.contains("[... 24 bytes omitted ...]"), "{text}");
    }
}
