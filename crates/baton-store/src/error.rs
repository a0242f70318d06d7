//! Storage errors.

use std::path::PathBuf;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The database file could not be made private to its owner.
    #[error("cannot make {path} private (mode 0600): {source}")]
    Private {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database was written by a newer baton.
    #[error(
        "database schema version {found} is newer than this baton understands ({supported}); upgrade baton"
    )]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// No session has that id (or id prefix).
    #[error("no session matches `{0}`")]
    NotFound(String),
    /// Several sessions start with the given prefix.
    #[error("`{prefix}` matches {count} sessions; give more of the id")]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// How many sessions it matches.
        count: usize,
    },
    /// A stored value could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The blocking thread running the call failed.
    #[error("the database worker failed: {0}")]
    Worker(String),
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
