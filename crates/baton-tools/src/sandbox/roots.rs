//! Where a sandboxed command may write: its working tree (with the git
//! metadata that lives outside it), the configured roots, the temp
//! directories and a few devices.

use super::SandboxSettings;
use baton_protocol::SandboxMode;
use std::path::{Path, PathBuf};

/// Scratch space every sandboxed command may write (those that exist).
const TEMP_DIRS: &[&str] = &["/tmp", "/dev/shm"];

/// Device files commands write to without changing anything (those that
/// exist): the null and random devices, the terminal, pseudo-terminals.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
];

/// The places one sandboxed command may write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WritePlan {
    /// Directories it may change anything under: the working directory and
    /// the configured roots (`workspace-write` only), then the temp
    /// directories.
    pub(crate) dirs: Vec<PathBuf>,
    /// The git metadata of the repository the working directory is in
    /// that lies outside it (`workspace-write` only; see [`git_metadata`]).
    pub(crate) git: Vec<PathBuf>,
    /// Device files (and `/dev/pts`) it may open for writing.
    pub(crate) devices: Vec<PathBuf>,
}

impl WritePlan {
    /// The plan for a command of a session with `settings` working in
    /// `working_dir`. Paths that do not exist are left out (a rule needs
    /// an open file).
    pub(crate) fn new(settings: &SandboxSettings, working_dir: &Path) -> WritePlan {
        let mut plan = WritePlan::default();
        if settings.mode == SandboxMode::WorkspaceWrite {
            plan.dirs.push(working_dir.to_path_buf());
            plan.dirs.extend(
                settings
                    .writable_roots
                    .iter()
                    .map(|root| working_dir.join(root)),
            );
            plan.git = git_metadata(working_dir);
        }
        plan.dirs.push(std::env::temp_dir());
        plan.dirs.extend(TEMP_DIRS.iter().map(PathBuf::from));
        plan.devices = DEVICES.iter().map(PathBuf::from).collect();
        for list in [&mut plan.dirs, &mut plan.git, &mut plan.devices] {
            keep_existing_once(list);
        }
        plan
    }

    /// Whether `path` (absolute) is somewhere the command may write.
    pub(crate) fn allows(&self, path: &Path) -> bool {
        self.dirs
            .iter()
            .chain(&self.git)
            .chain(&self.devices)
            .any(|root| path.starts_with(root))
    }
}

/// Replaces each path by its canonical form (what a rule applies to),
/// dropping those that do not exist and repeats.
fn keep_existing_once(list: &mut Vec<PathBuf>) {
    let mut kept: Vec<PathBuf> = Vec::with_capacity(list.len());
    for path in list.drain(..) {
        if let Ok(real) = std::fs::canonicalize(&path)
            && !kept.contains(&real)
        {
            kept.push(real);
        }
    }
    *list = kept;
}

/// What git writes outside `working_dir` when it runs there. In a plain
/// repository whose root is above `working_dir`: its whole `.git`
/// directory. In a linked worktree (its `.git` is a file pointing into the
/// main repository): the worktree's own administrative directory
/// (`.git/worktrees/<name>`: its `HEAD`, index, per-worktree refs) and the
/// shared `objects`, `refs` and `logs` of the main repository, which
/// commits write, but not the main repository's `config`, `hooks` or other
/// worktrees, so a sandboxed command cannot plant something the user's own
/// git would run outside the sandbox. Nothing when `working_dir` is the
/// root of a plain repository (its `.git` is inside) or in none.
pub(crate) fn git_metadata(working_dir: &Path) -> Vec<PathBuf> {
    for dir in working_dir.ancestors() {
        let dot_git = dir.join(".git");
        if dot_git.is_dir() {
            return if dir == working_dir {
                Vec::new()
            } else {
                vec![dot_git]
            };
        }
        if dot_git.is_file() {
            return linked_git_dirs(&dot_git);
        }
    }
    Vec::new()
}

/// The directories a linked worktree (or a submodule) whose `.git` file
/// is `dot_git` writes in: the one it points to (`gitdir: ...`) and, when
/// that names a common directory (`commondir`), its shared parts.
fn linked_git_dirs(dot_git: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(dot_git) else {
        return Vec::new();
    };
    let Some(target) = text
        .lines()
        .find_map(|line| line.strip_prefix("gitdir:"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Vec::new();
    };
    let base = dot_git.parent().unwrap_or(Path::new("/"));
    let admin = base.join(target);
    let mut dirs = vec![admin.clone()];
    if let Ok(common) = std::fs::read_to_string(admin.join("commondir")) {
        let common = admin.join(common.trim());
        dirs.extend(["objects", "refs", "logs"].map(|part| common.join(part)));
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: SandboxMode, roots: &[&Path]) -> SandboxSettings {
        SandboxSettings {
            mode,
            writable_roots: roots.iter().map(|r| r.to_path_buf()).collect(),
            ..SandboxSettings::default()
        }
    }

    fn real(path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap()
    }

    #[test]
    fn workspace_write_allows_the_tree_the_roots_and_scratch_space() {
        let work = tempfile::tempdir().unwrap();
        let extra = tempfile::tempdir().unwrap();
        let gone = work.path().join("no-such-dir");
        let plan = WritePlan::new(
            &settings(SandboxMode::WorkspaceWrite, &[extra.path(), &gone]),
            work.path(),
        );
        assert_eq!(plan.dirs[0], real(work.path()));
        assert_eq!(plan.dirs[1], real(extra.path()));
        assert!(
            !plan.dirs.iter().any(|d| d.ends_with("no-such-dir")),
            "missing roots are left out"
        );
        assert!(plan.dirs.contains(&real(Path::new("/tmp"))));
        assert!(plan.devices.contains(&PathBuf::from("/dev/null")));
        assert!(plan.allows(&real(work.path()).join("src/a.rs")));
        assert!(plan.allows(&real(extra.path()).join("x")));
        assert!(!plan.allows(Path::new("/etc/passwd")));
        assert!(!plan.allows(Path::new("/home")));
    }

    #[test]
    fn read_only_allows_only_scratch_space_and_devices() {
        let work = tempfile::tempdir().unwrap();
        let extra = tempfile::tempdir().unwrap();
        let plan = WritePlan::new(
            &settings(SandboxMode::ReadOnly, &[extra.path()]),
            work.path(),
        );
        let scratch: Vec<PathBuf> = [std::env::temp_dir(), "/tmp".into(), "/dev/shm".into()]
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect();
        assert!(plan.dirs.iter().all(|d| scratch.contains(d)), "{plan:?}");
        assert!(plan.git.is_empty());
        assert!(plan.allows(Path::new("/dev/null")));
        assert!(!plan.allows(Path::new("/etc/passwd")));
    }

    #[test]
    fn relative_roots_are_taken_from_the_working_directory_and_listed_once() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir(work.path().join("out")).unwrap();
        let plan = WritePlan::new(
            &settings(
                SandboxMode::WorkspaceWrite,
                &[Path::new("out"), Path::new("out"), work.path()],
            ),
            work.path(),
        );
        let out = real(&work.path().join("out"));
        assert_eq!(plan.dirs.iter().filter(|d| **d == out).count(), 1);
        let root = real(work.path());
        assert_eq!(plan.dirs.iter().filter(|d| **d == root).count(), 1);
    }

    #[test]
    fn a_plain_repository_above_the_working_directory_gives_its_git_dir() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(repo.path().join("sub/deeper")).unwrap();
        assert!(
            git_metadata(repo.path()).is_empty(),
            "inside the tree already"
        );
        assert_eq!(
            git_metadata(&repo.path().join("sub/deeper")),
            vec![repo.path().join(".git")]
        );
    }

    #[test]
    fn a_linked_worktree_gives_its_admin_dir_and_the_shared_parts_only() {
        let main = tempfile::tempdir().unwrap();
        let git = main.path().join(".git");
        for dir in ["worktrees/task", "objects", "refs", "logs", "hooks"] {
            std::fs::create_dir_all(git.join(dir)).unwrap();
        }
        let admin = git.join("worktrees/task");
        std::fs::write(admin.join("commondir"), "../..\n").unwrap();
        let wt = tempfile::tempdir().unwrap();
        std::fs::write(
            wt.path().join(".git"),
            format!("gitdir: {}\n", admin.display()),
        )
        .unwrap();
        let mut found = git_metadata(wt.path());
        keep_existing_once(&mut found);
        let git = real(&git);
        assert_eq!(
            found,
            vec![
                git.join("worktrees/task"),
                git.join("objects"),
                git.join("refs"),
                git.join("logs"),
            ]
        );
        // Never the main repository's config or hooks, nor its tree.
        let plan = WritePlan {
            git: found,
            ..WritePlan::default()
        };
        assert!(plan.allows(&git.join("refs/heads/baton/task-1")));
        assert!(!plan.allows(&git.join("config")));
        assert!(!plan.allows(&git.join("hooks/pre-commit")));
        assert!(!plan.allows(&git.join("worktrees/other/index")));
        assert!(!plan.allows(&real(main.path()).join("README.md")));
        // A relative `gitdir` is taken from the `.git` file's directory.
        std::fs::write(wt.path().join(".git"), "gitdir: ../elsewhere\n").unwrap();
        assert_eq!(
            git_metadata(wt.path()),
            vec![wt.path().join("../elsewhere")]
        );
        // A `.git` file that says nothing gives nothing.
        std::fs::write(wt.path().join(".git"), "nonsense\n").unwrap();
        assert!(git_metadata(wt.path()).is_empty());
    }
}
