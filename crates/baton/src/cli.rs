//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// baton: a terminal AI coding agent in which delegation is asynchronous.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about, propagate_version = true)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without a command, the terminal UI opens in the current
    /// directory.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the terminal UI.
    #[command(flatten)]
    pub tui: TuiArgs,
}

/// `baton` without a command: the terminal UI.
#[derive(Debug, Args, Default)]
pub struct TuiArgs {
    /// Reopen the most recent session in this directory.
    #[arg(long = "continue", short = 'c', conflicts_with = "session")]
    pub continue_last: bool,
    /// Open this session and its whole tree (a unique id prefix is enough).
    #[arg(long)]
    pub session: Option<String>,
    /// Use the engine of a `baton serve` at this URL (its work goes on
    /// when the UI quits).
    #[arg(long, value_name = "URL")]
    pub attach: Option<String>,
    /// Model of new sessions, as provider/model or an alias.
    #[arg(long)]
    pub model: Option<String>,
    /// Agent of new sessions (default: build).
    #[arg(long)]
    pub agent: Option<String>,
}

/// baton's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one prompt headless and exit when the session is quiet.
    Run(RunArgs),
    /// List and inspect stored sessions.
    #[command(subcommand)]
    Sessions(SessionsArgs),
    /// Serve the scripted mock model (OpenAI and Anthropic wire formats).
    MockLlm(MockArgs),
    /// Run baton on its built-in demo (a mock model, a scratch project).
    Demo(DemoArgs),
    /// Show the agents sessions can run.
    #[command(subcommand)]
    Agents(AgentsArgs),
    /// Show the configured MCP servers and their tools.
    #[command(subcommand)]
    Mcp(McpArgs),
    /// Serve the engine over HTTP (JSON API and Server-Sent Events) for
    /// the TUI, scripts and editors.
    Serve(ServeArgs),
    /// Speak the Agent Client Protocol on stdin and stdout, for editors
    /// (Zed, Neovim, JetBrains): see docs/acp.md.
    Acp(AcpArgs),
    /// Trust a project directory: its own `.baton/config.toml` then applies
    /// in full (providers, permissions, tool limits...). Until then baton
    /// ignores those settings and says so.
    Trust(TrustArgs),
}

/// `baton trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The directory (default: the current one). Everything below it is
    /// trusted too.
    #[arg(value_name = "DIR", conflicts_with = "list")]
    pub dir: Option<PathBuf>,
    /// Stop trusting the directory instead.
    #[arg(long, conflicts_with = "list")]
    pub revoke: bool,
    /// List the trusted (and declined) directories.
    #[arg(long)]
    pub list: bool,
}

/// `baton serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:4690")]
    pub addr: String,
    /// Allow listening on an address other machines can reach, and
    /// answering requests addressed to any host name (by default only
    /// `localhost`, `127.0.0.1` and `[::1]` are answered).
    #[arg(long)]
    pub allow_remote: bool,
}

/// `baton acp`.
#[derive(Debug, Args)]
pub struct AcpArgs {
    /// Drive the sessions of a running `baton serve` at URL instead of an
    /// engine in this process.
    #[arg(long, value_name = "URL")]
    pub attach: Option<String>,
}

/// `baton agents`.
#[derive(Debug, Subcommand)]
pub enum AgentsArgs {
    /// Every agent (built-in and from files), where it came from, and
    /// problems found in agent files.
    List(AgentListArgs),
}

/// `baton mcp`.
#[derive(Debug, Subcommand)]
pub enum McpArgs {
    /// Every configured MCP server, where it came from, its state and its
    /// tools (enabled servers are started to list them, then stopped).
    List(AgentListArgs),
}

/// `baton agents list`.
#[derive(Debug, Args)]
pub struct AgentListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// How `baton run` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The answer on stdout, activity on stderr.
    Text,
    /// One JSON object per event on stdout.
    Jsonl,
}

/// `baton run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Model as provider/model (default: BATON_MODEL or the config's `model`).
    #[arg(long)]
    pub model: Option<String>,
    /// Agent to run (default: build).
    #[arg(long)]
    pub agent: Option<String>,
    /// Continue this session (a unique id prefix is enough).
    #[arg(long, conflicts_with = "continue_last")]
    pub session: Option<String>,
    /// Continue the most recent session in this directory.
    #[arg(long = "continue", short = 'c')]
    pub continue_last: bool,
    /// Allow what permission rules say to ask about (without it, `ask`
    /// follows `[headless] on_ask`, default deny: nothing ever waits).
    #[arg(long)]
    pub yes: bool,
    /// Run through a `baton serve` at this URL instead of in this process
    /// (token: BATON_SERVER_TOKEN, else $BATON_HOME/server.token).
    #[arg(long, value_name = "URL")]
    pub attach: Option<String>,
    /// The prompt. Use `-` to read it from stdin.
    #[arg(required = true, num_args = 1.., value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

/// `baton sessions`.
#[derive(Debug, Subcommand)]
pub enum SessionsArgs {
    /// List sessions, most recent first.
    List(ListArgs),
    /// Show one session: details, usage and conversation.
    Show(ShowArgs),
}

/// How listings print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Text,
    /// JSON for programs.
    Json,
}

/// `baton sessions list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
    /// Include sub-agent sessions, not only top-level ones.
    #[arg(long)]
    pub all: bool,
    /// Only sessions whose working directory is the current one.
    #[arg(long)]
    pub here: bool,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// `baton sessions show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The session id (a unique prefix is enough).
    pub id: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// `baton mock-llm`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// The script file (TOML).
    #[arg(long)]
    pub script: PathBuf,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
}

/// `baton demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print a transcript in this format instead of opening the terminal
    /// UI (a transcript is also what a stdout that is not a terminal gets).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Keep the scratch project (and print where it is).
    #[arg(long)]
    pub keep: bool,
}
