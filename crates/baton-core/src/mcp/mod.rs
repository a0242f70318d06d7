//! MCP (Model Context Protocol) client: the tools of configured MCP
//! servers, offered to the model as `mcp__<server>__<tool>`.
//!
//! Servers come from `[mcp_servers.NAME]` in baton's config and, in a
//! trusted project only, from `.mcp.json` (Claude Code) and
//! `opencode.json` (opencode) ([`config`]). One [`McpHub`] per engine
//! starts them (lazily, when the first session that may use them starts,
//! or with the engine for `start = "session"`), shares them between all
//! sessions, restarts a crashed one once and stops them at shutdown.
//! docs/mcp.md says the rest.

mod brought;
pub mod config;
mod hub;
mod tool;

pub use config::{McpServerConfig, McpSource, StartMode};
pub use hub::{McpHub, ServerReport, ServerState, SessionTools};

/// The name the model calls a server's tool by: `mcp__<server>__<tool>`,
/// with characters providers refuse in tool names replaced by `_`.
pub fn tool_name(server: &str, tool: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("mcp__{}__{}", clean(server), clean(tool))
}

/// The prefix of every tool of `server`: `mcp__<server>__`.
pub fn tool_prefix(server: &str) -> String {
    tool_name(server, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_follow_claude_code() {
        assert_eq!(tool_name("everything", "echo"), "mcp__everything__echo");
        assert_eq!(tool_name("fs", "read.file"), "mcp__fs__read_file");
        assert_eq!(tool_prefix("github"), "mcp__github__");
    }
}
