//! What can go wrong when isolating a task in a git worktree.
//!
//! The messages reach the model through the `task` tool's result, so each one
//! says what to do next, not only what failed.

use std::path::PathBuf;

/// Why a worktree could not be created, finished or restored.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    /// The directory the task was started from is not inside a git working tree.
    #[error(
        "`isolation: \"worktree\"` needs a git repository, and {} is not inside one; \
         use isolation \"shared\" (the default) or run `git init`",
        dir.display()
    )]
    NotARepository {
        /// The directory that was looked at.
        dir: PathBuf,
    },

    /// The repository has no commit yet, so there is nothing to branch from.
    #[error(
        "`isolation: \"worktree\"` branches from the current commit, and the repository at {} \
         has no commit yet; commit something first (for example `git add -A && git commit -m \
         \"initial commit\"`) or use isolation \"shared\" (the default)",
        repo.display()
    )]
    NoCommit {
        /// The root of the repository without commits.
        repo: PathBuf,
    },

    /// A git command exited unsuccessfully.
    #[error("`git {args}` failed: {message}")]
    Git {
        /// The command's arguments, as one line.
        args: String,
        /// What git said (its trimmed standard error).
        message: String,
    },

    /// An operating-system error: git could not be started (for example it is
    /// not installed), or a directory could not be created or resolved. The
    /// error's text says which.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
