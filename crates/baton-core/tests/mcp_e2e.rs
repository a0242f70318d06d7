//! MCP servers against the mock model: the reference servers from npm
//! (`@modelcontextprotocol/server-everything` and `server-filesystem`,
//! installed by `.ci/run` into `target/npm`, or where `BATON_TEST_NPM`
//! says), and a tiny fake server (python3, speaking the older
//! 2024-11-05 protocol) that crashes or hangs when told to.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_core::AskMode;
use baton_core::mcp::{McpHub, McpServerConfig, ServerState};
use baton_llm::{ModelInfo, Wire};
use baton_protocol::Part;
use common::*;
use std::path::PathBuf;

/// Where the npm packages are installed.
fn npm_bin(program: &str) -> String {
    let dir = std::env::var_os("BATON_TEST_NPM").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/npm"),
        PathBuf::from,
    );
    let bin = dir.join("node_modules/.bin").join(program);
    assert!(
        bin.exists(),
        "{} is missing: run `npm install --no-audit --no-fund --prefix target/npm \
         @modelcontextprotocol/server-everything @modelcontextprotocol/server-filesystem` \
         (what .ci/run does), or set BATON_TEST_NPM",
        bin.display()
    );
    bin.to_string_lossy().into_owned()
}

fn everything() -> McpServerConfig {
    McpServerConfig::stdio(npm_bin("mcp-server-everything"), vec!["stdio".into()])
}

/// On `go`, calls `tool` with `arguments` (TOML inline table); answers
/// with the result it got.
fn calling(tool: &str, arguments: &str) -> String {
    format!(
        r#"
[[rules]]
name = "answer"
[rules.when]
last_tool_result = "(?s)(?P<out>.+)"
[rules.reply]
text = "result: ${{out}}"

[[rules]]
name = "call"
[rules.when]
first_user = "go"
[rules.reply]
tool_calls = [{{ name = "{tool}", arguments = {arguments} }}]
"#
    )
}

fn allow_mcp(c: &mut baton_core::Config, server: &str, config: McpServerConfig) {
    c.mcp_servers.insert(server.into(), config);
    c.permission = toml::from_str(&format!("\"mcp__{server}__*\" = \"allow\"\n")).unwrap();
}

/// Runs `go` in a fresh session to the end; the session and the outputs
/// of `tool`.
async fn run(h: &Harness, tool: &str) -> (baton_protocol::SessionId, Vec<String>) {
    let mut f = Follower::new(&h.engine);
    let s = h.session().await;
    h.engine.send_message(&s, "go").await.unwrap();
    h.engine.wait_quiet(&s).await.unwrap();
    f.drain();
    (s, f.outputs(tool))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_calls_everythings_echo_and_reads_the_echo() {
    let script = calling("mcp__everything__echo", r#"{ message = "hello over mcp" }"#);
    let h = harness(&script, |c| allow_mcp(c, "everything", everything())).await;
    let (s, outputs) = run(&h, "mcp__everything__echo").await;
    assert_eq!(outputs, ["Echo: hello over mcp"]);
    assert_eq!(h.last_text(&s).await, "result: Echo: hello over mcp");
    // The model was offered the tool with the server's schema.
    let request = h.mock.requests().first().cloned().unwrap();
    let tools = request.body["tools"].to_string();
    assert!(
        tools.contains("mcp__everything__echo") && tools.contains("message"),
        "{tools}"
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_tool_asks_by_default_and_a_headless_run_denies_it() {
    let script = calling("mcp__everything__echo", r#"{ message = "hi" }"#);
    let h = harness_with(
        &script,
        |c| {
            c.mcp_servers.insert("everything".into(), everything());
        },
        |e| e.ask_mode = AskMode::Deny,
    )
    .await;
    let (_, outputs) = run(&h, "mcp__everything__echo").await;
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].contains("needs approval") && outputs[0].contains("the defaults for MCP tools"),
        "{}",
        outputs[0]
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filesystem_server_reads_a_file_of_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let file = dir_path.join("notes.txt");
    std::fs::write(&file, "the file's own words\n").unwrap();
    let script = calling(
        "mcp__fs__read_text_file",
        &format!("{{ path = {:?} }}", file.to_string_lossy()),
    );
    let server = McpServerConfig::stdio(
        npm_bin("mcp-server-filesystem"),
        vec![dir_path.to_string_lossy().into_owned()],
    );
    let h = harness(&script, |c| allow_mcp(c, "fs", server)).await;
    let (_, outputs) = run(&h, "mcp__fs__read_text_file").await;
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].contains("the file's own words"),
        "{}",
        outputs[0]
    );
    h.engine.shutdown().await;
}

/// Runs server-everything's `get-tiny-image` on `wire`, the model
/// reading images or not; the request that carried the result back.
async fn image_round_trip(wire: Wire, reads_images: Option<bool>) -> serde_json::Value {
    let script = calling("mcp__everything__get-tiny-image", "{}");
    let h = harness(&script, |c| {
        allow_mcp(c, "everything", everything());
        let provider = c.providers.get_mut("mock").unwrap();
        if wire == Wire::Anthropic {
            let url = provider.base_url.clone().unwrap();
            provider.base_url = Some(url.trim_end_matches("/v1").to_owned());
        }
        provider.wire = Some(wire);
        c.models.insert(
            "mock/m".into(),
            ModelInfo {
                context_window: 200_000,
                max_output_tokens: None,
                input_per_mtok: None,
                output_per_mtok: None,
                cache_read_per_mtok: None,
                cache_write_per_mtok: None,
                images: reads_images,
            },
        );
    })
    .await;
    let (s, outputs) = run(&h, "mcp__everything__get-tiny-image").await;
    assert_eq!(outputs.len(), 1);
    assert!(outputs[0].contains("[image: image/png, "), "{}", outputs[0]);
    // The mock checks images as the provider does: the answer came from
    // the rule, not from a refusal.
    let requests = h.mock.requests();
    assert_eq!(requests.len(), 2, "{wire:?}");
    assert_eq!(
        requests[1].matched_rule.as_deref(),
        Some("answer"),
        "{wire:?}"
    );
    // The stored result keeps the image, whatever the model reads.
    let stored = h.store.messages(&s).await.unwrap();
    let images: Vec<_> = stored
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::ToolResult { images, .. } => Some(images),
            _ => None,
        })
        .collect();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].len(), 1);
    assert_eq!(images[0][0].mime_type, "image/png");
    h.engine.shutdown().await;
    requests[1].body.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_result_reaches_a_model_that_reads_images_on_every_wire() {
    let body = image_round_trip(Wire::Anthropic, Some(true)).await;
    let result = &body["messages"][2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["content"][1]["type"], "image", "{result}");
    assert_eq!(result["content"][1]["source"]["media_type"], "image/png");

    let body = image_round_trip(Wire::Responses, Some(true)).await;
    let output = &body["input"][2]["output"];
    assert_eq!(output[1]["type"], "input_image", "{output}");
    assert!(
        output[1]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );

    let body = image_round_trip(Wire::OpenAi, Some(true)).await;
    let messages = body["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user", "{last}");
    assert_eq!(last["content"][1]["type"], "image_url");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_not_known_to_read_images_gets_the_text_line_only() {
    let body = image_round_trip(Wire::Anthropic, None).await;
    let result = &body["messages"][2]["content"][0];
    assert!(
        result["content"]
            .as_str()
            .is_some_and(|text| text.contains("[image: image/png, ")),
        "{result}"
    );
    let body = image_round_trip(Wire::OpenAi, Some(false)).await;
    assert!(!body.to_string().contains("image_url"), "{body}");
}

/// server-everything serving streamable HTTP on a free port, once it
/// says it listens; killed when dropped.
async fn everything_over_http() -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(npm_bin("mcp-server-everything"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("listening on port") {
                return;
            }
        }
        panic!("server-everything ended before it listened");
    })
    .await
    .expect("server-everything listens within 30 s");
    // Keep reading its log, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://127.0.0.1:{port}/mcp"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_server_is_called_like_a_stdio_one() {
    let (_server, url) = everything_over_http().await;
    let script = calling("mcp__web__echo", r#"{ message = "over http" }"#);
    let h = harness(&script, |c| {
        allow_mcp(c, "web", McpServerConfig::http(url, Default::default()))
    })
    .await;
    let (s, outputs) = run(&h, "mcp__web__echo").await;
    assert_eq!(outputs, ["Echo: over http"]);
    assert_eq!(h.last_text(&s).await, "result: Echo: over http");
    h.engine.shutdown().await;
}

/// A stdio MCP server that answers `initialize` with the older
/// 2024-11-05 protocol; its `crash` tool exits the process the first time
/// (leaving `marker`), `hang` never answers, `hello` says hello.
const FAKE_SERVER: &str = r#"
import json, os, sys
marker = sys.argv[1]
tools = [{"name": n, "description": n + " tool", "inputSchema": {"type": "object"}} for n in ("crash", "hang", "hello")]
for line in sys.stdin:
    msg = json.loads(line)
    method, mid = msg.get("method"), msg.get("id")
    def reply(result):
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": mid, "result": result}) + "\n")
        sys.stdout.flush()
    if mid is None:
        continue
    if method == "initialize":
        reply({"protocolVersion": "2024-11-05", "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}})
    elif method == "tools/list":
        reply({"tools": tools})
    elif method == "tools/call":
        name = msg["params"]["name"]
        if name == "crash" and not os.path.exists(marker):
            open(marker, "w").close()
            sys.exit(3)
        if name == "hang":
            continue
        reply({"content": [{"type": "text", "text": name + " answered"}]})
    else:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "no " + str(method)}}) + "\n")
        sys.stdout.flush()
"#;

fn fake_server(dir: &std::path::Path, tool_timeout_ms: u64) -> McpServerConfig {
    let script = dir.join("fake_mcp.py");
    std::fs::write(&script, FAKE_SERVER).unwrap();
    McpServerConfig {
        tool_timeout_ms,
        ..McpServerConfig::stdio(
            "python3",
            vec![
                script.to_string_lossy().into_owned(),
                dir.join("crashed-once").to_string_lossy().into_owned(),
            ],
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_server_is_restarted_once_and_the_call_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(&calling("mcp__fake__crash", "{}"), |c| {
        allow_mcp(c, "fake", fake_server(dir.path(), 10_000))
    })
    .await;
    let (_, outputs) = run(&h, "mcp__fake__crash").await;
    assert!(
        dir.path().join("crashed-once").exists(),
        "the server never crashed"
    );
    assert_eq!(outputs, ["crash answered"]);
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_that_never_answers_fails_after_its_timeout_and_the_turn_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(&calling("mcp__fake__hang", "{}"), |c| {
        allow_mcp(c, "fake", fake_server(dir.path(), 300))
    })
    .await;
    let (s, outputs) = run(&h, "mcp__fake__hang").await;
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].contains("did not answer the call of `hang` within 300 ms"),
        "{}",
        outputs[0]
    );
    assert!(h.last_text(&s).await.starts_with("result: "));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_turn_abandons_a_call_in_flight_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // Ten minutes: only the cancel can end this call.
    let h = harness(&calling("mcp__fake__hang", "{}"), |c| {
        allow_mcp(c, "fake", fake_server(dir.path(), 600_000))
    })
    .await;
    let mut f = Follower::new(&h.engine);
    let s = h.session().await;
    h.engine.send_message(&s, "go").await.unwrap();
    let started = f
        .until("the call", |e| {
            matches!(&e.kind, baton_protocol::EventKind::ToolStarted { name, .. } if name == "mcp__fake__hang")
        })
        .await;
    h.engine.cancel_session(&s).await.unwrap();
    h.engine.wait_quiet(&s).await.unwrap();
    f.drain();
    let outputs = f.outputs("mcp__fake__hang");
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].contains("the call of `hang` on MCP server `fake` was abandoned"),
        "{}",
        outputs[0]
    );
    let ended = f
        .seen
        .iter()
        .find(|e| is_type(e, "turn.completed"))
        .unwrap();
    assert!(ended.seq > started.seq);
    assert_eq!(h.mock.requests().len(), 1, "no model call after the cancel");
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_gives_a_notice_and_no_tools() {
    let broken = McpServerConfig::stdio("/nonexistent/mcp-server", Vec::new());
    let h = harness(&calling("mcp__broken__x", "{}"), |c| {
        allow_mcp(c, "broken", broken)
    })
    .await;
    let mut f = Follower::new(&h.engine);
    let s = h.session().await;
    h.engine.send_message(&s, "go").await.unwrap();
    h.engine.wait_quiet(&s).await.unwrap();
    f.drain();
    let notices: Vec<String> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            baton_protocol::EventKind::Error { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert!(
        notices
            .iter()
            .any(|m| m.contains("MCP server `broken` is not available")
                && m.contains("/nonexistent/mcp-server")),
        "{notices:?}"
    );
    let outputs = f.outputs("mcp__broken__x");
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].contains("There is no tool called"),
        "{}",
        outputs[0]
    );
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_lists_servers_and_an_older_protocol_server_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut servers = std::collections::BTreeMap::new();
    servers.insert("fake".to_owned(), fake_server(dir.path(), 10_000));
    servers.insert(
        "off".to_owned(),
        McpServerConfig {
            enabled: false,
            ..McpServerConfig::stdio("true", Vec::new())
        },
    );
    let hub = McpHub::new(servers);
    assert_eq!(
        hub.states().await,
        [
            ("fake".to_owned(), ServerState::NotStarted),
            ("off".to_owned(), ServerState::Disabled)
        ]
    );
    let reports = hub.list().await;
    assert_eq!(reports[0].state, ServerState::Running);
    let names: Vec<&str> = reports[0].tools.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["mcp__fake__crash", "mcp__fake__hang", "mcp__fake__hello"]
    );
    assert_eq!(reports[1].state, ServerState::Disabled);
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_a_client_brings_serve_that_tree_only() {
    let script = calling("mcp__brought__echo", r#"{ message = "from the client" }"#);
    let h = harness(&script, |c| {
        // A configured server of one name the client also uses.
        c.mcp_servers.insert("everything".into(), everything());
        c.permission = toml::from_str("\"mcp__*\" = \"allow\"\n").unwrap();
    })
    .await;
    let spec = |name: &str| baton_protocol::api::McpServerSpec {
        name: name.into(),
        command: Some(npm_bin("mcp-server-everything")),
        args: vec!["stdio".into()],
        ..Default::default()
    };
    let mine = h.session().await;
    let notices = h
        .engine
        .use_mcp_servers(&mine, vec![spec("brought"), spec("everything")])
        .await
        .unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("`everything`"), "{notices:?}");

    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&mine, "go").await.unwrap();
    h.engine.wait_quiet(&mine).await.unwrap();
    f.drain();
    assert_eq!(f.outputs("mcp__brought__echo"), ["Echo: from the client"]);

    // Another tree is offered the configured servers, not the client's.
    let other = h.session().await;
    h.engine.send_message(&other, "go").await.unwrap();
    h.engine.wait_quiet(&other).await.unwrap();
    let offered = |i: usize| h.mock.requests()[i].body["tools"].to_string();
    assert!(offered(0).contains("mcp__brought__echo"), "{}", offered(0));
    assert!(offered(0).contains("mcp__everything__echo"));
    let third = h.mock.requests().len() - 1;
    assert!(
        !offered(third).contains("mcp__brought__"),
        "{}",
        offered(third)
    );
    assert!(offered(third).contains("mcp__everything__echo"));

    // Bad servers are refused whole, and change nothing.
    for bad in [
        vec![baton_protocol::api::McpServerSpec {
            name: "half".into(),
            ..Default::default()
        }],
        vec![spec("twice"), spec("twice")],
    ] {
        let err = h.engine.use_mcp_servers(&other, bad).await.unwrap_err();
        assert!(
            matches!(err, baton_core::EngineError::Invalid(_)),
            "{err:?}"
        );
    }
    h.engine.shutdown().await;
}
