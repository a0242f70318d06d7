//! File claims: the paths a task owns while it runs. Another session's
//! `write` or `edit` there is refused at once, naming the task.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::{Component, Path, PathBuf};

/// Existing files looked at, at most, when judging whether two claims
/// overlap.
const OVERLAP_SCAN_LIMIT: usize = 20_000;

/// The compiled globs of one task's `files`, relative to a directory.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    root: PathBuf,
    patterns: Vec<String>,
    set: GlobSet,
}

impl Claim {
    /// Compiles `patterns` (relative to `root`, or absolute inside it). A
    /// pattern without glob characters also covers everything under it,
    /// so `src/parser` claims a whole directory.
    pub(crate) fn new(root: &Path, patterns: &[String]) -> Result<Claim, String> {
        if patterns.is_empty() {
            return Err("`files` is empty; leave it out to claim nothing".into());
        }
        let mut normal = Vec::new();
        let mut builder = GlobSetBuilder::new();
        for raw in patterns {
            let pattern = relative_pattern(root, raw)?;
            for glob in expand(&pattern) {
                builder
                    .add(compile(&glob).map_err(|e| format!("bad glob `{raw}` in `files`: {e}"))?);
            }
            normal.push(pattern);
        }
        let set = builder
            .build()
            .map_err(|e| format!("bad globs in `files`: {e}"))?;
        Ok(Claim {
            root: root.to_path_buf(),
            patterns: normal,
            set,
        })
    }

    /// The patterns, relative to the claim's directory.
    pub(crate) fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether the claim covers an absolute path.
    pub(crate) fn covers(&self, path: &Path) -> bool {
        match path.strip_prefix(&self.root) {
            Ok(rel) => self.set.is_match(rel),
            Err(_) => false,
        }
    }

    /// Whether two claims may cover the same file: a pattern of one is
    /// matched by the other, or an existing file is covered by both.
    pub(crate) fn overlaps(&self, other: &Claim) -> bool {
        let mine = |c: &Claim, p: &str| c.root.join(p);
        let by_pattern =
            self.patterns.iter().any(|p| {
                other.covers(&mine(self, p)) || other.covers(&mine(self, literal_head(p)))
            }) || other.patterns.iter().any(|p| {
                self.covers(&mine(other, p)) || self.covers(&mine(other, literal_head(p)))
            });
        by_pattern || self.shared_existing_file(other)
    }

    fn shared_existing_file(&self, other: &Claim) -> bool {
        ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .build()
            .filter_map(Result::ok)
            .take(OVERLAP_SCAN_LIMIT)
            .any(|e| self.covers(e.path()) && other.covers(e.path()))
    }
}

/// The part of a pattern before its first glob character, trimmed back
/// to a whole path component (`src/par*/x` → `src`).
fn literal_head(pattern: &str) -> &str {
    let cut = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
    let head = &pattern[..cut];
    if cut == pattern.len() {
        return head;
    }
    match head.rfind('/') {
        Some(slash) => &head[..slash],
        None => "",
    }
}

fn has_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// A literal pattern claims itself and everything under it.
fn expand(pattern: &str) -> Vec<String> {
    if has_glob(pattern) {
        vec![pattern.to_owned()]
    } else {
        vec![pattern.to_owned(), format!("{pattern}/**")]
    }
}

fn compile(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// A pattern relative to `root`: `./` and `..` resolved lexically; an
/// absolute pattern must lie inside `root`.
fn relative_pattern(root: &Path, raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("`files` has an empty pattern".into());
    }
    let mut normal = PathBuf::new();
    for part in root.join(trimmed).components() {
        match part {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    match normal.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => Ok(rel.to_string_lossy().into_owned()),
        _ => Err(format!(
            "`files` pattern `{raw}` does not name paths inside the working directory {}",
            root.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(root: &Path, patterns: &[&str]) -> Claim {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        Claim::new(root, &patterns).unwrap()
    }

    #[test]
    fn covers_globs_and_whole_directories() {
        let root = Path::new("/p");
        let c = claim(root, &["src/parser", "docs/*.md", "./Cargo.toml"]);
        assert!(c.covers(Path::new("/p/src/parser/lex.rs")));
        assert!(c.covers(Path::new("/p/src/parser")));
        assert!(c.covers(Path::new("/p/docs/a.md")));
        assert!(!c.covers(Path::new("/p/docs/deep/a.md")));
        assert!(c.covers(Path::new("/p/Cargo.toml")));
        assert!(!c.covers(Path::new("/p/src/main.rs")));
        assert!(!c.covers(Path::new("/elsewhere/Cargo.toml")));
        assert_eq!(c.patterns(), ["src/parser", "docs/*.md", "Cargo.toml"]);
    }

    #[test]
    fn bad_patterns_are_refused() {
        let root = Path::new("/p");
        assert!(Claim::new(root, &[]).is_err());
        assert!(Claim::new(root, &["../outside".to_owned()]).is_err());
        assert!(Claim::new(root, &["/etc/passwd".to_owned()]).is_err());
        assert!(Claim::new(root, &["src/[".to_owned()]).is_err());
        assert!(Claim::new(root, &["/p/src/a.rs".to_owned()]).is_ok());
    }

    #[test]
    fn overlap_by_pattern_and_by_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("main.rs"), "").unwrap();
        let a = claim(root, &["src/**"]);
        assert!(a.overlaps(&claim(root, &["src/lib.rs"])));
        assert!(claim(root, &["src/lib.rs"]).overlaps(&a));
        assert!(a.overlaps(&claim(root, &["src"])));
        assert!(a.overlaps(&claim(root, &["src/*.rs"])));
        assert!(!a.overlaps(&claim(root, &["docs/**", "README.md"])));
        // Neither pattern matches the other's text, but an existing file
        // is covered by both.
        assert!(claim(root, &["*.rs"]).overlaps(&claim(root, &["main.*"])));
        assert!(!claim(root, &["*.rs"]).overlaps(&claim(root, &["lib.*"])));
    }
}
