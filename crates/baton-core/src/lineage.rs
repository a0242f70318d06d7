//! A session's ancestors, and what they pass down: permission rules and
//! tool restrictions. A sub-agent never gets more than its parent.

use crate::agents::{AgentDef, AgentSet, PermissionRules};
use crate::permissions::Policy;
use baton_protocol::SessionId;

/// The chain above a session.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lineage {
    /// Parent first, the top session last.
    pub(crate) ancestors: Vec<SessionId>,
    /// The agents of the ancestors and of the session itself, top first.
    pub(crate) agents: Vec<AgentDef>,
    /// The config's rules, then each of those agents' rules.
    pub(crate) policy: Policy,
}

impl Lineage {
    /// Builds the lineage of a session running `own`, whose ancestors
    /// (parent first) ran the given agents. Agents that no longer exist
    /// are skipped with a warning.
    pub(crate) fn build(
        config_rules: &PermissionRules,
        agents: &AgentSet,
        ancestors: Vec<(SessionId, String)>,
        own: &AgentDef,
    ) -> Lineage {
        let mut chain: Vec<AgentDef> = ancestors
            .iter()
            .rev()
            .filter_map(|(id, name)| {
                let found = agents.get(name).cloned();
                if found.is_none() {
                    tracing::warn!(session = %id, agent = %name, "ancestor's agent is gone");
                }
                found
            })
            .collect();
        chain.push(own.clone());
        let mut policy = Policy::default().with_layer("the config", config_rules);
        for agent in &chain {
            policy = policy.with_layer(format!("agent `{}`", agent.name), &agent.permission);
        }
        Lineage {
            ancestors: ancestors.into_iter().map(|(id, _)| id).collect(),
            agents: chain,
            policy,
        }
    }

    /// How many ancestors the session has.
    pub(crate) fn depth(&self) -> u32 {
        u32::try_from(self.ancestors.len()).unwrap_or(u32::MAX)
    }

    /// The top session of the tree (`me` when it has no parent).
    pub(crate) fn root(&self, me: &SessionId) -> SessionId {
        self.ancestors.last().unwrap_or(me).clone()
    }

    /// Whether every agent of the chain lets the session use `tool`.
    pub(crate) fn allows_tool(&self, tool: &str) -> bool {
        self.agents.iter().all(|a| a.allows_tool(tool))
    }

    /// Whether a tool named with `prefix` (an MCP server's
    /// `mcp__server__`) may be offered: no agent's `tools` list leaves
    /// all such tools out. Lets a session skip starting servers it cannot
    /// use.
    pub(crate) fn may_use_prefix(&self, prefix: &str) -> bool {
        self.agents.iter().all(|a| {
            a.tools
                .as_ref()
                .is_none_or(|tools| tools.iter().any(|t| t.starts_with(prefix)))
        })
    }

    /// Whether `session` is the session itself or one of its ancestors.
    pub(crate) fn includes(&self, me: &SessionId, session: &SessionId) -> bool {
        me == session || self.ancestors.contains(session)
    }
}
