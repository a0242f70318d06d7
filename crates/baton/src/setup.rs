//! Where baton keeps its data, how it reads its configuration, and how the
//! engine is built from both.

use crate::exit::Failure;
use baton_core::config::{HeadlessAsk, ProjectConfig};
use baton_core::{AgentDirs, AgentSet, AskMode, Config, Engine, EngineOptions};
use std::path::{Path, PathBuf};

/// `BATON_HOME`, or the platform data directory.
pub fn baton_home() -> Result<PathBuf, Failure> {
    if let Some(home) = std::env::var_os("BATON_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    dirs::data_dir()
        .map(|d| d.join("baton"))
        .ok_or_else(|| Failure::usage("cannot find a data directory: set BATON_HOME"))
}

/// The user's config file and whether it must exist (it must when
/// `BATON_CONFIG` names it).
pub fn user_config_file() -> (Option<PathBuf>, bool) {
    let explicit = std::env::var_os("BATON_CONFIG")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from);
    let required = explicit.is_some();
    (baton_core::config::user_config_file(explicit), required)
}

/// The configuration of a project directory and what trust withheld,
/// with the hooks of Claude Code's settings files added (the project's
/// only when it is trusted).
pub fn load_project_config(project_dir: &Path) -> Result<ProjectConfig, Failure> {
    let (user, required) = user_config_file();
    let mut loaded = Config::load_project(user.as_deref(), required, project_dir)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let files = baton_core::hooks::ClaudeSettingsFiles::new(home.as_deref(), project_dir);
    let claude = baton_core::hooks::claude_hooks(&files, loaded.trusted);
    for problem in &claude.problems {
        tracing::warn!("{problem}");
    }
    loaded.config.hooks.extend(claude.hooks);
    loaded.ignored.extend(
        claude
            .untrusted
            .iter()
            .map(|file| format!("the hooks of {}", file.display())),
    );
    Ok(loaded)
}

/// The merged configuration for a project directory. What an untrusted
/// project's config was not allowed to set is said on stderr, once per run.
pub fn load_config(project_dir: &Path) -> Result<Config, Failure> {
    let loaded = load_project_config(project_dir)?;
    if let Some(message) = loaded.ignored_message(project_dir) {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| eprintln!("baton: {message}"));
    }
    Ok(loaded.config)
}

/// Where agent files are looked for: the user's config directory (the
/// directory of `BATON_CONFIG` when it is set), the home directory (for
/// Claude Code's and opencode's user agents) and the project.
pub fn agent_dirs(project_dir: &Path) -> AgentDirs {
    let user_config = std::env::var_os("BATON_CONFIG")
        .filter(|c| !c.is_empty())
        .and_then(|c| PathBuf::from(c).parent().map(Path::to_path_buf))
        .or_else(|| dirs::config_dir().map(|d| d.join("baton")));
    AgentDirs {
        user_config,
        home: dirs::home_dir(),
        project: project_dir.to_path_buf(),
    }
}

/// The agents for a project: built-in ones and agent files. Files that
/// could not be loaded are logged (`baton agents list` shows them).
pub fn load_agents(project_dir: &Path) -> AgentSet {
    let agents = AgentSet::load(&agent_dirs(project_dir));
    for problem in agents.problems() {
        tracing::warn!("{}: {}", problem.path.display(), problem.message);
    }
    agents
}

/// The engine for a project directory, with the real environment. `yes`:
/// permission requests are allowed instead of following `[headless]`.
pub async fn engine_for(project_dir: &Path, yes: bool) -> Result<Engine, Failure> {
    let config = load_config(project_dir)?;
    let ask_mode = if yes || config.headless.on_ask == HeadlessAsk::Allow {
        AskMode::Allow
    } else {
        AskMode::Deny
    };
    build_engine(
        config,
        Box::new(|name| std::env::var(name).ok()),
        load_agents(project_dir),
        ask_mode,
    )
    .await
}

/// The engine for a project whose permission requests wait for an answer
/// given through a client (the terminal UI, the HTTP API).
pub async fn answering_engine(config: Config, project_dir: &Path) -> Result<Engine, Failure> {
    build_engine(
        config,
        Box::new(|name| std::env::var(name).ok()),
        load_agents(project_dir),
        AskMode::Wait,
    )
    .await
}

/// The engine for a given configuration, environment and agents.
pub async fn build_engine(
    config: Config,
    env: baton_core::EnvLookup,
    agents: AgentSet,
    ask_mode: AskMode,
) -> Result<Engine, Failure> {
    let home = baton_home()?;
    Engine::new(EngineOptions {
        home,
        config,
        env,
        store: None,
        agents,
        ask_mode,
    })
    .await
    .map_err(|e| match e {
        baton_core::EngineError::Store(s) => Failure::run(s.to_string()),
        other => Failure::usage(other.to_string()),
    })
}

/// The token for a baton server: `BATON_SERVER_TOKEN`, else the one
/// `baton serve` wrote to `$BATON_HOME/server.token`.
pub fn server_token() -> Result<String, Failure> {
    if let Some(token) = std::env::var("BATON_SERVER_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(token.trim().to_owned());
    }
    let path = baton_home()?.join("server.token");
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        Ok(_) => Err(Failure::usage(format!("{} is empty", path.display()))),
        Err(e) => Err(Failure::usage(format!(
            "no server token: set BATON_SERVER_TOKEN or start `baton serve` with this BATON_HOME              (cannot read {}: {e})",
            path.display()
        ))),
    }
}

/// The current directory.
pub fn current_dir() -> Result<PathBuf, Failure> {
    std::env::current_dir().map_err(|e| Failure::usage(format!("no usable current directory: {e}")))
}

/// Logs go to stderr, filtered by `BATON_LOG` (default: warnings).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BATON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The terminal UI owns the screen, so its logs go to
/// `$BATON_HOME/logs/tui.log`, filtered by `BATON_LOG` (default: info).
pub fn init_file_logging() -> Result<(), Failure> {
    let home = baton_home()?;
    let dir = home.join("logs");
    baton_core::private_dir(&home)
        .and_then(|()| baton_core::private_dir(&dir))
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("tui.log");
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .and_then(|file| {
            // One made before baton kept its logs private.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            Ok(file)
        })
        .map_err(|e| Failure::usage(format!("cannot open {}: {e}", path.display())))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("BATON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}
