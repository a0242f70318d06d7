//! Text as the tools show it: lines read with a bound on how much of each
//! is kept, and cuts that never split a character.
//!
//! Everything here works on bytes where it must (files need not be UTF-8)
//! and never slices a `str` anywhere but at a character boundary.

use std::io::{self, BufRead};

/// Whether `byte` starts a character, i.e. is not a UTF-8 continuation
/// byte.
fn starts_char(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

/// The characters in `bytes`, counted as the bytes that start one: exact
/// for UTF-8; in invalid UTF-8, each byte that is not a continuation byte
/// counts as one.
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| starts_char(byte)).count()
}

/// The longest prefix of `text` with at most `max` characters.
pub(crate) fn char_prefix(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        // `char_indices` only yields character boundaries.
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// `bytes` without the start of a character cut off at its end.
pub(crate) fn whole_chars(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len() - incomplete_tail(bytes)]
}

/// How many bytes at the end of `bytes` are the start of a character
/// that is cut off (0 to 3).
fn incomplete_tail(bytes: &[u8]) -> usize {
    for (index, &byte) in bytes.iter().rev().take(4).enumerate() {
        if starts_char(byte) {
            let have = index + 1;
            let needed = match byte {
                0xF0..=0xF7 => 4,
                0xE0..=0xEF => 3,
                0xC0..=0xDF => 2,
                _ => 1,
            };
            return if needed > have { have } else { 0 };
        }
    }
    0
}

/// Reads one line from `reader` without ever holding more than `keep`
/// bytes of it: the first bytes go into `head` (cleared first), the rest is
/// read and counted, not kept. `head` never ends in a cut character and
/// holds the line without its terminator (`\n`, and one `\r` before it or
/// at the end of the input).
///
/// Returns how many characters of the line are not in `head` (counted as
/// [`char_count`] does), or `None` at the end of the input.
pub(crate) fn read_line_capped(
    reader: &mut impl BufRead,
    keep: usize,
    head: &mut Vec<u8>,
) -> io::Result<Option<usize>> {
    head.clear();
    let mut read_any = false;
    let mut skipped_bytes = false;
    let mut skipped_chars = 0;
    let mut last_skipped = None;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if chunk.is_empty() {
            break;
        }
        read_any = true;
        let newline = chunk.iter().position(|&byte| byte == b'\n');
        let line_part = &chunk[..newline.unwrap_or(chunk.len())];
        let take = line_part.len().min(keep.saturating_sub(head.len()));
        let (kept, rest) = line_part.split_at(take);
        head.extend_from_slice(kept);
        if let Some(&last) = rest.last() {
            skipped_bytes = true;
            skipped_chars += char_count(rest);
            last_skipped = Some(last);
        }
        let used = line_part.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            break;
        }
    }
    if !read_any {
        return Ok(None);
    }
    if skipped_bytes {
        if last_skipped == Some(b'\r') {
            skipped_chars -= 1;
        }
        let cut = incomplete_tail(head);
        if cut > 0 {
            head.truncate(head.len() - cut);
            skipped_chars += 1;
        }
    } else if head.last() == Some(&b'\r') {
        head.pop();
    }
    Ok(Some(skipped_chars))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input` as (head, skipped characters).
    fn lines(input: &[u8], keep: usize, buffer: usize) -> Vec<(String, usize)> {
        let mut reader = io::BufReader::with_capacity(buffer, input);
        let mut head = Vec::new();
        let mut out = Vec::new();
        while let Some(skipped) = read_line_capped(&mut reader, keep, &mut head).unwrap() {
            out.push((String::from_utf8(head.clone()).unwrap(), skipped));
        }
        out
    }

    #[test]
    fn short_lines_are_kept_whole_without_their_terminators() {
        let got = lines(b"one\r\ntwo\n\nthree\r", 100, 3);
        let want = [("one", 0), ("two", 0), ("", 0), ("three", 0)];
        assert_eq!(got, want.map(|(text, n)| (text.to_owned(), n)));
        assert!(lines(b"", 100, 8).is_empty());
    }

    #[test]
    fn long_lines_keep_whole_characters_and_count_the_rest() {
        // "é" is two bytes: six bytes kept would cut the fourth.
        let got = lines("éééééé\r\nab".as_bytes(), 7, 4);
        assert_eq!(got, [("ééé".to_owned(), 3), ("ab".to_owned(), 0)]);
        let emoji = lines("a🎉🎉".as_bytes(), 3, 64);
        assert_eq!(emoji, [("a".to_owned(), 2)]);
        let skipped = lines(b"abc\nde\n", 0, 2);
        assert_eq!(skipped, [(String::new(), 3), (String::new(), 2)]);
    }

    #[test]
    fn char_prefix_cuts_at_a_character_boundary() {
        assert_eq!(char_prefix("a🎉é", 2), "a🎉");
        assert_eq!(char_prefix("ab", 5), "ab");
        assert_eq!(char_prefix("", 0), "");
        assert_eq!(char_count("e\u{301}🎉".as_bytes()), 3);
    }
}
