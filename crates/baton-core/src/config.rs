//! Configuration: the user's config file plus the project's
//! `.baton/config.toml`, merged (the project wins), validated strictly. An
//! untrusted project's file is restricted first (see [`crate::trust`]).

use crate::agents::PermissionRules;
use baton_llm::{ModelInfo, ProviderConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything configurable. Every field has a sensible default; unknown
/// keys are errors (a typo should not be silently ignored).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The default model, `provider/model` (`BATON_MODEL` wins over it).
    #[serde(default)]
    pub model: Option<String>,
    /// Providers by name (`[providers.NAME]`).
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Catalog additions and overrides (`[models."provider/model"]`).
    #[serde(default)]
    pub models: BTreeMap<String, ModelInfo>,
    /// How agents run.
    #[serde(default)]
    pub agent: AgentSettings,
    /// What tools may do.
    #[serde(default)]
    pub tools: ToolSettings,
    /// How provider failures are retried.
    #[serde(default)]
    pub retry: RetrySettings,
    /// Limits on delegation.
    #[serde(default)]
    pub tasks: TaskSettings,
    /// Model aliases (`fast = "openai/gpt-4o-mini"`): usable wherever a
    /// model is named (`--model`, agent files, the `task` tool).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Permission rules for every session, per tool: `allow`, `ask` or
    /// `deny`, or patterns of commands or paths mapped to those.
    #[serde(default)]
    pub permission: PermissionRules,
    /// How runs without anyone to ask behave.
    #[serde(default)]
    pub headless: HeadlessSettings,
    /// The HTTP API (`baton serve`).
    #[serde(default)]
    pub server: ServerSection,
    /// Live sessions in memory.
    #[serde(default)]
    pub sessions: SessionSettings,
    /// When and how conversations are compacted.
    #[serde(default)]
    pub context: ContextSettings,
    /// Which projects' own configs apply in full (user config only).
    #[serde(default)]
    pub trust: crate::trust::TrustSettings,
    /// Where commands may write.
    #[serde(default)]
    pub sandbox: SandboxSection,
    /// MCP servers by name (`[mcp_servers.NAME]`; in a trusted project
    /// also `.mcp.json` and `opencode.json`, see [`crate::mcp`]).
    #[serde(default, deserialize_with = "crate::mcp::config::servers")]
    pub mcp_servers: BTreeMap<String, crate::mcp::McpServerConfig>,
    /// Hooks: commands run on engine events (see [`crate::hooks`]). The
    /// binary adds those of Claude Code's settings files.
    #[serde(default)]
    pub hooks: crate::hooks::HookSettings,
}

/// `[sandbox]`: where the commands of `bash` and background shells may
/// write (on Linux, enforced with Landlock).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSection {
    /// The mode of every session: `workspace-write` (the default: the
    /// working tree, the temp directories and `writable_roots`),
    /// `read-only` (the temp directories only) or `off`. Agents and tasks
    /// may narrow it, never widen it.
    pub mode: baton_protocol::SandboxMode,
    /// More directories commands may write in `workspace-write` mode:
    /// absolute paths, or paths from the home directory (`~/.cargo`).
    #[serde(deserialize_with = "writable_roots")]
    pub writable_roots: Vec<PathBuf>,
    /// Whether commands may open TCP connections and listen on ports
    /// (`false` needs Landlock ABI 4, Linux 6.7).
    pub network: bool,
    /// Where the system cannot sandbox commands: `refuse` (the default:
    /// commands fail, saying so) or `run-unsandboxed` (they run without a
    /// sandbox, after one warning).
    pub unsupported: baton_tools::Unsupported,
}

impl Default for SandboxSection {
    fn default() -> Self {
        let tools = baton_tools::SandboxSettings::default();
        Self {
            mode: tools.mode,
            writable_roots: tools.writable_roots,
            network: tools.network,
            unsupported: tools.unsupported,
        }
    }
}

impl SandboxSection {
    /// The settings of a session whose mode is `mode`.
    pub fn settings(&self, mode: baton_protocol::SandboxMode) -> baton_tools::SandboxSettings {
        baton_tools::SandboxSettings {
            mode,
            writable_roots: self.writable_roots.clone(),
            network: self.network,
            unsupported: self.unsupported,
        }
    }
}

/// Reads `writable_roots`: each absolute, or `~` / `~/...` (from `HOME`).
fn writable_roots<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|root| writable_root(root, home.as_deref()).map_err(serde::de::Error::custom))
        .collect()
}

/// One writable root, with `~` expanded from `home`.
fn writable_root(root: &str, home: Option<&Path>) -> Result<PathBuf, String> {
    let from_home = match root.strip_prefix('~') {
        Some("") => Some(""),
        Some(rest) => rest.strip_prefix('/'),
        None => None,
    };
    match (from_home, home) {
        (Some(rest), Some(home)) => Ok(home.join(rest)),
        (Some(_), None) => Err(format!(
            "writable_roots: `{root}` starts from the home directory, but HOME is not set"
        )),
        (None, _) if Path::new(root).is_absolute() => Ok(PathBuf::from(root)),
        (None, _) => Err(format!(
            "writable_roots: `{root}` is not an absolute path; write it in full, or from the \
             home directory as `~/...`"
        )),
    }
}

/// `[context]`: compaction of conversations that would outgrow the
/// model's context window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextSettings {
    /// Compact before a request (tools, system prompt and the room kept
    /// for the answer included) would pass this share of the window.
    #[serde(deserialize_with = "share")]
    pub compact_at: f64,
    /// The most of the window kept verbatim after a compaction (the
    /// latest turns); the rest is summarized.
    #[serde(deserialize_with = "share")]
    pub keep_recent: f64,
    /// The model that writes summaries (`provider/model` or an alias);
    /// the session's own model when unset.
    pub compact_model: Option<String>,
}

impl Default for ContextSettings {
    fn default() -> Self {
        Self {
            compact_at: 0.8,
            keep_recent: 0.25,
            compact_model: None,
        }
    }
}

/// Reads a share of the window: more than 0, at most 0.95.
fn share<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let value = f64::deserialize(d)?;
    if value > 0.0 && value <= 0.95 {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "`{value}` is not a share of the context window: give a number above 0 and at most \
             0.95, such as 0.8"
        )))
    }
}

/// `[sessions]`: how long idle sessions stay in memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A live session with no work (no turn, message, notice, task or
    /// shell) for this many milliseconds leaves memory; it is opened
    /// again from the store when touched. `0`: as soon as it is quiet.
    pub unload_after_idle_ms: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            unload_after_idle_ms: 300_000,
        }
    }
}

impl SessionSettings {
    /// How long an idle session stays live.
    pub fn unload_after(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.unload_after_idle_ms)
    }
}

/// `[server]`: the HTTP API of `baton serve`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Origins browsers may call the API from (CORS), such as
    /// `http://localhost:3000`. Empty (the default): no CORS headers, so
    /// web pages of other origins cannot read the API's answers.
    #[serde(deserialize_with = "origins")]
    pub cors_origins: Vec<String>,
}

/// Reads `cors_origins`, each of which must be `scheme://host[:port]`
/// exactly as a browser sends it in `Origin`.
fn origins<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    for origin in &list {
        check_origin(origin).map_err(serde::de::Error::custom)?;
    }
    Ok(list)
}

/// Why an origin is not `scheme://host[:port]`, if it is not.
fn check_origin(origin: &str) -> Result<(), String> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.contains('/')
                && host.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "cors_origins: `{origin}` is not an origin; write it as a browser sends it, \
             scheme://host[:port] with no path, e.g. `http://localhost:3000`"
        )),
    }
}

/// `[headless]`: runs where no one can answer a question (`baton run`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeadlessSettings {
    /// What a rule's `ask` becomes: `deny` (default: the model is told the
    /// call needs approval nobody can give) or `allow`. `baton run --yes`
    /// allows regardless.
    pub on_ask: HeadlessAsk,
}

/// What an `ask` becomes in a headless run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadlessAsk {
    /// Refuse the call, telling the model why.
    #[default]
    Deny,
    /// Run the call.
    Allow,
}

/// `[tasks]`: limits on delegated tasks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskSettings {
    /// Tasks running at once across the engine; more wait, queued, in
    /// the order they were asked for.
    pub max_running: usize,
    /// How deep delegation may nest: sessions this many levels below a
    /// top-level one are not offered the task tools.
    pub max_depth: u32,
    /// Characters of a child's final answer put in its notice; the rest
    /// is available through `task_output`.
    pub notice_result_chars: usize,
    /// What each task may spend unless its `task` call says otherwise:
    /// input plus output tokens of its whole sub-tree.
    pub max_tokens: Option<u64>,
    /// The same in US dollars.
    pub max_cost: Option<f64>,
    /// The same in model calls.
    pub max_steps: Option<u64>,
}

impl TaskSettings {
    /// The budget a task gets when its call sets none.
    pub fn default_budget(&self) -> baton_protocol::api::Budget {
        baton_protocol::api::Budget {
            max_tokens: self.max_tokens,
            max_cost: self.max_cost,
            max_steps: self.max_steps,
        }
    }
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            max_running: 8,
            max_depth: 3,
            notice_result_chars: 4_000,
            max_tokens: None,
            max_cost: None,
            max_steps: None,
        }
    }
}

/// `[agent]`: limits of the agent loop.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSettings {
    /// Model calls allowed in one turn before it stops.
    pub max_steps: u32,
    /// `max_tokens` sent with each model call.
    pub max_output_tokens: u32,
    /// How hard reasoning models think (`low`, `medium`, `high`) for
    /// agents that do not say; unset: the provider's default (and no
    /// extended thinking on Anthropic).
    pub reasoning_effort: Option<baton_llm::ReasoningEffort>,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            max_steps: 50,
            max_output_tokens: 8192,
            reasoning_effort: None,
        }
    }
}

/// `[tools]`: what tools may touch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToolSettings {
    /// Let file tools reach paths outside the working directory.
    pub allow_outside_workdir: bool,
    /// Extra directories file tools may reach.
    pub extra_roots: Vec<PathBuf>,
    /// Default `bash` timeout in milliseconds.
    pub bash_timeout_ms: u64,
    /// Largest `bash` timeout a model may ask for, in milliseconds.
    pub bash_max_timeout_ms: u64,
    /// A foreground `bash` past its timeout moves to the background
    /// (`true`) instead of being killed (`false`).
    pub bash_timeout_to_background: bool,
}

impl Default for ToolSettings {
    fn default() -> Self {
        Self {
            allow_outside_workdir: false,
            extra_roots: Vec::new(),
            bash_timeout_ms: 120_000,
            bash_max_timeout_ms: 600_000,
            bash_timeout_to_background: true,
        }
    }
}

/// `[retry]`: provider retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    /// Retries after the first failed attempt.
    pub max_retries: u32,
    /// First backoff, in milliseconds (doubles each time, with jitter).
    pub initial_backoff_ms: u64,
    /// Longest backoff, in milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_backoff_ms: 500,
            max_backoff_ms: 20_000,
        }
    }
}

impl RetrySettings {
    /// The policy the provider layer applies.
    pub fn policy(&self) -> baton_llm::RetryPolicy {
        baton_llm::RetryPolicy {
            max_retries: self.max_retries,
            initial_backoff: std::time::Duration::from_millis(self.initial_backoff_ms),
            max_backoff: std::time::Duration::from_millis(self.max_backoff_ms),
            ..baton_llm::RetryPolicy::default()
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or not a valid configuration.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem (0 when unknown).
        line: usize,
        /// 1-based column of the problem (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// MCP servers of a project's `.mcp.json` and `opencode.json`: added
/// (baton's own `[mcp_servers]` win on a name) when the project is
/// trusted, else named in `ignored`.
fn add_project_mcp(
    config: &mut Config,
    project_dir: &Path,
    trusted: bool,
    ignored: &mut Vec<String>,
) -> Result<(), ConfigError> {
    if !trusted {
        for file in crate::mcp::config::project_mcp_files(project_dir) {
            ignored.push(format!(
                "the MCP servers of {}",
                file.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
        return Ok(());
    }
    let found =
        crate::mcp::config::project_servers(project_dir).map_err(|e| ConfigError::Invalid {
            path: e.path,
            line: 0,
            column: 0,
            message: e.message,
        })?;
    for (name, server) in found {
        config.mcp_servers.entry(name).or_insert(server);
    }
    Ok(())
}

/// The user's config file: `BATON_CONFIG` when set, else the platform's
/// config directory's `baton/config.toml`.
pub fn user_config_file(env_config: Option<PathBuf>) -> Option<PathBuf> {
    env_config.or_else(|| dirs::config_dir().map(|d| d.join("baton/config.toml")))
}

/// A project directory's own config file.
pub fn project_config_file(project_dir: &Path) -> PathBuf {
    project_dir.join(".baton/config.toml")
}

/// The configuration of a project directory and what trust changed in it.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The merged configuration.
    pub config: Config,
    /// The project's own config file (it may not exist).
    pub project_file: PathBuf,
    /// Whether the project is trusted (its whole file applies).
    pub trusted: bool,
    /// Settings of the project's file that were dropped because the
    /// project is not trusted, as `[section] key`.
    pub ignored: Vec<String>,
}

impl ProjectConfig {
    /// What to tell the person about dropped settings, if any were.
    pub fn ignored_message(&self, project_dir: &Path) -> Option<String> {
        (!self.ignored.is_empty())
            .then(|| crate::trust::ignored_message(project_dir, &self.project_file, &self.ignored))
    }
}

impl Config {
    /// A configuration with one OpenAI-wire provider `provider` at
    /// `base_url` and `provider/model` as the default model: what the
    /// demo, the benchmarks and the tests use to run on the mock model.
    pub fn single_openai_provider(provider: &str, base_url: String, model: &str) -> Self {
        let mut config = Self::default();
        config.providers.insert(
            provider.to_owned(),
            ProviderConfig {
                wire: Some(baton_llm::Wire::OpenAi),
                base_url: Some(base_url),
                ..ProviderConfig::default()
            },
        );
        config.model = Some(format!("{provider}/{model}"));
        config
    }

    /// Reads and merges the given files (later ones win); missing files
    /// are skipped, except `required` ones (e.g. an explicit
    /// `BATON_CONFIG`), which must exist. No trust rules apply: this is
    /// for files that are all the user's.
    pub fn load(files: &[PathBuf], required: Option<&Path>) -> Result<Config, ConfigError> {
        let mut merged = toml::Table::new();
        for path in files {
            if let Some(table) = read_table(path, Some(path.as_path()) == required)? {
                merge(&mut merged, table);
            }
        }
        Self::from_table(merged, files.last().cloned().unwrap_or_default())
    }

    /// The configuration of `project_dir`: the user's file (`user`, which
    /// must exist when `user_required`), then the project's own file,
    /// restricted unless the user's `[trust]` trusts the project.
    pub fn load_project(
        user: Option<&Path>,
        user_required: bool,
        project_dir: &Path,
    ) -> Result<ProjectConfig, ConfigError> {
        let user_table = match user {
            Some(path) => read_table(path, user_required)?.unwrap_or_default(),
            None => toml::Table::new(),
        };
        let user_path = user.map(Path::to_path_buf).unwrap_or_default();
        let user_config = Self::from_table(user_table.clone(), user_path)?;
        let project_file = project_config_file(project_dir);
        let trusted = user_config.trust.trusts(project_dir);
        let mut ignored = Vec::new();
        let Some(mut project) = read_table(&project_file, false)? else {
            let mut config = user_config;
            add_project_mcp(&mut config, project_dir, trusted, &mut ignored)?;
            return Ok(ProjectConfig {
                config,
                project_file,
                trusted,
                ignored,
            });
        };
        if trusted {
            // Only the user's own config says what is trusted.
            project.remove("trust");
        } else {
            ignored = crate::trust::restrict(&mut project, &user_config.tasks);
        }
        let mut merged = user_table;
        let project_hooks = project.remove("hooks");
        merge(&mut merged, project);
        join_hooks(&mut merged, project_hooks);
        let mut config = Self::from_table(merged, project_file.clone())?;
        add_project_mcp(&mut config, project_dir, trusted, &mut ignored)?;
        Ok(ProjectConfig {
            config,
            project_file,
            trusted,
            ignored,
        })
    }

    fn from_table(table: toml::Table, path: PathBuf) -> Result<Config, ConfigError> {
        let config = Config::deserialize(table).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            line: 0,
            column: 0,
            message: e.message().to_owned(),
        })?;
        config.check_aliases(path)?;
        Ok(config)
    }

    /// Aliases must name `provider/model` (not another alias).
    fn check_aliases(&self, path: PathBuf) -> Result<(), ConfigError> {
        for (alias, target) in &self.aliases {
            if alias.contains('/') || alias.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    path,
                    line: 0,
                    column: 0,
                    message: format!(
                        "[aliases]: `{alias}` cannot be an alias name (no `/`, not empty)"
                    ),
                });
            }
            if !target.contains('/') {
                return Err(ConfigError::Invalid {
                    path,
                    line: 0,
                    column: 0,
                    message: format!(
                        "[aliases]: `{alias}` must name `provider/model`, not `{target}`"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Parses one file, validating it on its own so that an error can name
    /// the file, line and column.
    pub fn parse_file(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
        let invalid = |e: toml::de::Error| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        };
        toml::from_str::<Config>(text).map_err(invalid)?;
        toml::from_str::<toml::Table>(text).map_err(invalid)
    }
}

/// One config file as a table, validated; `None` when it does not exist
/// and is not `required`.
fn read_table(path: &Path, required: bool) -> Result<Option<toml::Table>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    Config::parse_file(path, &text).map(Some)
}

/// Adds a project's `[hooks]` to the user's: hooks add up (the project's
/// run beside the user's), they do not replace each other.
fn join_hooks(base: &mut toml::Table, project: Option<toml::Value>) {
    let Some(toml::Value::Table(project)) = project else {
        return;
    };
    let hooks = base
        .entry("hooks")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(hooks) = hooks.as_table_mut() else {
        return;
    };
    for (event, groups) in project {
        match (hooks.get_mut(&event), groups) {
            (Some(toml::Value::Array(mine)), toml::Value::Array(theirs)) => mine.extend(theirs),
            (_, groups) => {
                hooks.insert(event, groups);
            }
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Deep-merges `over` into `base`: tables merge key by key, anything else
/// is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn project_config_overrides_user_config_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let user = write(
            dir.path(),
            "user.toml",
            "model = \"openai/gpt-4o\"\n[agent]\nmax_steps = 7\n[providers.local]\nwire = \"openai\"\nbase_url = \"http://a\"\n",
        );
        let project = write(
            dir.path(),
            "proj/.baton/config.toml",
            "[providers.local]\nbase_url = \"http://b\"\n",
        );
        let cfg = Config::load(&[user, project], None).unwrap();
        assert_eq!(cfg.model.as_deref(), Some("openai/gpt-4o"));
        assert_eq!(cfg.agent.max_steps, 7);
        let local = &cfg.providers["local"];
        assert_eq!(local.base_url.as_deref(), Some("http://b"));
        assert_eq!(local.wire, Some(baton_llm::Wire::OpenAi));
    }

    #[test]
    fn context_shares_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(
            dir.path(),
            "g.toml",
            "[context]\ncompact_at = 0.5\ncompact_model = \"fast\"\n",
        );
        let cfg = Config::load(&[good], None).unwrap();
        assert_eq!(cfg.context.compact_at, 0.5);
        assert_eq!(cfg.context.keep_recent, 0.25);
        assert_eq!(cfg.context.compact_model.as_deref(), Some("fast"));
        for bad in ["0", "1.2", "-0.1"] {
            let file = write(
                dir.path(),
                "b.toml",
                &format!("[context]\ncompact_at = {bad}\n"),
            );
            let err = Config::load(&[file], None).unwrap_err().to_string();
            assert!(err.contains("share of the context window"), "{err}");
        }
    }

    #[test]
    fn missing_optional_files_are_skipped_but_a_required_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let cfg = Config::load(std::slice::from_ref(&missing), None).unwrap();
        assert_eq!(cfg.agent.max_steps, 50);
        let err = Config::load(std::slice::from_ref(&missing), Some(&missing)).unwrap_err();
        assert!(err.to_string().contains("nope.toml"), "{err}");
    }

    #[test]
    fn a_bad_file_names_file_line_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "c.toml", "[agent]\nmax_steps = \"many\"\n");
        let err = Config::load(std::slice::from_ref(&bad), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.toml:2:"), "{err}");
        assert!(err.contains("invalid type"), "{err}");

        let typo = write(dir.path(), "t.toml", "\n\n[agnet]\nmax_steps = 3\n");
        let err = Config::load(&[typo], None).unwrap_err().to_string();
        assert!(err.contains("t.toml:3:"), "{err}");
        assert!(err.contains("agnet"), "{err}");

        let syntax = write(dir.path(), "s.toml", "model = \n");
        let err = Config::load(&[syntax], None).unwrap_err().to_string();
        assert!(err.contains("s.toml:1:"), "{err}");
    }

    #[test]
    fn aliases_permissions_and_headless_parse_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(
            dir.path(),
            "g.toml",
            "[aliases]\nfast = \"mock/small\"\n[permission]\nedit = \"ask\"\nbash = { \"rm *\" = \"deny\" }\n[headless]\non_ask = \"allow\"\n",
        );
        let cfg = Config::load(&[good], None).unwrap();
        assert_eq!(cfg.aliases["fast"], "mock/small");
        assert_eq!(cfg.headless.on_ask, HeadlessAsk::Allow);
        let verdict = cfg.permission.decide("bash", Some("rm -rf x")).unwrap();
        assert_eq!(verdict.action, crate::agents::Action::Deny);

        let alias = write(dir.path(), "a.toml", "[aliases]\nfast = \"small\"\n");
        let err = Config::load(&[alias], None).unwrap_err().to_string();
        assert!(err.contains("must name `provider/model`"), "{err}");

        let glob = write(
            dir.path(),
            "p.toml",
            "[permission]\nbash = { \"ls [\" = \"deny\" }\n",
        );
        let err = Config::load(&[glob], None).unwrap_err().to_string();
        assert!(err.contains("p.toml:2:") && err.contains("ls ["), "{err}");

        let mode = write(dir.path(), "h.toml", "[headless]\non_ask = \"wait\"\n");
        let err = Config::load(&[mode], None).unwrap_err().to_string();
        assert!(err.contains("h.toml:2:"), "{err}");
    }

    #[test]
    fn server_cors_origins_parse_and_a_bad_origin_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let none = write(dir.path(), "n.toml", "");
        assert!(
            Config::load(&[none], None)
                .unwrap()
                .server
                .cors_origins
                .is_empty()
        );

        let good = write(
            dir.path(),
            "s.toml",
            "[server]\ncors_origins = [\"http://localhost:3000\", \"https://app.example\"]\n",
        );
        let cfg = Config::load(&[good], None).unwrap();
        assert_eq!(
            cfg.server.cors_origins,
            ["http://localhost:3000", "https://app.example"]
        );

        for bad in ["*", "localhost:3000", "http://localhost:3000/", "http://"] {
            let file = write(
                dir.path(),
                "b.toml",
                &format!("[server]\ncors_origins = [\"{bad}\"]\n"),
            );
            let err = Config::load(&[file], None).unwrap_err().to_string();
            assert!(
                err.contains("b.toml:2:") && err.contains("is not an origin"),
                "{err}"
            );
        }

        let typo = write(dir.path(), "t.toml", "[server]\ncors = []\n");
        let err = Config::load(&[typo], None).unwrap_err().to_string();
        assert!(err.contains("t.toml:2:") && err.contains("cors"), "{err}");
    }

    #[test]
    fn the_sandbox_section_parses_and_defaults_to_workspace_write() {
        use baton_protocol::SandboxMode;
        use baton_tools::Unsupported;
        let dir = tempfile::tempdir().unwrap();
        let none = write(dir.path(), "n.toml", "");
        let cfg = Config::load(&[none], None).unwrap();
        assert_eq!(cfg.sandbox.mode, SandboxMode::WorkspaceWrite);
        assert!(cfg.sandbox.writable_roots.is_empty());
        assert!(cfg.sandbox.network);
        assert_eq!(cfg.sandbox.unsupported, Unsupported::Refuse);

        let set = write(
            dir.path(),
            "s.toml",
            "[sandbox]\nmode = \"read-only\"\nwritable_roots = [\"/opt/cache\"]\n\
             network = false\nunsupported = \"run-unsandboxed\"\n",
        );
        let cfg = Config::load(&[set], None).unwrap();
        assert_eq!(cfg.sandbox.mode, SandboxMode::ReadOnly);
        assert_eq!(cfg.sandbox.writable_roots, [PathBuf::from("/opt/cache")]);
        let settings = cfg.sandbox.settings(SandboxMode::Off);
        assert_eq!(settings.mode, SandboxMode::Off);
        assert!(!settings.network);
        assert_eq!(settings.unsupported, Unsupported::RunUnsandboxed);

        for (bad, says) in [
            ("mode = \"open\"", "read-only"),
            ("writable_roots = [\"cache\"]", "not an absolute path"),
            ("unsupported = \"ignore\"", "run-unsandboxed"),
            ("sandbox = \"off\"", "unknown field"),
        ] {
            let file = write(dir.path(), "b.toml", &format!("[sandbox]\n{bad}\n"));
            let err = Config::load(&[file], None).unwrap_err().to_string();
            assert!(err.contains("b.toml:2:") && err.contains(says), "{err}");
        }
    }

    #[test]
    fn writable_roots_may_start_from_home() {
        let home = Path::new("/home/me");
        assert_eq!(
            writable_root("~/.cargo", Some(home)).unwrap(),
            home.join(".cargo")
        );
        assert_eq!(writable_root("~", Some(home)).unwrap(), home);
        assert!(writable_root("~/x", None).unwrap_err().contains("HOME"));
        assert!(writable_root("~other/x", Some(home)).is_err());
        assert_eq!(
            writable_root("/srv/data", None).unwrap(),
            PathBuf::from("/srv/data")
        );
    }

    #[test]
    fn a_trusted_projects_hooks_add_to_the_users_and_an_untrusted_ones_are_dropped() {
        use crate::hooks::HookEvent;
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("proj");
        let hook = |cmd: &str| {
            format!("[[hooks.Stop]]\nhooks = [{{ type = \"command\", command = \"{cmd}\" }}]\n")
        };
        write(&project, ".baton/config.toml", &hook("theirs"));
        let commands = |config: &Config| -> Vec<String> {
            config.hooks.0[&HookEvent::Stop]
                .iter()
                .flat_map(|g| g.hooks.iter().map(|h| h.command.clone()))
                .collect()
        };
        let untrusted = write(dir.path(), "user.toml", &hook("mine"));
        let loaded = Config::load_project(Some(&untrusted), true, &project).unwrap();
        assert_eq!(commands(&loaded.config), ["mine"]);
        assert_eq!(loaded.ignored, ["[hooks] Stop"]);
        let trusting = write(
            dir.path(),
            "trusting.toml",
            &format!("{}[trust]\ntrusted = [{:?}]\n", hook("mine"), project),
        );
        let loaded = Config::load_project(Some(&trusting), true, &project).unwrap();
        assert_eq!(commands(&loaded.config), ["mine", "theirs"]);
        assert!(loaded.ignored.is_empty());
    }
}
