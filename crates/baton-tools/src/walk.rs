//! The one way tools walk a directory tree: `.gitignore`, `.ignore` and
//! global git excludes are honoured (inside a git repository or not),
//! entries come in a stable, sorted order, and `.git` is never entered.

use std::path::Path;

/// Whether hidden entries (names starting with `.`) are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hidden {
    /// Leave them out (the default for every tool).
    Skip,
    /// Walk them too (a glob pattern that names them explicitly).
    Include,
}

/// A walker over `base` configured the way every tool walks.
pub(crate) fn walker(base: &Path, hidden: Hidden) -> ignore::Walk {
    ignore::WalkBuilder::new(base)
        .hidden(hidden == Hidden::Skip)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .filter_entry(|entry| entry.depth() == 0 || entry.file_name() != ".git")
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}
