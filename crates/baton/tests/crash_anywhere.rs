//! Crash anywhere: a delegation scenario (a parent, three children, a
//! background shell, a message sent while the parent is busy) run by
//! `baton serve`, SIGKILLed after the k-th event for many k, restarted on
//! the same store and resumed to the end. After every crash: nothing
//! stored as running, every acknowledged message present; at the end:
//! each acknowledged message once in the conversation, each child's result
//! delivered to the parent exactly once, no process left.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"
[[rules]]
name = "child-continue"
[rules.when]
system = "baton sub-agent"
last_user = "continue"
[rules.reply]
text = "child resumed and done"

[[rules]]
name = "child-done"
[rules.when]
system = "baton sub-agent"
last_tool_result = "worked (?P<n>[0-9])"
[rules.reply]
text = "child ${n} done"

[[rules]]
name = "child-work"
[rules.when]
system = "baton sub-agent"
last_user = "job (?P<n>[0-9])"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo $$ >> pids; sleep 0.05; echo worked ${n}" } }]

[[rules]]
name = "parent-notice"
[rules.when]
last_user = "Task task_|Background shell"
[rules.reply]
text = "integrated"

[[rules]]
name = "parent-resume"
[rules.when]
last_user = "resume"
[rules.reply]
text = "resumed"

[[rules]]
name = "parent-also"
[rules.when]
last_user = "also this"
[rules.reply]
text = "noted"

[[rules]]
name = "parent-ack"
[rules.when]
last_tool_result = "Task task_"
[rules.reply]
text = "delegated"

[[rules]]
name = "parent-go"
[rules.when]
last_user = "^go$"
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "one", prompt = "job 1" } },
  { name = "task", arguments = { description = "two", prompt = "job 2" } },
  { name = "task", arguments = { description = "three", prompt = "job 3" } },
  { name = "bash", arguments = { command = "echo $$ >> pids; while [ ! -f release_bg ]; do sleep 0.02; done; echo bg", background = true } },
]
"#;

/// Reads the server's event stream, counting events.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(api: &Api) -> Events {
        let response = api
            .http
            .get(format!("{}/v1/events", api.url))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The next event's JSON, or `None` when the stream ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim()).ok();
                }
                continue;
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// What one run of the scenario saw before it ended or was killed.
struct FirstLife {
    parent: String,
    acknowledged: Vec<String>,
    events: usize,
}

/// Runs the scenario on a fresh server; SIGKILLs it right after the
/// `kill_at`-th event (never, with `None`: the scenario then runs until
/// the tree is quiet).
async fn first_life(world: &World, kill_at: Option<usize>) -> FirstLife {
    let mut server = serve(world, &[]).await;
    let api = Api::new(world, &server.url);
    let mut events = Events::open(&api).await;
    let (status, session) = api.post("/v1/sessions", json!({})).await;
    assert_eq!(status, 201);
    let parent = session["id"].as_str().unwrap().to_owned();
    let mut acknowledged = Vec::new();
    if api.say(&parent, "go").await {
        acknowledged.push("go".to_owned());
    }
    let mut seen = 0;
    let mut sent_more = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(event) = tokio::time::timeout_at(deadline.into(), events.next())
        .await
        .expect("the scenario moves")
    {
        seen += 1;
        if kill_at == Some(seen) {
            server.child.start_kill().unwrap();
            server.child.wait().await.unwrap();
            return FirstLife {
                parent,
                acknowledged,
                events: seen,
            };
        }
        if event["type"] == "task.spawned" && !sent_more {
            // The parent is busy: this one is queued.
            sent_more = true;
            if api.say(&parent, "also this").await {
                acknowledged.push("also this".to_owned());
            }
        }
        if event["type"] == "shell.started" {
            std::fs::write(world.project.path().join("release_bg"), "").unwrap();
        }
        if event["type"] == "session.quiet" && event["session_id"] == parent.as_str() {
            break;
        }
    }
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    FirstLife {
        parent,
        acknowledged,
        events: seen,
    }
}

/// The user texts and the notice sources of a conversation.
fn conversation(messages: &Value) -> (Vec<String>, Vec<String>) {
    let mut texts = Vec::new();
    let mut notices = Vec::new();
    for m in messages.as_array().unwrap() {
        for p in m["parts"].as_array().unwrap() {
            match p["type"].as_str() {
                Some("text") if m["role"] == "user" => {
                    texts.push(p["text"].as_str().unwrap().to_owned())
                }
                Some("notice") => notices.push(p["source_id"].as_str().unwrap().to_owned()),
                _ => {}
            }
        }
    }
    (texts, notices)
}

const ACTIVE: [&str; 3] = ["running", "queued", "awaiting_permission"];

/// After a crash and a restart: nothing is stored as running, and every
/// acknowledged message is in the conversation or queued.
async fn check_after_crash(api: &Api, life: &FirstLife, point: usize) {
    let tree = api.get(&format!("/v1/sessions/{}/tree", life.parent)).await;
    for s in tree["sessions"].as_array().unwrap() {
        let status = s["status"].as_str().unwrap();
        assert!(!ACTIVE.contains(&status), "point {point}: session {s}");
    }
    for t in tree["tasks"].as_array().unwrap() {
        let status = t["status"].as_str().unwrap();
        assert!(!ACTIVE.contains(&status), "point {point}: task {t}");
    }
    for sh in tree["shells"].as_array().unwrap() {
        assert_ne!(sh["status"], "running", "point {point}: shell {sh}");
    }
    let messages = api
        .get(&format!("/v1/sessions/{}/messages", life.parent))
        .await;
    let (texts, _) = conversation(&messages);
    let queued: Vec<&str> = tree["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    for said in &life.acknowledged {
        assert!(
            texts.iter().any(|t| t == said) || queued.contains(&said.as_str()),
            "point {point}: acknowledged `{said}` is neither in the conversation nor queued"
        );
    }
}

/// Resumes the tree: the parent with a message, every task that did not
/// complete with `continue`; then waits until every task completed and
/// its notice reached the parent.
async fn resume_to_the_end(api: &Api, life: &mut FirstLife, point: usize) {
    assert!(api.say(&life.parent, "resume").await);
    life.acknowledged.push("resume".to_owned());
    let tree = api.get(&format!("/v1/sessions/{}/tree", life.parent)).await;
    for t in tree["tasks"].as_array().unwrap() {
        if t["status"] != "completed" {
            let task = t["task_id"].as_str().unwrap();
            let (status, body) = api
                .post(
                    &format!("/v1/tasks/{task}/messages"),
                    json!({ "text": "continue" }),
                )
                .await;
            assert_eq!(status, 202, "point {point}: resuming a task: {body}");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    loop {
        let tree = api.get(&format!("/v1/sessions/{}/tree", life.parent)).await;
        let messages = api
            .get(&format!("/v1/sessions/{}/messages", life.parent))
            .await;
        let (texts, notices) = conversation(&messages);
        let tasks = tree["tasks"].as_array().unwrap();
        let all_done = tasks.iter().all(|t| t["status"] == "completed");
        let all_told = tasks
            .iter()
            .all(|t| notices.iter().any(|n| n == t["task_id"].as_str().unwrap()));
        let idle = tree["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !ACTIVE.contains(&s["status"].as_str().unwrap()));
        // Empty until the reopened session takes its queued message.
        let answered = messages
            .as_array()
            .unwrap()
            .last()
            .is_some_and(|m| m["role"] == "assistant");
        let taken = tree["queued"].as_array().unwrap().is_empty()
            && life.acknowledged.iter().all(|a| texts.contains(a));
        if all_done && all_told && idle && answered && taken {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "point {point}: never resumed to the end: {tree}\n{messages}"
        );
        poll.tick().await;
    }
}

/// At the end: each acknowledged message once, each task's result once.
async fn check_the_end(api: &Api, life: &FirstLife, point: usize) -> usize {
    let tree = api.get(&format!("/v1/sessions/{}/tree", life.parent)).await;
    let messages = api
        .get(&format!("/v1/sessions/{}/messages", life.parent))
        .await;
    let (texts, notices) = conversation(&messages);
    for said in &life.acknowledged {
        assert_eq!(
            texts.iter().filter(|t| *t == said).count(),
            1,
            "point {point}: `{said}` once in {texts:?}"
        );
    }
    let tasks = tree["tasks"].as_array().unwrap();
    for t in tasks {
        let id = t["task_id"].as_str().unwrap();
        assert_eq!(
            notices.iter().filter(|n| *n == id).count(),
            1,
            "point {point}: task {id}'s result reached the parent exactly once: {notices:?}"
        );
    }
    let shell_notices: BTreeSet<&String> = notices.iter().filter(|n| n.starts_with("sh")).collect();
    assert_eq!(
        shell_notices.len(),
        notices.iter().filter(|n| n.starts_with("sh")).count(),
        "point {point}: a shell's end is told at most once"
    );
    tasks.len()
}

/// Every process the scenario started is gone.
async fn check_no_process_left(world: &World, point: usize) {
    let pids = std::fs::read_to_string(world.project.path().join("pids")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    for pid in pids.lines().filter(|l| !l.trim().is_empty()) {
        while alive(pid) {
            assert!(
                Instant::now() < deadline,
                "point {point}: process {pid} left"
            );
            poll.tick().await;
        }
    }
}

fn alive(pid: &str) -> bool {
    std::process::Command::new("kill")
        .args(["-0", pid.trim()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_any_point_the_tree_resumes_with_nothing_lost_and_nothing_twice() {
    // A life without a crash: how many events the scenario has.
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let whole = first_life(&world, None).await;
    assert!(
        whole.events >= 60,
        "the scenario is long enough to crash in many places: {} events",
        whole.events
    );
    let server = serve(&world, &[]).await;
    let api = Api::new(&world, &server.url);
    let mut whole = whole;
    resume_to_the_end(&api, &mut whole, 0).await;
    assert_eq!(check_the_end(&api, &whole, 0).await, 3);
    drop(server);

    let points: BTreeSet<usize> = (0..32).map(|i| 1 + i * (whole.events - 2) / 31).collect();
    assert!(points.len() >= 30);
    for &point in &points {
        let world = World::new(Wire::OpenAi, SCRIPT).await;
        let mut life = first_life(&world, Some(point)).await;
        let server = serve(&world, &[]).await;
        let api = Api::new(&world, &server.url);
        check_after_crash(&api, &life, point).await;
        std::fs::write(world.project.path().join("release_bg"), "").unwrap();
        resume_to_the_end(&api, &mut life, point).await;
        check_the_end(&api, &life, point).await;
        drop(server);
        check_no_process_left(&world, point).await;
    }
    eprintln!(
        "crash points tried: {} (of {} events in a whole run)",
        points.len(),
        whole.events
    );
}
