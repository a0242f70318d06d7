//! Agent definitions against the mock model: files in baton's, Claude
//! Code's and opencode's formats, the `task` tool's list of sub-agents,
//! tool allow and deny lists, and each agent on its own model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::RecordedRequest;
use common::*;

const REVIEWER: &str = "---
description: Reviews code for bugs without changing anything.
mode: subagent
tools: [read, grep]
model: fast
---
You are the reviewer sub-agent. Report bugs with file and line.
";

const TESTER: &str = "---
name: tester
description: Runs the test suite and reports failures.
tools: Bash, Read
model: inherit
color: green
---
You are the tester sub-agent.
";

const DOCS: &str = "---
description: Writes documentation.
mode: subagent
tools:
  bash: false
---
You are the docs sub-agent.
";

const BROKEN: &str = "---
mode: subagent
---
No description, so nobody could choose this agent.
";

const GENERAL_OVERRIDE: &str = "---
description: Project-specific general agent.
mode: subagent
---
You are this project's own general sub-agent.
";

fn agent_files(e: &mut Extras) {
    for (path, text) in [
        (".baton/agents/reviewer.md", REVIEWER),
        (".claude/agents/tester.md", TESTER),
        (".opencode/agent/docs.md", DOCS),
        (".baton/agents/broken.md", BROKEN),
        (".baton/agents/general.md", GENERAL_OVERRIDE),
    ] {
        e.agent_files.push((path.to_owned(), text.to_owned()));
    }
}

/// The tool names offered in a recorded OpenAI-wire request, sorted.
fn tool_names(req: &RecordedRequest) -> Vec<String> {
    let mut names: Vec<String> = req.body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn system_text(req: &RecordedRequest) -> String {
    req.body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn first_user(req: &RecordedRequest) -> String {
    req.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_in_three_formats_load_and_the_task_tool_lists_the_subagents() {
    let script = r#"
[[rules]]
name = "hello"
[rules.reply]
text = "hello"
"#;
    let h = harness_with(script, |_| {}, agent_files).await;
    let problems = h.engine.agents().problems();
    assert!(
        problems
            .iter()
            .any(|p| p.skipped && p.path.ends_with("broken.md")),
        "{problems:?}"
    );
    assert!(h.engine.agents().get("broken").is_none());
    let parent = h.session().await;
    h.engine.send_message(&parent, "hi").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();

    let requests = h.mock.requests();
    let task = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == "task")
        .unwrap();
    let description = task["function"]["description"].as_str().unwrap();
    let listed: Vec<&str> = description
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "developer",
            "docs",
            "explore",
            "general",
            "qa",
            "reviewer",
            "tester"
        ],
        "{description}"
    );
    assert!(description.contains("- reviewer: Reviews code for bugs"));
    assert!(description.contains("- general: Project-specific general agent."));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subagents_get_their_tools_prompt_and_model_and_unknown_agents_are_refused() {
    let children = r#"
[[rules]]
name = "child-done"
[rules.when]
last_tool_result = "."
system = "sub-agent[.]"
[rules.reply]
text = "child done"

[[rules]]
name = "child-tries-bash"
[rules.when]
system = "sub-agent[.]"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo hi" } }]

"#;
    let calls = r#"[
  { name = "task", arguments = { description = "nope", prompt = "as nope", agent = "nope" } },
  { name = "task", arguments = { description = "review", prompt = "as reviewer", agent = "reviewer" } },
  { name = "task", arguments = { description = "test", prompt = "as tester", agent = "tester" } },
  { name = "task", arguments = { description = "docs", prompt = "as docs", agent = "docs" } },
  { name = "task", arguments = { description = "general", prompt = "as general" } },
]"#;
    let script = format!("{children}{}", delegating_parent(".", calls));
    let h = harness_with(
        &script,
        |c| {
            c.aliases.insert("fast".into(), "mock/fast-model".into());
        },
        agent_files,
    )
    .await;
    let mut f = Follower::new(&h.engine);
    let parent = h.session().await;
    h.engine.send_message(&parent, "go").await.unwrap();
    h.engine.wait_quiet(&parent).await.unwrap();
    f.drain();

    let task_results = f.outputs("task");
    assert!(
        task_results[0].contains("`nope` is not a sub-agent you can delegate to")
            && task_results[0]
                .contains("available: developer, docs, explore, general, qa, reviewer, tester"),
        "{}",
        task_results[0]
    );
    assert_eq!(spawned(&f.seen).len(), 4);

    let requests = h.mock.requests();
    let first_of = |who: &str| {
        requests
            .iter()
            .find(|r| first_user(r) == format!("as {who}"))
            .unwrap_or_else(|| panic!("no request from {who}"))
    };
    // Tools: allow lists (baton and Claude Code names), opencode's
    // `bash: false`, and a child of `build` keeps every tool but the
    // delegation ones it may still use.
    assert_eq!(tool_names(first_of("reviewer")), ["grep", "read"]);
    assert_eq!(tool_names(first_of("tester")), ["bash", "read"]);
    let docs = tool_names(first_of("docs"));
    assert!(!docs.contains(&"bash".to_owned()) && docs.contains(&"edit".to_owned()));
    assert!(tool_names(first_of("general")).contains(&"bash".to_owned()));
    // Prompts: each body, and the project's general replaces the built-in.
    assert!(system_text(first_of("reviewer")).contains("You are the reviewer sub-agent."));
    assert!(system_text(first_of("general")).contains("this project's own general sub-agent"));
    // Models: the reviewer's alias resolves; the others inherit the parent's.
    assert_eq!(first_of("reviewer").body["model"], "fast-model");
    assert_eq!(first_of("tester").body["model"], "m");
    assert_eq!(first_of("docs").body["model"], "m");
    // A tool outside the allow list does not exist for the child.
    let refused: Vec<String> = f
        .outputs("bash")
        .into_iter()
        .filter(|o| o.contains("There is no tool called `bash`"))
        .collect();
    assert_eq!(refused.len(), 2, "reviewer and docs cannot run bash");
    // task.spawned names agent and model.
    let models: Vec<(String, String)> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            baton_protocol::EventKind::TaskSpawned { agent, model, .. } => {
                Some((agent.clone(), model.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(models.contains(&("reviewer".into(), "mock/fast-model".into())));
    assert!(models.contains(&("tester".into(), "mock/m".into())));
    assert_eq!(h.last_text(&parent).await, "integrated");
    h.engine.shutdown().await;
}
