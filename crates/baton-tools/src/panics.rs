//! Panics inside tool calls. A panic in a tool is a bug in baton, not a
//! reason to stop: [`ToolRegistry::dispatch`](crate::ToolRegistry::dispatch)
//! catches it and answers with an error result. This module keeps such a
//! panic off stderr (where it would garble a terminal UI and alarm a
//! headless run's reader): while a call runs, on every thread that runs a
//! part of it (its future being polled, the blocking work it hands off),
//! the thread is marked with the call's [`CrashSite`], and the panic hook
//! [`quiet_tool_panics`] installs records where the panic happened there
//! instead of printing it, for the one log line the call's end writes.
//! Every other panic goes to the hook that was installed before.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Once, PoisonError};

/// Where a tool call's panic happened, once it did.
#[derive(Clone, Default)]
pub(crate) struct CrashSite(Arc<Mutex<Option<String>>>);

thread_local! {
    /// The call this thread is running a part of.
    static CURRENT: RefCell<Option<CrashSite>> = const { RefCell::new(None) };
}

/// Keeps the current thread marked as running a call until dropped.
pub(crate) struct Entered {
    previous: Option<CrashSite>,
}

impl CrashSite {
    /// Marks the current thread as running this call until the guard is
    /// dropped (then the previous mark, if any, is back).
    pub(crate) fn enter(&self) -> Entered {
        let previous = CURRENT
            .try_with(|current| current.replace(Some(self.clone())))
            .ok()
            .flatten();
        Entered { previous }
    }

    /// The call the current thread is running a part of, to hand on to
    /// work it gives another thread.
    pub(crate) fn current() -> Option<CrashSite> {
        CURRENT
            .try_with(|current| current.try_borrow().ok().and_then(|site| site.clone()))
            .ok()
            .flatten()
    }

    /// Where the panic happened (and its backtrace, when `RUST_BACKTRACE`
    /// asks for one), if the hook saw it.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn record(&self, info: &std::panic::PanicHookInfo<'_>) {
        let mut site = match info.location() {
            Some(location) => location.to_string(),
            None => "an unknown place".to_owned(),
        };
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            site.push_str(&format!("\n{backtrace}"));
        }
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(site);
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// Installs (once per process) the panic hook that records panics raised
/// while a tool call runs instead of printing them, and hands every other
/// panic to the hook installed before.
pub(crate) fn quiet_tool_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match CrashSite::current() {
            Some(site) => site.record(info),
            None => previous(info),
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_nest_and_end_with_their_guards() {
        assert!(CrashSite::current().is_none());
        let outer = CrashSite::default();
        let inner = CrashSite::default();
        {
            let _outer = outer.enter();
            {
                let _inner = inner.enter();
                let current = CrashSite::current().unwrap();
                assert!(Arc::ptr_eq(&current.0, &inner.0));
            }
            let current = CrashSite::current().unwrap();
            assert!(Arc::ptr_eq(&current.0, &outer.0));
        }
        assert!(CrashSite::current().is_none());
    }

    #[test]
    fn a_marked_panic_is_recorded_with_its_location() {
        quiet_tool_panics();
        let site = CrashSite::default();
        let caught = std::panic::catch_unwind(|| {
            let _entered = site.enter();
            panic!("boom");
        });
        assert!(caught.is_err());
        let at = site.take().unwrap();
        assert!(at.contains("panics.rs"), "{at}");
        assert!(CrashSite::current().is_none());
    }
}
