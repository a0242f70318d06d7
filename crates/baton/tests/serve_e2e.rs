//! `baton serve` and `baton run --attach` end to end: the real binary as
//! a server, and as a client of it, against the mock model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use std::collections::HashMap;
use std::time::Duration;

/// Read a file, run a command, answer.
const SCRIPT: &str = r#"
[[rules]]
name = "answer"
[rules.when]
last_tool_result = "checked"
[rules.reply]
text = "All checked."

[[rules]]
name = "run"
[rules.when]
last_tool_result = "hello from the file"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "echo checked" } }]

[[rules]]
name = "read"
[rules.when]
last_user = "check"
no_tool_results = true
[rules.reply]
text = "Reading."
tool_calls = [{ name = "read", arguments = { path = "notes.txt" } }]
"#;

/// Events with what differs between two runs of one script (ids, times,
/// sequence numbers) replaced by stable placeholders.
fn normalized(events: &[serde_json::Value]) -> Vec<String> {
    let ids = regex::Regex::new(r"\b(ses|msg|task|sh|perm|ntc|call)_[0-9a-z]+").unwrap();
    let mut names: HashMap<String, String> = HashMap::new();
    events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let o = e.as_object_mut().unwrap();
            o.remove("seq");
            o.remove("ts");
            let text = e.to_string();
            ids.replace_all(&text, |c: &regex::Captures| {
                let n = names.len();
                names
                    .entry(c[0].to_owned())
                    .or_insert_with(|| format!("{}_{n}", &c[1]))
                    .clone()
            })
            .into_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_through_a_server_prints_the_same_jsonl_as_a_local_run() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    world.write("notes.txt", "hello from the file\n");
    let local = world
        .run(&["run", "--format", "jsonl", "check the notes"])
        .await;
    assert_eq!(local.code, 0, "{}", local.stderr);

    let mut server = serve(&world, &[]).await;
    let token_file = world.home.path().join("server.token");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is private");
    }
    let attached = world
        .run(&[
            "run",
            "--attach",
            &server.url,
            "--format",
            "jsonl",
            "check the notes",
        ])
        .await;
    assert_eq!(attached.code, 0, "{}", attached.stderr);

    let (local, attached) = (local.events(), attached.events());
    assert_eq!(
        types(&local).last().map(String::as_str),
        Some("session.quiet")
    );
    assert_eq!(normalized(&local), normalized(&attached));

    // The session lives in the server's store: a second attached run
    // continues it.
    let again = world
        .run(&[
            "run",
            "--attach",
            &server.url,
            "--continue",
            "--format",
            "jsonl",
            "check the notes",
        ])
        .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let again = again.events();
    assert_eq!(
        types(&again).first().map(String::as_str),
        Some("message.queued")
    );
    assert_eq!(
        again[0]["session_id"], attached[0]["session_id"],
        "the same session"
    );

    // SIGTERM stops the server cleanly.
    let pid = server.child.id().unwrap();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("the server stopped within 30 s")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_public_address_and_attach_needs_the_right_token() {
    let world = World::new(Wire::OpenAi, SCRIPT).await;
    let refused = world.run(&["serve", "--addr", "0.0.0.0:0"]).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--allow-remote"),
        "{}",
        refused.stderr
    );

    let server = serve(&world, &[]).await;
    let wrong = world
        .baton()
        .env("BATON_SERVER_TOKEN", "not-the-token")
        .args(["run", "--attach", &server.url, "check the notes"])
        .output()
        .await
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.to_lowercase().contains("token"), "{stderr}");
    assert!(world.session_ids().await.is_empty(), "nothing was created");

    let yes = world
        .run(&["run", "--attach", &server.url, "--yes", "check the notes"])
        .await;
    assert_eq!(yes.code, 2);
    assert!(yes.stderr.contains("--yes"), "{}", yes.stderr);
}
