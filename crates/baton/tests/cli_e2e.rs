//! The CLI's other commands: `--version`, `mock-llm` as a process.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_prints_name_and_version() {
    let world = World::new(Wire::OpenAi, "").await;
    let run = world.run(&["--version"]).await;
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout.trim(),
        format!("baton {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_llm_process_serves_a_script_that_baton_run_uses() {
    let world = World::new(Wire::OpenAi, "").await;
    let script = world.home.path().join("script.toml");
    std::fs::write(
        &script,
        "[[rules]]\n[rules.when]\nlast_user = \"ping\"\n[rules.reply]\ntext = \"pong from the process\"\n",
    )
    .unwrap();
    let mut server = world
        .baton()
        .args([
            "mock-llm",
            "--script",
            script.to_str().unwrap(),
            "--port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("URL printed within 30 s")
        .unwrap()
        .expect("a first line");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    std::fs::write(
        &world.config,
        format!(
            "model = \"proc/m\"\n[providers.proc]\nwire = \"anthropic\"\nbase_url = \"{url}\"\n"
        ),
    )
    .unwrap();
    let run = world.run(&["run", "ping"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "pong from the process");

    let recorded: serde_json::Value = reqwest::get(format!("{url}/_mock/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = recorded.as_array().unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["wire"], "anthropic");
    assert_eq!(recorded[0]["headers"]["anthropic-version"], "2023-06-01");
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_llm_with_a_bad_script_exits_2_naming_the_line() {
    let world = World::new(Wire::OpenAi, "").await;
    let script = world.home.path().join("bad.toml");
    std::fs::write(
        &script,
        "[[rules]]\n[rules.when]\nlast_user = \"(unclosed\"\n",
    )
    .unwrap();
    let run = world
        .run(&["mock-llm", "--script", script.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("line 3"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_orchestrates_three_sub_agents_without_any_configuration() {
    let world = World::new(Wire::OpenAi, "").await;
    let run = world.run(&["demo"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("All three sub-agents are done"),
        "{}",
        run.stdout
    );
    for task in ["fix the typo", "count TODOs", "run the checks"] {
        assert!(
            run.stderr.contains(&format!("✓ task [{task}] completed")),
            "{task}: {}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("background shell"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("notes.txt now reads: The quick brown fox jumps over the lazy dog."),
        "{}",
        run.stderr
    );
    // Nothing of the demo lands in the user's own data directory.
    assert!(world.session_ids().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_list_text_and_show_text_read_well() {
    let script = "[[rules]]\n[rules.reply]\ntext = \"hello there\"\n";
    let world = World::new(Wire::OpenAi, script).await;
    let empty = world.run(&["sessions", "list"]).await;
    assert_eq!(empty.stdout.trim(), "no sessions yet");
    let run = world.run(&["run", "say hello"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = world.run(&["sessions", "list"]).await;
    assert!(list.stdout.contains("say hello"), "{}", list.stdout);
    assert!(list.stdout.contains("mock/test-model"), "{}", list.stdout);
    let id = world.session_ids().await.remove(0);
    let show = world.run(&["sessions", "show", &id]).await;
    assert!(show.stdout.contains("[user] say hello"), "{}", show.stdout);
    assert!(
        show.stdout.contains("[assistant] hello there"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("status   idle"), "{}", show.stdout);
}
