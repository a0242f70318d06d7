//! The real `baton` binary in a pseudo-terminal, with a vt100 screen that
//! tests read and wait on. Waiting is on the screen's content with a
//! deadline (woken by every chunk of output), never on sleeps.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for something to show.
pub const WAIT: Duration = Duration::from_secs(30);

struct Shared {
    parser: vt100::Parser,
    /// Bumped on every chunk of output.
    chunks: u64,
    closed: bool,
}

/// A running `baton` in a terminal of a given size.
pub struct Tui {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Tui {
    /// Starts the program of `cmd` in a `cols` x `rows` terminal.
    pub fn spawn(cmd: CommandBuilder, cols: u16, rows: u16) -> Tui {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty opens");
        let child = pair
            .slave
            .spawn_command(cmd)
            .expect("baton starts in the pty");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let shared = Arc::new((
            Mutex::new(Shared {
                parser: vt100::Parser::new(
                    NonZeroU16::new(rows).unwrap(),
                    NonZeroU16::new(cols).unwrap(),
                    0,
                ),
                chunks: 0,
                closed: false,
            }),
            Condvar::new(),
        ));
        let feed = shared.clone();
        let answer = writer.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                // A real terminal answers the device-attributes query
                // (crossterm asks it to learn about keyboard support).
                if chunk.windows(3).any(|w| w == b"\x1b[c") {
                    let mut w = answer.lock().unwrap();
                    let _ = w.write_all(b"\x1b[?62;22c");
                    let _ = w.flush();
                }
                let (lock, cvar) = &*feed;
                let mut s = lock.lock().unwrap();
                s.parser.process(chunk);
                // ... and reports where the cursor is.
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = s.parser.screen().cursor_position();
                    let mut w = answer.lock().unwrap();
                    let _ = write!(w, "\x1b[{};{}R", row + 1, col + 1);
                    let _ = w.flush();
                }
                s.chunks += 1;
                cvar.notify_all();
            }
            let (lock, cvar) = &*feed;
            lock.lock().unwrap().closed = true;
            cvar.notify_all();
        });
        Tui {
            shared,
            writer,
            child,
            _master: pair.master,
        }
    }

    /// The screen's text, row by row.
    pub fn screen(&self) -> String {
        self.shared.0.lock().unwrap().parser.screen().contents()
    }

    /// Waits until the screen satisfies `check`; returns that screen.
    /// Panics with the last screen after [`WAIT`].
    pub fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let (lock, cvar) = &*self.shared;
        let mut s = lock.lock().unwrap();
        loop {
            let screen = s.parser.screen().contents();
            if check(&screen) {
                return screen;
            }
            let now = Instant::now();
            if now >= deadline || s.closed {
                let why = if s.closed {
                    "the program ended"
                } else {
                    "timed out"
                };
                // Not holding the lock while panicking keeps the reader going.
                drop(s);
                panic!("waited for {what} ({why}); the screen was:\n{screen}");
            }
            s = cvar.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Waits until the screen shows `text`.
    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("`{text}`"), |s| s.contains(text))
    }

    /// The row of the screen that contains `text` (0-based), if any.
    pub fn row_of(&self, text: &str) -> Option<usize> {
        self.screen().lines().position(|l| l.contains(text))
    }

    /// Sends raw bytes as typed keys.
    pub fn send(&self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    /// Types text and presses Enter.
    pub fn submit(&self, text: &str) {
        self.send(text.as_bytes());
        self.send(b"\r");
    }

    /// A left click at a 0-based column and row (SGR mouse report, which
    /// the UI asks the terminal for).
    pub fn click(&self, col: usize, row: usize) {
        let press = format!("\x1b[<0;{};{}M", col + 1, row + 1);
        let release = format!("\x1b[<0;{};{}m", col + 1, row + 1);
        self.send(press.as_bytes());
        self.send(release.as_bytes());
    }

    /// The 0-based column where `text` starts on row `row`, if it is there
    /// (counted in characters: the screen's cells).
    pub fn col_of(&self, row: usize, text: &str) -> Option<usize> {
        let screen = self.screen();
        let line = screen.lines().nth(row)?;
        let at = line.find(text)?;
        Some(line[..at].chars().count())
    }

    /// Alt+digit: go to tab n.
    pub fn alt_digit(&self, n: u8) {
        self.send(&[0x1b, b'0' + n]);
    }

    /// Ctrl+letter.
    pub fn ctrl(&self, letter: u8) {
        self.send(&[letter.to_ascii_lowercase() - b'a' + 1]);
    }

    /// Waits for the program to end; returns whether it succeeded.
    pub fn wait_exit(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "baton did not exit; screen:\n{}",
                self.screen()
            );
            // Woken by output (the UI restores the terminal as it quits) or
            // the reader ending when the program closes the pty.
            let (lock, cvar) = &*self.shared;
            let s = lock.lock().unwrap();
            if !s.closed {
                let _ = cvar.wait_timeout(s, Duration::from_millis(50)).unwrap();
            }
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
