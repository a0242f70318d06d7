//! Coordination of file changes between sessions that share one tree.
//!
//! The sessions of one engine (a primary agent and the sub-agents it
//! started) run at the same time and change the same files. Left alone, two
//! of them read a file, both change it, and the second write silently drops
//! the first one's change. A [`FileTracker`], shared by all sessions of an
//! engine, prevents that:
//!
//! - `read` records a fingerprint of the whole file as the session saw it
//!   ([`FileTracker::saw`]);
//! - `write` and `edit` refuse to change an existing file the session has
//!   not read, or that changed since the session last read or wrote it
//!   ([`FileTracker::check_fresh`]), so a model always changes the content
//!   it actually saw;
//! - `write` and `edit` hold a [`FileLease`] on the path while they check
//!   and write ([`FileTracker::lock`]), so changes to one path happen one at
//!   a time, in the order they were asked for.
//!
//! Everything is keyed by the file's real path ([`FileTracker::key_of`]):
//! `..` and symbolic links lead to the same key as the plain path.

mod fingerprint;
mod write_guard;

pub(crate) use fingerprint::{Fingerprint, HashingReader};
pub(crate) use write_guard::WriteGuard;

use crate::ToolError;
use crate::error::StaleReason;
use crate::path_policy::real_path;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What the sessions of one engine saw of their files, and who may write
/// which path right now.
///
/// The engine creates one and hands it to every session's
/// [`ToolContext`](crate::ToolContext) through
/// [`files`](crate::ToolContext::files). Cloning is cheap and gives another
/// handle to the same state.
#[derive(Clone, Default)]
pub struct FileTracker {
    leases: Arc<LeaseTable>,
    /// Session id → file key → what the session last saw of the file.
    seen: Arc<Mutex<HashMap<String, HashMap<PathBuf, Fingerprint>>>>,
}

impl std::fmt::Debug for FileTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTracker")
            .field("leased_paths", &self.leases.slots().len())
            .field("sessions", &lock(&self.seen).len())
            .finish()
    }
}

impl FileTracker {
    /// A tracker that has seen nothing and leases nothing.
    pub fn new() -> FileTracker {
        FileTracker::default()
    }

    /// The key a path is tracked under: absolute, with `.` and `..`
    /// applied and every symbolic link in its existing part followed (the
    /// canonical path when the file exists). Claims compared against the
    /// paths [`ToolContext::claimed_by`](crate::ToolContext::claimed_by)
    /// receives should be in this form too.
    ///
    /// `path` should be absolute (a relative one is taken relative to the
    /// process's current directory). This looks at the filesystem.
    pub fn key_of(path: &Path) -> PathBuf {
        real_path(path)
    }

    /// Waits for the exclusive lease on `path` and returns it; the lease
    /// lasts until the [`FileLease`] is dropped. Leases are granted in the
    /// order they were asked for. Dropping the returned future while it
    /// waits gives up the place in the queue.
    pub async fn lock(&self, path: &Path) -> FileLease {
        let key = FileTracker::key_of(path);
        let (slot, mutex) = self.leases.enter(key);
        let guard = mutex.lock_owned().await;
        FileLease {
            _guard: guard,
            slot,
        }
    }

    /// Records that `session` has seen `content` as the content of the
    /// file at `path` (after reading or writing it).
    pub fn saw(&self, session: &str, path: &Path, content: &[u8]) {
        self.saw_fingerprint(session, path, Fingerprint::of(content));
    }

    /// [`FileTracker::saw`] with the fingerprint already made.
    pub(crate) fn saw_fingerprint(&self, session: &str, path: &Path, fingerprint: Fingerprint) {
        let key = FileTracker::key_of(path);
        lock(&self.seen)
            .entry(session.to_owned())
            .or_default()
            .insert(key, fingerprint);
    }

    /// Whether `session` may change the file at `path`, whose content now
    /// is `current` (`None`: it does not exist).
    ///
    /// A file that does not exist may be created without a read. An
    /// existing file must have been seen by the session, with exactly the
    /// content it has now; otherwise the error ([`ToolError::StaleFile`])
    /// tells the model to read it (again) first.
    pub fn check_fresh(
        &self,
        session: &str,
        path: &Path,
        current: Option<&[u8]>,
    ) -> Result<(), ToolError> {
        match self.staleness(session, path, current) {
            None => Ok(()),
            Some(reason) => Err(ToolError::StaleFile {
                path: path.display().to_string(),
                reason,
            }),
        }
    }

    /// Why `session` may not change the file now, if it may not (see
    /// [`FileTracker::check_fresh`]).
    pub(crate) fn staleness(
        &self,
        session: &str,
        path: &Path,
        current: Option<&[u8]>,
    ) -> Option<StaleReason> {
        let current = current?;
        let key = FileTracker::key_of(path);
        let seen = lock(&self.seen);
        match seen.get(session).and_then(|files| files.get(&key)) {
            None => Some(StaleReason::NotRead),
            Some(fingerprint) if *fingerprint != Fingerprint::of(current) => {
                Some(StaleReason::Changed)
            }
            Some(_) => None,
        }
    }

    /// Forgets everything `session` saw (when the session ends or its
    /// history is cleared: it must read files again before changing them).
    pub fn forget_session(&self, session: &str) {
        lock(&self.seen).remove(session);
    }

    /// How many paths have a lease held or waited for.
    #[cfg(test)]
    pub(crate) fn leased_paths(&self) -> usize {
        self.leases.slots().len()
    }
}

/// The exclusive right to change one path, from [`FileTracker::lock`];
/// released when dropped.
pub struct FileLease {
    // Declared (and so dropped) before `slot`: the mutex is released while
    // the slot still counts this lease, so the slot is never removed and
    // replaced while its mutex is held.
    _guard: tokio::sync::OwnedMutexGuard<()>,
    slot: SlotUse,
}

impl FileLease {
    /// The key of the leased path (see [`FileTracker::key_of`]).
    pub fn path(&self) -> &Path {
        &self.slot.key
    }
}

impl std::fmt::Debug for FileLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLease")
            .field("path", &self.slot.key)
            .finish()
    }
}

/// One mutex per path that someone holds or waits for.
#[derive(Default)]
struct LeaseTable {
    slots: Mutex<HashMap<PathBuf, Slot>>,
}

struct Slot {
    mutex: Arc<tokio::sync::Mutex<()>>,
    /// Leases held plus lock calls waiting; the slot goes when it is 0.
    users: usize,
}

impl LeaseTable {
    fn slots(&self) -> MutexGuard<'_, HashMap<PathBuf, Slot>> {
        lock(&self.slots)
    }

    /// Counts one more user of `key`'s slot (creating it) and returns the
    /// slot's mutex.
    fn enter(self: &Arc<Self>, key: PathBuf) -> (SlotUse, Arc<tokio::sync::Mutex<()>>) {
        let mut slots = self.slots();
        let slot = slots.entry(key.clone()).or_insert_with(|| Slot {
            mutex: Arc::new(tokio::sync::Mutex::new(())),
            users: 0,
        });
        slot.users += 1;
        let mutex = slot.mutex.clone();
        drop(slots);
        let use_ = SlotUse {
            table: self.clone(),
            key,
        };
        (use_, mutex)
    }
}

/// One user of a slot (a waiting lock call or a held lease); removes the
/// slot when the last one goes.
struct SlotUse {
    table: Arc<LeaseTable>,
    key: PathBuf,
}

impl Drop for SlotUse {
    fn drop(&mut self) {
        let mut slots = self.table.slots();
        if let Some(slot) = slots.get_mut(&self.key) {
            slot.users = slot.users.saturating_sub(1);
            if slot.users == 0 {
                slots.remove(&self.key);
            }
        }
    }
}

/// Locks a std mutex, going on with the data if a panic poisoned it (every
/// change to the maps here is a single insert or remove, so they are never
/// left half-changed).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
