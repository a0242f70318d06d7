//! MCP servers a client brings for a session tree (an editor's, over
//! ACP): checked, added to the hub for that tree only, and offered from
//! the tree's next actor on.

use super::config::{McpServerConfig, McpSource};
use crate::engine::Engine;
use crate::error::EngineError;
use baton_protocol::SessionId;
use baton_protocol::api::McpServerSpec;
use std::collections::BTreeMap;

/// The settings of one server a client brought, checked like a
/// configured server's, or why it is unusable.
fn config_of(spec: McpServerSpec) -> Result<(String, McpServerConfig), EngineError> {
    let config = McpServerConfig {
        command: spec.command,
        args: spec.args,
        env: spec.env,
        url: spec.url,
        headers: spec.headers,
        source: McpSource::Client,
        ..McpServerConfig::stdio("", Vec::new())
    };
    config.check(&spec.name).map_err(|why| {
        EngineError::Invalid(why.replace("[mcp_servers.", "[the client's MCP server "))
    })?;
    Ok((spec.name, config))
}

impl Engine {
    /// Adds the MCP servers a client brought to the tree of the top-level
    /// session `id`: its sessions are offered their tools (as
    /// `mcp__<name>__<tool>`, `ask` unless a rule allows them) from their
    /// next start on, the session itself at once: its idle actor is
    /// retired so that the next one lists them. Refuses, changing
    /// nothing, a bad server, a task's session, or one with work under
    /// way. Returns a notice for each server left out because a
    /// configured server has its name.
    pub async fn use_mcp_servers(
        &self,
        id: &SessionId,
        servers: Vec<McpServerSpec>,
    ) -> Result<Vec<String>, EngineError> {
        let mut checked = BTreeMap::new();
        for spec in servers {
            let (name, config) = config_of(spec)?;
            if checked.insert(name.clone(), config).is_some() {
                return Err(EngineError::Invalid(format!(
                    "MCP server `{name}` is given twice"
                )));
            }
        }
        let record = self.services().session_record(id).await?;
        if record.parent_id.is_some() {
            return Err(EngineError::Invalid(format!(
                "session `{id}` is a task's; give MCP servers to the top session of its tree"
            )));
        }
        let _retired = self.core.closed_for_change(id).await?;
        Ok(self.services().mcp.add_for_tree(id, checked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: Option<&str>, url: Option<&str>) -> McpServerSpec {
        McpServerSpec {
            name: "fs".into(),
            command: command.map(str::to_owned),
            url: url.map(str::to_owned),
            ..McpServerSpec::default()
        }
    }

    #[test]
    fn a_server_is_a_command_or_an_endpoint() {
        let (name, stdio) = config_of(spec(Some("npx"), None)).unwrap();
        assert_eq!(name, "fs");
        assert_eq!(stdio.command.as_deref(), Some("npx"));
        assert_eq!(stdio.source, McpSource::Client);
        let (_, http) = config_of(spec(None, Some("http://127.0.0.1:1/mcp"))).unwrap();
        assert_eq!(http.url.as_deref(), Some("http://127.0.0.1:1/mcp"));
        for bad in [
            spec(None, None),
            spec(Some("npx"), Some("http://x")),
            spec(Some(" "), None),
            McpServerSpec {
                name: " ".into(),
                ..spec(Some("npx"), None)
            },
        ] {
            assert!(matches!(config_of(bad), Err(EngineError::Invalid(_))));
        }
    }
}
