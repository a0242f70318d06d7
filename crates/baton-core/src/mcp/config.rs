//! MCP server settings: baton's `[mcp_servers.NAME]` tables, and, in a
//! trusted project, Claude Code's `.mcp.json` and opencode's
//! `opencode.json` `mcp` section.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a server's settings came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum McpSource {
    /// A baton config file's `[mcp_servers.NAME]`.
    #[default]
    Config,
    /// A project's `.mcp.json` (Claude Code's format).
    McpJson(PathBuf),
    /// A project's `opencode.json` `mcp` section.
    Opencode(PathBuf),
    /// A client (an editor over ACP), for one session tree.
    Client,
}

impl std::fmt::Display for McpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            McpSource::Config => f.write_str("config file"),
            McpSource::McpJson(path) => write!(f, ".mcp.json ({})", path.display()),
            McpSource::Opencode(path) => write!(f, "opencode.json ({})", path.display()),
            McpSource::Client => f.write_str("the client"),
        }
    }
}

/// When a server is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartMode {
    /// When the first session that may use its tools starts.
    #[default]
    Lazy,
    /// As the engine starts (in the background), so the first session
    /// finds it ready.
    Session,
}

/// One MCP server: a command speaking MCP on stdio, or a streamable HTTP
/// endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServerConfig {
    /// The program to run (stdio).
    #[serde(default)]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables added to baton's for it.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Its working directory (default: baton's).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// The endpoint (streamable HTTP).
    #[serde(default)]
    pub url: Option<String>,
    /// HTTP headers sent with every request (streamable HTTP).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Whether the server is used at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long starting it (up to its tool list) may take.
    #[serde(default = "startup_timeout")]
    pub startup_timeout_ms: u64,
    /// How long one tool call may take before it fails.
    #[serde(default = "tool_timeout")]
    pub tool_timeout_ms: u64,
    /// When it is started.
    #[serde(default)]
    pub start: StartMode,
    /// Where these settings came from (not read from files).
    #[serde(skip)]
    pub source: McpSource,
}

fn yes() -> bool {
    true
}

fn startup_timeout() -> u64 {
    10_000
}

fn tool_timeout() -> u64 {
    60_000
}

impl McpServerConfig {
    /// A stdio server running `command` with `args`, defaults elsewhere.
    pub fn stdio(command: impl Into<String>, args: Vec<String>) -> Self {
        McpServerConfig {
            command: Some(command.into()),
            args,
            env: BTreeMap::new(),
            cwd: None,
            url: None,
            headers: BTreeMap::new(),
            enabled: true,
            startup_timeout_ms: startup_timeout(),
            tool_timeout_ms: tool_timeout(),
            start: StartMode::Lazy,
            source: McpSource::Config,
        }
    }

    /// A streamable HTTP server at `url`, defaults elsewhere.
    pub fn http(url: impl Into<String>, headers: BTreeMap<String, String>) -> Self {
        McpServerConfig {
            command: None,
            url: Some(url.into()),
            headers,
            ..McpServerConfig::stdio("", Vec::new())
        }
    }

    /// What is wrong with these settings, if anything: exactly one of
    /// `command` and `url`, the keys of the other kind unset, timeouts
    /// above zero, a name tools can be named after.
    pub(super) fn check(&self, name: &str) -> Result<(), String> {
        let at = |key: &str, what: &str| format!("[mcp_servers.{name}] {key}: {what}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "MCP server name `{name}`: use letters, digits, `-` and `_` only (its tools are \
                 named `mcp__{name}__TOOL`)"
            ));
        }
        match (&self.command, &self.url) {
            (Some(_), Some(_)) => {
                return Err(at(
                    "url",
                    "set either `command` (a stdio server) or `url` (an HTTP server), not both",
                ));
            }
            (None, None) => {
                return Err(at(
                    "command",
                    "missing: set `command` (a stdio server) or `url` (an HTTP server)",
                ));
            }
            (Some(command), None) if command.trim().is_empty() => {
                return Err(at("command", "is empty"));
            }
            (Some(_), None) if !self.headers.is_empty() => {
                return Err(at("headers", "only an HTTP server (`url`) takes headers"));
            }
            (None, Some(url)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(at("url", &format!("`{url}` is not an http(s) URL")));
                }
                for (key, set) in [
                    ("args", !self.args.is_empty()),
                    ("env", !self.env.is_empty()),
                    ("cwd", self.cwd.is_some()),
                ] {
                    if set {
                        return Err(at(key, "only a stdio server (`command`) takes it"));
                    }
                }
            }
            _ => {}
        }
        for (key, value) in [
            ("startup_timeout_ms", self.startup_timeout_ms),
            ("tool_timeout_ms", self.tool_timeout_ms),
        ] {
            if value == 0 {
                return Err(at(key, "must be above 0"));
            }
        }
        Ok(())
    }
}

/// Reads `[mcp_servers]`, naming the server (and key) in every error.
pub(crate) fn servers<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, McpServerConfig>, D::Error> {
    let raw = BTreeMap::<String, toml::Value>::deserialize(d)?;
    let mut servers = BTreeMap::new();
    for (name, value) in raw {
        let server = McpServerConfig::deserialize(value).map_err(|e| {
            serde::de::Error::custom(format!("[mcp_servers.{name}] {}", e.message()))
        })?;
        server.check(&name).map_err(serde::de::Error::custom)?;
        servers.insert(name, server);
    }
    Ok(servers)
}

/// A problem with a project's `.mcp.json` or `opencode.json`.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct McpFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (which server and key included).
    pub message: String,
}

/// The project files other agents keep MCP servers in, that exist in
/// `project_dir`.
pub fn project_mcp_files(project_dir: &Path) -> Vec<PathBuf> {
    [".mcp.json", "opencode.json"]
        .into_iter()
        .map(|name| project_dir.join(name))
        .filter(|path| path.is_file())
        .collect()
}

/// The servers of a project's `.mcp.json` and `opencode.json` (the first
/// wins over the second for a name both have).
pub fn project_servers(
    project_dir: &Path,
) -> Result<BTreeMap<String, McpServerConfig>, McpFileError> {
    let mut servers = BTreeMap::new();
    for path in project_mcp_files(project_dir).into_iter().rev() {
        let text = std::fs::read_to_string(&path).map_err(|e| McpFileError {
            path: path.clone(),
            message: format!("cannot read: {e}"),
        })?;
        let parsed = if path.ends_with(".mcp.json") {
            parse_mcp_json(&text, &path)
        } else {
            parse_opencode_json(&text, &path)
        };
        let found = parsed.map_err(|message| McpFileError {
            path: path.clone(),
            message,
        })?;
        servers.extend(found);
    }
    Ok(servers)
}

/// Claude Code's `.mcp.json`: `{"mcpServers": {NAME: {"command", "args",
/// "env"} | {"type": "http", "url", "headers"}}}`.
pub fn parse_mcp_json(
    text: &str,
    path: &Path,
) -> Result<BTreeMap<String, McpServerConfig>, String> {
    #[derive(Deserialize)]
    struct File {
        #[serde(rename = "mcpServers", default)]
        servers: BTreeMap<String, Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "type")]
        kind: Option<String>,
        command: Option<String>,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        url: Option<String>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    }
    let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut servers = BTreeMap::new();
    for (name, entry) in file.servers {
        let mut server = match (entry.kind.as_deref(), entry.command, entry.url) {
            (None | Some("stdio"), Some(command), None) => McpServerConfig {
                env: entry.env,
                ..McpServerConfig::stdio(command, entry.args)
            },
            (None | Some("http" | "streamable-http"), None, Some(url)) => {
                McpServerConfig::http(url, entry.headers)
            }
            (Some("sse"), _, _) => {
                return Err(format!(
                    "mcpServers.{name}: type `sse` (the old HTTP+SSE transport) is not supported; \
                     use a streamable HTTP endpoint (`\"type\": \"http\"`)"
                ));
            }
            (kind, _, _) => {
                return Err(format!(
                    "mcpServers.{name}: expected `command` (stdio) or `\"type\": \"http\"` with \
                     `url`{}",
                    kind.map(|k| format!(", got type `{k}`"))
                        .unwrap_or_default()
                ));
            }
        };
        server.source = McpSource::McpJson(path.to_path_buf());
        server
            .check(&name)
            .map_err(|e| e.replace("[mcp_servers.", "[mcpServers."))?;
        servers.insert(name, server);
    }
    Ok(servers)
}

/// opencode's `opencode.json` `mcp` section: `{"mcp": {NAME: {"type":
/// "local", "command": [...], "environment": {}} | {"type": "remote",
/// "url", "headers"}}}`, each with an optional `enabled`.
pub fn parse_opencode_json(
    text: &str,
    path: &Path,
) -> Result<BTreeMap<String, McpServerConfig>, String> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        mcp: BTreeMap<String, Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        command: Vec<String>,
        #[serde(default)]
        environment: BTreeMap<String, String>,
        url: Option<String>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        enabled: Option<bool>,
        timeout: Option<u64>,
    }
    let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut servers = BTreeMap::new();
    for (name, entry) in file.mcp {
        let mut server = match (entry.kind.as_str(), entry.url) {
            ("local", None) => {
                let mut words = entry.command.into_iter();
                let Some(program) = words.next() else {
                    return Err(format!("mcp.{name}.command: is empty"));
                };
                McpServerConfig {
                    env: entry.environment,
                    ..McpServerConfig::stdio(program, words.collect())
                }
            }
            ("remote", Some(url)) => McpServerConfig::http(url, entry.headers),
            ("remote", None) => return Err(format!("mcp.{name}.url: missing")),
            (kind, _) => {
                return Err(format!(
                    "mcp.{name}.type: expected `local` or `remote`, got `{kind}`"
                ));
            }
        };
        server.enabled = entry.enabled.unwrap_or(true);
        if let Some(ms) = entry.timeout {
            server.tool_timeout_ms = ms;
        }
        server.source = McpSource::Opencode(path.to_path_buf());
        server
            .check(&name)
            .map_err(|e| e.replace("[mcp_servers.", "[mcp."))?;
        servers.insert(name, server);
    }
    Ok(servers)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        #[serde(deserialize_with = "servers")]
        mcp_servers: BTreeMap<String, McpServerConfig>,
    }

    fn toml_servers(text: &str) -> Result<BTreeMap<String, McpServerConfig>, String> {
        toml::from_str::<Wrapper>(text)
            .map(|w| w.mcp_servers)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn baton_tables_with_defaults() {
        let servers = toml_servers(
            r#"
            [mcp_servers.fs]
            command = "npx"
            args = ["-y", "server-filesystem", "/tmp"]
            env = { A = "1" }
            cwd = "/tmp"
            start = "session"
            tool_timeout_ms = 500

            [mcp_servers.web]
            url = "https://example.com/mcp"
            headers = { Authorization = "Bearer x" }
            enabled = false
            "#,
        )
        .unwrap();
        let fs = &servers["fs"];
        assert_eq!(fs.command.as_deref(), Some("npx"));
        assert_eq!(fs.args.len(), 3);
        assert_eq!(fs.env["A"], "1");
        assert_eq!(fs.cwd.as_deref(), Some(Path::new("/tmp")));
        assert_eq!(fs.start, StartMode::Session);
        assert_eq!((fs.startup_timeout_ms, fs.tool_timeout_ms), (10_000, 500));
        assert!(fs.enabled);
        let web = &servers["web"];
        assert_eq!(web.url.as_deref(), Some("https://example.com/mcp"));
        assert_eq!(web.headers["Authorization"], "Bearer x");
        assert!(!web.enabled);
        assert_eq!(web.start, StartMode::Lazy);
        assert_eq!(web.source, McpSource::Config);
    }

    #[test]
    fn bad_tables_name_the_server_and_key() {
        let err = toml_servers("[mcp_servers.x]\ncomand = \"a\"\n").unwrap_err();
        assert!(
            err.contains("[mcp_servers.x]") && err.contains("comand"),
            "{err}"
        );
        let err = toml_servers("[mcp_servers.x]\nargs = []\n").unwrap_err();
        assert!(err.contains("[mcp_servers.x] command: missing"), "{err}");
        let err =
            toml_servers("[mcp_servers.x]\ncommand = \"a\"\nurl = \"http://h\"\n").unwrap_err();
        assert!(err.contains("[mcp_servers.x] url: set either"), "{err}");
        let err =
            toml_servers("[mcp_servers.x]\nurl = \"http://h\"\nargs = [\"a\"]\n").unwrap_err();
        assert!(
            err.contains("[mcp_servers.x] args: only a stdio server"),
            "{err}"
        );
        let err =
            toml_servers("[mcp_servers.x]\ncommand = \"a\"\ntool_timeout_ms = 0\n").unwrap_err();
        assert!(
            err.contains("[mcp_servers.x] tool_timeout_ms: must be above 0"),
            "{err}"
        );
        let err = toml_servers("[mcp_servers.x]\ncommand = \"a\"\nstart = \"now\"\n").unwrap_err();
        assert!(
            err.contains("[mcp_servers.x]") && err.contains("now"),
            "{err}"
        );
        let err = toml_servers("[mcp_servers.\"a b\"]\ncommand = \"a\"\n").unwrap_err();
        assert!(err.contains("MCP server name `a b`"), "{err}");
    }

    #[test]
    fn claude_code_mcp_json() {
        let path = Path::new("/p/.mcp.json");
        let servers = parse_mcp_json(
            r#"{"mcpServers": {
                "everything": {"command": "npx", "args": ["-y", "x"], "env": {"K": "v"}},
                "remote": {"type": "http", "url": "http://localhost:1/mcp", "headers": {"X": "y"}}
            }}"#,
            path,
        )
        .unwrap();
        let e = &servers["everything"];
        assert_eq!((e.command.as_deref(), e.args.len()), (Some("npx"), 2));
        assert_eq!(e.env["K"], "v");
        assert_eq!(e.source, McpSource::McpJson(path.to_path_buf()));
        let r = &servers["remote"];
        assert_eq!(r.url.as_deref(), Some("http://localhost:1/mcp"));
        assert_eq!(r.headers["X"], "y");
        let err = parse_mcp_json(
            r#"{"mcpServers": {"s": {"type": "sse", "url": "http://h"}}}"#,
            path,
        )
        .unwrap_err();
        assert!(err.contains("mcpServers.s") && err.contains("sse"), "{err}");
        let err = parse_mcp_json(r#"{"mcpServers": {"s": {"args": []}}}"#, path).unwrap_err();
        assert!(err.contains("mcpServers.s"), "{err}");
    }

    #[test]
    fn opencode_json() {
        let path = Path::new("/p/opencode.json");
        let servers = parse_opencode_json(
            r#"{"$schema": "https://opencode.ai/config.json", "mcp": {
                "fs": {"type": "local", "command": ["npx", "-y", "fs"], "environment": {"K": "v"}, "enabled": false},
                "web": {"type": "remote", "url": "https://h/mcp", "headers": {"A": "b"}, "timeout": 1500}
            }}"#,
            path,
        )
        .unwrap();
        let fs = &servers["fs"];
        assert_eq!(fs.command.as_deref(), Some("npx"));
        assert_eq!(fs.args, ["-y", "fs"]);
        assert_eq!(fs.env["K"], "v");
        assert!(!fs.enabled);
        assert_eq!(fs.source, McpSource::Opencode(path.to_path_buf()));
        let web = &servers["web"];
        assert_eq!(web.url.as_deref(), Some("https://h/mcp"));
        assert_eq!(web.tool_timeout_ms, 1500);
        let err = parse_opencode_json(r#"{"mcp": {"x": {"type": "local", "command": []}}}"#, path)
            .unwrap_err();
        assert!(err.contains("mcp.x.command"), "{err}");
        let err = parse_opencode_json(r#"{"mcp": {"x": {"type": "weird"}}}"#, path).unwrap_err();
        assert!(err.contains("mcp.x.type"), "{err}");
    }

    #[test]
    fn project_files_merge_mcp_json_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".mcp.json"),
            r#"{"mcpServers": {"a": {"command": "one"}}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("opencode.json"),
            r#"{"mcp": {"a": {"type": "local", "command": ["two"]}, "b": {"type": "local", "command": ["three"]}}}"#,
        )
        .unwrap();
        let servers = project_servers(dir.path()).unwrap();
        assert_eq!(servers["a"].command.as_deref(), Some("one"));
        assert_eq!(servers["b"].command.as_deref(), Some("three"));
        std::fs::write(dir.path().join(".mcp.json"), "{not json").unwrap();
        let err = project_servers(dir.path()).unwrap_err();
        assert!(err.path.ends_with(".mcp.json"));
    }
}
