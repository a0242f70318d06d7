//! Files shared by parallel agents, against the mock model: stale writes
//! are refused and redone without losing an update, claims keep other
//! sessions out until their task ends, and a worktree task's edits stay
//! on its branch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_protocol::{EventKind, NoticeKind, Part};
use common::*;
use std::process::Command;

const STALE_CHILDREN: &str = r#"
[[rules]]
name = "a-done"
[rules.when]
first_user = "as a"
last_tool_result = "a-signalled"
[rules.reply]
text = "a done"

[[rules]]
name = "a-signal"
[rules.when]
first_user = "as a"
last_tool_result = "Wrote"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "touch a_wrote; echo a-signalled" } }]

[[rules]]
name = "a-write"
[rules.when]
first_user = "as a"
last_tool_result = "a-synced"
[rules.reply]
tool_calls = [{ name = "write", arguments = { path = "shared.txt", content = "base\nA\n" } }]

[[rules]]
name = "a-sync"
[rules.when]
first_user = "as a"
last_tool_result = "base"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f b_read ]; do sleep 0.01; done; echo a-synced" } }]

[[rules]]
name = "a-read"
[rules.when]
first_user = "as a"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "shared.txt" } }]

[[rules]]
name = "b-done"
[rules.when]
first_user = "as b"
last_tool_result = "Wrote"
[rules.reply]
text = "b done"

[[rules]]
name = "b-reread"
[rules.when]
first_user = "as b"
last_tool_result = "(?i)changed since"
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "shared.txt" } }]

[[rules]]
name = "b-rewrite"
[rules.when]
first_user = "as b"
last_tool_result = "1\tbase\n\\s*2\t(?P<a>[A-Z])"
[rules.reply]
tool_calls = [{ name = "write", arguments = { path = "shared.txt", content = "base\n${a}\nB\n" } }]

[[rules]]
name = "b-stale-write"
[rules.when]
first_user = "as b"
last_tool_result = "b-synced"
[rules.reply]
tool_calls = [{ name = "write", arguments = { path = "shared.txt", content = "base\nB\n" } }]

[[rules]]
name = "b-sync"
[rules.when]
first_user = "as b"
last_tool_result = "base"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "touch b_read; while [ ! -f a_wrote ]; do sleep 0.01; done; echo b-synced" } }]

[[rules]]
name = "b-read"
[rules.when]
first_user = "as b"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "read", arguments = { path = "shared.txt" } }]

"#;

fn stale_script() -> String {
    let calls = r#"[
  { name = "task", arguments = { description = "a", prompt = "as a" } },
  { name = "task", arguments = { description = "b", prompt = "as b" } },
]"#;
    format!("{STALE_CHILDREN}{}", delegating_parent("started", calls))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_is_refused_redone_after_a_read_and_no_update_is_lost() {
    let h = harness(&stale_script(), |_| {}).await;
    std::fs::write(h.path("shared.txt"), "base\n").unwrap();
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    assert_eq!(
        std::fs::read_to_string(h.path("shared.txt")).unwrap(),
        "base\nA\nB\n"
    );
    let writes = f.outputs("write");
    assert_eq!(writes.len(), 3, "{writes:#?}");
    // A wrote first; B's write from its old read was refused; B's second
    // write, after reading again, went through.
    assert!(writes[0].starts_with("Wrote"), "{}", writes[0]);
    assert!(writes[1].contains("changed since"), "{}", writes[1]);
    assert!(writes[1].contains("shared.txt"), "{}", writes[1]);
    assert!(writes[2].starts_with("Wrote"), "{}", writes[2]);
    h.engine.shutdown().await;
}

const CLAIMS: &str = r#"
[[rules]]
name = "owner-done"
[rules.when]
first_user = "as owner"
last_tool_result = "released"
[rules.reply]
text = "owner done"

[[rules]]
name = "owner-work"
[rules.when]
first_user = "as owner"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "parent-wrote"
[rules.when]
last_tool_result = "Wrote"
[rules.reply]
text = "wrote it"

[[rules]]
name = "parent-again"
[rules.when]
last_user = "^again$"
[rules.reply]
tool_calls = [{ name = "write", arguments = { path = "src/new.rs", content = "// mine\n" } }]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-blocked"
[rules.when]
last_tool_result = "claimed by"
[rules.reply]
text = "blocked"

[[rules]]
name = "parent-try"
[rules.when]
last_tool_result = "started"
[rules.reply]
tool_calls = [
  { name = "write", arguments = { path = "src/new.rs", content = "// clobber\n" } },
  { name = "task", arguments = { description = "second", prompt = "as second", files = ["src/lib.rs"] } },
  { name = "task_status", arguments = {} },
]

[[rules]]
name = "parent-delegate"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "owner", prompt = "as owner", files = ["src/**"] } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_refuse_writes_by_others_and_end_with_the_task() {
    let h = harness(CLAIMS, |_| {}).await;
    std::fs::create_dir_all(h.path("src")).unwrap();
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    f.until("the parent's first turn", |e| {
        e.session_id == parent
            && matches!(&e.kind, EventKind::MessageCompleted { text, .. } if text == "blocked")
    })
    .await;
    let (task_id, _) = spawned(&f.seen)[0].clone();
    let write = f.outputs("write");
    assert_eq!(write.len(), 1);
    assert!(
        write[0].contains(&format!("claimed by task {task_id} \"owner\"")),
        "{}",
        write[0]
    );
    assert!(!h.path("src/new.rs").exists());
    let tasks = f.outputs("task");
    assert!(
        tasks[1].contains("overlaps the files claimed by task") && tasks[1].contains(&task_id),
        "{}",
        tasks[1]
    );
    assert_eq!(
        spawned(&f.seen).len(),
        1,
        "the overlapping task never started"
    );
    let status = f.outputs("task_status");
    assert!(status[0].contains("\"src/**\""), "{}", status[0]);

    // The claim ends with the task; the same write then goes through.
    h.touch("gate");
    h.engine.wait_quiet(&parent).await.unwrap();
    h.engine.send_message(&parent, "again").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(h.path("src/new.rs")).unwrap(),
        "// mine\n"
    );
    assert_eq!(h.last_text(&parent).await, "wrote it");
    h.engine.shutdown().await;
}

const WORKTREE_CHILD: &str = r#"
[[rules]]
name = "child-done"
[rules.when]
first_user = "as wt"
last_tool_result = "Edited"
[rules.reply]
text = "child done"

[[rules]]
name = "child-edit"
[rules.when]
first_user = "as wt"
last_tool_result = "Wrote"
[rules.reply]
tool_calls = [{ name = "edit", arguments = { path = "base.txt", old_string = "base", new_string = "changed" } }]

[[rules]]
name = "child-read"
[rules.when]
first_user = "as wt"
no_tool_results = true
[rules.reply]
tool_calls = [
  { name = "read", arguments = { path = "base.txt" } },
  { name = "write", arguments = { path = "new.txt", content = "from child\n" } },
]

"#;

fn worktree_script() -> String {
    let calls = r#"[{ name = "task", arguments = { description = "isolated", prompt = "as wt", isolation = "worktree" } }]"#;
    format!("{WORKTREE_CHILD}{}", delegating_parent(".", calls))
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_childs_edits_appear_only_on_its_branch() {
    let h = harness(&worktree_script(), |_| {}).await;
    let root = h.project.path();
    git(root, &["init", "-q", "-b", "main"]);
    std::fs::write(root.join("base.txt"), "base\n").unwrap();
    git(root, &["add", "base.txt"]);
    git(root, &["commit", "-q", "-m", "start"]);
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    let (task_id, _) = spawned(&f.seen)[0].clone();
    let branch = format!("baton/task-{task_id}");
    // The parent's tree is untouched.
    assert!(!root.join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("base.txt")).unwrap(),
        "base\n"
    );
    assert_eq!(git(root, &["status", "--porcelain"]), "");
    assert_eq!(
        git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    // The branch has both changes.
    assert_eq!(
        git(root, &["show", &format!("{branch}:new.txt")]),
        "from child\n"
    );
    assert_eq!(
        git(root, &["show", &format!("{branch}:base.txt")]),
        "changed\n"
    );
    // The notice names the branch and the diff stat.
    let notice = h
        .store
        .messages(&parent)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|m| m.parts)
        .find_map(|p| match p {
            Part::Notice {
                kind: NoticeKind::Task,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .unwrap();
    assert!(notice.contains(&format!("branch `{branch}`")), "{notice}");
    assert!(
        notice.contains("new.txt") && notice.contains("base.txt"),
        "{notice}"
    );
    assert!(notice.contains("2 files changed"), "{notice}");
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_task_outside_a_repository_is_a_clear_error() {
    let h = harness(&worktree_script(), |_| {}).await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();
    let out = f.outputs("task");
    assert!(out[0].contains("needs a git repository"), "{}", out[0]);
    assert!(spawned(&f.seen).is_empty());
    h.engine.shutdown().await;
}
