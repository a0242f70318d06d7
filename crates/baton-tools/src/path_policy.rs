//! Which paths a session may touch, and how a model-supplied path becomes an
//! absolute one.

use crate::ToolError;
use std::path::{Component, Path, PathBuf};

/// How many symbolic links a dangling-link chain may have before we give up.
const MAX_SYMLINK_HOPS: u32 = 40;

/// The directories a session may read and write: its root (normally the
/// working directory), any extra roots the configuration adds, or anywhere
/// when `allow_outside_workdir` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPolicy {
    root: PathBuf,
    extra_roots: Vec<PathBuf>,
    allow_anywhere: bool,
}

impl PathPolicy {
    /// A policy that allows `root` and everything below it.
    pub fn new(root: PathBuf) -> Self {
        PathPolicy {
            root,
            extra_roots: Vec::new(),
            allow_anywhere: false,
        }
    }

    /// Allows (or, with `false`, stops allowing) every path.
    pub fn allow_outside(mut self, yes: bool) -> Self {
        self.allow_anywhere = yes;
        self
    }

    /// Also allows these directories and everything below them.
    pub fn with_extra_roots(mut self, roots: Vec<PathBuf>) -> Self {
        self.extra_roots = roots;
        self
    }

    /// The main root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The extra allowed roots.
    pub fn extra_roots(&self) -> &[PathBuf] {
        &self.extra_roots
    }

    /// Whether every path is allowed.
    pub fn allows_anywhere(&self) -> bool {
        self.allow_anywhere
    }

    /// Resolves a model-supplied path (relative to `working_dir`, or
    /// absolute) to an absolute, normalized path (no `.` or `..`).
    ///
    /// Unless the policy allows everything, the path must lie inside one of
    /// the roots after following symbolic links: the longest existing
    /// ancestor is canonicalized, so a link inside the root that points
    /// outside it is refused. The returned path is the normalized one, not
    /// the canonical one, so it reads the way the model wrote it.
    pub fn resolve(&self, working_dir: &Path, path: &str) -> Result<PathBuf, ToolError> {
        if path.is_empty() {
            return Err(ToolError::invalid("the path is empty"));
        }
        if path.contains('\0') {
            return Err(ToolError::invalid("the path contains a NUL character"));
        }
        let given = Path::new(path);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            working_dir.join(given)
        };
        let normalized = normalize(&joined);
        if self.allow_anywhere {
            return Ok(normalized);
        }

        let roots: Vec<PathBuf> = std::iter::once(&self.root)
            .chain(&self.extra_roots)
            .map(|root| real_path(&normalize(root)))
            .collect();
        let real = real_path(&normalized);
        if roots.iter().any(|root| real.starts_with(root)) {
            return Ok(normalized);
        }

        let allowed = roots
            .iter()
            .map(|root| format!("`{}`", root.display()))
            .collect::<Vec<_>>()
            .join(", ");
        let reason = if real == normalized {
            format!(
                "it resolves to `{}`, which is outside the allowed directories ({allowed})",
                normalized.display()
            )
        } else {
            format!(
                "it resolves through a symbolic link to `{}`, which is outside the allowed \
                 directories ({allowed})",
                real.display()
            )
        };
        Err(ToolError::PathOutsideRoot {
            path: path.to_owned(),
            reason,
        })
    }
}

/// Removes `.` components and applies `..` lexically (`..` at the root stays
/// at the root).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir | Component::Normal(_) => {
                out.push(component.as_os_str());
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
        }
    }
    out
}

/// The path with every symbolic link in its existing part resolved: the
/// longest existing ancestor is canonicalized and the rest appended.
/// Dangling links are followed by reading their target.
pub(crate) fn real_path(path: &Path) -> PathBuf {
    real_path_hops(path, 0)
}

fn real_path_hops(path: &Path, hops: u32) -> PathBuf {
    let mut existing = path;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            return append_rest(canonical, &rest);
        }
        let is_link = std::fs::symlink_metadata(existing)
            .map(|meta| meta.file_type().is_symlink())
            .unwrap_or(false);
        if is_link
            && hops < MAX_SYMLINK_HOPS
            && let Ok(target) = std::fs::read_link(existing)
        {
            let base = existing.parent().unwrap_or(Path::new("/"));
            let followed = append_rest(normalize(&base.join(target)), &rest);
            return real_path_hops(&followed, hops + 1);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn append_rest(mut base: PathBuf, rest: &[&std::ffi::OsStr]) -> PathBuf {
    for name in rest.iter().rev() {
        base.push(name);
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, PathPolicy) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let policy = PathPolicy::new(root.clone());
        (dir, root, policy)
    }

    #[test]
    fn relative_paths_resolve_against_the_working_dir_and_normalize() {
        let (_dir, root, policy) = setup();
        assert_eq!(
            policy.resolve(&root, "sub/./a/../b.txt").unwrap(),
            root.join("sub/b.txt")
        );
        assert_eq!(policy.resolve(&root, ".").unwrap(), root);
        assert_eq!(
            policy.resolve(&root.join("sub"), "../c").unwrap(),
            root.join("c")
        );
    }

    #[test]
    fn parent_escapes_are_refused_with_a_helpful_message() {
        let (_dir, root, policy) = setup();
        let err = policy.resolve(&root, "../x").unwrap_err();
        assert!(matches!(err, ToolError::PathOutsideRoot { .. }));
        let text = err.to_string();
        assert!(text.contains("`../x`"), "{text}");
        assert!(text.contains("outside the allowed directories"), "{text}");
        assert!(text.contains("allow_outside_workdir"), "{text}");
    }

    #[test]
    fn absolute_paths_outside_are_refused_and_inside_are_allowed() {
        let (dir, root, policy) = setup();
        let outside = dir.path().join("elsewhere.txt");
        assert!(matches!(
            policy.resolve(&root, outside.to_str().unwrap()),
            Err(ToolError::PathOutsideRoot { .. })
        ));
        assert!(policy.resolve(&root, "/etc/passwd").is_err());
        let inside = root.join("sub/new.txt");
        assert_eq!(
            policy.resolve(&root, inside.to_str().unwrap()).unwrap(),
            inside
        );
    }

    #[test]
    fn symlinks_escaping_the_root_are_refused() {
        let (dir, root, policy) = setup();
        let outside = dir.path().canonicalize().unwrap().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        std::os::unix::fs::symlink(outside.join("nowhere"), root.join("dangling")).unwrap();

        for path in ["escape/secret.txt", "escape/new.txt", "escape", "dangling"] {
            let err = policy.resolve(&root, path).unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{path}: {err}");
        }
    }

    #[test]
    fn symlinks_inside_the_root_are_fine() {
        let (_dir, root, policy) = setup();
        std::os::unix::fs::symlink(root.join("sub"), root.join("alias")).unwrap();
        assert_eq!(
            policy.resolve(&root, "alias/file").unwrap(),
            root.join("alias/file")
        );
    }

    #[test]
    fn extra_roots_and_allow_outside_widen_the_policy() {
        let (dir, root, policy) = setup();
        let extra = dir.path().canonicalize().unwrap().join("extra");
        std::fs::create_dir_all(&extra).unwrap();
        let target = extra.join("f.txt");
        let target_str = target.to_str().unwrap();
        assert!(policy.resolve(&root, target_str).is_err());

        let widened = policy.clone().with_extra_roots(vec![extra.clone()]);
        assert_eq!(widened.resolve(&root, target_str).unwrap(), target);
        assert!(widened.resolve(&root, "/etc/passwd").is_err());

        let anywhere = policy.allow_outside(true);
        assert!(anywhere.allows_anywhere());
        assert_eq!(
            anywhere.resolve(&root, "/etc/passwd").unwrap(),
            PathBuf::from("/etc/passwd")
        );
    }

    #[test]
    fn empty_paths_are_invalid_arguments() {
        let (_dir, root, policy) = setup();
        assert!(matches!(
            policy.resolve(&root, ""),
            Err(ToolError::InvalidArguments { .. })
        ));
    }
}
