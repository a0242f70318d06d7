//! Git worktrees for tasks run with `isolation: "worktree"`.
//!
//! Such a task's child agent works in a new worktree of the parent's
//! repository, on its own branch ([`branch_for`]), so nothing it writes
//! touches the parent's working tree or index. The lifecycle:
//!
//! 1. [`create`] adds the worktree at a destination the engine picks and tells
//!    where in it the child starts (the same subdirectory the parent is in).
//! 2. When the child ends, [`finish`] commits whatever it left uncommitted to
//!    its branch. A branch with changes is kept for the user to merge (and
//!    for a resumed task to go on with); one without is removed together with
//!    its worktree.
//! 3. Before a task is resumed, [`ensure`] brings back a worktree that
//!    [`finish`] removed.
//!
//! Everything runs the `git` program, so the user's git configuration,
//! hooks and attributes apply as they would on the command line.

mod error;
mod git;

pub use error::WorktreeError;

use git::{GitEnv, io_context};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tracing::{info, warn};

/// The identity used for [`finish`]'s commit when the repository's
/// configuration has none (name, then email).
const FALLBACK_IDENTITY: [(&str, &str); 2] =
    [("user.name", "baton"), ("user.email", "baton@localhost")];

/// A task's git worktree: where it is, and the branch it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    /// The top of the parent's working tree (canonical path).
    pub repo_root: PathBuf,
    /// The worktree's directory (canonical path).
    pub path: PathBuf,
    /// The branch checked out in the worktree, e.g. `baton/task-<id>`.
    pub branch: String,
    /// The commit the branch started from (full SHA): the parent's `HEAD`
    /// when the worktree was created.
    pub base: String,
}

/// What [`finish`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the branch differs from its base: the child changed files,
    /// committed by itself, or both.
    pub changed: bool,
    /// The commit [`finish`] made of the child's uncommitted changes, if it
    /// left any.
    pub commit: Option<String>,
    /// `git diff --stat <base> <branch>`, trimmed; empty when nothing changed.
    pub diff_stat: String,
    /// Whether the worktree and its branch were removed (because nothing
    /// changed). When `false` both are kept.
    pub removed: bool,
}

/// The branch a task's worktree is on: `baton/task-<task_id>`.
pub fn branch_for(task_id: &str) -> String {
    format!("baton/task-{task_id}")
}

/// Creates a worktree at `dest` on a new branch `branch`, starting from the
/// current commit of the repository that contains `cwd`.
///
/// Returns the worktree and the directory the child should work in: `dest`
/// joined with `cwd`'s place in the repository, so a session started in
/// `repo/sub/dir` gets `dest/sub/dir` (created if the checkout lacks it, for
/// example because it is untracked in the parent). A relative `dest` is taken
/// relative to `cwd`; its missing parent directories are created.
///
/// Fails with [`WorktreeError::NotARepository`] when `cwd` is not inside a
/// git working tree, and [`WorktreeError::NoCommit`] when the repository has
/// no commit yet. The parent's working tree, index and `HEAD` are not
/// touched.
pub async fn create(
    cwd: &Path,
    dest: &Path,
    branch: &str,
) -> Result<(Worktree, PathBuf), WorktreeError> {
    create_with(&GitEnv::default(), cwd, dest, branch).await
}

/// Commits what the child left uncommitted in `wt` to its branch (with
/// `message`), then keeps the worktree when the branch differs from its base
/// or removes worktree and branch when it does not.
///
/// Untracked files are committed too, except those `.gitignore` excludes.
/// The commit uses the repository's configured identity; where `user.name`
/// or `user.email` is not configured, `baton` / `baton@localhost` stands in,
/// so the commit never fails for lack of one. Commit hooks are skipped and
/// the commit is not signed: it only preserves the child's work on its own
/// branch, and must not fail or wait for a passphrase without a terminal.
///
/// Calling it again, or after the worktree directory was deleted, is safe:
/// it reports the branch as it stands.
pub async fn finish(wt: &Worktree, message: &str) -> Result<Outcome, WorktreeError> {
    finish_with(&GitEnv::default(), wt, message).await
}

/// Makes sure `wt`'s worktree exists, for resuming its task: when its
/// directory is gone (for instance because [`finish`] removed it), checks
/// the branch out there again, or recreates the branch from `wt.base` if it
/// was deleted too. Does nothing when the worktree is present.
pub async fn ensure(wt: &Worktree) -> Result<(), WorktreeError> {
    ensure_with(&GitEnv::default(), wt).await
}

async fn create_with(
    git: &GitEnv,
    cwd: &Path,
    dest: &Path,
    branch: &str,
) -> Result<(Worktree, PathBuf), WorktreeError> {
    let cwd = canonicalize(cwd).await?;
    let repo_root = repo_root(git, &cwd).await?;
    let base = head_commit(git, &repo_root).await?;
    let dest = cwd.join(dest);
    create_parent_dirs(&dest).await?;
    git.ok(
        &repo_root,
        &[
            &"worktree",
            &"add",
            &"--quiet",
            &"-b",
            &branch,
            &dest,
            &base,
        ],
    )
    .await?;
    let path = canonicalize(&dest).await?;

    let relative = match cwd.strip_prefix(&repo_root) {
        Ok(relative) => relative,
        Err(_) => {
            warn!(
                cwd = %cwd.display(),
                repo_root = %repo_root.display(),
                "working directory is not below the repository root; the task starts at the worktree's top"
            );
            Path::new("")
        }
    };
    let child_cwd = path.join(relative);
    tokio::fs::create_dir_all(&child_cwd)
        .await
        .map_err(|err| io_context(err, format!("could not create {}", child_cwd.display())))?;

    info!(
        path = %path.display(),
        branch,
        base = %base,
        "created task worktree"
    );
    let worktree = Worktree {
        repo_root,
        path,
        branch: branch.to_owned(),
        base,
    };
    Ok((worktree, child_cwd))
}

async fn finish_with(git: &GitEnv, wt: &Worktree, message: &str) -> Result<Outcome, WorktreeError> {
    let present = is_present(&wt.path).await?;
    let (commit, head) = if present {
        let commit = commit_pending(git, wt, message).await?;
        let head = resolve_commit(git, &wt.path, "HEAD").await?;
        (commit, head)
    } else {
        (None, None)
    };
    let tip = branch_tip(git, wt).await?;

    // The worktree's HEAD normally is the branch tip. Should the child have
    // moved it elsewhere (a detached HEAD), its commits live only there, so
    // they count as changes too and the worktree is kept.
    let moved = |commit: &Option<String>| commit.as_ref().is_some_and(|sha| *sha != wt.base);
    if !moved(&tip) && !moved(&head) {
        discard(git, wt, present, tip.is_some()).await?;
        info!(path = %wt.path.display(), branch = %wt.branch, "removed unchanged task worktree");
        return Ok(Outcome {
            changed: false,
            commit: None,
            diff_stat: String::new(),
            removed: true,
        });
    }

    let result = tip.or(head).unwrap_or_else(|| wt.base.clone());
    let diff_stat = git
        .ok(
            &wt.repo_root,
            &[
                &"diff",
                &"--no-color",
                &"--no-ext-diff",
                &"--stat",
                &wt.base,
                &result,
                &"--",
            ],
        )
        .await?
        .text();
    info!(
        path = %wt.path.display(),
        branch = %wt.branch,
        committed = commit.is_some(),
        "kept changed task worktree"
    );
    Ok(Outcome {
        changed: true,
        commit,
        diff_stat,
        removed: false,
    })
}

async fn ensure_with(git: &GitEnv, wt: &Worktree) -> Result<(), WorktreeError> {
    if is_present(&wt.path).await? {
        return Ok(());
    }
    // A worktree whose directory was deleted is still registered, and git
    // refuses to add another at its path until the registration is pruned.
    git.ok(&wt.repo_root, &[&"worktree", &"prune"]).await?;
    create_parent_dirs(&wt.path).await?;
    if branch_tip(git, wt).await?.is_some() {
        git.ok(
            &wt.repo_root,
            &[&"worktree", &"add", &"--quiet", &wt.path, &wt.branch],
        )
        .await?;
    } else {
        git.ok(
            &wt.repo_root,
            &[
                &"worktree",
                &"add",
                &"--quiet",
                &"-b",
                &wt.branch,
                &wt.path,
                &wt.base,
            ],
        )
        .await?;
    }
    info!(path = %wt.path.display(), branch = %wt.branch, "restored task worktree");
    Ok(())
}

/// The top of the working tree that contains `cwd` (canonical).
async fn repo_root(git: &GitEnv, cwd: &Path) -> Result<PathBuf, WorktreeError> {
    let output = git.run(cwd, &[&"rev-parse", &"--show-toplevel"]).await?;
    let not_a_repository = || WorktreeError::NotARepository {
        dir: cwd.to_path_buf(),
    };
    if !output.status.success() {
        // Outside any repository, or in a bare one / inside `.git`.
        let stderr = output.error_text();
        if stderr.contains("not a git repository") || stderr.contains("must be run in a work tree")
        {
            return Err(not_a_repository());
        }
        return Err(output.into_error());
    }
    let root = output.path();
    if root.as_os_str().is_empty() {
        return Err(not_a_repository());
    }
    canonicalize(&root).await
}

/// The full SHA of the repository's `HEAD`.
async fn head_commit(git: &GitEnv, repo_root: &Path) -> Result<String, WorktreeError> {
    resolve_commit(git, repo_root, "HEAD")
        .await?
        .ok_or_else(|| WorktreeError::NoCommit {
            repo: repo_root.to_path_buf(),
        })
}

/// The current commit of `wt`'s branch, or `None` when the branch does not
/// exist.
async fn branch_tip(git: &GitEnv, wt: &Worktree) -> Result<Option<String>, WorktreeError> {
    resolve_commit(git, &wt.repo_root, &format!("refs/heads/{}", wt.branch)).await
}

/// The full SHA of the commit `rev` names in `dir`'s repository, or `None`
/// when it names none (a missing branch, an unborn `HEAD`).
async fn resolve_commit(
    git: &GitEnv,
    dir: &Path,
    rev: &str,
) -> Result<Option<String>, WorktreeError> {
    let spec = format!("{rev}^{{commit}}");
    let output = git
        .run(dir, &[&"rev-parse", &"--verify", &"--quiet", &spec])
        .await?;
    match output.status.code() {
        Some(0) => Ok(Some(output.text())),
        Some(1) => Ok(None),
        _ => Err(output.into_error()),
    }
}

/// Commits everything uncommitted in the worktree (untracked files too,
/// ignored ones not) and returns the new commit, or `None` when there was
/// nothing to commit.
async fn commit_pending(
    git: &GitEnv,
    wt: &Worktree,
    message: &str,
) -> Result<Option<String>, WorktreeError> {
    let dir = &wt.path;
    let status = git.ok(dir, &[&"status", &"--porcelain"]).await?;
    if status.stdout.is_empty() {
        return Ok(None);
    }
    git.ok(dir, &[&"add", &"-A"]).await?;
    // `status` also lists changes `add` cannot stage (a submodule's
    // untracked files); committing would fail with nothing staged.
    let staged = git.run(dir, &[&"diff", &"--cached", &"--quiet"]).await?;
    match staged.status.code() {
        Some(1) => {}
        Some(0) => return Ok(None),
        _ => return Err(staged.into_error()),
    }

    let message = if message.trim().is_empty() {
        format!("baton: work of {}", wt.branch)
    } else {
        message.to_owned()
    };
    let mut args = identity_fallback(git, dir).await?;
    for arg in [
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--no-verify",
        "--quiet",
        "-m",
        &message,
    ] {
        args.push(arg.into());
    }
    let args: Vec<git::Arg<'_>> = args.iter().map(|arg| arg as git::Arg<'_>).collect();
    git.ok(dir, &args).await?;
    head_commit(git, dir).await.map(Some)
}

/// `-c key=value` arguments supplying [`FALLBACK_IDENTITY`] for each part of
/// the committer identity the repository's configuration lacks.
async fn identity_fallback(git: &GitEnv, dir: &Path) -> Result<Vec<OsString>, WorktreeError> {
    let mut args = Vec::new();
    for (key, fallback) in FALLBACK_IDENTITY {
        let output = git.run(dir, &[&"config", &"--get", &key]).await?;
        let configured = match output.status.code() {
            Some(0) => !output.text().is_empty(),
            Some(1) => false,
            _ => return Err(output.into_error()),
        };
        if !configured {
            args.push("-c".into());
            args.push(format!("{key}={fallback}").into());
        }
    }
    Ok(args)
}

/// Removes an unchanged worktree (when its directory is `present`), any stale
/// registration of it, and its branch (when it `branch_exists`).
async fn discard(
    git: &GitEnv,
    wt: &Worktree,
    present: bool,
    branch_exists: bool,
) -> Result<(), WorktreeError> {
    let root = &wt.repo_root;
    if present {
        git.ok(root, &[&"worktree", &"remove", &"--force", &wt.path])
            .await?;
    }
    git.ok(root, &[&"worktree", &"prune"]).await?;
    if branch_exists {
        git.ok(root, &[&"branch", &"-D", &wt.branch]).await?;
    }
    Ok(())
}

/// Whether a checkout is at `path` (its `.git` file or directory exists).
async fn is_present(path: &Path) -> Result<bool, WorktreeError> {
    tokio::fs::try_exists(path.join(".git"))
        .await
        .map_err(|err| io_context(err, format!("could not look at {}", path.display())))
}

async fn canonicalize(path: &Path) -> Result<PathBuf, WorktreeError> {
    tokio::fs::canonicalize(path)
        .await
        .map_err(|err| io_context(err, format!("could not resolve {}", path.display())))
}

async fn create_parent_dirs(path: &Path) -> Result<(), WorktreeError> {
    match path.parent() {
        Some(parent) => tokio::fs::create_dir_all(parent)
            .await
            .map_err(|err| io_context(err, format!("could not create {}", parent.display()))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
