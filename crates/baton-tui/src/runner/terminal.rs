//! Puts the terminal in the state the UI needs and always puts it back:
//! on a normal exit, on an error, and on a panic (the UI's panic hook,
//! [`crate::panics::PanicHook`], calls [`restore`]).

use crate::TuiError;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
    supports_keyboard_enhancement,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the terminal is in the UI's state (so restoring twice is
/// harmless).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether keyboard enhancement was pushed (and must be popped).
static ENHANCED: AtomicBool = AtomicBool::new(false);

/// Holds the terminal in raw mode on the alternate screen until dropped.
pub struct Guard(());

impl Guard {
    /// Enters raw mode and the alternate screen, with mouse, bracketed
    /// paste and (where the terminal has it) key disambiguation, so that
    /// Shift+Enter can be told from Enter.
    pub fn enter() -> Result<Self, TuiError> {
        enable_raw_mode().map_err(TuiError::Terminal)?;
        ACTIVE.store(true, Ordering::SeqCst);
        let guard = Guard(());
        execute!(
            stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )
        .map_err(TuiError::Terminal)?;
        if supports_keyboard_enhancement().unwrap_or(false)
            && execute!(
                stdout(),
                PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
            )
            .is_ok()
        {
            ENHANCED.store(true, Ordering::SeqCst);
        }
        Ok(guard)
    }

    /// A ratatui terminal on stdout.
    pub fn terminal(&self) -> Result<Terminal<CrosstermBackend<Stdout>>, TuiError> {
        let mut terminal =
            Terminal::new(CrosstermBackend::new(stdout())).map_err(TuiError::Terminal)?;
        terminal.clear().map_err(TuiError::Terminal)?;
        Ok(terminal)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Takes the mouse (clicks and the wheel come to the UI) or gives it back
/// to the terminal (its own selection and copy work).
pub fn set_mouse(capture: bool) -> Result<(), TuiError> {
    if capture {
        execute!(stdout(), EnableMouseCapture)
    } else {
        execute!(stdout(), DisableMouseCapture)
    }
    .map_err(TuiError::Terminal)
}

/// Puts text on the system clipboard through the terminal (OSC 52: works
/// over SSH; tmux needs `set -g set-clipboard on`).
pub fn copy(text: &str) -> Result<(), TuiError> {
    execute!(
        stdout(),
        crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
    )
    .map_err(TuiError::Terminal)
}

/// Puts the terminal back as it was (once): leaves raw mode and the
/// alternate screen, stops mouse capture and bracketed paste, shows the
/// cursor. Safe to call from a panic hook, and more than once.
pub(crate) fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = stdout();
    if ENHANCED.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}
