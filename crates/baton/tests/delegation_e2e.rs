//! Delegation through the real binary: `baton run` waits for the whole
//! tree, and a killed process leaves work `interrupted`, resumable.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;

const SCRIPT: &str = r#"
[[rules]]
name = "child-resumed"
[rules.when]
system = "baton sub-agent"
last_user = "continue please"
[rules.reply]
text = "resumed after crash"

[[rules]]
name = "child-answer"
[rules.when]
system = "baton sub-agent"
last_tool_result = "released"
[rules.reply]
text = "child result: 42"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo $$ >> work.pids; while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "parent-back"
[rules.when]
last_user = "resumed after crash"
[rules.reply]
text = "The child is back and done."

[[rules]]
name = "parent-resumed"
[rules.when]
last_tool_result = "was interrupted and is now"
[rules.reply]
text = "Resumed it."

[[rules]]
name = "parent-resume"
[rules.when]
last_user = "resume (?P<t>task_[0-9a-f]+)"
[rules.reply]
tool_calls = [{ name = "task_send", arguments = { task_id = "${t}", message = "continue please" } }]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "child result: (?P<v>[0-9]+)"
[rules.reply]
text = "The child found ${v}."

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "Delegated; I will report when it is done."

[[rules]]
name = "parent-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [{ name = "task", arguments = { description = "long job", prompt = "do the long job" } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_returns_only_when_the_tree_is_quiet_and_prints_it() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let mut child = world.spawn(&["run", "--format", "jsonl", "go"]);
    let mut lines = stdout_lines(&mut child);
    let mut seen = Vec::new();
    // The parent's turn ends first; the run must go on.
    read_until(&mut lines, &mut seen, |e| {
        e["type"] == "message.completed" && e["text"] == "Delegated; I will report when it is done."
    })
    .await;
    world.write("gate", "");
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
    let root = seen[0]["session_id"].as_str().unwrap().to_owned();
    // The child's events are in the stream too, and the parent integrated.
    assert!(
        seen.iter()
            .any(|e| e["session_id"] != root.as_str() && e["type"] == "tool.started")
    );
    assert!(
        seen.iter()
            .any(|e| e["type"] == "task.completed" && e["status"] == "completed")
    );
    assert!(seen.iter().any(|e| e["type"] == "notification.delivered"));
    let last_answer = seen
        .iter()
        .rev()
        .find(|e| {
            e["type"] == "message.completed"
                && e["role"] == "assistant"
                && e["session_id"] == root.as_str()
        })
        .unwrap();
    assert_eq!(last_answer["text"], "The child found 42.");

    // `sessions show` prints the task tree with its figures.
    let shown = world.show(&root).await;
    let tasks = shown["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["status"], "completed");
    assert_eq!(tasks[0]["tool_calls"], 1);
    assert!(tasks[0]["tokens_in"].as_u64().unwrap() > 0);
    assert!(
        shown["usage_total"]["input_tokens"].as_u64().unwrap()
            > shown["usage"]["input_tokens"].as_u64().unwrap()
    );
    let text = world.run(&["sessions", "show", &root]).await;
    assert!(text.stdout.contains("long job"), "{}", text.stdout);
    assert!(text.stdout.contains("completed"), "{}", text.stdout);
}

/// Kills the processes whose ids are listed in a file, when dropped.
struct KillListed(std::path::PathBuf);

impl Drop for KillListed {
    fn drop(&mut self) {
        for pid in std::fs::read_to_string(&self.0).unwrap_or_default().lines() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", pid.trim()])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_its_tasks_interrupted_and_a_child_can_be_resumed() {
    let world = World::new(Wire::Anthropic, SCRIPT).await;
    let mut child = world.spawn(&["run", "--format", "jsonl", "go"]);
    let mut lines = stdout_lines(&mut child);
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, |e| {
        e["type"] == "tool.started" && e["name"] == "bash"
    })
    .await;
    let root = seen[0]["session_id"].as_str().unwrap().to_owned();
    let child_session =
        seen.iter().find(|e| e["type"] == "task.spawned").unwrap()["child_session_id"]
            .as_str()
            .unwrap()
            .to_owned();
    // Kill it while the child's command surely runs (it wrote its pid).
    let pids = world.project.path().join("work.pids");
    // The killed run's command outlives it (nobody is left to kill its
    // group); the guard ends it when the test ends, passed or failed.
    let orphans = KillListed(pids.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(20));
    while std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .trim()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never started"
        );
        poll.tick().await;
    }
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), None, "killed by a signal");

    // On the next start nothing shows as running forever.
    // (The parent was idle, waiting for its task, or interrupted if it
    // was still taking its turn.)
    let shown = world.show(&root).await;
    assert!(
        shown["status"] == "idle" || shown["status"] == "interrupted",
        "{shown}"
    );
    assert_eq!(shown["tasks"][0]["status"], "interrupted");
    let child_shown = world.show(&child_session).await;
    assert_eq!(child_shown["status"], "interrupted");

    // The parent resumes its interrupted task with task_send; the child
    // keeps its conversation.
    let task_id = shown["tasks"][0]["task_id"].as_str().unwrap().to_owned();
    let run = world
        .run(&["run", "--session", &root, &format!("resume {task_id}")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("The child is back and done."),
        "{}",
        run.stdout
    );
    let shown = world.show(&root).await;
    assert_eq!(shown["tasks"][0]["status"], "completed");
    let child_shown = world.show(&child_session).await;
    assert_eq!(
        child_shown["messages"][0]["parts"][0]["text"],
        "do the long job"
    );
    assert_consistent(&child_shown);

    // A child can also be talked to directly.
    let run = world
        .run(&["run", "--session", &child_session, "continue please"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "resumed after crash");

    drop(orphans);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_whole_tree_and_kills_its_commands() {
    let script = r#"
[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
first_user = "job (?P<n>[a-z]+)"
[rules.reply]
tool_calls = [
  { name = "bash", arguments = { command = "echo $$ > bg_${n}.pid; exec sleep 60", background = true } },
  { name = "bash", arguments = { command = "echo $$ > fg_${n}.pid; sleep 60; echo never" } },
]

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-go"
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "a", prompt = "job alpha" } },
  { name = "task", arguments = { description = "b", prompt = "job beta" } },
]
"#;
    let world = World::new(Wire::OpenAi, script).await;
    let mut child = world.spawn(&["run", "--format", "jsonl", "go"]);
    let mut lines = stdout_lines(&mut child);
    let mut pids = Vec::new();
    for name in ["bg_alpha", "fg_alpha", "bg_beta", "fg_beta"] {
        let path = world.project.path().join(format!("{name}.pid"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut poll = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            if let Ok(pid) = std::fs::read_to_string(&path)
                && !pid.trim().is_empty()
            {
                pids.push(pid.trim().to_owned());
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{name} never started");
            poll.tick().await;
        }
    }
    interrupt(&child).await;
    let mut seen: Vec<serde_json::Value> = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    assert_eq!(child.wait().await.unwrap().code(), Some(130));
    for pid in &pids {
        let alive = tokio::process::Command::new("kill")
            .args(["-0", pid])
            .stderr(std::process::Stdio::null())
            .status()
            .await
            .unwrap()
            .success();
        assert!(!alive, "process {pid} outlived the run");
    }
    let cancelled = seen
        .iter()
        .filter(|e| e["type"] == "task.completed" && e["status"] == "cancelled")
        .count();
    assert_eq!(cancelled, 2, "both tasks stored as cancelled");
    let root = seen[0]["session_id"].as_str().unwrap().to_owned();
    let shown = world.show(&root).await;
    for task in shown["tasks"].as_array().unwrap() {
        assert_eq!(task["status"], "cancelled");
    }
}

const PIPELINE: &str = r#"
[[rules]]
name = "qa"
[rules.when]
system = "sub-agent"
first_user = "(?s)comes after.*dev result: parser done.*## Your task\nwork as qa"
[rules.reply]
text = "qa passed"

[[rules]]
name = "dev"
[rules.when]
system = "sub-agent"
first_user = "^work as dev$"
[rules.reply]
text = "dev result: parser done"

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "Task task_"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "started"
[rules.reply]
text = "The pipeline is declared."

[[rules]]
name = "parent-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "build", prompt = "work as dev", name = "dev", agent = "developer" } },
  { name = "task", arguments = { description = "check", prompt = "work as qa", name = "qa", after = ["dev"], agent = "qa" } },
]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_architect_runs_a_pipeline_with_qa_starting_only_after_dev_ended() {
    let world = World::new(Wire::OpenAi, PIPELINE).await;
    let mut child = world.spawn(&["run", "--agent", "architect", "--format", "jsonl", "go"]);
    let mut lines = stdout_lines(&mut child);
    let mut seen: Vec<serde_json::Value> = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
    let spawned = |name: &str| {
        seen.iter()
            .find(|e| e["type"] == "task.spawned" && e["name"] == name)
            .unwrap_or_else(|| panic!("no task {name}"))
    };
    let (dev, qa) = (spawned("dev"), spawned("qa"));
    assert_eq!(qa["after"], serde_json::json!([dev["task_id"]]));
    assert_eq!(
        (&dev["agent"], &qa["agent"]),
        (&"developer".into(), &"qa".into())
    );
    // Each ran with its own prompt: the architect's leads, QA's checks.
    let requests = world.mock.requests();
    let system = |rule: &str| {
        let r = requests
            .iter()
            .find(|r| r.matched_rule.as_deref() == Some(rule))
            .unwrap_or_else(|| panic!("no request answered by {rule}"));
        r.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(system("parent-go").contains("You are baton's architect"));
    assert!(system("qa").contains("You are a baton QA sub-agent"));
    assert!(system("dev").contains("You are a baton developer sub-agent"));
    let at = |kind: &str, task: &serde_json::Value| {
        seen.iter()
            .position(|e| e["type"] == kind && e["task_id"] == *task)
            .unwrap_or_else(|| panic!("no {kind} of {task}"))
    };
    assert!(at("task.completed", &dev["task_id"]) < at("task.started", &qa["task_id"]));
    let ends: Vec<&serde_json::Value> = seen
        .iter()
        .filter(|e| e["type"] == "task.completed")
        .map(|e| &e["status"])
        .collect();
    assert_eq!(ends, ["completed", "completed"]);
}
