//! The MCP servers a client sends with `session/new` and `session/load`:
//! stdio and streamable HTTP ones are given to the engine for the
//! session's tree; SSE ones (deprecated by MCP, not advertised) are not.

use agent_client_protocol::v1::schema::McpServer;
use baton_client::Client;
use baton_protocol::SessionId;
use baton_protocol::api::McpServerSpec;

/// The servers baton can start, and a line for each it cannot.
fn specs(servers: Vec<McpServer>) -> (Vec<McpServerSpec>, Vec<String>) {
    let mut specs = Vec::new();
    let mut skipped = Vec::new();
    for server in servers {
        match server {
            McpServer::Stdio(s) => specs.push(McpServerSpec {
                name: s.name,
                command: Some(s.command.to_string_lossy().into_owned()),
                args: s.args,
                env: s.env.into_iter().map(|v| (v.name, v.value)).collect(),
                ..McpServerSpec::default()
            }),
            McpServer::Http(s) => specs.push(McpServerSpec {
                name: s.name,
                url: Some(s.url),
                headers: s.headers.into_iter().map(|h| (h.name, h.value)).collect(),
                ..McpServerSpec::default()
            }),
            McpServer::Sse(s) => skipped.push(format!(
                "MCP server `{}` uses the SSE transport, which baton does not speak (use \
                 streamable HTTP)",
                s.name
            )),
            other => skipped.push(format!(
                "an MCP server of a transport baton does not speak: {other:?}"
            )),
        }
    }
    (specs, skipped)
}

/// Gives the client's servers to the tree of `root`. A server that
/// cannot be used is said in the log (the editor's agent log); the
/// session goes on without it.
pub(crate) async fn bring(client: &dyn Client, root: &SessionId, servers: Vec<McpServer>) {
    if servers.is_empty() {
        return;
    }
    let (specs, skipped) = specs(servers);
    for line in skipped {
        tracing::warn!("acp: {line}");
    }
    if specs.is_empty() {
        return;
    }
    match client.use_mcp_servers(root, specs).await {
        Ok(notices) => {
            for line in notices {
                tracing::warn!("acp: {line}");
            }
        }
        Err(e) => tracing::warn!("acp: the client's MCP servers are not used: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::v1::schema::{
        EnvVariable, HttpHeader, McpServerHttp, McpServerSse, McpServerStdio,
    };

    #[test]
    fn stdio_and_http_servers_are_kept_sse_ones_said() {
        let (specs, skipped) = specs(vec![
            McpServer::Stdio(
                McpServerStdio::new("fs", "/usr/bin/mcp-fs")
                    .args(vec!["/p".into()])
                    .env(vec![EnvVariable::new("TOKEN", "t")]),
            ),
            McpServer::Http(
                McpServerHttp::new("web", "http://127.0.0.1:9/mcp")
                    .headers(vec![HttpHeader::new("Authorization", "Bearer x")]),
            ),
            McpServer::Sse(McpServerSse::new("old", "http://127.0.0.1:9/sse")),
        ]);
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "fs");
        assert_eq!(specs[0].command.as_deref(), Some("/usr/bin/mcp-fs"));
        assert_eq!(specs[0].args, ["/p"]);
        assert_eq!(specs[0].env["TOKEN"], "t");
        assert_eq!(specs[1].url.as_deref(), Some("http://127.0.0.1:9/mcp"));
        assert_eq!(specs[1].headers["Authorization"], "Bearer x");
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].contains("`old`"), "{skipped:?}");
    }
}
