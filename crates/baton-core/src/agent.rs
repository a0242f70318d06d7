//! Agent definitions: who the model is told it is, and its limits.

/// One agent: a name, a description for whoever picks it, and its prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDef {
    /// The name sessions refer to it by.
    pub name: String,
    /// What it is for (what a delegating agent reads to choose it).
    pub description: String,
    /// The system prompt's agent part.
    pub prompt: String,
    /// Overrides the configured step limit.
    pub max_steps: Option<u32>,
    /// Whether a person can talk to it directly (`false`: only as a task).
    pub primary: bool,
    /// Whether other agents can delegate to it.
    pub subagent: bool,
}

const BUILD_PROMPT: &str = "You are baton, a coding agent working in the user's project \
through tools. Read files before changing them, make focused edits, run commands to check \
your work, and answer concisely. Prefer the dedicated file tools (read, edit, write, glob, \
grep, list) over shell equivalents. Delegate independent pieces of work with the `task` tool: \
sub-agents run in the background while you go on, and you get a notice when each ends. Run \
long commands with `bash` and `background: true`. When you are done, say what you changed and \
how you verified it.";

const GENERAL_PROMPT: &str = "You are a baton sub-agent. Another agent delegated one task to \
you; do it with the tools you have, then answer with a complete, self-contained report: what \
you found or changed, and how you checked it. Your final message is all the delegating agent \
sees, so put everything it needs there.";

/// The agents every installation has.
pub fn builtin_agents() -> Vec<AgentDef> {
    vec![
        AgentDef {
            name: "build".into(),
            description: "The default agent: reads, edits and runs commands to get work done."
                .into(),
            prompt: BUILD_PROMPT.into(),
            max_steps: None,
            primary: true,
            subagent: false,
        },
        AgentDef {
            name: "general".into(),
            description: "General-purpose sub-agent with every tool: research, multi-step \
                          changes, running and fixing tests."
                .into(),
            prompt: GENERAL_PROMPT.into(),
            max_steps: None,
            primary: false,
            subagent: true,
        },
    ]
}

/// Finds an agent by name; the error lists the ones that exist.
pub fn find_agent(name: &str) -> Result<AgentDef, String> {
    let agents = builtin_agents();
    match agents.iter().find(|a| a.name == name) {
        Some(a) => Ok(a.clone()),
        None => Err(format!(
            "unknown agent `{name}`; available: {}",
            agents
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The agents a session may delegate to.
pub fn subagents() -> Vec<AgentDef> {
    builtin_agents()
        .into_iter()
        .filter(|a| a.subagent)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_agents_name_the_known_ones() {
        assert_eq!(find_agent("build").unwrap().name, "build");
        let err = find_agent("nope").unwrap_err();
        assert!(err.contains("build") && err.contains("general"), "{err}");
    }

    #[test]
    fn general_is_the_builtin_subagent() {
        let names: Vec<String> = subagents().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["general"]);
        assert!(find_agent("build").unwrap().primary);
    }
}
