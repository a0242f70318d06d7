//! Panics while the terminal UI owns the screen.
//!
//! The default panic hook prints over whatever is drawn, and a panic on a
//! background thread of a tokio runtime does not end the process: the UI
//! would go on with its screen painted over. While [`PanicHook`] is
//! installed, nothing a panic says reaches the screen: every panic is
//! logged (with its backtrace) through `tracing`. A panic in the UI's own
//! task (the future run under [`PanicHook::run_ui`]) first restores the
//! terminal and then ends that future with the panic's one-line summary,
//! so the program can leave cleanly and say what happened. A panic
//! anywhere else (an engine task, a request the UI made) is isolated
//! where it happened; its summary arrives on the receiver
//! [`PanicHook::install`] returns, for the UI to show.

use futures::FutureExt;
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

thread_local! {
    /// Set while this thread polls the UI's future.
    static IN_UI: Cell<bool> = const { Cell::new(false) };
}

/// The hook a panic hook replaces, put back when the UI ends.
type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static>;

/// Keeps panics off the screen while it lives (see the module docs);
/// dropping it puts the previous hook back.
pub struct PanicHook {
    previous: Option<Hook>,
    /// The summary of the UI's panic, left by the hook for
    /// [`PanicHook::run_ui`].
    ui_panic: Arc<Mutex<Option<String>>>,
}

impl PanicHook {
    /// Installs the hook. `restore` puts the terminal back as it was; it
    /// runs before anything of a panic in the UI is written anywhere. The
    /// receiver gets the summary of each panic outside the UI.
    pub fn install(
        restore: impl Fn() + Send + Sync + 'static,
    ) -> (PanicHook, mpsc::UnboundedReceiver<String>) {
        let (report, reports) = mpsc::unbounded_channel();
        let ui_panic = Arc::new(Mutex::new(None));
        let slot = ui_panic.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let what = summary(info);
            if IN_UI.with(Cell::get) {
                restore();
                tracing::error!(
                    "the terminal UI panicked: {what}\n{}",
                    Backtrace::force_capture()
                );
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
            } else {
                let thread = std::thread::current();
                tracing::error!(
                    "a background task panicked (thread {}): {what}\n{}",
                    thread.name().unwrap_or("unnamed"),
                    Backtrace::force_capture()
                );
                // The UI may have stopped listening; the log has it.
                let _ = report.send(what);
            }
        }));
        (
            PanicHook {
                previous: Some(previous),
                ui_panic,
            },
            reports,
        )
    }

    /// Runs the UI's future. A panic in it (the terminal already restored
    /// by the hook) ends it with `Err` and the panic's summary: its
    /// message and where it happened.
    pub async fn run_ui<F: Future>(&self, ui: F) -> Result<F::Output, String> {
        match AssertUnwindSafe(InUi(Box::pin(ui))).catch_unwind().await {
            Ok(output) => Ok(output),
            Err(payload) => {
                let left = self
                    .ui_panic
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                Err(left.unwrap_or_else(|| message(payload.as_ref()).to_owned()))
            }
        }
    }
}

impl Drop for PanicHook {
    fn drop(&mut self) {
        // The hook cannot be changed while this thread panics; ours then
        // stays, which only keeps the screen clean.
        if std::thread::panicking() {
            return;
        }
        if let Some(previous) = self.previous.take() {
            drop(std::panic::take_hook());
            std::panic::set_hook(previous);
        }
    }
}

/// A future polled with [`IN_UI`] set.
struct InUi<F: Future>(Pin<Box<F>>);

impl<F: Future> Future for InUi<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _in_ui = InUiFlag::set();
        self.0.as_mut().poll(cx)
    }
}

/// Sets [`IN_UI`] and clears it when dropped (also while unwinding: the
/// hook has run by then).
struct InUiFlag(bool);

impl InUiFlag {
    fn set() -> Self {
        InUiFlag(IN_UI.with(|f| f.replace(true)))
    }
}

impl Drop for InUiFlag {
    fn drop(&mut self) {
        IN_UI.with(|f| f.set(self.0));
    }
}

/// `message (src/file.rs:10:5)`, on one line.
fn summary(info: &PanicHookInfo<'_>) -> String {
    let text = message(info.payload());
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match info.location() {
        Some(at) => format!("{one_line} ({}:{}:{})", at.file(), at.line(), at.column()),
        None => one_line,
    }
}

/// The text a panic was raised with.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic without a message"
    }
}
