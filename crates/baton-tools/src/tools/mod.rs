//! The built-in tools, one module each.

mod bash;
mod edit;
mod glob;
mod grep;
mod list;
#[cfg(test)]
mod properties;
mod read;
mod shell;
mod todo;
mod write;

pub(crate) use bash::BashTool;
pub(crate) use edit::EditTool;
pub(crate) use glob::GlobTool;
pub(crate) use grep::GrepTool;
pub(crate) use list::ListTool;
pub(crate) use read::ReadTool;
pub(crate) use shell::{ShellKillTool, ShellOutputTool};
pub(crate) use todo::TodoWriteTool;
pub(crate) use write::WriteTool;
