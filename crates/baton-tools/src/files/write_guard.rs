//! What `write` and `edit` hold while they change a file in a context that
//! tracks files.

use super::{FileLease, FileTracker};
use crate::{ToolContext, ToolError};
use std::path::Path;

/// The lease on one path plus what is needed to check the session's view
/// of the file and to record the new content. Held (moved into the
/// blocking work) until the write is done.
pub(crate) struct WriteGuard {
    files: FileTracker,
    session: String,
    /// The path as shown to the model, for error messages.
    shown: String,
    _lease: FileLease,
}

impl WriteGuard {
    /// Refuses at once when another task claimed `path`; then, if the
    /// context tracks files, waits for the lease on `path`. `None`: the
    /// context does not track files, so nothing is checked or recorded.
    pub(crate) async fn acquire(
        ctx: &dyn ToolContext,
        path: &Path,
        shown: &str,
    ) -> Result<Option<WriteGuard>, ToolError> {
        if let Some(holder) = ctx.claimed_by(&FileTracker::key_of(path)) {
            return Err(ToolError::Claimed {
                path: shown.to_owned(),
                holder,
            });
        }
        let Some(files) = ctx.files() else {
            return Ok(None);
        };
        let lease = files.lock(path).await;
        Ok(Some(WriteGuard {
            files: files.clone(),
            session: ctx.session_id().to_owned(),
            shown: shown.to_owned(),
            _lease: lease,
        }))
    }

    /// Fails unless the session may change the file, whose content now is
    /// `current` (`None`: it does not exist).
    pub(crate) fn check(&self, path: &Path, current: Option<&[u8]>) -> Result<(), ToolError> {
        match self.files.staleness(&self.session, path, current) {
            None => Ok(()),
            Some(reason) => Err(ToolError::StaleFile {
                path: self.shown.clone(),
                reason,
            }),
        }
    }

    /// Records that the session wrote `content`, so it can change the file
    /// again without reading it.
    pub(crate) fn wrote(&self, path: &Path, content: &[u8]) {
        self.files.saw(&self.session, path, content);
    }
}
