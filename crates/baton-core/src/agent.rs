//! Agent definitions: who the model is told it is, and its limits.

/// One agent: a name, a description for whoever picks it, and its prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDef {
    /// The name sessions refer to it by.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The system prompt's agent part.
    pub prompt: String,
    /// Overrides the configured step limit.
    pub max_steps: Option<u32>,
}

const BUILD_PROMPT: &str = "You are baton, a coding agent working in the user's project \
through tools. Read files before changing them, make focused edits, run commands to check \
your work, and answer concisely. Prefer the dedicated file tools (read, edit, write, glob, \
grep, list) over shell equivalents. When you are done, say what you changed and how you \
verified it.";

/// The agents every installation has.
pub fn builtin_agents() -> Vec<AgentDef> {
    vec![AgentDef {
        name: "build".into(),
        description: "The default agent: reads, edits and runs commands to get work done.".into(),
        prompt: BUILD_PROMPT.into(),
        max_steps: None,
    }]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_agents_name_the_known_ones() {
        assert_eq!(find_agent("build").unwrap().name, "build");
        let err = find_agent("nope").unwrap_err();
        assert!(err.contains("build"), "{err}");
    }
}
