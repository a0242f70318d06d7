//! Agents and permissions through the real binary: `baton agents list`
//! with files from every source, `--agent plan` read-only, and headless
//! `ask` rules that never wait (denied by default, allowed with `--yes`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;

const HELLO: &str = r#"
[[rules]]
name = "hello"
[rules.reply]
text = "hello"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_list_shows_every_source_precedence_and_problems() {
    let w = World::new(Wire::OpenAi, HELLO).await;
    let user_claude = w.home.path().join(".claude/agents/rev.md");
    std::fs::create_dir_all(user_claude.parent().unwrap()).unwrap();
    std::fs::write(
        &user_claude,
        "---\nname: rev\ndescription: User-level reviewer.\ntools: Read\n---\nUser reviewer.\n",
    )
    .unwrap();
    // BATON_CONFIG's directory holds the user's own agent files.
    let user_baton = w.home.path().join("agents/helper.md");
    std::fs::create_dir_all(user_baton.parent().unwrap()).unwrap();
    std::fs::write(
        &user_baton,
        "---\ndescription: A user helper.\nmode: subagent\nmodel: fast\n---\nHelp.\n",
    )
    .unwrap();
    w.write(
        ".baton/agents/rev.md",
        "---\ndescription: Project reviewer.\nmode: subagent\n---\nProject reviewer.\n",
    );
    w.write(
        ".opencode/agents/writer.md",
        "---\ndescription: Writes docs.\nmode: subagent\ntools:\n  bash: false\ntop_p: 0.9\n---\nWrite.\n",
    );
    w.write(
        ".baton/agents/broken.md",
        "---\ndescription: [unclosed\n---\nx\n",
    );
    std::fs::write(
        &w.config,
        std::fs::read_to_string(&w.config).unwrap() + "[aliases]\nfast = \"mock/small\"\n",
    )
    .unwrap();

    let run = w.run(&["agents", "list", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let agents = v["agents"].as_array().unwrap();
    let by_name = |n: &str| agents.iter().find(|a| a["name"] == n).unwrap().clone();
    let names: Vec<&str> = agents.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "architect",
            "build",
            "developer",
            "explore",
            "general",
            "helper",
            "plan",
            "qa",
            "rev",
            "writer"
        ]
    );
    assert_eq!(by_name("build")["source"], "built-in");
    // The project's rev overrides the user's of the same name.
    let rev = by_name("rev");
    assert_eq!(rev["description"], "Project reviewer.");
    assert!(
        rev["source"].as_str().unwrap().starts_with("project"),
        "{rev}"
    );
    let helper = by_name("helper");
    assert!(
        helper["source"].as_str().unwrap().starts_with("user"),
        "{helper}"
    );
    assert_eq!(helper["resolved_model"], "mock/small");
    assert_eq!(
        by_name("writer")["disallowed_tools"],
        serde_json::json!(["bash"])
    );
    let problems = v["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["skipped"] == true && p["path"].as_str().unwrap().ends_with("broken.md")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["skipped"] == false && p["message"].as_str().unwrap().contains("top_p")),
        "{problems:?}"
    );

    let text = w.run(&["agents", "list"]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("Problems in agent files:"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("skipped"), "{}", text.stdout);
    assert!(text.stdout.contains("fast → mock/small"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_runs_read_only_and_sessions_show_names_the_provider() {
    let w = World::new(Wire::OpenAi, HELLO).await;
    let run = w
        .run(&["run", "--agent", "plan", "--format", "jsonl", "look around"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let request = &w.mock.requests()[0];
    let mut tools: Vec<&str> = request.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    tools.sort_unstable();
    assert!(
        tools.contains(&"read") && tools.contains(&"task"),
        "{tools:?}"
    );
    for changing in ["write", "edit", "bash", "shell_kill"] {
        assert!(!tools.contains(&changing), "plan was offered {changing}");
    }
    let id = w.session_ids().await.remove(0);
    let shown = w.show(&id).await;
    assert_eq!(shown["agent"], "plan");
    assert_eq!(shown["provider"], "mock");
}

const RUN_ECHO: &str = r#"
[[rules]]
name = "done"
[rules.when]
last_tool_result = "."
[rules.reply]
text = "finished"

[[rules]]
name = "run"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo ran > out.txt" } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_ask_is_denied_by_default_and_allowed_with_yes() {
    for yes in [false, true] {
        let w = World::new(Wire::OpenAi, RUN_ECHO).await;
        std::fs::write(
            &w.config,
            std::fs::read_to_string(&w.config).unwrap() + "[permission]\nbash = \"ask\"\n",
        )
        .unwrap();
        let mut args = vec!["run", "--format", "jsonl"];
        if yes {
            args.push("--yes");
        }
        args.push("go");
        let run = w.run(&args).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let events = run.events();
        assert!(!types(&events).contains(&"permission.requested".to_owned()));
        let done = events
            .iter()
            .find(|e| e["type"] == "tool.completed")
            .unwrap();
        if yes {
            assert_eq!(done["is_error"], false, "{done}");
            assert_eq!(w.read("out.txt"), "ran\n");
        } else {
            assert_eq!(done["is_error"], true, "{done}");
            assert!(
                done["output"].as_str().unwrap().contains("no one to ask"),
                "{done}"
            );
            assert!(!w.project.path().join("out.txt").exists());
        }
    }
}

/// A parent that starts two tasks at once: one names its own effort, the
/// other runs an agent whose file sets one.
const EFFORTS: &str = r#"
[[rules]]
name = "child"
[rules.when]
system = "baton sub-agent"
[rules.reply]
text = "child done"

[[rules]]
name = "delegate"
[rules.when]
last_user = "^go$"
no_tool_results = true
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "alpha", prompt = "task-alpha", reasoning_effort = "high" } },
  { name = "task", arguments = { description = "beta", prompt = "task-beta", agent = "thinker" } },
]

[[rules]]
name = "parent"
[rules.reply]
text = "ok"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_effort_comes_from_the_task_then_the_agent_then_the_config() {
    let world = World::new(Wire::OpenAi, EFFORTS).await;
    world.append_config("[agent]\nreasoning_effort = \"medium\"\n");
    world.write(
        ".baton/agents/thinker.md",
        "---\ndescription: Thinks little.\nmode: subagent\nreasoning_effort: low\n---\nYou think.\n",
    );
    let run = world.run(&["run", "--format", "jsonl", "go"]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    // Each session's calls, told apart by the first thing it was told.
    let effort_of = |first: &str| -> Vec<serde_json::Value> {
        world
            .mock
            .requests()
            .iter()
            .filter(|r| {
                r.body["messages"]
                    .as_array()
                    .and_then(|m| m.iter().find(|m| m["role"] == "user"))
                    .is_some_and(|m| m["content"].to_string().contains(first))
            })
            .map(|r| r.body["reasoning_effort"].clone())
            .collect()
    };
    // Every call of the parent has the config's.
    let parent = effort_of("\"go\"");
    assert!(!parent.is_empty());
    assert!(parent.iter().all(|e| e == "medium"), "{parent:?}");
    assert_eq!(effort_of("task-alpha"), vec![serde_json::json!("high")]);
    assert_eq!(effort_of("task-beta"), vec![serde_json::json!("low")]);
}
