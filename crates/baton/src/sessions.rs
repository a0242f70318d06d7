//! `baton sessions list` and `baton sessions show`, through the client like
//! every other front end (an engine in this process, on the stored
//! sessions).

use crate::cli::{ListArgs, ListFormat, SessionsArgs, ShowArgs};
use crate::exit::{CmdResult, Failure};
use crate::setup;
use baton_client::{Client, ClientError, LocalClient, SessionFilter};
use baton_protocol::api::{SessionTree, TaskView};
use baton_protocol::{Message, Part, Role, SessionId};
use serde_json::json;
use std::process::ExitCode;

/// Runs `baton sessions ...`.
pub async fn sessions(args: SessionsArgs) -> CmdResult {
    let cwd = setup::current_dir()?;
    let engine = setup::answering_engine(setup::load_config(&cwd)?, &cwd).await?;
    let client = LocalClient::new(engine, cwd);
    let result = match args {
        SessionsArgs::List(a) => list(&client, a).await,
        SessionsArgs::Show(a) => show(&client, a).await,
    };
    client.close().await;
    result
}

fn client_err(e: ClientError) -> Failure {
    match e {
        ClientError::NotFound(_) | ClientError::Invalid(_) => Failure::usage(e.to_string()),
        other => Failure::run(other.to_string()),
    }
}

async fn list(client: &LocalClient, args: ListArgs) -> CmdResult {
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
    let sessions = client
        .sessions(SessionFilter {
            cwd,
            roots_only: !args.all,
            parent: None,
            limit: Some(args.limit),
        })
        .await
        .map_err(client_err)?;
    match args.format {
        ListFormat::Json => print_json(&json!(sessions))?,
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

async fn show(client: &LocalClient, args: ShowArgs) -> CmdResult {
    let id = client
        .engine()
        .resolve_session(&args.id)
        .await
        .map_err(|e| client_err(e.into()))?;
    let tree = client.tree(&id).await.map_err(client_err)?;
    let messages = client.messages(&id).await.map_err(client_err)?;
    let Some(session) = tree.sessions.first() else {
        return Err(Failure::usage(format!("no session `{id}`")));
    };
    let tasks = task_lines(&tree, &id, 0);
    let children: Vec<_> = tree
        .sessions
        .iter()
        .filter(|s| s.parent_id.as_ref() == Some(&id))
        .collect();
    match args.format {
        ListFormat::Json => {
            let mut value = json!(session);
            value["usage_total"] = json!(session.total_usage);
            value["tool_calls_total"] = json!(session.total_tool_calls);
            value["tasks"] = json!(task_json(&tree, &id));
            value["shells"] = json!(
                tree.shells
                    .iter()
                    .filter(|sh| sh.session_id == id)
                    .collect::<Vec<_>>()
            );
            value["children"] = json!(children);
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
            println!("model    {} (provider {})", session.model, session.provider);
            println!("cwd      {}", session.cwd);
            println!("created  {}", session.created_at.to_rfc3339());
            let (own, total) = (&session.usage, &session.total_usage);
            println!(
                "usage    {} in ({} cached, {} cache writes) / {} out tokens, ${:.4} \
                 (with sub-agents: {} in ({} cached) / {} out, ${:.4})",
                own.input_tokens,
                own.cache_read_tokens,
                own.cache_write_tokens,
                own.output_tokens,
                own.cost_usd,
                total.input_tokens,
                total.cache_read_tokens,
                total.output_tokens,
                total.cost_usd
            );
            if !tasks.is_empty() {
                println!("tasks");
                for line in &tasks {
                    println!("{line}");
                }
            }
            for child in children
                .iter()
                .filter(|c| !tree.tasks.iter().any(|t| t.child_session_id == c.id))
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

/// The tasks `parent` delegated.
fn tasks_of<'a>(
    tree: &'a SessionTree,
    parent: &'a SessionId,
) -> impl Iterator<Item = &'a TaskView> {
    tree.tasks
        .iter()
        .filter(move |t| t.parent_session_id == *parent)
}

/// One line per task of the tree under `parent`, depth first.
fn task_lines(tree: &SessionTree, parent: &SessionId, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    for task in tasks_of(tree, parent) {
        let mut where_ = String::new();
        if let Some(branch) = &task.branch {
            where_.push_str(&format!("  branch {branch}"));
        }
        if !task.claims.is_empty() {
            where_.push_str(&format!("  files {}", task.claims.join(", ")));
        }
        out.push(format!(
            "{}{}  {:<11} {} on {}  {:.1} s  {} in / {} out tokens  ${:.4}  {} tool call{}  \"{}\"{where_}",
            "  ".repeat(depth + 1),
            task.task_id,
            task.status.as_str(),
            task.agent,
            task.model,
            task.elapsed_s,
            task.tokens_in,
            task.tokens_out,
            task.cost_usd,
            task.tool_calls,
            if task.tool_calls == 1 { "" } else { "s" },
            task.description
        ));
        out.extend(task_lines(tree, &task.child_session_id, depth + 1));
    }
    out
}

/// The tasks under `parent` as nested JSON.
fn task_json(tree: &SessionTree, parent: &SessionId) -> Vec<serde_json::Value> {
    tasks_of(tree, parent)
        .map(|task| {
            let mut value = json!(task);
            value["tasks"] = json!(task_json(tree, &task.child_session_id));
            value
        })
        .collect()
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
            Part::Context { text, .. } => {
                let first = text.lines().next().unwrap_or("");
                println!("[context] {first}");
            }
            Part::Reasoning { text, .. } => {
                let first = text.lines().next().unwrap_or("(hidden reasoning)");
                println!("[{who} thinking] {first}");
            }
            Part::Compaction(c) => println!(
                "[compaction] {} earlier messages summarized ({}), about {} → {} tokens\n{}",
                c.summarized, c.trigger, c.tokens_before, c.tokens_after, c.summary
            ),
        }
    }
}

fn print_json(value: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::run(format!("cannot format JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
