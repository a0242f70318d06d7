//! The command sandbox through the real binary: with the default mode a
//! command writes in its project and nowhere else the user could write
//! (another directory standing for `~`, `/etc` when run as root), and the
//! model is told when the sandbox refused a write; `read-only` and `off`,
//! background shells, worktree tasks (git included) and a task asking for
//! a wider sandbox than its parent's.
//!
//! The world lives outside the temp directories (which every sandboxed
//! command may write), so that "outside the project" really is outside
//! everything the sandbox allows.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use std::path::{Path, PathBuf};

/// The parent runs `run: CMD` as a foreground command, `bg: CMD` in the
/// background, `task ISOLATION SANDBOX: CMD` as a waited-for task whose
/// sub-agent runs CMD (`-` for no sandbox argument), and `agent NAME: CMD`
/// as such a task of that agent.
const SCRIPT: &str = r#"
[[rules]]
name = "child-report"
[rules.when]
system = "baton sub-agent"
no_tool_results = false
[rules.reply]
text = "child done"

[[rules]]
name = "child-run"
[rules.when]
system = "baton sub-agent"
last_user = "^run: (?P<cmd>.*)$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "${cmd}" } }]

[[rules]]
name = "after-tools"
[rules.when]
no_tool_results = false
[rules.reply]
text = "done"

[[rules]]
name = "run"
[rules.when]
last_user = "^run: (?P<cmd>.*)$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "${cmd}" } }]

[[rules]]
name = "background"
[rules.when]
last_user = "^bg: (?P<cmd>.*)$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "${cmd}", background = true } }]

[[rules]]
name = "task-default"
[rules.when]
last_user = "^task (?P<iso>[a-z]+) -: (?P<cmd>.*)$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "sandboxed", prompt = "run: ${cmd}", isolation = "${iso}", background = false } }]

[[rules]]
name = "task-mode"
[rules.when]
last_user = "^task (?P<iso>[a-z]+) (?P<mode>[a-z-]+): (?P<cmd>.*)$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "sandboxed", prompt = "run: ${cmd}", isolation = "${iso}", sandbox = "${mode}", background = false } }]

[[rules]]
name = "task-agent"
[rules.when]
last_user = "^agent (?P<agent>[a-z]+): (?P<cmd>.*)$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "sandboxed", prompt = "run: ${cmd}", agent = "${agent}", background = false } }]

[[rules]]
name = "anything-else"
[rules.reply]
text = "noted"
"#;

/// A directory outside every temp directory the sandbox lets commands
/// write: the target directory's scratch space when it is not under one,
/// else `/var/tmp`.
fn outside_temp() -> tempfile::TempDir {
    let temp: Vec<PathBuf> = [
        std::env::temp_dir(),
        PathBuf::from("/tmp"),
        PathBuf::from("/dev/shm"),
    ]
    .iter()
    .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
    .collect();
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&target).unwrap();
    let target = std::fs::canonicalize(&target).unwrap();
    let base = if temp.iter().any(|t| target.starts_with(t)) {
        PathBuf::from("/var/tmp")
    } else {
        target
    };
    let dir = tempfile::tempdir_in(&base).unwrap();
    let real = std::fs::canonicalize(dir.path()).unwrap();
    assert!(
        !temp.iter().any(|t| real.starts_with(t)),
        "{} is inside a temp directory",
        real.display()
    );
    dir
}

/// Removes a file when dropped, so a test that fails never leaves one in
/// `/etc`.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A world outside the temp directories, with `[sandbox]` set to
/// `sandbox` (TOML lines; empty: the defaults).
async fn world(base: &Path, sandbox: &str) -> World {
    let world = World::new_in(Wire::OpenAi, SCRIPT, base).await;
    if !sandbox.is_empty() {
        let config = std::fs::read_to_string(&world.config).unwrap();
        std::fs::write(&world.config, format!("{config}[sandbox]\n{sandbox}\n")).unwrap();
    }
    world
}

/// Runs `baton run --yes PROMPT` and returns the run and the outputs of
/// its `bash` calls, in order, of every session of the tree.
async fn run_prompt(world: &World, prompt: &str) -> (Run, Vec<String>) {
    let run = world
        .run(&["run", "--format", "jsonl", "--yes", prompt])
        .await;
    let outputs = run
        .events()
        .iter()
        .filter(|e| e["type"] == "tool.completed" && e["name"] == "bash")
        .map(|e| e["output"].as_str().unwrap().to_owned())
        .collect();
    (run, outputs)
}

/// The one `bash` output of a run that must succeed.
async fn bash(world: &World, prompt: &str) -> String {
    let (run, outputs) = run_prompt(world, prompt).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    outputs.into_iter().next().unwrap()
}

/// The outputs of every tool the run called, by tool name.
fn tool_outputs(run: &Run, name: &str) -> Vec<String> {
    run.events()
        .iter()
        .filter(|e| e["type"] == "tool.completed" && e["name"] == name)
        .map(|e| e["output"].as_str().unwrap().to_owned())
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_commands_write_in_the_project_and_nowhere_else() {
    let base = outside_temp();
    let world = world(base.path(), "").await;
    let project = canonical(world.project.path());

    let inside = bash(&world, "run: echo hi > inside.txt && echo wrote").await;
    assert!(inside.contains("wrote"), "{inside}");
    assert!(
        !inside.contains("note:"),
        "no note without a refusal: {inside}"
    );
    assert_eq!(world.read("inside.txt"), "hi\n");
    // The temp directory and /dev/null are writable too.
    let scratch = bash(
        &world,
        "run: t=$(mktemp) && echo x > \"$t\" && rm \"$t\" && echo y > /dev/null && echo scratch-ok",
    )
    .await;
    assert!(scratch.contains("scratch-ok"), "{scratch}");

    // `~` (the world's HOME, outside the project) is refused, and the model
    // is told the sandbox did it.
    let home_file = world.home.path().join("outside.txt");
    let out = bash(&world, &format!("run: echo x > {}", home_file.display())).await;
    assert!(
        !home_file.exists(),
        "the write outside the project happened"
    );
    assert!(out.contains("Permission denied"), "{out}");
    assert!(
        out.contains("the sandbox (workspace-write) refused"),
        "the model is told why: {out}"
    );
    assert!(
        out.contains(&project),
        "the note names the writable roots: {out}"
    );
    assert!(
        out.contains("writable_roots"),
        "and how to widen them: {out}"
    );

    // As root, /etc would be writable without the sandbox.
    let etc = PathBuf::from(format!(
        "/etc/baton-sandbox-e2e-{}-{}",
        std::process::id(),
        baton_protocol::now().timestamp_micros()
    ));
    let _cleanup = RemoveOnDrop(etc.clone());
    let out = bash(&world, &format!("run: echo x > {}", etc.display())).await;
    assert!(!etc.exists(), "a file was written in /etc");
    assert!(
        out.contains("the sandbox (workspace-write) refused"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_writable_roots_are_writable() {
    let base = outside_temp();
    let extra = tempfile::tempdir_in(base.path()).unwrap();
    let world = world(
        base.path(),
        &format!("writable_roots = [\"{}\"]", extra.path().display()),
    )
    .await;
    let file = extra.path().join("cache.txt");
    let out = bash(
        &world,
        &format!("run: echo c > {} && echo ok", file.display()),
    )
    .await;
    assert!(out.contains("ok"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "c\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_writes_in_the_project() {
    let base = outside_temp();
    let world = world(base.path(), "mode = \"read-only\"").await;
    world.write("kept.txt", "original\n");
    let out = bash(&world, "run: echo changed > kept.txt").await;
    assert_eq!(world.read("kept.txt"), "original\n");
    assert!(out.contains("the sandbox (read-only) refused"), "{out}");
    // Reading stays open.
    let read = bash(&world, "run: cat kept.txt").await;
    assert!(read.contains("original"), "{read}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_mode_writes_anywhere() {
    let base = outside_temp();
    let world = world(base.path(), "mode = \"off\"").await;
    let home_file = world.home.path().join("anywhere.txt");
    let out = bash(
        &world,
        &format!("run: echo x > {} && echo wrote", home_file.display()),
    )
    .await;
    assert!(out.contains("wrote"), "{out}");
    assert!(home_file.exists());
    let out = bash(
        &world,
        &format!(
            "run: cat {}/missing 2>&1; echo denied: Permission denied",
            world.home.path().display()
        ),
    )
    .await;
    assert!(
        !out.contains("note:"),
        "no note when the sandbox is off: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_shell_is_sandboxed() {
    let base = outside_temp();
    let world = world(base.path(), "").await;
    let home_file = world.home.path().join("background.txt");
    let (run, outputs) = run_prompt(
        &world,
        &format!(
            "bg: echo started; echo x > {}; echo x > bg-inside.txt",
            home_file.display()
        ),
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(outputs[0].contains("in the background"), "{outputs:?}");
    // `baton run` waited for the shell's end; by then it had written in
    // the project and not in `~`.
    assert!(
        !home_file.exists(),
        "a background shell wrote outside the project"
    );
    assert_eq!(world.read("bg-inside.txt"), "x\n");
    let notice = world
        .mock
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .find(|body| body.contains("Permission denied"))
        .expect("the shell's end notice reached the model");
    assert!(
        notice.contains("the sandbox (workspace-write) refused"),
        "the notice says the sandbox refused: {notice}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_task_writes_and_commits_in_its_worktree_but_not_in_the_parents_tree() {
    let base = outside_temp();
    let world = world(base.path(), "").await;
    let project = world.project.path().to_path_buf();
    world.write("README.md", "hello\n");
    git(&project, &["init", "-q"]);
    git(&project, &["add", "README.md"]);
    git(&project, &["commit", "-qm", "first"]);
    let parent_file = project.join("from-the-task.txt");

    let (run, outputs) = run_prompt(
        &world,
        &format!(
            "task worktree -: echo x > new.txt && git add new.txt && \
             git -c user.name=t -c user.email=t@example.com commit -qm 'made in the worktree' && \
             echo committed; echo y > {}",
            parent_file.display()
        ),
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert!(
        outputs[0].contains("committed"),
        "git works in the worktree: {}",
        outputs[0]
    );
    assert!(
        !parent_file.exists(),
        "the task wrote in its parent's tree, outside its worktree"
    );
    assert!(
        outputs[0].contains("the sandbox (workspace-write) refused"),
        "{}",
        outputs[0]
    );
    let log = git(&project, &["log", "--all", "--format=%s"]);
    assert!(log.contains("made in the worktree"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_never_gets_a_wider_sandbox_than_its_parent() {
    let base = outside_temp();
    let world = world(base.path(), "").await;
    let home_file = world.home.path().join("from-off.txt");
    let (run, outputs) = run_prompt(
        &world,
        &format!("task shared off: echo x > {}", home_file.display()),
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        !home_file.exists(),
        "the child got `off` under a workspace-write parent"
    );
    assert!(
        outputs[0].contains("the sandbox (workspace-write) refused"),
        "{outputs:?}"
    );
    let task = tool_outputs(&run, "task");
    assert!(
        task[0].contains("asked for sandbox `off`") && task[0].contains("workspace-write"),
        "the parent is told its task was capped: {task:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tasks_narrower_sandbox_holds_after_a_restart() {
    let base = outside_temp();
    let world = world(base.path(), "").await;
    let (run, outputs) = run_prompt(&world, "task shared read-only: echo x > first.txt").await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        outputs[0].contains("the sandbox (read-only) refused"),
        "{outputs:?}"
    );
    assert!(!world.project.path().join("first.txt").exists());
    let child = run
        .events()
        .iter()
        .find(|e| e["type"] == "task.spawned")
        .and_then(|e| e["child_session_id"].as_str().map(str::to_owned))
        .unwrap();

    // A new process resumes the child directly: it keeps its mode (the
    // config's is workspace-write, which would let the write through).
    let resumed = world
        .run(&[
            "run",
            "--format",
            "jsonl",
            "--yes",
            "--session",
            &child,
            "run: echo x > second.txt",
        ])
        .await;
    assert_eq!(resumed.code, 0, "stderr: {}", resumed.stderr);
    let outputs = tool_outputs(&resumed, "bash");
    assert!(
        outputs[0].contains("the sandbox (read-only) refused"),
        "{outputs:?}"
    );
    assert!(!world.project.path().join("second.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_file_narrows_the_sandbox_but_cannot_widen_it() {
    let base = outside_temp();
    let world = world(base.path(), "").await;
    world.write(
        ".baton/agents/reader.md",
        "---\ndescription: Reads.\nmode: subagent\nsandbox: read-only\n---\nYou read.\n",
    );
    world.write(
        ".baton/agents/loose.md",
        "---\ndescription: Wants more.\nmode: subagent\nsandbox: off\n---\nYou try.\n",
    );
    let (run, outputs) = run_prompt(&world, "agent reader: echo x > by-reader.txt").await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(!world.project.path().join("by-reader.txt").exists());
    assert!(
        outputs[0].contains("the sandbox (read-only) refused"),
        "{outputs:?}"
    );

    let home_file = world.home.path().join("by-loose.txt");
    let (run, outputs) = run_prompt(
        &world,
        &format!("agent loose: echo x > {}", home_file.display()),
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(!home_file.exists(), "an agent file turned the sandbox off");
    assert!(
        outputs[0].contains("the sandbox (workspace-write) refused"),
        "{outputs:?}"
    );
}
