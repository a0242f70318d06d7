//! Each test builds its own repositories in a temporary directory and runs
//! git with an environment that hides the machine's git configuration and
//! identity, so the tests run in parallel and behave the same everywhere.

use super::git::{Arg, GitEnv};
use super::*;
use std::fs;
use tempfile::TempDir;

/// Identity for the commits tests make themselves, passed with `-c` so that
/// it is never stored in a repository's configuration.
const SETUP_IDENTITY: [&str; 4] = [
    "-c",
    "user.name=Setup",
    "-c",
    "user.email=setup@example.com",
];

struct Fixture {
    _tmp: TempDir,
    /// The temporary directory (canonical).
    root: PathBuf,
    git: GitEnv,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        let home = root.join("home");
        fs::create_dir(&home).unwrap();
        let global = root.join("empty-global-gitconfig");
        fs::write(&global, "").unwrap();
        let git = GitEnv::default()
            .set("HOME", &home)
            .set("XDG_CONFIG_HOME", home.join(".config"))
            .set("GIT_CONFIG_GLOBAL", &global)
            .set("GIT_CONFIG_NOSYSTEM", "1")
            // Never find a repository that happens to enclose the temp dir.
            .set("GIT_CEILING_DIRECTORIES", &root)
            .remove("GIT_CONFIG_PARAMETERS")
            .remove("GIT_CONFIG_COUNT")
            .remove("GIT_AUTHOR_NAME")
            .remove("GIT_AUTHOR_EMAIL")
            .remove("GIT_COMMITTER_NAME")
            .remove("GIT_COMMITTER_EMAIL")
            .remove("EMAIL");
        Fixture {
            _tmp: tmp,
            root,
            git,
        }
    }

    /// Runs git in `dir`, panicking unless it succeeds; returns its trimmed output.
    async fn run(&self, dir: &Path, args: &[&str]) -> String {
        let args: Vec<Arg<'_>> = args.iter().map(|arg| arg as Arg<'_>).collect();
        match self.git.ok(dir, &args).await {
            Ok(output) => output.text(),
            Err(err) => panic!("{err}"),
        }
    }

    /// Commits everything in `dir` with the setup identity.
    async fn commit_all(&self, dir: &Path, message: &str) -> String {
        self.run(dir, &["add", "-A"]).await;
        let mut args = SETUP_IDENTITY.to_vec();
        args.extend(["commit", "--quiet", "-m", message]);
        self.run(dir, &args).await;
        self.run(dir, &["rev-parse", "HEAD"]).await
    }

    /// A repository on branch `main` with one commit: `README.md`,
    /// `sub/dir/code.txt` and a `.gitignore` for `*.log`. With `identity`,
    /// its configuration names a user.
    async fn repo(&self, name: &str, identity: bool) -> PathBuf {
        let repo = self.root.join(name);
        fs::create_dir_all(repo.join("sub/dir")).unwrap();
        self.run(&repo, &["init", "--quiet", "-b", "main"]).await;
        if identity {
            self.run(&repo, &["config", "user.name", "Test User"]).await;
            self.run(&repo, &["config", "user.email", "test@example.com"])
                .await;
        }
        fs::write(repo.join("README.md"), "hello\n").unwrap();
        fs::write(repo.join("sub/dir/code.txt"), "one\n").unwrap();
        fs::write(repo.join(".gitignore"), "*.log\n").unwrap();
        self.commit_all(&repo, "initial").await;
        repo
    }

    /// The commit `branch` points at, or `None` when it does not exist.
    async fn branch(&self, repo: &Path, branch: &str) -> Option<String> {
        let wt = Worktree {
            repo_root: repo.to_path_buf(),
            path: PathBuf::new(),
            branch: branch.to_owned(),
            base: String::new(),
        };
        branch_tip(&self.git, &wt).await.unwrap()
    }

    async fn create(&self, cwd: &Path, task: &str) -> (Worktree, PathBuf) {
        let dest = self.root.join("worktrees").join(task);
        create_with(&self.git, cwd, &dest, &branch_for(task))
            .await
            .unwrap()
    }

    async fn create_err(&self, cwd: &Path, task: &str) -> WorktreeError {
        let dest = self.root.join("worktrees").join(task);
        create_with(&self.git, cwd, &dest, &branch_for(task))
            .await
            .unwrap_err()
    }

    /// The paths `git worktree list` shows for `repo`.
    async fn worktree_paths(&self, repo: &Path) -> Vec<PathBuf> {
        self.run(repo, &["worktree", "list", "--porcelain"])
            .await
            .lines()
            .filter_map(|line| line.strip_prefix("worktree "))
            .map(PathBuf::from)
            .collect()
    }
}

#[test]
fn branch_names_follow_the_task_id() {
    assert_eq!(branch_for("01J9ZK"), "baton/task-01J9ZK");
}

#[tokio::test]
async fn create_checks_out_a_new_branch_beside_the_parent() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let head = fx.run(&repo, &["rev-parse", "HEAD"]).await;

    let (wt, child_cwd) = fx.create(&repo.join("sub/dir"), "t1").await;

    assert_eq!(wt.repo_root, repo);
    assert_eq!(wt.path, fx.root.join("worktrees/t1"));
    assert_eq!(wt.branch, "baton/task-t1");
    assert_eq!(wt.base, head);
    assert_eq!(wt.base.len(), 40, "a full SHA: {}", wt.base);
    assert_eq!(child_cwd, wt.path.join("sub/dir"));
    assert_eq!(
        fs::read_to_string(child_cwd.join("code.txt")).unwrap(),
        "one\n"
    );
    assert_eq!(
        fs::read_to_string(wt.path.join("README.md")).unwrap(),
        "hello\n"
    );
    assert_eq!(fx.branch(&repo, "baton/task-t1").await, Some(head.clone()));
    assert_eq!(
        fx.run(&wt.path, &["symbolic-ref", "HEAD"]).await,
        "refs/heads/baton/task-t1"
    );
    assert!(fx.worktree_paths(&repo).await.contains(&wt.path));

    // The child's writes stay in the worktree.
    fs::write(child_cwd.join("new.txt"), "child\n").unwrap();
    fs::write(wt.path.join("README.md"), "changed by child\n").unwrap();
    assert_eq!(fx.run(&repo, &["status", "--porcelain"]).await, "");
    assert!(!repo.join("sub/dir/new.txt").exists());
    assert_eq!(
        fs::read_to_string(repo.join("README.md")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        fx.run(&repo, &["symbolic-ref", "HEAD"]).await,
        "refs/heads/main"
    );
    assert_eq!(fx.run(&repo, &["rev-parse", "HEAD"]).await, head);
}

#[tokio::test]
async fn create_starts_the_child_in_a_directory_the_checkout_lacks() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    // Untracked in the parent, so the checkout does not have it.
    fs::create_dir_all(repo.join("scratch/area")).unwrap();

    let (wt, child_cwd) = fx.create(&repo.join("scratch/area"), "t1").await;

    assert_eq!(child_cwd, wt.path.join("scratch/area"));
    assert!(child_cwd.is_dir());
}

#[tokio::test]
async fn create_resolves_symlinks_and_relative_destinations() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    std::os::unix::fs::symlink(&repo, fx.root.join("repo-link")).unwrap();
    fs::create_dir(fx.root.join("real-worktrees")).unwrap();
    std::os::unix::fs::symlink(
        fx.root.join("real-worktrees"),
        fx.root.join("worktrees-link"),
    )
    .unwrap();

    let (wt, child_cwd) = create_with(
        &fx.git,
        &fx.root.join("repo-link/sub"),
        &fx.root.join("worktrees-link/t1"),
        &branch_for("t1"),
    )
    .await
    .unwrap();
    assert_eq!(wt.repo_root, repo);
    assert_eq!(wt.path, fx.root.join("real-worktrees/t1"));
    assert_eq!(child_cwd, wt.path.join("sub"));

    // A relative destination is taken from the (resolved) working directory.
    let (wt, child_cwd) = create_with(
        &fx.git,
        &fx.root.join("repo-link/sub/dir"),
        Path::new("../../../relative/t2"),
        &branch_for("t2"),
    )
    .await
    .unwrap();
    assert_eq!(wt.path, fx.root.join("relative/t2"));
    assert_eq!(child_cwd, wt.path.join("sub/dir"));
    assert!(child_cwd.join("code.txt").is_file());
}

#[tokio::test]
async fn create_outside_a_repository_is_refused() {
    let fx = Fixture::new();
    let plain = fx.root.join("plain");
    fs::create_dir(&plain).unwrap();

    let err = fx.create_err(&plain, "t1").await;

    match &err {
        WorktreeError::NotARepository { dir } => assert_eq!(dir, &plain),
        other => panic!("expected NotARepository, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("isolation \"shared\""), "{message}");
    assert!(message.contains("git init"), "{message}");
    assert!(!fx.root.join("worktrees").exists());
}

#[tokio::test]
async fn create_in_a_repository_without_commits_is_refused() {
    let fx = Fixture::new();
    let repo = fx.root.join("empty");
    fs::create_dir(&repo).unwrap();
    fx.run(&repo, &["init", "--quiet"]).await;

    let err = fx.create_err(&repo, "t1").await;

    match &err {
        WorktreeError::NoCommit { repo: reported } => assert_eq!(reported, &repo),
        other => panic!("expected NoCommit, got {other:?}"),
    }
    assert!(err.to_string().contains("commit"), "{err}");
    assert!(!fx.root.join("worktrees").exists());
}

#[tokio::test]
async fn create_reports_what_git_said() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    fx.create(&repo, "t1").await;

    let err = create_with(
        &fx.git,
        &repo,
        &fx.root.join("worktrees/other"),
        &branch_for("t1"),
    )
    .await
    .unwrap_err();

    match &err {
        WorktreeError::Git { args, message } => {
            assert!(
                args.contains("worktree add --quiet -b baton/task-t1"),
                "{args}"
            );
            assert!(message.contains("already exists"), "{message}");
        }
        other => panic!("expected Git, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_git_program_is_named() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let empty_bin = fx.root.join("empty-bin");
    fs::create_dir(&empty_bin).unwrap();
    let no_git = fx.git.clone().set("PATH", &empty_bin);

    let err = create_with(&no_git, &repo, &fx.root.join("wt"), "b")
        .await
        .unwrap_err();

    match &err {
        WorktreeError::Io(io) => assert_eq!(io.kind(), std::io::ErrorKind::NotFound),
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(
        err.to_string().contains("`git` program was not found"),
        "{err}"
    );
}

#[tokio::test]
async fn an_outer_git_environment_does_not_leak_in() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let other = fx.repo("other", true).await;
    let other_head = fx.run(&other, &["rev-parse", "HEAD"]).await;
    let leaky = fx
        .git
        .clone()
        .set("GIT_DIR", other.join(".git"))
        .set("GIT_WORK_TREE", &other)
        .set("GIT_INDEX_FILE", other.join(".git/index"));

    let (wt, _) = create_with(&leaky, &repo, &fx.root.join("wt"), "b")
        .await
        .unwrap();

    assert_eq!(wt.repo_root, repo);
    assert_eq!(wt.base, fx.run(&repo, &["rev-parse", "HEAD"]).await);
    assert!(fx.branch(&repo, "b").await.is_some());
    assert!(fx.branch(&other, "b").await.is_none());
    assert_eq!(fx.run(&other, &["rev-parse", "HEAD"]).await, other_head);
}

#[tokio::test]
async fn finish_commits_the_childs_changes_and_keeps_the_worktree() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, child_cwd) = fx.create(&repo.join("sub/dir"), "t1").await;
    fs::write(child_cwd.join("new.txt"), "child\n").unwrap();
    fs::write(wt.path.join("README.md"), "changed by child\n").unwrap();
    fs::create_dir_all(wt.path.join("other/deep")).unwrap();
    fs::write(wt.path.join("other/deep/file.txt"), "deep\n").unwrap();
    fs::write(wt.path.join("debug.log"), "ignored\n").unwrap();

    let outcome = finish_with(&fx.git, &wt, "task t1: the work")
        .await
        .unwrap();

    assert!(outcome.changed);
    assert!(!outcome.removed);
    let commit = outcome.commit.clone().unwrap();
    assert_eq!(fx.branch(&repo, &wt.branch).await, Some(commit.clone()));
    assert_eq!(
        fx.run(&repo, &["rev-parse", &format!("{commit}^")]).await,
        wt.base
    );
    let files = fx
        .run(&repo, &["show", "--name-status", "--format=", &commit])
        .await;
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "M\tREADME.md",
            "A\tother/deep/file.txt",
            "A\tsub/dir/new.txt"
        ]
    );
    assert_eq!(
        fx.run(&repo, &["log", "-1", "--format=%s|%an <%ae>", &commit])
            .await,
        "task t1: the work|Test User <test@example.com>"
    );
    for name in ["README.md", "other/deep/file.txt", "sub/dir/new.txt"] {
        assert!(outcome.diff_stat.contains(name), "{}", outcome.diff_stat);
    }
    assert!(
        outcome
            .diff_stat
            .ends_with("3 files changed, 3 insertions(+), 1 deletion(-)"),
        "{}",
        outcome.diff_stat
    );

    // The parent is as it was; the worktree and its ignored file remain.
    assert_eq!(fx.run(&repo, &["status", "--porcelain"]).await, "");
    assert_eq!(fx.run(&repo, &["rev-parse", "HEAD"]).await, wt.base);
    assert_eq!(
        fx.run(&repo, &["symbolic-ref", "HEAD"]).await,
        "refs/heads/main"
    );
    assert_eq!(
        fs::read_to_string(repo.join("README.md")).unwrap(),
        "hello\n"
    );
    assert!(wt.path.join("debug.log").is_file());
    assert!(fx.worktree_paths(&repo).await.contains(&wt.path));
    assert_eq!(fx.run(&wt.path, &["status", "--porcelain"]).await, "");
}

#[tokio::test]
async fn finish_without_changes_removes_worktree_and_branch() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    // Ignored files are not changes.
    fs::write(wt.path.join("build.log"), "noise\n").unwrap();

    let outcome = finish_with(&fx.git, &wt, "unused").await.unwrap();

    let removed = Outcome {
        changed: false,
        commit: None,
        diff_stat: String::new(),
        removed: true,
    };
    assert_eq!(outcome, removed);
    assert!(!wt.path.exists());
    assert_eq!(fx.branch(&repo, &wt.branch).await, None);
    assert_eq!(fx.worktree_paths(&repo).await, vec![repo.clone()]);
    assert_eq!(fx.run(&repo, &["rev-parse", "HEAD"]).await, wt.base);

    // Finishing again finds the same.
    assert_eq!(finish_with(&fx.git, &wt, "unused").await.unwrap(), removed);
}

#[tokio::test]
async fn finish_after_the_directory_was_deleted_cleans_up() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::remove_dir_all(&wt.path).unwrap();

    let outcome = finish_with(&fx.git, &wt, "unused").await.unwrap();

    assert!(outcome.removed && !outcome.changed);
    assert_eq!(fx.branch(&repo, &wt.branch).await, None);
    assert_eq!(fx.worktree_paths(&repo).await, vec![repo.clone()]);
}

#[tokio::test]
async fn finish_keeps_commits_the_child_made_itself() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::write(wt.path.join("feature.txt"), "done\n").unwrap();
    let child_commit = fx.commit_all(&wt.path, "child's own commit").await;

    let outcome = finish_with(&fx.git, &wt, "unused").await.unwrap();

    assert!(outcome.changed);
    assert!(!outcome.removed);
    assert_eq!(outcome.commit, None);
    assert!(
        outcome.diff_stat.contains("feature.txt"),
        "{}",
        outcome.diff_stat
    );
    assert_eq!(fx.branch(&repo, &wt.branch).await, Some(child_commit));
    assert!(wt.path.join("feature.txt").is_file());
}

#[tokio::test]
async fn finish_keeps_commits_on_a_detached_head() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fx.run(&wt.path, &["checkout", "--quiet", "--detach"]).await;
    fs::write(wt.path.join("feature.txt"), "done\n").unwrap();
    let detached = fx.commit_all(&wt.path, "on a detached head").await;

    let outcome = finish_with(&fx.git, &wt, "unused").await.unwrap();

    assert!(outcome.changed);
    assert!(!outcome.removed);
    assert!(wt.path.is_dir());
    assert_eq!(fx.run(&wt.path, &["rev-parse", "HEAD"]).await, detached);
}

#[tokio::test]
async fn finish_commits_with_a_fallback_identity_when_none_is_configured() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", false).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::write(wt.path.join("new.txt"), "child\n").unwrap();

    let outcome = finish_with(&fx.git, &wt, "work").await.unwrap();

    let commit = outcome.commit.unwrap();
    assert_eq!(
        fx.run(
            &repo,
            &["log", "-1", "--format=%an <%ae>|%cn <%ce>", &commit]
        )
        .await,
        "baton <baton@localhost>|baton <baton@localhost>"
    );
    // The fallback is not written into the repository's configuration.
    let probe = fx
        .git
        .run(&repo, &[&"config", &"--get", &"user.email"])
        .await
        .unwrap();
    assert_eq!(probe.status.code(), Some(1));
}

#[tokio::test]
async fn finish_supplies_only_the_missing_part_of_an_identity() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", false).await;
    fx.run(&repo, &["config", "user.email", "me@example.com"])
        .await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::write(wt.path.join("new.txt"), "child\n").unwrap();

    let commit = finish_with(&fx.git, &wt, "work")
        .await
        .unwrap()
        .commit
        .unwrap();

    assert_eq!(
        fx.run(&repo, &["log", "-1", "--format=%an <%ae>", &commit])
            .await,
        "baton <me@example.com>"
    );
}

#[tokio::test]
async fn finish_skips_hooks_and_names_an_unnamed_commit() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let hook = repo.join(".git/hooks/pre-commit");
    fs::write(&hook, "#!/bin/sh\nexit 1\n").unwrap();
    let mut permissions = fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    fs::set_permissions(&hook, permissions).unwrap();
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::write(wt.path.join("new.txt"), "child\n").unwrap();

    let commit = finish_with(&fx.git, &wt, "  ")
        .await
        .unwrap()
        .commit
        .unwrap();

    assert_eq!(
        fx.run(&repo, &["log", "-1", "--format=%s", &commit]).await,
        "baton: work of baton/task-t1"
    );
}

#[tokio::test]
async fn ensure_restores_a_removed_worktree_and_its_branch() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo.join("sub"), "t1").await;
    assert!(finish_with(&fx.git, &wt, "unused").await.unwrap().removed);

    ensure_with(&fx.git, &wt).await.unwrap();

    assert!(wt.path.join("sub/dir/code.txt").is_file());
    assert_eq!(fx.branch(&repo, &wt.branch).await, Some(wt.base.clone()));
    assert_eq!(
        fx.run(&wt.path, &["symbolic-ref", "HEAD"]).await,
        "refs/heads/baton/task-t1"
    );
    assert!(fx.worktree_paths(&repo).await.contains(&wt.path));
}

#[tokio::test]
async fn ensure_checks_a_kept_branch_out_again() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::write(wt.path.join("feature.txt"), "done\n").unwrap();
    let child_commit = fx.commit_all(&wt.path, "child's work").await;
    // Deleted behind git's back: its registration is now stale.
    fs::remove_dir_all(&wt.path).unwrap();

    ensure_with(&fx.git, &wt).await.unwrap();

    assert_eq!(
        fs::read_to_string(wt.path.join("feature.txt")).unwrap(),
        "done\n"
    );
    assert_eq!(fx.run(&wt.path, &["rev-parse", "HEAD"]).await, child_commit);
    assert_eq!(
        fx.run(&wt.path, &["symbolic-ref", "HEAD"]).await,
        "refs/heads/baton/task-t1"
    );
}

#[tokio::test]
async fn ensure_leaves_a_present_worktree_alone() {
    let fx = Fixture::new();
    let repo = fx.repo("repo", true).await;
    let (wt, _) = fx.create(&repo, "t1").await;
    fs::write(wt.path.join("in-progress.txt"), "draft\n").unwrap();
    let before = fx.worktree_paths(&repo).await;

    ensure_with(&fx.git, &wt).await.unwrap();

    assert_eq!(
        fs::read_to_string(wt.path.join("in-progress.txt")).unwrap(),
        "draft\n"
    );
    assert_eq!(fx.worktree_paths(&repo).await, before);
    assert_eq!(fx.run(&wt.path, &["rev-parse", "HEAD"]).await, wt.base);
}
