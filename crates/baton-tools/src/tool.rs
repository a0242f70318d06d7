//! The trait every tool implements.

use crate::{ToolContext, ToolError};
use baton_protocol::Image;

/// One tool the model can call.
///
/// Implementations parse their own arguments (normally with a
/// `#[serde(deny_unknown_fields)]` struct whose schemars schema is what
/// [`Tool::parameters`] returns). [`crate::ToolRegistry::dispatch`] checks
/// the arguments against that schema first and turns every failure into a
/// readable error result.
#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    /// The name the model calls it by (a public contract: never rename).
    /// Built-in tools return a constant; an MCP server's tools are named
    /// at run time.
    fn name(&self) -> &str;

    /// What the model reads: what the tool does, when to use it, its limits.
    fn description(&self) -> String;

    /// The JSON Schema (an object schema) of the arguments.
    fn parameters(&self) -> serde_json::Value;

    /// Whether the tool only reads (never changes files or runs programs).
    fn is_read_only(&self) -> bool;

    /// Runs one call. The text returned is what the model reads.
    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError>;

    /// Runs one call whose result may hold images besides its text; what
    /// [`crate::ToolRegistry::dispatch`] calls. Tools that return text only
    /// keep this default, which is [`Tool::call`].
    async fn call_with_images(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        self.call(args, ctx).await.map(ToolOutput::text)
    }
}

/// What a successful call returned: the text the model reads, and images
/// for models that read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// The text for the model (with a line saying each image, for
    /// readers that show text only).
    pub text: String,
    /// The images, in the order the tool gave them.
    pub images: Vec<Image>,
}

impl ToolOutput {
    /// A text-only output.
    pub fn text(text: String) -> ToolOutput {
        ToolOutput {
            text,
            images: Vec::new(),
        }
    }
}
