//! The system prompt: the agent's own prompt, how to work in baton
//! ([`guide`]), the environment, and the project's instructions.

mod guide;

use crate::agents::AgentDef;
use std::path::Path;
use std::process::Command;

/// Files whose content is passed on as project instructions, in order of
/// preference: the first one found wins.
const INSTRUCTION_FILES: &[&str] = &["AGENTS.md", "CLAUDE.md"];

/// Project instructions larger than this are cut (with a note).
const MAX_INSTRUCTIONS_BYTES: usize = 32 * 1024;

/// Builds the full system prompt for an agent working in `cwd`. A session
/// builds it once, at its start, and keeps it for its life (see
/// [`changing_facts`] for what is told later).
pub fn system_prompt(agent: &AgentDef, cwd: &Path, today: chrono::NaiveDate) -> String {
    let mut out = agent.prompt.trim().to_owned();
    out.push_str("\n\n");
    out.push_str(&guide::guide(|tool| agent.allows_tool(tool)));
    out.push_str("\n<environment>\n");
    out.push_str(&format!("working directory: {}\n", cwd.display()));
    out.push_str(&format!(
        "platform: {} ({})\n",
        std::env::consts::OS,
        std::env::consts::ARCH
    ));
    out.push_str(&changing_facts(cwd, today));
    out.push_str("</environment>\n");
    if let Some((name, text)) = project_instructions(cwd) {
        out.push_str(&format!(
            "\n<project-instructions source=\"{name}\">\n{}\n</project-instructions>\n",
            text.trim()
        ));
    }
    out
}

/// The facts of the environment that change during a session's life: the
/// date and the git branch and status. The system prompt holds them as
/// they were at the start; a change is told by appending them again.
pub fn changing_facts(cwd: &Path, today: chrono::NaiveDate) -> String {
    let mut out = format!("date: {today}\n");
    match git_summary(cwd) {
        Some(git) => out.push_str(&git),
        None => out.push_str("git: not a git repository\n"),
    }
    out
}

/// The branch and a short status summary, or `None` outside a repository.
fn git_summary(cwd: &Path) -> Option<String> {
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .stdin(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    run(&["rev-parse", "--is-inside-work-tree"])?;
    let branch = run(&["branch", "--show-current"]).unwrap_or_default();
    let branch = if branch.trim().is_empty() {
        "(detached HEAD)".to_owned()
    } else {
        branch
    };
    let status = run(&["status", "--porcelain"]).unwrap_or_default();
    let changed: Vec<&str> = status.lines().collect();
    let mut s = format!("git branch: {}\n", branch.trim());
    if changed.is_empty() {
        s.push_str("git status: clean\n");
    } else {
        s.push_str(&format!("git status: {} changed paths\n", changed.len()));
        for line in changed.iter().take(20) {
            s.push_str(&format!("  {line}\n"));
        }
        if changed.len() > 20 {
            s.push_str(&format!("  ... and {} more\n", changed.len() - 20));
        }
    }
    Some(s)
}

/// The first instruction file found in `cwd`, capped.
fn project_instructions(cwd: &Path) -> Option<(&'static str, String)> {
    INSTRUCTION_FILES.iter().find_map(|name| {
        let text = std::fs::read_to_string(cwd.join(name)).ok()?;
        if text.len() <= MAX_INSTRUCTIONS_BYTES {
            return Some((*name, text));
        }
        let mut cut = MAX_INSTRUCTIONS_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        Some((
            *name,
            format!(
                "{}\n[... {name} truncated at {cut} bytes ...]",
                &text[..cut]
            ),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AgentDef {
        crate::agents::AgentSet::builtin()
            .get("build")
            .unwrap()
            .clone()
    }

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn prompt_has_environment_and_prefers_agents_md() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "Use tabs.").unwrap();
        std::fs::write(dir.path().join("CLAUDE.md"), "Use spaces.").unwrap();
        let p = system_prompt(&agent(), dir.path(), day());
        assert!(p.contains(&format!("working directory: {}", dir.path().display())));
        assert!(p.contains("date: 2026-11-24"));
        assert!(p.contains(std::env::consts::OS));
        assert!(p.contains("Use tabs."));
        assert!(!p.contains("Use spaces."));
    }

    #[test]
    fn claude_md_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CLAUDE.md"), "Use spaces.").unwrap();
        let p = system_prompt(&agent(), dir.path(), day());
        assert!(p.contains("source=\"CLAUDE.md\""));
        assert!(p.contains("Use spaces."));
    }

    #[test]
    fn git_branch_and_changes_are_summarised() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap()
        };
        git(&["init", "-q", "-b", "trunk"]);
        std::fs::write(dir.path().join("new.txt"), "x").unwrap();
        let p = system_prompt(&agent(), dir.path(), day());
        assert!(p.contains("git branch: trunk"), "{p}");
        assert!(p.contains("1 changed paths"), "{p}");
        assert!(p.contains("new.txt"), "{p}");
    }
}
