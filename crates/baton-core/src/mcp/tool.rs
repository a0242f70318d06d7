//! One MCP server tool as a baton tool, and how its results read.

use super::hub::{McpHub, Server};
use base64::Engine as _;
use baton_protocol::Image;
use baton_tools::{Tool, ToolContext, ToolError, ToolOutcome, ToolOutput};
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use std::sync::{Arc, Weak};

/// `mcp__<server>__<tool>` as offered to the model.
pub(crate) struct McpTool {
    hub: Weak<McpHub>,
    name: String,
    server: Arc<Server>,
    tool: String,
    description: String,
    parameters: serde_json::Value,
    read_only: bool,
}

impl McpTool {
    pub(super) fn new(hub: &Arc<McpHub>, server: &Arc<Server>, tool: rmcp::model::Tool) -> McpTool {
        let name = server.name();
        let mut description = tool
            .description
            .as_deref()
            .map(str::to_owned)
            .or(tool.title.clone())
            .unwrap_or_default();
        if description.is_empty() {
            description = format!("The `{}` tool of the MCP server `{name}`.", tool.name);
        }
        let mut parameters = serde_json::Value::Object((*tool.input_schema).clone());
        if let Some(object) = parameters.as_object_mut() {
            // Some servers send `{}` or a schema without a type; providers
            // want an object schema.
            object
                .entry("type")
                .or_insert_with(|| serde_json::Value::String("object".into()));
        }
        let read_only = tool
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint)
            .unwrap_or(false);
        McpTool {
            hub: Arc::downgrade(hub),
            name: super::tool_name(name, &tool.name),
            server: server.clone(),
            tool: tool.name.into_owned(),
            description,
            parameters,
            read_only,
        }
    }
}

#[async_trait::async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    fn parameters(&self) -> serde_json::Value {
        self.parameters.clone()
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        self.call_with_images(args, ctx).await.map(|out| out.text)
    }

    async fn call_with_images(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let hub = self
            .hub
            .upgrade()
            .ok_or_else(|| ToolError::Failed("the engine is shutting down".into()))?;
        let arguments = match args {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => serde_json::Map::new(),
            other => {
                return Err(ToolError::InvalidArguments {
                    message: format!("expected a JSON object, got {other}"),
                });
            }
        };
        let outcome = hub
            .call(&self.server, &self.tool, arguments, ctx.cancel())
            .await;
        if outcome.is_error {
            Err(ToolError::Failed(outcome.output))
        } else {
            Ok(ToolOutput {
                text: outcome.output,
                images: outcome.images,
            })
        }
    }
}

/// The most bytes one image may have to be sent to a model (Anthropic's
/// limit; OpenAI's is larger).
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// The image types every wire takes.
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// What the model reads of a server's result: text blocks as they are;
/// each image as an `[image: MIME, N bytes]` line and, when its type and
/// size fit every wire, the image itself; audio as a line; embedded
/// resources' text, links by URI, and structured content as JSON when no
/// block already says it.
pub(crate) fn render_result(result: &CallToolResult) -> ToolOutcome {
    let mut parts: Vec<String> = Vec::new();
    let mut images = Vec::new();
    for block in &result.content {
        parts.push(match block {
            ContentBlock::Text(text) => text.text.clone(),
            ContentBlock::Image(image) => match sendable(&image.mime_type, &image.data) {
                Ok(bytes) => {
                    images.push(Image {
                        mime_type: image.mime_type.clone(),
                        data: image.data.clone(),
                    });
                    format!("[image: {}, {bytes} bytes]", image.mime_type)
                }
                Err(why) => format!(
                    "[image: {}, {} bytes; not shown to the model: {why}]",
                    image.mime_type,
                    decoded_len(&image.data)
                ),
            },
            ContentBlock::Audio(audio) => {
                format!(
                    "[audio: {}, {} bytes]",
                    audio.mime_type,
                    decoded_len(&audio.data)
                )
            }
            ContentBlock::Resource(embedded) => match &embedded.resource {
                ResourceContents::TextResourceContents { uri, text, .. } => {
                    format!("[resource {uri}]\n{text}")
                }
                ResourceContents::BlobResourceContents {
                    uri,
                    mime_type,
                    blob,
                    ..
                } => format!(
                    "[resource {uri}: {}, {} bytes]",
                    mime_type.as_deref().unwrap_or("application/octet-stream"),
                    decoded_len(blob)
                ),
                _ => "[resource of a kind baton cannot show]".to_owned(),
            },
            ContentBlock::ResourceLink(link) => format!("[resource link: {}]", link.uri),
            _ => "[content of a kind baton cannot show]".to_owned(),
        });
    }
    if let Some(structured) = &result.structured_content {
        let json = structured.to_string();
        if !parts.iter().any(|p| p.trim() == json) {
            parts.push(json);
        }
    }
    let output = parts.join("\n");
    if result.is_error == Some(true) {
        ToolOutcome::error(if output.is_empty() {
            "The MCP tool reported an error without saying what.".to_owned()
        } else {
            output
        })
    } else {
        ToolOutcome {
            images,
            ..ToolOutcome::ok(output)
        }
    }
}

/// The decoded size of an image a model can be sent, or why it cannot.
fn sendable(mime_type: &str, data: &str) -> Result<usize, String> {
    if !IMAGE_TYPES.contains(&mime_type) {
        return Err(format!("models take only {}", IMAGE_TYPES.join(", ")));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("its data is not valid base64 ({e})"))?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "it is larger than {} MiB",
            MAX_IMAGE_BYTES / 1024 / 1024
        ));
    }
    Ok(bytes.len())
}

/// Bytes of base64 `data` once decoded (counted, not decoded).
fn decoded_len(data: &str) -> usize {
    let digits = data
        .bytes()
        .filter(|b| {
            b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/' || *b == b'-' || *b == b'_'
        })
        .count();
    digits * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 transparent PNG, base64.
    const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

    #[test]
    fn an_image_goes_with_its_line_when_every_wire_takes_it() {
        let outcome = render_result(&CallToolResult::success(vec![
            ContentBlock::text("a pixel:"),
            ContentBlock::image(PIXEL, "image/png"),
        ]));
        assert!(!outcome.is_error);
        assert_eq!(outcome.output, "a pixel:\n[image: image/png, 68 bytes]");
        assert_eq!(
            outcome.images,
            vec![Image {
                mime_type: "image/png".into(),
                data: PIXEL.into(),
            }]
        );
    }

    #[test]
    fn an_image_no_wire_takes_is_said_and_left_out() {
        let svg = render_result(&CallToolResult::success(vec![ContentBlock::image(
            "PHN2Zz4=",
            "image/svg+xml",
        )]));
        assert!(svg.images.is_empty());
        assert!(
            svg.output
                .contains("not shown to the model: models take only image/png"),
            "{}",
            svg.output
        );
        let broken = render_result(&CallToolResult::success(vec![ContentBlock::image(
            "not base64!",
            "image/png",
        )]));
        assert!(broken.images.is_empty());
        assert!(
            broken.output.contains("not valid base64"),
            "{}",
            broken.output
        );
    }
}
