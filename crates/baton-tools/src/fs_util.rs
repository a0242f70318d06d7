//! Small filesystem helpers shared by the tools.

use crate::panics::CrashSite;
use crate::{ToolContext, ToolError};
use std::io::Write;
use std::path::Path;

/// Runs blocking filesystem work on tokio's blocking pool. A panic inside
/// `work` is re-raised here so the registry reports it as the call's
/// failure (and, like the call's own panics, keeps it off stderr).
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
{
    // The work is part of the tool call: a panic in it is the call's.
    let site = CrashSite::current();
    let marked = move || {
        let _entered = site.as_ref().map(CrashSite::enter);
        work()
    };
    match tokio::task::spawn_blocking(marked).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(_) => Err(ToolError::Cancelled),
    }
}

/// How a path is shown to the model: relative to the working directory when
/// it is inside it, absolute otherwise.
pub(crate) fn display_path(working_dir: &Path, path: &Path) -> String {
    match path.strip_prefix(working_dir) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => relative.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// Resolves `path` through the context's policy.
pub(crate) fn resolve(ctx: &dyn ToolContext, path: &str) -> Result<std::path::PathBuf, ToolError> {
    ctx.path_policy().resolve(ctx.working_dir(), path)
}

/// Whether `path` was newly created or replaced an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    Created,
    Overwrote,
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, then renamed over the target. Missing parent
/// directories are created; an existing file keeps its permissions; a
/// symbolic link is written through (its target is replaced, not the link).
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<WriteKind, ToolError> {
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_path_buf(),
    };
    let existing = match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => {
            return Err(ToolError::Failed(format!(
                "`{}` is a directory; give the path of a file",
                path.display()
            )));
        }
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| {
            ToolError::Failed(format!("`{}` has no parent directory", path.display()))
        })?;
    std::fs::create_dir_all(parent)
        .map_err(|err| ToolError::io("create directory", parent, err))?;

    let mut temp = tempfile::Builder::new()
        .prefix(".baton-write-")
        .tempfile_in(parent)
        .map_err(|err| ToolError::io("create a temporary file in", parent, err))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|err| ToolError::io("write", temp.path().to_path_buf(), err))?;
    if let Some(permissions) = existing.clone() {
        temp.as_file()
            .set_permissions(permissions)
            .map_err(|err| ToolError::io("set permissions of", temp.path().to_path_buf(), err))?;
    }
    temp.persist(&target)
        .map_err(|err| ToolError::io("replace", target.clone(), err.error))?;
    Ok(if existing.is_some() {
        WriteKind::Overwrote
    } else {
        WriteKind::Created
    })
}

/// Number of lines in `text` as an editor would count them.
pub(crate) fn line_count(text: &str) -> usize {
    text.lines().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_creates_parents_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/c.txt");
        assert_eq!(atomic_write(&file, b"one").unwrap(), WriteKind::Created);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o750)).unwrap();
        assert_eq!(atomic_write(&file, b"two").unwrap(), WriteKind::Overwrote);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);

        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("c.txt")]);
    }

    #[test]
    fn atomic_write_goes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        atomic_write(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn display_path_is_relative_inside_the_working_dir() {
        let wd = Path::new("/w/p");
        assert_eq!(display_path(wd, Path::new("/w/p/src/a.rs")), "src/a.rs");
        assert_eq!(display_path(wd, Path::new("/w/p")), ".");
        assert_eq!(display_path(wd, Path::new("/etc/x")), "/etc/x");
    }
}

/// A [`ToolError::NotFound`] for `given` (resolved to `path`), with up to
/// three similar names from the same directory when there are any.
pub(crate) fn not_found(given: &str, path: &Path) -> ToolError {
    let hint = match path.parent() {
        Some(dir) if dir.is_dir() => {
            let similar = similar_names(dir, path);
            if similar.is_empty() {
                String::new()
            } else {
                format!(" Did you mean: {}?", similar.join(", "))
            }
        }
        Some(dir) => format!(" Its directory `{}` does not exist either.", dir.display()),
        None => String::new(),
    };
    ToolError::NotFound {
        path: given.to_owned(),
        hint,
    }
}

/// Most entries of a directory we look at when suggesting names.
const MAX_SUGGESTION_SCAN: usize = 2_000;

fn similar_names(dir: &Path, missing: &Path) -> Vec<String> {
    let Some(wanted) = missing.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let wanted_lower = wanted.to_lowercase();
    let wanted_stem = missing
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(wanted)
        .to_lowercase();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut scored: Vec<(usize, String)> = entries
        .take(MAX_SUGGESTION_SCAN)
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter_map(|name| {
            let lower = name.to_lowercase();
            let stem = Path::new(&lower)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(&lower)
                .to_owned();
            let distance = edit_distance(&wanted_lower, &lower);
            let close = distance <= (wanted_lower.chars().count() / 4).max(2);
            (close || stem == wanted_stem).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("main.rs", "main.rs"), 0);
        assert_eq!(edit_distance("mian.rs", "main.rs"), 2);
        assert_eq!(edit_distance("lib.rs", "lib.r"), 1);
    }

    #[test]
    fn not_found_suggests_similar_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        std::fs::write(dir.path().join("config.yaml"), "").unwrap();
        std::fs::write(dir.path().join("unrelated.md"), "").unwrap();
        let err = not_found("confg.toml", &dir.path().join("confg.toml"));
        let text = err.to_string();
        assert!(text.contains("`confg.toml` does not exist"), "{text}");
        assert!(text.contains("config.toml"), "{text}");
        assert!(!text.contains("unrelated"), "{text}");

        let err = not_found("x/y", &dir.path().join("x/y"));
        assert!(err.to_string().contains("does not exist either"));
    }
}
