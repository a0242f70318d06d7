//! `baton mcp list`: the configured MCP servers, where each comes from,
//! its state and its tools.

use crate::cli::{AgentListArgs, ListFormat, McpArgs};
use crate::exit::CmdResult;
use crate::setup;
use baton_core::mcp::McpHub;
use serde_json::json;
use std::process::ExitCode;

/// Runs `baton mcp ...`.
pub async fn mcp(args: McpArgs) -> CmdResult {
    match args {
        McpArgs::List(a) => list(a).await,
    }
}

async fn list(args: AgentListArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let config = setup::load_config(&cwd)?;
    let hub = McpHub::new(config.mcp_servers);
    let reports = hub.list().await;
    hub.shutdown().await;
    match args.format {
        ListFormat::Json => {
            let servers: Vec<serde_json::Value> = reports
                .iter()
                .map(|r| {
                    json!({
                        "name": r.name,
                        "source": r.source.to_string(),
                        "state": r.state.to_string(),
                        "tools": r.tools.iter().map(|(name, description)| {
                            json!({"name": name, "description": description})
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "servers": servers })).unwrap_or_default()
            );
        }
        ListFormat::Text => {
            if reports.is_empty() {
                println!(
                    "No MCP servers are configured (add [mcp_servers.NAME] to baton's config; \
                     see docs/mcp.md)."
                );
            }
            for r in &reports {
                println!("{:<20} {:<12} {}", r.name, r.state.to_string(), r.source);
                for (name, description) in &r.tools {
                    println!(
                        "    {name}  {}",
                        description.lines().next().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
