//! Turning text into styled, wrapped terminal lines: Markdown, code
//! highlighting, diffs.
