//! Shared harness for end-to-end tests: a mock model over real HTTP, a
//! scratch project, a private BATON_HOME, and the real `baton` binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use baton_mock_llm::{MockServer, Script, Wire};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One test's world.
pub struct World {
    pub mock: MockServer,
    pub project: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub config: PathBuf,
    pub wire: Wire,
}

impl World {
    /// A world whose `mock` provider speaks `wire` and follows `script`.
    pub async fn new(wire: Wire, script: &str) -> World {
        Self::with_dirs(
            wire,
            script,
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        )
        .await
    }

    /// The same, with the project and the home directory made in `base`
    /// (for tests that need them outside the system temp directory).
    pub async fn new_in(wire: Wire, script: &str, base: &Path) -> World {
        let project = tempfile::tempdir_in(base).unwrap();
        let home = tempfile::tempdir_in(base).unwrap();
        Self::with_dirs(wire, script, project, home).await
    }

    async fn with_dirs(
        wire: Wire,
        script: &str,
        project: tempfile::TempDir,
        home: tempfile::TempDir,
    ) -> World {
        let script = Script::from_toml(script).expect("test script parses");
        let mock = MockServer::start(script).await.expect("mock starts");
        let config = home.path().join("config.toml");
        let (wire_name, base) = match wire {
            Wire::OpenAi => ("openai", mock.openai_base_url()),
            Wire::Anthropic => ("anthropic", mock.anthropic_base_url()),
            Wire::Responses => ("responses", mock.openai_base_url()),
        };
        std::fs::write(
            &config,
            format!(
                "model = \"mock/test-model\"\n\
                 [providers.mock]\nwire = \"{wire_name}\"\nbase_url = \"{base}\"\napi_key_env = \"BATON_TEST_KEY\"\n\
                 [retry]\nmax_retries = 2\ninitial_backoff_ms = 10\nmax_backoff_ms = 40\n"
            ),
        )
        .unwrap();
        World {
            mock,
            project,
            home,
            config,
            wire,
        }
    }

    /// Adds `text` at the end of the user config.
    pub fn append_config(&self, text: &str) {
        let config = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, format!("{config}{text}")).unwrap();
    }

    /// The `baton ARGS` command for a pseudo-terminal, set up like
    /// [`World::baton`].
    pub fn tui_command(&self, args: &[&str]) -> portable_pty::CommandBuilder {
        let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_baton"));
        cmd.args(args);
        cmd.cwd(self.project.path());
        cmd.env("BATON_HOME", self.home.path());
        cmd.env("HOME", self.home.path());
        cmd.env("BATON_CONFIG", &self.config);
        cmd.env("BATON_TEST_KEY", "sk-test");
        cmd.env("TERM", "xterm-256color");
        for var in [
            "XDG_CONFIG_HOME",
            "BATON_MODEL",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "BATON_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Writes a file into the project.
    pub fn write(&self, name: &str, content: &str) {
        let path = self.project.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Reads a file of the project.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.project.path().join(name)).unwrap()
    }

    /// The `baton` command, set up for this world.
    pub fn baton(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_baton"))
    }

    /// Any program, run in the project with this world's environment (so
    /// that the `baton` it starts is set up like [`World::baton`]'s).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.project.path())
            .env("BATON_HOME", self.home.path())
            // User-level agent files (~/.claude/agents, ...) come from here.
            .env("HOME", self.home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env("BATON_CONFIG", &self.config)
            .env("BATON_TEST_KEY", "sk-test")
            .env_remove("BATON_MODEL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("ANTHROPIC_BASE_URL")
            .env_remove("BATON_LOG")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `baton ARGS` to completion.
    pub async fn run(&self, args: &[&str]) -> Run {
        let output =
            tokio::time::timeout(Duration::from_secs(60), self.baton().args(args).output())
                .await
                .expect("baton finished within a minute")
                .expect("baton ran");
        Run::from(output)
    }

    /// Starts `baton ARGS` with piped stdout and stderr.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.baton()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("baton starts")
    }

    /// The session ids stored, via `baton sessions list --format json`.
    pub async fn session_ids(&self) -> Vec<String> {
        let run = self.run(&["sessions", "list", "--format", "json"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// One session as `baton sessions show ID --format json` prints it.
    pub async fn show(&self, id: &str) -> serde_json::Value {
        let run = self
            .run(&["sessions", "show", id, "--format", "json"])
            .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    }
}

/// A finished run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// The stdout lines parsed as JSON events.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl line {l:?}: {e}"))
            })
            .collect()
    }
}

/// Event types in order.
pub fn types(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Reads jsonl events from a running child's stdout until one satisfies
/// `until`; returns every event read so far. Panics after 30 s.
pub async fn read_until(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: &mut Vec<serde_json::Value>,
    until: impl Fn(&serde_json::Value) -> bool,
) {
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let hit = until(&v);
            seen.push(v);
            if hit {
                return true;
            }
        }
        false
    })
    .await
    .expect("the awaited event came within 30 s");
    assert!(
        found,
        "stdout closed before the awaited event; saw {seen:?}"
    );
}

/// Line reader over a child's stdout.
pub fn stdout_lines(child: &mut Child) -> tokio::io::Lines<BufReader<tokio::process::ChildStdout>> {
    BufReader::new(child.stdout.take().unwrap()).lines()
}

/// Sends SIGINT to a child (as Ctrl+C would).
pub async fn interrupt(child: &Child) {
    let pid = child.id().expect("child still running");
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

/// Every tool call in a stored conversation has exactly one result, and
/// no message is empty.
pub fn assert_consistent(session: &serde_json::Value) {
    let messages = session["messages"].as_array().unwrap();
    let mut open: Vec<String> = Vec::new();
    for m in messages {
        let parts = m["parts"].as_array().unwrap();
        assert!(!parts.is_empty(), "empty message stored: {m}");
        for p in parts {
            match p["type"].as_str().unwrap() {
                "tool_call" => open.push(p["call_id"].as_str().unwrap().to_owned()),
                "tool_result" => {
                    let id = p["call_id"].as_str().unwrap();
                    let pos = open
                        .iter()
                        .position(|o| o == id)
                        .unwrap_or_else(|| panic!("result for unknown call {id}"));
                    open.remove(pos);
                }
                _ => {}
            }
        }
    }
    assert!(open.is_empty(), "tool calls without results: {open:?}");
}

/// The project path as baton stores it.
pub fn canonical(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A running `baton serve` and the URL it printed.
pub struct Server {
    pub child: Child,
    pub url: String,
}

/// Starts `baton serve` on a free loopback port (plus `extra` arguments)
/// and reads the URL it prints first.
pub async fn serve(world: &World, extra: &[&str]) -> Server {
    let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = world.spawn(&args);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server printed its URL within 30 s")
        .unwrap()
        .expect("a first line");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    Server { child, url }
}

/// A small client of a running `baton serve`'s JSON API, for tests that
/// look at the raw answers.
pub struct Api {
    pub http: reqwest::Client,
    pub url: String,
    pub token: String,
}

impl Api {
    /// A client of the server at `url`, with the token it wrote.
    pub fn new(world: &World, url: &str) -> Api {
        let token = std::fs::read_to_string(world.home.path().join("server.token"))
            .unwrap()
            .trim()
            .to_owned();
        Api {
            http: reqwest::Client::new(),
            url: url.to_owned(),
            token,
        }
    }

    /// The status and the JSON answer (a JSON string of the body when it
    /// is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, value)
    }

    /// A POST with a JSON body.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// A GET that must succeed.
    pub async fn get(&self, path: &str) -> serde_json::Value {
        let (status, value) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {value}");
        value
    }

    /// Sends a session a message; true when it was acknowledged.
    pub async fn say(&self, session: &str, text: &str) -> bool {
        let (status, _) = self
            .post(
                &format!("/v1/sessions/{session}/messages"),
                serde_json::json!({ "text": text }),
            )
            .await;
        status == 202
    }
}

/// A shell loop that ends once `gate` exists, then prints `gate-open-42`
/// (computed, so only the output contains it, not the command).
pub fn wait_for_gate(gate: &Path) -> String {
    format!(
        "while [ ! -e {} ]; do sleep 0.05; done; echo gate-open-$((6*7))",
        gate.display()
    )
}

/// The npm prefix `.ci/run` installs into (`target/npm`, or
/// `BATON_TEST_NPM`), checked to hold `package` under its
/// `node_modules`.
pub fn npm_dir(package: &str) -> PathBuf {
    let dir = std::env::var_os("BATON_TEST_NPM").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/npm"),
        PathBuf::from,
    );
    let path = dir.join("node_modules").join(package);
    assert!(
        path.exists(),
        "{} is missing: run .ci/run's npm install",
        path.display()
    );
    dir
}

/// The reference MCP server `@modelcontextprotocol/server-everything`
/// installed by `.ci/run` (or under `BATON_TEST_NPM`).
pub fn everything_bin() -> String {
    npm_dir(".bin/mcp-server-everything")
        .join("node_modules/.bin/mcp-server-everything")
        .to_string_lossy()
        .into_owned()
}
