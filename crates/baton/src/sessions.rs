//! `baton sessions list` and `baton sessions show`.

use crate::cli::{ListArgs, ListFormat, SessionsArgs, ShowArgs};
use crate::exit::{CmdResult, Failure};
use crate::setup;
use baton_protocol::{Message, Part, Role};
use baton_store::{SessionQuery, SessionRecord, SqliteStore, Store};
use serde_json::json;
use std::process::ExitCode;

/// Runs `baton sessions ...`.
pub async fn sessions(args: SessionsArgs) -> CmdResult {
    let store = open_store()?;
    match args {
        SessionsArgs::List(a) => list(&store, a),
        SessionsArgs::Show(a) => show(&store, a),
    }
}

fn open_store() -> Result<SqliteStore, Failure> {
    let home = setup::baton_home()?;
    let store =
        SqliteStore::open(&home.join("baton.db")).map_err(|e| Failure::run(e.to_string()))?;
    baton_core::mark_orphans(&store).map_err(|e| Failure::run(e.to_string()))?;
    Ok(store)
}

fn store_err(e: baton_store::StoreError) -> Failure {
    match e {
        baton_store::StoreError::NotFound(_) | baton_store::StoreError::Ambiguous { .. } => {
            Failure::usage(e.to_string())
        }
        other => Failure::run(other.to_string()),
    }
}

fn list(store: &dyn Store, args: ListArgs) -> CmdResult {
    let cwd = if args.here {
        let here = setup::current_dir()?;
        Some(
            std::fs::canonicalize(&here)
                .unwrap_or(here)
                .to_string_lossy()
                .into_owned(),
        )
    } else {
        None
    };
    let sessions = store
        .list_sessions(&SessionQuery {
            cwd,
            roots_only: !args.all,
            parent: None,
            limit: Some(args.limit),
        })
        .map_err(store_err)?;
    match args.format {
        ListFormat::Json => {
            let rows: Vec<_> = sessions.iter().map(SessionRecord::to_json).collect();
            print_json(&json!(rows))?;
        }
        ListFormat::Text => {
            if sessions.is_empty() {
                println!("no sessions yet");
            }
            for s in &sessions {
                println!(
                    "{}  {:<11}  {:<8}  {:<28}  {}  {}",
                    s.id,
                    s.status.as_str(),
                    s.agent,
                    s.model,
                    s.updated_at.format("%Y-%m-%d %H:%M"),
                    if s.title.is_empty() {
                        "(untitled)"
                    } else {
                        &s.title
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(store: &dyn Store, args: ShowArgs) -> CmdResult {
    let id = store.resolve_session_id(&args.id).map_err(store_err)?;
    let session = store
        .get_session(&id)
        .map_err(store_err)?
        .ok_or_else(|| Failure::usage(format!("no session `{id}`")))?;
    let total = store.usage_with_descendants(&id).map_err(store_err)?;
    let children = store
        .list_sessions(&SessionQuery {
            parent: Some(id.clone()),
            ..Default::default()
        })
        .map_err(store_err)?;
    let messages = store.messages(&id).map_err(store_err)?;
    let tasks = task_tree(store, &id, 0).map_err(store_err)?;
    match args.format {
        ListFormat::Json => {
            let mut value = session.to_json();
            value["provider"] = json!(session.model.split('/').next().unwrap_or_default());
            value["usage_total"] = json!(total);
            value["tool_calls_total"] =
                json!(store.tool_calls_with_descendants(&id).map_err(store_err)?);
            value["tasks"] = json!(
                tasks
                    .iter()
                    .filter(|t| t.depth == 0)
                    .map(|t| t.json.clone())
                    .collect::<Vec<_>>()
            );
            value["shells"] = json!(
                store
                    .list_shells(&id)
                    .map_err(store_err)?
                    .iter()
                    .map(|sh| json!({
                        "shell_id": sh.id,
                        "command": sh.command,
                        "status": sh.status,
                        "exit_code": sh.exit_code,
                        "log_path": sh.log_path,
                    }))
                    .collect::<Vec<_>>()
            );
            value["children"] = json!(
                children
                    .iter()
                    .map(SessionRecord::to_json)
                    .collect::<Vec<_>>()
            );
            value["messages"] = json!(messages);
            print_json(&value)?;
        }
        ListFormat::Text => {
            println!("session  {}", session.id);
            if let Some(parent) = &session.parent_id {
                println!("parent   {parent}");
            }
            println!("title    {}", session.title);
            println!("status   {}", session.status);
            println!("agent    {}", session.agent);
            println!(
                "model    {} (provider {})",
                session.model,
                session.model.split('/').next().unwrap_or_default()
            );
            println!("cwd      {}", session.cwd);
            println!("created  {}", session.created_at.to_rfc3339());
            println!(
                "usage    {} in / {} out tokens, ${:.4} (with sub-agents: {} in / {} out, ${:.4})",
                session.usage.input_tokens,
                session.usage.output_tokens,
                session.usage.cost_usd,
                total.input_tokens,
                total.output_tokens,
                total.cost_usd
            );
            if !tasks.is_empty() {
                println!("tasks");
                for t in &tasks {
                    println!("{}", t.line);
                }
            }
            for child in children
                .iter()
                .filter(|c| !tasks.iter().any(|t| t.child == c.id))
            {
                println!("child    {}  {}  {}", child.id, child.status, child.title);
            }
            println!();
            for m in &messages {
                print_message(m);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One task of the tree, ready to print.
struct TaskLine {
    depth: usize,
    child: baton_protocol::SessionId,
    line: String,
    json: serde_json::Value,
}

/// The tasks a session delegated, and theirs, depth first.
fn task_tree(
    store: &dyn Store,
    parent: &baton_protocol::SessionId,
    depth: usize,
) -> Result<Vec<TaskLine>, baton_store::StoreError> {
    let mut out = Vec::new();
    for task in store.list_tasks(parent)? {
        let usage = store.usage_with_descendants(&task.child_session_id)?;
        let tool_calls = store.tool_calls_with_descendants(&task.child_session_id)?;
        let seconds = match (task.started_at, task.ended_at) {
            (Some(start), Some(end)) => (end - start).num_milliseconds() as f64 / 1000.0,
            (Some(start), None) => {
                (baton_protocol::now() - start).num_milliseconds() as f64 / 1000.0
            }
            _ => 0.0,
        };
        let below = task_tree(store, &task.child_session_id, depth + 1)?;
        let mut where_ = String::new();
        if let Some(w) = &task.worktree {
            where_.push_str(&format!("  branch {}", w.branch));
        }
        if !task.files.is_empty() {
            where_.push_str(&format!("  files {}", task.files.join(", ")));
        }
        let line = format!(
            "{}{}  {:<11} {} on {}  {:.1} s  {} in / {} out tokens  ${:.4}  {} tool calls  \"{}\"{where_}",
            "  ".repeat(depth + 1),
            task.id,
            task.status.as_str(),
            task.agent,
            task.model,
            seconds,
            usage.input_tokens,
            usage.output_tokens,
            usage.cost_usd,
            tool_calls,
            task.description
        );
        let json = json!({
            "task_id": task.id,
            "description": task.description,
            "status": task.status,
            "agent": task.agent,
            "model": task.model,
            "provider": task.model.split('/').next().unwrap_or_default(),
            "files": task.files,
            "branch": task.worktree.as_ref().map(|w| w.branch.clone()),
            "worktree": task.worktree.as_ref().map(|w| w.path.clone()),
            "child_session_id": task.child_session_id,
            "seconds": seconds,
            "usage": usage,
            "tool_calls": tool_calls,
            "result": task.result,
            "tasks": below
                .iter()
                .filter(|t| t.depth == depth + 1)
                .map(|t| t.json.clone())
                .collect::<Vec<_>>(),
        });
        out.push(TaskLine {
            depth,
            child: task.child_session_id.clone(),
            line,
            json,
        });
        out.extend(below);
    }
    Ok(out)
}

fn print_message(m: &Message) {
    let who = match m.role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    for part in &m.parts {
        match part {
            Part::Text { text } => println!("[{who}] {text}"),
            Part::ToolCall(c) => println!("[{who}] → {} {}", c.name, c.arguments),
            Part::ToolResult {
                name,
                output,
                is_error,
                ..
            } => {
                let mark = if *is_error { "✗" } else { "✓" };
                let first = output.lines().next().unwrap_or("");
                println!("[{who}] {mark} {name}: {first}");
            }
            Part::Notice { text, .. } => println!("[notice] {text}"),
        }
    }
}

fn print_json(value: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::run(format!("cannot format JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
