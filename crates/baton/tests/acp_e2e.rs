//! `baton acp` driven by an ACP client written with the official SDK
//! (`tests/acp/client.mjs`, on `@agentclientprotocol/sdk` from npm), the
//! model being the mock over real HTTP.
//!
//! The client numbers everything it receives in arrival order; the tests
//! check what came and in which order from those numbers.

// Helper functions in test files are not covered by clippy's test exemption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_mock_llm::Wire;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Runs the SDK client's `scenario` against `baton acp` in `world`; what
/// it saw, in order.
async fn client(world: &World, scenario: &str, env: &[(&str, &str)]) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/acp/client.mjs");
    let mut cmd = world.command("node");
    cmd.arg(script)
        .arg(scenario)
        .env("BATON_BIN", env!("CARGO_BIN_EXE_baton"))
        .env(
            "BATON_TEST_NPM",
            npm_dir("@agentclientprotocol/sdk/package.json"),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the ACP client finished within a minute")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let seen: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the client failed:\n{stdout}\nstderr:\n{stderr}"
    );
    let exited = seen.last().expect("the client printed something");
    assert_eq!(exited["kind"], "agent_exited", "{stdout}\n{stderr}");
    assert_eq!(exited["code"], 0, "baton acp exit code; stderr:\n{stderr}");
    seen
}

/// The first entry for which `pick` holds.
fn find(seen: &[Value], pick: impl Fn(&Value) -> bool) -> &Value {
    seen.iter()
        .find(|e| pick(e))
        .unwrap_or_else(|| panic!("not seen; got:\n{}", dump(seen)))
}

fn dump(seen: &[Value]) -> String {
    seen.iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn update<'a>(e: &'a Value, session: &str, kind: &str) -> Option<&'a Value> {
    (e["kind"] == "update" && e["sessionId"] == session && e["update"]["sessionUpdate"] == kind)
        .then(|| &e["update"])
}

fn n(e: &Value) -> u64 {
    e["n"].as_u64().unwrap()
}

fn root_of(seen: &[Value]) -> String {
    find(seen, |e| e["kind"] == "session")["response"]["sessionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

const PLAIN: &str = r#"
[[rules]]
name = "done"
[rules.when]
last_tool_result = "hello-from-bash"
[rules.reply]
text = "The command said hello."

[[rules]]
name = "greet"
[rules.when]
last_user = "^say hello$"
[rules.reply]
reasoning = "The person wants a greeting."
tool_calls = [{ name = "bash", arguments = { command = "echo hello-from-bash" } }]

[[rules]]
name = "remove"
[rules.when]
last_user = "^remove it$"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "rm victim.txt" } }]

[[rules]]
name = "removed"
[rules.when]
last_user = "^remove it$"
[rules.reply]
text = "Handled the removal."
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_turn_streams_thoughts_a_command_and_the_answer_then_ends() {
    let world = World::new(Wire::OpenAi, PLAIN).await;
    let seen = client(&world, "plain", &[("PROMPT", "say hello")]).await;
    let root = root_of(&seen);
    let session = find(&seen, |e| e["kind"] == "session");
    assert_eq!(session["response"]["modes"]["currentModeId"], "build");
    assert_eq!(
        session["response"]["configOptions"][0]["currentValue"],
        "mock/test-model"
    );
    let thought = find(&seen, |e| update(e, &root, "agent_thought_chunk").is_some());
    let call = find(&seen, |e| update(e, &root, "tool_call").is_some());
    assert_eq!(call["update"]["kind"], "execute");
    assert_eq!(call["update"]["title"], "echo hello-from-bash");
    let call_id = call["update"]["toolCallId"].as_str().unwrap();
    let done = find(&seen, |e| {
        update(e, &root, "tool_call_update")
            .is_some_and(|u| u["toolCallId"] == call_id && u["status"] == "completed")
    });
    assert!(
        done["update"]["content"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("hello-from-bash"),
        "{done}"
    );
    let text: String = seen
        .iter()
        .filter_map(|e| update(e, &root, "agent_message_chunk"))
        .map(|u| u["content"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "The command said hello.");
    let answer = find(&seen, |e| e["kind"] == "prompt_response");
    assert_eq!(answer["response"]["stopReason"], "end_turn");
    let last_text = seen
        .iter()
        .rfind(|e| update(e, &root, "agent_message_chunk").is_some())
        .unwrap();
    assert!(n(thought) < n(call) && n(call) < n(done) && n(done) < n(last_text));
    assert!(
        n(last_text) < n(answer),
        "every update of the turn comes before its answer"
    );

    // The same session, loaded by a new client: its conversation replayed.
    let loaded = client(&world, "load", &[("SESSION", &root)]).await;
    let replayed: Vec<&str> = loaded
        .iter()
        .filter(|e| e["kind"] == "update" && e["sessionId"] == root.as_str())
        .map(|e| e["update"]["sessionUpdate"].as_str().unwrap())
        .collect();
    assert_eq!(
        replayed,
        [
            "user_message_chunk",
            "agent_thought_chunk",
            "tool_call",
            "agent_message_chunk"
        ]
    );
    let replayed_call = find(&loaded, |e| update(e, &root, "tool_call").is_some());
    assert_eq!(replayed_call["update"]["status"], "completed");
    assert!(n(find(&loaded, |e| e["kind"] == "loaded")) > n(replayed_call));
}

const ANSWERS: &str = r#"
[[rules]]
name = "answer"
[rules.reply]
text = "Here is the plan."
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mode_is_an_agent_and_setting_one_runs_the_next_turn_as_it() {
    let world = World::new(Wire::OpenAi, ANSWERS).await;
    world.write(
        ".baton/agents/lead.md",
        "---\ndescription: Leads on the big model.\nmode: primary\nmodel: mock/big\n---\nYou lead.\n",
    );
    let seen = client(
        &world,
        "plain",
        &[
            ("PROMPT", "how would you split the parser?"),
            ("MODE", "plan"),
            ("MODE_AFTER", "explore,lead"),
            ("WAIT_MODE", "lead"),
        ],
    )
    .await;
    let root = root_of(&seen);
    let session = find(&seen, |e| e["kind"] == "session");
    let modes: Vec<&str> = session["response"]["modes"]["availableModes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        modes.contains(&"plan") && modes.contains(&"build"),
        "{modes:?}"
    );
    let set = find(&seen, |e| e["kind"] == "mode_set");
    assert_eq!(set["modeId"], "plan");
    let told = find(&seen, |e| {
        update(e, &root, "current_mode_update").is_some_and(|u| u["currentModeId"] == "plan")
    });
    let answer = find(&seen, |e| e["kind"] == "prompt_response");
    assert_eq!(answer["response"]["stopReason"], "end_turn");
    assert!(n(told) < n(answer), "{}", dump(&seen));

    // The turn ran as `plan`: its prompt and its tools.
    let requests = world.mock.requests();
    assert_eq!(requests.len(), 1);
    let system = requests[0].body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("plan mode"), "{system}");
    let tools: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(
        !tools.contains(&"bash") && tools.contains(&"read"),
        "{tools:?}"
    );

    // A sub-agent is no mode: refused in the engine's words, nothing changed.
    let refused = find(&seen, |e| e["kind"] == "mode_error");
    assert_eq!(refused["modeId"], "explore");
    assert!(
        refused["error"].as_str().unwrap().contains("sub-agent"),
        "{refused}"
    );
    let modes_told: Vec<&str> = seen
        .iter()
        .filter_map(|e| update(e, &root, "current_mode_update"))
        .map(|u| u["currentModeId"].as_str().unwrap())
        .collect();
    assert_eq!(modes_told, ["plan", "lead"]);

    // An agent with a model of its own brings it, and the client's model
    // option follows.
    let lead = find(&seen, |e| e["kind"] == "mode_set" && e["modeId"] == "lead");
    assert!(n(lead) > n(refused));
    let option = seen
        .iter()
        .rev()
        .find_map(|e| update(e, &root, "config_option_update"))
        .unwrap();
    assert_eq!(option["configOptions"][0]["currentValue"], "mock/big");
}

const ECHO_VIA_MCP: &str = r#"
[[rules]]
name = "echoed"
[rules.when]
last_tool_result = "Echo: hi from the editor"
[rules.reply]
text = "The editor's server echoed."

[[rules]]
name = "echo"
[rules.when]
last_user = "^echo it$"
[rules.reply]
tool_calls = [{ name = "mcp__editor__echo", arguments = { message = "hi from the editor" } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_mcp_servers_offer_their_tools_to_the_session() {
    let world = World::new(Wire::OpenAi, ECHO_VIA_MCP).await;
    let servers = serde_json::json!([
        { "name": "editor", "command": everything_bin(), "args": ["stdio"], "env": [] }
    ])
    .to_string();
    let seen = client(
        &world,
        "plain",
        &[("PROMPT", "echo it"), ("MCP_SERVERS", &servers)],
    )
    .await;
    let root = root_of(&seen);
    let init = find(&seen, |e| e["kind"] == "initialized");
    assert_eq!(
        init["response"]["agentCapabilities"]["mcpCapabilities"]["http"],
        true
    );

    // The model was offered the server's tools under the server's name.
    let requests = world.mock.requests();
    let tools: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"mcp__editor__echo"), "{tools:?}");

    // An MCP tool asks first; allowed, its result reached the model.
    let asked = find(&seen, |e| e["kind"] == "permission");
    assert_eq!(asked["request"]["sessionId"], root.as_str());
    let answer = find(&seen, |e| e["kind"] == "prompt_response");
    assert_eq!(answer["response"]["stopReason"], "end_turn");
    assert!(n(asked) < n(answer));
    let text: String = seen
        .iter()
        .filter_map(|e| update(e, &root, "agent_message_chunk"))
        .map(|u| u["content"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "The editor's server echoed.");
    assert_eq!(requests.len(), 2, "the call, then the answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ask_is_a_permission_request_and_its_answer_is_obeyed() {
    for (answer, kept) in [("deny", true), ("allow_once", false)] {
        let world = World::new(Wire::Anthropic, PLAIN).await;
        world.append_config("[permission]\nbash = { \"rm *\" = \"ask\", \"*\" = \"allow\" }\n");
        world.write("victim.txt", "precious");
        let seen = client(
            &world,
            "plain",
            &[("PROMPT", "remove it"), ("ANSWER", answer)],
        )
        .await;
        let root = root_of(&seen);
        let asked = find(&seen, |e| e["kind"] == "permission");
        let request = &asked["request"];
        assert_eq!(request["sessionId"], root.as_str());
        assert_eq!(request["toolCall"]["title"], "rm victim.txt");
        let options: Vec<&str> = request["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(options, ["allow_once", "allow_always", "reject_once"]);
        let call = find(&seen, |e| update(e, &root, "tool_call").is_some());
        assert_eq!(
            request["toolCall"]["toolCallId"], call["update"]["toolCallId"],
            "the request names the call the client saw start"
        );
        let ended = find(&seen, |e| {
            update(e, &root, "tool_call_update").is_some_and(|u| u.get("status").is_some())
        });
        let expected = if kept { "failed" } else { "completed" };
        assert_eq!(ended["update"]["status"], expected, "{answer}: {ended}");
        assert!(n(asked) < n(ended));
        assert_eq!(
            world.project.path().join("victim.txt").exists(),
            kept,
            "{answer}"
        );
        let response = find(&seen, |e| e["kind"] == "prompt_response");
        assert_eq!(response["response"]["stopReason"], "end_turn");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_session_ends_its_prompt_as_cancelled() {
    let script = r#"
[[rules]]
name = "long"
[rules.when]
last_user = "^wait$"
no_tool_results = true
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while :; do sleep 0.05; done" } }]

[[rules]]
[rules.reply]
text = "should not be called"
"#;
    let world = World::new(Wire::OpenAi, script).await;
    let seen = client(&world, "cancel", &[("PROMPT", "wait")]).await;
    let root = root_of(&seen);
    let cancelling = find(&seen, |e| e["kind"] == "cancelling");
    let answer = find(&seen, |e| e["kind"] == "prompt_response");
    assert_eq!(answer["response"]["stopReason"], "cancelled");
    assert!(n(cancelling) < n(answer));
    assert!(
        !seen
            .iter()
            .any(|e| update(e, &root, "agent_message_chunk").is_some()),
        "no model call after the cancel: {}",
        dump(&seen)
    );
}

const FANOUT: &str = r#"
[[rules]]
name = "parent-go"
[rules.when]
last_user = "^fan out$"
no_tool_results = true
[rules.reply]
tool_calls = [
  { name = "task", arguments = { description = "build", prompt = "build it" } },
  { name = "task", arguments = { description = "test", prompt = "test it" } },
  { name = "task", arguments = { description = "hang", prompt = "hang forever" } },
]

[[rules]]
name = "parent-ack"
[rules.when]
last_user = "^fan out$"
[rules.reply]
text = "Delegated three tasks."

[[rules]]
name = "child-built"
[rules.when]
system = "baton sub-agent"
first_user = "build it"
last_tool_result = "gate-open-42"
[rules.reply]
text = "built: ok"

[[rules]]
name = "child-tested"
[rules.when]
system = "baton sub-agent"
first_user = "test it"
last_tool_result = "gate-open-42"
[rules.reply]
text = "tested: ok"

[[rules]]
name = "child-wait"
[rules.when]
system = "baton sub-agent"
first_user = "(build|test) it"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "GATE_WAIT" } }]

[[rules]]
name = "child-hang"
[rules.when]
system = "baton sub-agent"
first_user = "hang forever"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while :; do sleep 0.05; done" } }]

[[rules]]
name = "parent-integrate"
[rules.when]
last_user = "(?P<what>built|tested): ok"
[rules.reply]
text = "All done: ${what} is ok."

[[rules]]
name = "parent-noted"
[rules.reply]
text = "Noted."
"#;

/// The fan-out scenario: three children (two wait for a gate the client
/// opens once its prompt is answered, one runs until it is cancelled),
/// with or without the subagents capability.
async fn fan_out(subagents: bool) -> Vec<Value> {
    let gate_dir = tempfile::tempdir().unwrap();
    let gate = gate_dir.path().join("gate");
    let script = FANOUT.replace("GATE_WAIT", &wait_for_gate(&gate));
    let world = World::new(Wire::OpenAi, &script).await;
    client(
        &world,
        "fanout",
        &[
            ("PROMPT", "fan out"),
            ("GATE", gate.to_str().unwrap()),
            ("CANCEL_TITLE", if subagents { "hang" } else { "none" }),
            ("DONE_TEXT", "All done"),
            (
                "WAIT_ENDED",
                if subagents {
                    "build,test,hang"
                } else {
                    "build,test"
                },
            ),
            ("SUBAGENTS", if subagents { "1" } else { "0" }),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_answers_its_prompt_before_the_children_end_and_streams_them_as_sub_agents() {
    let seen = fan_out(true).await;
    let root = root_of(&seen);
    let answer = find(&seen, |e| e["kind"] == "prompt_response");
    assert_eq!(answer["response"]["stopReason"], "end_turn");
    let gate_opened = find(&seen, |e| e["kind"] == "gate_opened");
    assert!(
        n(answer) < n(gate_opened),
        "the prompt was answered while every child still waited"
    );

    // Each child: announced on the root before any traffic of its own.
    let announced: Vec<&Value> = seen
        .iter()
        .filter(|e| update(e, &root, "subagent_update").is_some_and(|u| u["title"].is_string()))
        .collect();
    let titles: Vec<&str> = announced
        .iter()
        .map(|e| e["update"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["build", "test", "hang"]);
    for a in &announced {
        let child = a["update"]["sessionId"].as_str().unwrap();
        let first_announce = find(&seen, |e| {
            update(e, &root, "subagent_update").is_some_and(|u| u["sessionId"] == child)
        });
        assert!(first_announce["update"]["capabilities"]["cancel"].is_object());
        let first_own = find(&seen, |e| e["kind"] == "update" && e["sessionId"] == child);
        assert!(n(first_announce) < n(first_own), "{child} announced first");
        // Its prompt, as a message from the root.
        let message = find(&seen, |e| update(e, child, "session_message").is_some());
        assert_eq!(message["update"]["senderSessionId"], root.as_str());
        // Its own command, under its own id.
        assert!(
            seen.iter()
                .any(|e| update(e, child, "tool_call").is_some_and(|u| u["kind"] == "execute")),
            "{child} has its tool call"
        );
    }
    let child = |title: &str| {
        announced
            .iter()
            .find(|e| e["update"]["title"] == title)
            .unwrap()["update"]["sessionId"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // The children that finished went idle after the prompt was answered.
    for title in ["build", "test"] {
        let id = child(title);
        let idle = find(&seen, |e| {
            update(e, &root, "subagent_update").is_some_and(|u| {
                u["sessionId"] == id.as_str()
                    && u["state"]["state"] == "idle"
                    && u["state"]["stopReason"] == "end_turn"
            })
        });
        assert!(n(idle) > n(answer), "{title} ended after the answer");
        let said: String = seen
            .iter()
            .filter_map(|e| update(e, &id, "agent_message_chunk"))
            .map(|u| u["content"]["text"].as_str().unwrap().to_owned())
            .collect();
        let expected = if title == "build" {
            "built: ok"
        } else {
            "tested: ok"
        };
        assert_eq!(said, expected);
    }

    // Cancelling one child ended that child only.
    let hang = child("hang");
    let cancelling = find(&seen, |e| e["kind"] == "cancelling");
    assert_eq!(cancelling["sessionId"], hang.as_str());
    let cancelled = find(&seen, |e| {
        update(e, &root, "subagent_update").is_some_and(|u| {
            u["sessionId"] == hang.as_str() && u["state"]["stopReason"] == "cancelled"
        })
    });
    assert!(n(cancelled) > n(cancelling));

    // The woken parent's turn streamed on the root, after the answer.
    let integrated = find(&seen, |e| {
        update(e, &root, "agent_message_chunk")
            .is_some_and(|u| u["content"]["text"].as_str().unwrap().contains("All done"))
    });
    assert!(n(integrated) > n(answer));
    let result_message = find(&seen, |e| {
        update(e, &root, "session_message").is_some_and(|u| {
            u["senderSessionId"] == child("build").as_str()
                || u["senderSessionId"] == child("test").as_str()
        })
    });
    assert!(
        result_message["update"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with(": ok"),
        "{result_message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_capability_the_children_are_tool_calls_of_the_root() {
    let seen = fan_out(false).await;
    let root = root_of(&seen);
    assert!(
        seen.iter()
            .all(|e| e["kind"] != "update" || e["sessionId"] == root.as_str()),
        "only the root's traffic: {}",
        dump(&seen)
    );
    assert!(
        seen.iter()
            .all(|e| e["update"]["sessionUpdate"] != "subagent_update"),
        "no subagent_update without the capability"
    );
    let summary = find(&seen, |e| {
        update(e, &root, "tool_call").is_some_and(|u| u["title"] == "general: build")
    });
    let id = summary["update"]["toolCallId"].as_str().unwrap();
    let closed = find(&seen, |e| {
        update(e, &root, "tool_call_update")
            .is_some_and(|u| u["toolCallId"] == id && u["status"] == "completed")
    });
    assert_eq!(
        closed["update"]["content"][0]["content"]["text"],
        "built: ok"
    );
}
