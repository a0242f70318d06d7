//! A compact stand-in for a file's content: its length and a 64-bit hash.

use std::hash::{DefaultHasher, Hasher};
use std::io::Read;

/// Bytes fed to the hasher at a time. Content is always cut into blocks of
/// this size, so the hash does not depend on how the content arrived (all
/// at once, or in reads of any size).
const BLOCK: usize = 8 * 1024;

/// What a session saw of a file: enough to tell whether the file changed
/// since, without keeping its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    len: u64,
    hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `content`.
    pub(crate) fn of(content: &[u8]) -> Fingerprint {
        let mut hasher = ContentHasher::default();
        hasher.update(content);
        hasher.finish()
    }
}

/// Builds a [`Fingerprint`] from content that arrives piece by piece.
#[derive(Default)]
struct ContentHasher {
    hasher: DefaultHasher,
    /// The start of a block not yet hashed (shorter than [`BLOCK`]).
    pending: Vec<u8>,
    len: u64,
}

impl ContentHasher {
    fn update(&mut self, mut bytes: &[u8]) {
        self.len = self
            .len
            .saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        while !bytes.is_empty() {
            if self.pending.is_empty() && bytes.len() >= BLOCK {
                let (block, rest) = bytes.split_at(BLOCK);
                self.hasher.write(block);
                bytes = rest;
                continue;
            }
            let room = BLOCK - self.pending.len();
            let (part, rest) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(part);
            bytes = rest;
            if self.pending.len() == BLOCK {
                self.hasher.write(&self.pending);
                self.pending.clear();
            }
        }
    }

    fn finish(mut self) -> Fingerprint {
        if !self.pending.is_empty() {
            self.hasher.write(&self.pending);
        }
        Fingerprint {
            len: self.len,
            hash: self.hasher.finish(),
        }
    }
}

/// A reader that fingerprints everything read through it.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: ContentHasher,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: ContentHasher::default(),
        }
    }

    /// The fingerprint of what was read so far.
    pub(crate) fn finish(self) -> Fingerprint {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn the_fingerprint_does_not_depend_on_how_the_content_was_read() {
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17] {
            let data = content(len);
            for step in [1, 7, BLOCK - 3, BLOCK, 2 * BLOCK + 5] {
                let mut reader = HashingReader::new(Trickle { data: &data, step });
                std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
                assert_eq!(reader.finish(), Fingerprint::of(&data), "{len} by {step}");
            }
        }
    }

    #[test]
    fn different_content_gives_different_fingerprints() {
        assert_ne!(Fingerprint::of(b"abc"), Fingerprint::of(b"abd"));
        assert_ne!(Fingerprint::of(b""), Fingerprint::of(b"\0"));
        let long = content(BLOCK + 10);
        let mut changed = long.clone();
        changed[BLOCK + 5] ^= 1;
        assert_ne!(Fingerprint::of(&long), Fingerprint::of(&changed));
        assert_eq!(Fingerprint::of(&long), Fingerprint::of(&long.clone()));
    }
}
