//! `baton agents list`: the agents sessions can run, where each comes
//! from, and what was wrong with agent files.

use crate::cli::{AgentListArgs, AgentsArgs, ListFormat};
use crate::exit::CmdResult;
use crate::setup;
use baton_core::agents::{AgentDef, AgentMode};
use serde_json::json;
use std::process::ExitCode;

/// Runs `baton agents ...`.
pub fn agents(args: AgentsArgs) -> CmdResult {
    match args {
        AgentsArgs::List(a) => list(a),
    }
}

fn mode_name(mode: AgentMode) -> &'static str {
    match mode {
        AgentMode::Primary => "primary",
        AgentMode::Subagent => "subagent",
        AgentMode::All => "all",
    }
}

fn list(args: AgentListArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let config = setup::load_config(&cwd)?;
    let agents = baton_core::AgentSet::load(&setup::agent_dirs(&cwd));
    // What an agent's model resolves to: an alias's target, or itself.
    let resolved = |a: &AgentDef| {
        a.model
            .as_ref()
            .map(|m| config.aliases.get(m).cloned().unwrap_or_else(|| m.clone()))
    };
    match args.format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = agents
                .all()
                .map(|a| {
                    json!({
                        "name": a.name,
                        "description": a.description,
                        "mode": mode_name(a.mode),
                        "model": a.model,
                        "resolved_model": resolved(a),
                        "tools": a.tools,
                        "disallowed_tools": a.disallowed_tools,
                        "has_permission_rules": !a.permission.is_empty(),
                        "temperature": a.temperature,
                        "max_steps": a.max_steps,
                        "color": a.color,
                        "source": a.source.to_string(),
                        "path": a.source.path,
                    })
                })
                .collect();
            let problems: Vec<serde_json::Value> = agents
                .problems()
                .iter()
                .map(|p| json!({"path": p.path, "message": p.message, "skipped": p.skipped}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"agents": list, "problems": problems}))
                    .unwrap_or_default()
            );
        }
        ListFormat::Text => {
            for a in agents.all() {
                let model = match (&a.model, resolved(a)) {
                    (None, _) => "inherit".to_owned(),
                    (Some(m), Some(r)) if *m != r => format!("{m} → {r}"),
                    (Some(m), _) => m.clone(),
                };
                println!(
                    "{:<14} {:<9} {:<28} {}",
                    a.name,
                    mode_name(a.mode),
                    model,
                    a.source
                );
                println!("    {}", a.description.lines().next().unwrap_or(""));
                let mut limits = Vec::new();
                if let Some(tools) = &a.tools {
                    limits.push(format!("tools: {}", tools.join(", ")));
                }
                if !a.disallowed_tools.is_empty() {
                    limits.push(format!("not: {}", a.disallowed_tools.join(", ")));
                }
                if !a.permission.is_empty() {
                    limits.push("has permission rules".to_owned());
                }
                if !limits.is_empty() {
                    println!("    {}", limits.join("; "));
                }
            }
            if !agents.problems().is_empty() {
                println!("\nProblems in agent files:");
                for p in agents.problems() {
                    println!(
                        "  {} {}: {}",
                        if p.skipped { "skipped" } else { "warning" },
                        p.path.display(),
                        p.message
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
