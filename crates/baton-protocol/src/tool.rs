//! How a tool is described to a model.

use serde::{Deserialize, Serialize};

/// A tool as offered to the model: its name, what it does, and the JSON
/// Schema of its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does and when to use it.
    pub description: String,
    /// JSON Schema (an object schema) of its arguments.
    pub parameters: serde_json::Value,
}
