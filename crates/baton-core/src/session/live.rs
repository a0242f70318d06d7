//! A running tool call's live output (`tool.output` events): the tools
//! hand bytes over synchronously ([`LiveOutput`]); the call's driver turns
//! them into at most one event per [`INTERVAL`], each at most about
//! [`DELTA_CAP`] bytes, and flushes what is left before the call's
//! `tool.completed`. Nothing here is stored.

use crate::services::Services;
use baton_protocol::{CallId, EventKind, SessionId};
use baton_tools::LiveOutput;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// At most one `tool.output` per call this often.
pub(crate) const INTERVAL: Duration = Duration::from_millis(100);

/// The most output one `tool.output` carries; when more arrived in an
/// interval, its end is kept.
pub(crate) const DELTA_CAP: usize = 8 * 1024;

/// Output waiting to be announced, bounded: the end is kept, what falls
/// off the front is counted.
#[derive(Debug)]
pub(crate) struct Pending {
    bytes: Vec<u8>,
    skipped: u64,
    cap: usize,
}

impl Pending {
    /// An empty buffer keeping at most `cap` bytes.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            bytes: Vec::new(),
            skipped: 0,
            cap,
        }
    }

    /// Adds output; beyond the cap the oldest bytes are dropped (counted).
    pub(crate) fn push(&mut self, more: &[u8]) {
        self.bytes.extend_from_slice(more);
        if self.bytes.len() > self.cap {
            let excess = self.bytes.len() - self.cap;
            self.bytes.drain(..excess);
            self.skipped += excess as u64;
        }
    }

    /// The next delta, if there is anything to say. Unless `last`, an
    /// incomplete character at the end waits for the rest. When bytes were
    /// dropped, the kept part starts at a line (when it has a line break
    /// before its end) and the delta starts with a line saying how many
    /// bytes were not shown.
    pub(crate) fn take(&mut self, last: bool) -> Option<String> {
        let end = if last {
            self.bytes.len()
        } else {
            complete_len(&self.bytes)
        };
        let mut chunk: Vec<u8> = self.bytes.drain(..end).collect();
        let mut skipped = std::mem::take(&mut self.skipped);
        if skipped > 0 {
            let cut = match chunk.iter().position(|b| *b == b'\n') {
                Some(newline) if newline + 1 < chunk.len() => newline + 1,
                // No line to cut at: at least no broken character.
                _ => chunk.iter().take_while(|b| **b & 0xC0 == 0x80).count(),
            };
            chunk.drain(..cut);
            skipped += cut as u64;
        }
        if chunk.is_empty() && skipped == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&chunk);
        Some(if skipped > 0 {
            format!("… ({skipped} bytes not shown live)\n{text}")
        } else {
            text.into_owned()
        })
    }
}

/// How much of `bytes` ends with a whole character: an incomplete UTF-8
/// sequence at the very end is left out.
fn complete_len(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=n.min(4) {
        let byte = bytes[n - back];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let needs = match byte {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if needs > back { n - back } else { n };
    }
    n
}

/// One call's live output: filled by the tool, drained by [`LiveSink::drive`].
pub(crate) struct LiveSink {
    pending: Mutex<Pending>,
    arrived: Notify,
}

impl LiveOutput for LiveSink {
    fn output(&self, bytes: &[u8]) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(bytes);
        self.arrived.notify_one();
    }
}

impl LiveSink {
    /// An empty sink.
    pub(crate) fn new() -> Self {
        Self {
            pending: Mutex::new(Pending::new(DELTA_CAP)),
            arrived: Notify::new(),
        }
    }

    fn take(&self, last: bool) -> Option<String> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(last)
    }

    /// Runs `call` and, while it runs, announces its output as
    /// `tool.output` of `call_id` (at once when the first arrives, then at
    /// most once per [`INTERVAL`]); what is left is announced when `call`
    /// is done, before this returns.
    pub(crate) async fn drive<F: Future>(
        &self,
        services: &Services,
        session: &SessionId,
        call_id: &CallId,
        call: F,
    ) -> F::Output {
        let announce = |delta: String| {
            services.emit(
                session,
                EventKind::ToolOutput {
                    call_id: call_id.clone(),
                    delta,
                },
            );
        };
        tokio::pin!(call);
        let mut next_at = Instant::now();
        let output = loop {
            let at = next_at;
            let ready = async move {
                self.arrived.notified().await;
                tokio::time::sleep_until(at).await;
            };
            tokio::select! {
                output = &mut call => break output,
                () = ready => {
                    if let Some(delta) = self.take(false) {
                        announce(delta);
                        next_at = Instant::now() + INTERVAL;
                    }
                }
            }
        };
        if let Some(delta) = self.take(true) {
            announce(delta);
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_output_comes_out_as_it_went_in() {
        let mut p = Pending::new(64);
        assert_eq!(p.take(false), None);
        p.push(b"line1\n");
        p.push(b"line2");
        assert_eq!(p.take(false).as_deref(), Some("line1\nline2"));
        assert_eq!(p.take(false), None);
        assert_eq!(p.take(true), None);
    }

    #[test]
    fn an_incomplete_character_waits_for_the_rest_until_the_last_take() {
        let mut p = Pending::new(64);
        let e_acute = "é".as_bytes();
        p.push(b"caf");
        p.push(&e_acute[..1]);
        assert_eq!(p.take(false).as_deref(), Some("caf"));
        p.push(&e_acute[1..]);
        assert_eq!(p.take(false).as_deref(), Some("é"));
        let euro = "€".as_bytes();
        p.push(&euro[..2]);
        assert_eq!(p.take(false), None);
        assert_eq!(p.take(true).as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn too_much_keeps_the_end_from_a_line_and_says_what_it_left_out() {
        let mut p = Pending::new(16);
        // 3 lines of 6 bytes, then a partial one: 22 bytes, 6 dropped.
        p.push(b"aaaaa\nbbbbb\nccccc\ndddd");
        let delta = p.take(false).unwrap();
        // Kept "bbbbb\nccccc\ndddd" (16 bytes), cut after the first line.
        assert_eq!(delta, "… (12 bytes not shown live)\nccccc\ndddd");
        assert_eq!(p.take(false), None, "the count is said once");
    }

    #[test]
    fn too_much_without_a_line_break_keeps_whole_characters() {
        let mut p = Pending::new(5);
        p.push("xxééé".as_bytes()); // 8 bytes: "xx" + 3 × 2
        let delta = p.take(false).unwrap();
        // Kept the last 5 bytes: half an é, then "éé".
        assert_eq!(delta, "… (4 bytes not shown live)\néé");
    }

    #[test]
    fn a_delta_never_exceeds_the_cap_and_its_line() {
        let mut p = Pending::new(DELTA_CAP);
        for i in 0..3000 {
            p.push(format!("{i}\n").as_bytes());
        }
        let delta = p.take(false).unwrap();
        let (head, rest) = delta.split_once('\n').unwrap();
        assert!(head.starts_with("… (") && head.ends_with(" bytes not shown live)"));
        assert!(rest.len() <= DELTA_CAP, "{}", rest.len());
        assert!(rest.ends_with("2998\n2999\n"));
        assert!(rest.starts_with(|c: char| c.is_ascii_digit()));
        let first: u32 = rest.lines().next().unwrap().parse().unwrap();
        let skipped: usize = head
            .trim_start_matches("… (")
            .trim_end_matches(" bytes not shown live)")
            .parse()
            .unwrap();
        let all: usize = (0..3000).map(|i: u32| format!("{i}\n").len()).sum();
        assert_eq!(skipped + rest.len(), all, "every byte is shown or counted");
        assert_eq!(
            (0..first).map(|i| format!("{i}\n").len()).sum::<usize>(),
            skipped,
            "cut exactly before line {first}"
        );
    }
}
