//! Short notifications: they never take focus or input, and never cover
//! anything. The screen shows the newest [`VISIBLE`] of them in a strip of
//! their own and counts the others.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a toast stays.
pub const TOAST_TTL: Duration = Duration::from_secs(6);
/// At most this many are kept (the oldest go first).
const MAX_TOASTS: usize = 16;
/// At most this many are shown at a time: the newest.
pub const VISIBLE: usize = 2;

/// How a toast looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something finished well.
    Info,
    /// Someone is asked for something (a permission).
    Attention,
    /// Something failed.
    Error,
}

/// One toast.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// What it says.
    pub text: String,
    /// How it looks.
    pub level: Level,
    /// When it appeared.
    pub at: Instant,
}

/// The toasts on screen, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Toasts {
    items: VecDeque<Toast>,
}

impl Toasts {
    /// Shows a toast.
    pub fn push(&mut self, level: Level, text: impl Into<String>, now: Instant) {
        self.items.push_back(Toast {
            text: text.into(),
            level,
            at: now,
        });
        while self.items.len() > MAX_TOASTS {
            self.items.pop_front();
        }
    }

    /// Drops toasts older than [`TOAST_TTL`]; returns whether any went.
    pub fn expire(&mut self, now: Instant) -> bool {
        let before = self.items.len();
        self.items
            .retain(|t| now.saturating_duration_since(t.at) < TOAST_TTL);
        before != self.items.len()
    }

    /// The toasts, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Toast> {
        self.items.iter()
    }

    /// The toasts shown: the newest [`VISIBLE`], oldest first.
    pub fn visible(&self) -> impl Iterator<Item = &Toast> {
        self.items.iter().skip(self.hidden())
    }

    /// How many older toasts are kept but not shown.
    pub fn hidden(&self) -> usize {
        self.items.len().saturating_sub(VISIBLE)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toasts_expire_and_are_capped() {
        let t0 = Instant::now();
        let mut toasts = Toasts::default();
        for i in 0..MAX_TOASTS + 2 {
            toasts.push(Level::Info, format!("t{i}"), t0);
        }
        assert_eq!(toasts.iter().count(), MAX_TOASTS);
        assert_eq!(toasts.iter().next().unwrap().text, "t2");
        assert!(!toasts.expire(t0 + Duration::from_secs(1)));
        assert!(toasts.expire(t0 + TOAST_TTL));
        assert!(toasts.is_empty());
    }

    #[test]
    fn only_the_newest_two_show_and_the_rest_are_counted() {
        let t0 = Instant::now();
        let mut toasts = Toasts::default();
        toasts.push(Level::Info, "one", t0);
        assert_eq!(toasts.hidden(), 0);
        assert_eq!(toasts.visible().count(), 1);
        for (i, text) in ["two", "three", "four", "five"].into_iter().enumerate() {
            toasts.push(Level::Info, text, t0 + Duration::from_secs(i as u64 + 1));
        }
        let shown: Vec<&str> = toasts.visible().map(|t| t.text.as_str()).collect();
        assert_eq!(shown, ["four", "five"]);
        assert_eq!(toasts.hidden(), 3);
        // The oldest expire first; what is counted goes with them.
        assert!(toasts.expire(t0 + TOAST_TTL + Duration::from_millis(1500)));
        assert_eq!(toasts.hidden(), 1);
        assert_eq!(toasts.visible().count(), VISIBLE);
    }
}
