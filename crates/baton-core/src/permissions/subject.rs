//! What a permission rule's patterns are matched against, per tool.

use std::path::{Component, Path, PathBuf};

/// The subject of a call: the command line for `bash`, the path for file
/// tools (relative to the working directory when inside it), the agent
/// for `task`. `None` for tools without one.
pub(crate) fn subject_for(tool: &str, arguments: &str, cwd: &Path) -> Option<String> {
    let args: serde_json::Value = serde_json::from_str(arguments).ok()?;
    let text = |key: &str| args.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    match tool {
        "bash" => text("command").map(|c| c.trim().to_owned()),
        "read" | "write" | "edit" => text("path").map(|p| shown_path(&p, cwd)),
        "list" | "glob" | "grep" => Some(shown_path(&text("path").unwrap_or_default(), cwd)),
        "task" => Some(text("agent").unwrap_or_else(|| "general".to_owned())),
        _ => None,
    }
}

/// A path as rules see it: lexically normalized, relative to `cwd` when
/// it is inside it (`.` for `cwd` itself), absolute otherwise.
fn shown_path(given: &str, cwd: &Path) -> String {
    let joined = cwd.join(given.trim());
    let mut normal = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    match normal.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => normal.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_per_tool() {
        let cwd = Path::new("/p");
        assert_eq!(
            subject_for("bash", r#"{"command":" git status "}"#, cwd).as_deref(),
            Some("git status")
        );
        assert_eq!(
            subject_for("edit", r#"{"path":"./src/../src/a.rs"}"#, cwd).as_deref(),
            Some("src/a.rs")
        );
        assert_eq!(
            subject_for("write", r#"{"path":"/p/b.txt"}"#, cwd).as_deref(),
            Some("b.txt")
        );
        assert_eq!(
            subject_for("read", r#"{"path":"../etc/passwd"}"#, cwd).as_deref(),
            Some("/etc/passwd")
        );
        assert_eq!(subject_for("list", "{}", cwd).as_deref(), Some("."));
        assert_eq!(subject_for("task", "{}", cwd).as_deref(), Some("general"));
        assert_eq!(subject_for("todo_write", "{}", cwd), None);
        assert_eq!(subject_for("bash", "not json", cwd), None);
    }
}
