//! Safety defaults through the real binary: baton's data is private, the
//! server answers only requests addressed to this machine and refuses
//! cross-site browser requests, and a clashing agent file is a reported
//! problem, never fatal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use std::os::unix::fs::PermissionsExt;

const HELLO: &str = r#"
[[rules]]
name = "shell"
[rules.when]
last_user = "^shell$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo secret-output", background = true } }]

[[rules]]
name = "hello"
[rules.reply]
text = "hello"
"#;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_database_and_logs_are_private() {
    let world = World::new(Wire::OpenAi, HELLO).await;
    // A home baton creates itself, under the usual umask.
    let home = world.home.path().join("data");
    let mut cmd = world.baton();
    cmd.env("BATON_HOME", &home).args(["run", "--yes", "shell"]);
    let run = Run::from(cmd.output().await.unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&home), 0o700);
    for name in ["baton.db", "baton.db-wal", "baton.db-shm"] {
        let path = home.join(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    let logs: Vec<_> = std::fs::read_dir(home.join("shells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!logs.is_empty());
    for log in logs {
        assert_eq!(mode(&log), 0o600, "{}", log.display());
    }

    // An older, looser home is tightened.
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        home.join("baton.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut cmd = world.baton();
    cmd.env("BATON_HOME", &home).args(["run", "hi"]);
    assert_eq!(Run::from(cmd.output().await.unwrap()).code, 0);
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("baton.db")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_loopback_names_only_and_refuses_cross_site_requests() {
    let world = World::new(Wire::OpenAi, HELLO).await;
    world.append_config("[server]\ncors_origins = [\"http://localhost:3000\"]\n");
    let server = serve(&world, &[]).await;
    let api = Api::new(&world, &server.url);
    let http = reqwest::Client::new();
    let get = |host: Option<&'static str>, origin: Option<&'static str>| {
        let mut request = http
            .get(format!("{}/v1/sessions", server.url))
            .bearer_auth(&api.token);
        if let Some(host) = host {
            request = request.header("host", host);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    // As programs send it.
    assert_eq!(get(None, None).await.unwrap().status(), 200);
    assert_eq!(
        get(Some("localhost:4690"), None).await.unwrap().status(),
        200
    );
    // A DNS-rebound page: its own name in Host.
    let refused = get(Some("rebind.example:4690"), None).await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("--allow-remote"),
        "{body}"
    );
    // A cross-site page, and the origin the config allows.
    let refused = get(None, Some("https://evil.example")).await.unwrap();
    assert_eq!(refused.status(), 403);
    let allowed = get(None, Some("http://localhost:3000")).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_agent_file_named_build_is_a_problem_not_a_failure() {
    let world = World::new(Wire::OpenAi, HELLO).await;
    world.write(
        ".claude/agents/build.md",
        "---\nname: build\ndescription: Builds the project.\ntools: Read, Bash\n---\nYou build.\n",
    );
    let run = world.run(&["run", "hi"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("hello"));
    let list = world.run(&["agents", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("build.md"), "{}", list.stdout);
    assert!(list.stdout.contains("rename"), "{}", list.stdout);
}
