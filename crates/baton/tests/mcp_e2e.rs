//! `baton mcp list` through the real binary: servers from the config file
//! and from a trusted project's `.mcp.json`, their states and tools; an
//! untrusted project's `.mcp.json` is ignored, and baton says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_list_shows_sources_states_and_tools() {
    let w = World::new(Wire::OpenAi, "").await;
    w.append_config(&format!(
        "[mcp_servers.everything]\ncommand = {:?}\nargs = [\"stdio\"]\n\n\
         [mcp_servers.broken]\ncommand = \"/nonexistent/server\"\n\n\
         [mcp_servers.off]\ncommand = \"true\"\nenabled = false\n",
        everything_bin()
    ));
    w.write(
        ".mcp.json",
        &format!(
            r#"{{"mcpServers": {{"project-one": {{"command": {:?}, "args": ["stdio"]}}}}}}"#,
            everything_bin()
        ),
    );

    let run = w.run(&["mcp", "list"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {}", run.stdout))
            .to_owned()
    };
    assert!(line("everything").contains("running") && line("everything").contains("config file"));
    assert!(
        run.stdout.contains("    mcp__everything__echo  "),
        "{}",
        run.stdout
    );
    assert!(line("broken").contains("failed: cannot run `/nonexistent/server`"));
    assert!(line("off").contains("disabled"));
    // Untrusted: the project's servers are not started, and baton says so.
    assert!(!run.stdout.contains("project-one"), "{}", run.stdout);
    assert!(
        run.stderr.contains("the MCP servers of .mcp.json"),
        "{}",
        run.stderr
    );

    w.append_config(&format!(
        "\n[trust]\ntrusted = [{:?}]\n",
        w.project.path().to_string_lossy()
    ));
    let run = w.run(&["mcp", "list", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let servers = v["servers"].as_array().unwrap();
    let one = servers.iter().find(|s| s["name"] == "project-one").unwrap();
    assert!(
        one["source"].as_str().unwrap().starts_with(".mcp.json"),
        "{one}"
    );
    assert_eq!(one["state"], "running");
    assert!(
        one["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "mcp__project-one__echo")
    );
}
