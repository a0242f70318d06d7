//! Keypress-to-screen latency of the terminal UI, end to end: the release
//! `baton` binary runs in a pseudo-terminal, a character is typed, and the
//! time until the terminal's screen (a vt100 parser fed by the pty) shows
//! it is measured. 300 keys, each typed once the previous one shows.
//!
//! Run with `cargo bench -p baton --bench tui_latency`. Figures only.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/pty/mod.rs"]
mod pty;

use portable_pty::CommandBuilder;
use std::time::{Duration, Instant};

const KEYS: usize = 300;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    // No model is called: typing never reaches one.
    std::fs::write(
        &config,
        "model = \"mock/m\"\n[providers.mock]\nwire = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n",
    )
    .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_baton"));
    cmd.cwd(project.path());
    cmd.env("BATON_HOME", home.path());
    cmd.env("HOME", home.path());
    cmd.env("BATON_CONFIG", &config);
    cmd.env("TERM", "xterm-256color");
    let tui = pty::Tui::spawn(cmd, 100, 30);
    tui.wait_text("Type a message");
    let mut times = Vec::with_capacity(KEYS);
    let mut typed = String::new();
    for i in 0..KEYS {
        if i % 50 == 0 && i > 0 {
            // Ctrl+C clears the editor; wait until it is empty again.
            tui.ctrl(b'c');
            typed.clear();
            tui.wait_text("Message  (Enter send");
        }
        let c = (b'a' + (i % 26) as u8) as char;
        typed.push(c);
        let start = Instant::now();
        tui.send(c.to_string().as_bytes());
        let want = typed.clone();
        tui.wait_for("the typed text", |s| {
            s.lines().any(|l| l.trim_end() == want)
        });
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().sum::<Duration>() / KEYS as u32;
    println!(
        "keypress to screen through a pty ({KEYS} keys): mean {:.2} ms  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(mean),
        ms(times[KEYS / 2]),
        ms(times[KEYS * 99 / 100]),
        ms(times[KEYS - 1])
    );
}
