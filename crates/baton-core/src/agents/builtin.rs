//! The agents every installation has: `build`, `plan` and `architect` to
//! talk to, `general`, `explore`, `developer` and `qa` to delegate to. An
//! agent file of the same name replaces one of them.

use super::definition::{AgentDef, AgentMode, AgentSource};
use super::permission::PermissionRules;
use super::tool_names::{CHANGING_TOOLS, SEARCH_TOOLS, TASK_TOOLS};

const BUILD_PROMPT: &str = "You are baton, a coding agent working in the user's project: \
you read, change and run its code to get the person's work done, delegating to sub-agents \
what runs better in parallel.";

const PLAN_PROMPT: &str = "You are baton in plan mode: you analyse and plan, and you do not \
change anything. You can read the project (read, glob, grep, list), keep a todo list, and \
delegate research to sub-agents with `task`; you cannot write or edit files or run commands, \
so do not try, and if the user asks for a change, describe it instead of making it. Read the \
code that matters before you conclude. Answer with a concrete plan: the files and functions \
involved, the changes in the order to make them, the risks and open questions, and how to \
verify the result.";

const GENERAL_PROMPT: &str = "You are a baton sub-agent. Another agent delegated one task to \
you; do it with the tools you have, then answer with a complete, self-contained report: what \
you found or changed, and how you checked it. Your final message is all the delegating agent \
sees, so put everything it needs there.";

const EXPLORE_PROMPT: &str = "You are a baton explore sub-agent: a fast, read-only searcher. \
Another agent asked you to find something in the codebase. Search with glob, grep and list, \
broadly first (file names, then contents), and read only what you need to confirm an answer; \
you cannot change files or run commands. Your final message is all the delegating agent sees: \
give the direct answer, the file paths with line numbers and the names or short snippets that \
support it, and say plainly what you looked for and did not find.";

const ARCHITECT_PROMPT: &str = "You are baton's architect: you lead a team of sub-agents and \
do not write the code yourself. Read enough of the project to split the person's request into \
pieces that can be built side by side, each with the files it owns. Delegate each piece to a \
`developer` task (give it a `name`, its files in `files` and a budget such as `max_cost`), and \
the checking to a `qa` task whose `after` names the developers, so it starts when they are \
done and reads their reports. Declare the whole plan in one reply and end your turn; do not \
poll. When notices arrive, integrate them: re-delegate what failed (with what QA found), and \
tell the person what was built, what QA found and what is left.";

const DEVELOPER_PROMPT: &str = "You are a baton developer sub-agent. An architect gave you one \
piece of a larger change while others work on other pieces at the same time: change only the \
files you were given. Implement the piece, add or update its tests, run them, and answer with a \
report: what you changed (files and functions), how you checked it, and what the others must \
know. Your final message is all the architect and QA see.";

const QA_PROMPT: &str = "You are a baton QA sub-agent. You check work others finished; your \
prompt holds their reports. Build the project and run the tests, read the changed code against \
what was asked, and try the cases its authors may have missed. You do not change files. Answer \
with a verdict: what passes, what fails (the command and its output), and what to fix.";

/// The built-in agents, sorted by name.
pub(crate) fn builtin_agents() -> Vec<AgentDef> {
    vec![
        builtin(
            "architect",
            "Leads a team: splits the work into developer tasks and a QA task after them, \
             and integrates their results; does not change files itself.",
            ARCHITECT_PROMPT,
            AgentMode::Primary,
        )
        .with_tools(
            &[SEARCH_TOOLS, &["todo_write"], TASK_TOOLS].concat(),
            CHANGING_TOOLS,
        ),
        builtin(
            "build",
            "The default agent: reads, edits and runs commands to get work done.",
            BUILD_PROMPT,
            AgentMode::Primary,
        ),
        builtin(
            "developer",
            "Implements one settled piece of a change, with tests, in its files.",
            DEVELOPER_PROMPT,
            AgentMode::Subagent,
        ),
        builtin(
            "explore",
            "Fast, read-only codebase search: where files, symbols and usages are (paths, \
             lines). Suits a fast, cheap model.",
            EXPLORE_PROMPT,
            AgentMode::Subagent,
        )
        .with_tools(SEARCH_TOOLS, CHANGING_TOOLS),
        builtin(
            "general",
            "Every tool: research, multi-step changes, running and fixing tests.",
            GENERAL_PROMPT,
            AgentMode::Subagent,
        ),
        builtin(
            "plan",
            "Read-only planning agent: analyses the code and proposes a plan without changing \
             files or running commands.",
            PLAN_PROMPT,
            AgentMode::Primary,
        )
        .with_tools(
            &[SEARCH_TOOLS, &["todo_write"], TASK_TOOLS].concat(),
            CHANGING_TOOLS,
        ),
        builtin(
            "qa",
            "Checks finished work: runs the tests, reviews the change; edits nothing.",
            QA_PROMPT,
            AgentMode::Subagent,
        )
        .with_tools(
            &[
                SEARCH_TOOLS,
                &[
                    "bash",
                    "shell_output",
                    "shell_kill",
                    "todo_write",
                    "message",
                ],
            ]
            .concat(),
            &["write", "edit"],
        ),
    ]
}

/// A built-in agent with every tool and the caller's model.
fn builtin(name: &str, description: &str, prompt: &str, mode: AgentMode) -> AgentDef {
    AgentDef {
        name: name.to_owned(),
        description: description.to_owned(),
        prompt: prompt.to_owned(),
        mode,
        model: None,
        tools: None,
        disallowed_tools: Vec::new(),
        permission: PermissionRules::default(),
        temperature: None,
        max_steps: None,
        reasoning_effort: None,
        sandbox: None,
        color: None,
        source: AgentSource::builtin(),
    }
}

impl AgentDef {
    /// Restricts a built-in agent to `allowed`, never `disallowed`.
    fn with_tools(mut self, allowed: &[&str], disallowed: &[&str]) -> AgentDef {
        self.tools = Some(allowed.iter().map(|t| (*t).to_owned()).collect());
        self.disallowed_tools = disallowed.iter().map(|t| (*t).to_owned()).collect();
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::agents::tool_names::BUILTIN_TOOLS;

    fn find(name: &str) -> AgentDef {
        builtin_agents()
            .into_iter()
            .find(|a| a.name == name)
            .unwrap()
    }

    #[test]
    fn build_and_general_have_every_tool() {
        for name in ["build", "general"] {
            let agent = find(name);
            assert!(BUILTIN_TOOLS.iter().all(|t| agent.allows_tool(t)), "{name}");
        }
        assert!(find("build").is_primary() && !find("build").is_subagent());
        assert!(find("general").is_subagent() && !find("general").is_primary());
    }

    #[test]
    fn plan_reads_and_delegates_but_changes_nothing() {
        let plan = find("plan");
        assert!(plan.is_primary() && !plan.is_subagent());
        for tool in [
            "read",
            "glob",
            "grep",
            "list",
            "todo_write",
            "task",
            "task_wait",
        ] {
            assert!(plan.allows_tool(tool), "{tool}");
        }
        for tool in ["write", "edit", "bash", "shell_kill", "shell_output"] {
            assert!(!plan.allows_tool(tool), "{tool}");
        }
    }

    #[test]
    fn the_team_leads_builds_and_checks_each_within_its_tools() {
        let architect = find("architect");
        assert!(architect.is_primary() && !architect.is_subagent());
        assert!(architect.allows_tool("task") && architect.allows_tool("read"));
        for tool in ["write", "edit", "bash"] {
            assert!(!architect.allows_tool(tool), "{tool}");
        }
        assert!(architect.prompt.contains("`after`") && architect.prompt.contains("max_cost"));
        let developer = find("developer");
        assert!(developer.is_subagent() && !developer.is_primary());
        assert!(BUILTIN_TOOLS.iter().all(|t| developer.allows_tool(t)));
        let qa = find("qa");
        assert!(qa.is_subagent());
        assert!(qa.allows_tool("bash") && qa.allows_tool("grep"));
        for tool in ["write", "edit", "task"] {
            assert!(!qa.allows_tool(tool), "{tool}");
        }
    }

    #[test]
    fn explore_only_searches() {
        let explore = find("explore");
        assert!(explore.is_subagent() && !explore.is_primary());
        assert_eq!(explore.model, None);
        let allowed: Vec<&str> = BUILTIN_TOOLS
            .iter()
            .copied()
            .filter(|t| explore.allows_tool(t))
            .collect();
        assert_eq!(allowed, ["read", "glob", "grep", "list"]);
        assert!(explore.description.contains("fast"));
    }

    #[test]
    fn builtins_are_sorted_and_described() {
        let names: Vec<String> = builtin_agents().into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "architect",
                "build",
                "developer",
                "explore",
                "general",
                "plan",
                "qa"
            ]
        );
        assert!(
            builtin_agents()
                .iter()
                .all(|a| !a.description.is_empty() && !a.prompt.is_empty())
        );
    }
}
