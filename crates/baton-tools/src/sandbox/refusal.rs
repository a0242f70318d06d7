//! Telling the model when the sandbox refused a write: a command's output
//! shows permission errors, so the note says which path lay outside the
//! sandbox (when it names one the user could write without it) and what
//! to ask the user for.

use super::roots::WritePlan;
use baton_protocol::SandboxMode;
use std::path::{Path, PathBuf};

/// How refused writes show in output (`Permission denied`, `permission
/// denied`, ...), less their first letter, whose case varies: plain
/// substring searches, cheap enough for a whole ring of output.
const SIGNS: &[&str] = &[
    "ermission denied",
    "peration not permitted",
    "ead-only file system",
];

/// What a sandboxed command was allowed, to explain its refusals.
#[derive(Debug, Clone)]
pub(crate) struct Refusals {
    pub(crate) mode: SandboxMode,
    pub(crate) network: bool,
    pub(crate) working_dir: PathBuf,
    pub(crate) plan: WritePlan,
}

impl Refusals {
    /// The note for a command that printed `output`: `None` when the output
    /// shows no permission error, or when every path its errors name is
    /// one the sandbox allows or the user could not write anyway (then the
    /// sandbox was not the cause).
    pub(crate) fn note(&self, output: &str) -> Option<String> {
        let lines: Vec<&str> = output.lines().filter(|line| has_sign(line)).collect();
        if lines.is_empty() {
            return None;
        }
        let named: Vec<PathBuf> = lines
            .iter()
            .flat_map(|line| named_paths(line))
            .map(|path| self.working_dir.join(path))
            .collect();
        let refused = named
            .iter()
            .find(|path| !self.plan.allows(path) && user_may_write(path));
        let text = match refused {
            Some(path) => format!(
                "note: the sandbox ({}) refused a write to {}: commands may write only in {}.",
                self.mode,
                path.display(),
                self.roots()
            ),
            None if named.is_empty() => format!(
                "note: commands run in the sandbox ({}), which lets them write only in {}{}; the \
                 permission error above may be the sandbox refusing a write elsewhere.",
                self.mode,
                self.roots(),
                if self.network {
                    ""
                } else {
                    " and keeps them off the network (TCP)"
                },
            ),
            None => return None,
        };
        Some(format!("{text} {}", self.remedy()))
    }

    /// The writable directories, as the note lists them.
    fn roots(&self) -> String {
        let mut roots: Vec<String> = self
            .plan
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        if !self.plan.git.is_empty() {
            roots.push("the repository's git metadata".to_owned());
        }
        roots.push("devices such as /dev/null".to_owned());
        roots.join(", ")
    }

    fn remedy(&self) -> &'static str {
        match self.mode {
            SandboxMode::ReadOnly => {
                "This session may not change files with commands; if the write is needed, say so \
                 to the user (`[sandbox] mode` in baton's config, an agent's `sandbox` or a \
                 task's `sandbox` sets it). Do not try to get around the sandbox."
            }
            _ => {
                "If this write is needed, ask the user to allow it: `[sandbox] writable_roots` \
                 in baton's config lists more directories commands may write. Do not try to get \
                 around the sandbox."
            }
        }
    }
}

fn has_sign(line: &str) -> bool {
    SIGNS.iter().any(|sign| line.contains(sign))
}

/// The paths a permission error names: quoted ones (`'p'`, `"p"`, `‘p’`,
/// `` `p` ``) and the field before the error (`bash: line 1: p:
/// Permission denied`).
fn named_paths(line: &str) -> Vec<String> {
    let mut found = quoted(line);
    // Where the error begins: one (ASCII) letter before its sign.
    if let Some(at) = SIGNS.iter().filter_map(|sign| line.find(sign)).min()
        && let Some(before) = line.get(..at.saturating_sub(1))
    {
        let field = before
            .trim_end()
            .trim_end_matches(':')
            .rsplit(": ")
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(|c| "'\"‘’`".contains(c));
        // Unquoted, only what has the shape of a path: `fatal` or `git` is
        // a program's name.
        let path_shaped = field.contains('/') || field.contains('.');
        if path_shaped && looks_like_path(field) && !found.iter().any(|f| f == field) {
            found.push(field.to_owned());
        }
    }
    found
}

/// Quoted parts of `line` that look like paths.
fn quoted(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (open, close) in [('\'', '\''), ('"', '"'), ('‘', '’'), ('`', '`')] {
        let mut rest = line;
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len_utf8()..];
            let Some(end) = after.find(close) else { break };
            let inner = &after[..end];
            if looks_like_path(inner) {
                found.push(inner.to_owned());
            }
            rest = &after[end + close.len_utf8()..];
        }
    }
    found
}

/// A single word that could be a path: no spaces, not empty, no scheme.
fn looks_like_path(text: &str) -> bool {
    !text.is_empty() && !text.contains(char::is_whitespace) && !text.contains("://")
}

/// Whether the user baton runs as could write `path` without the sandbox:
/// the path itself when it exists, else the nearest directory above it
/// that does.
fn user_may_write(path: &Path) -> bool {
    let Some(existing) = path.ancestors().find(|p| p.exists()) else {
        return false;
    };
    writable(existing)
}

#[allow(unsafe_code)]
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access(2) reads the NUL-terminated string `c_path`, which
    // lives until the call returns, and writes no memory of ours.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals(mode: SandboxMode, working_dir: &Path) -> Refusals {
        Refusals {
            mode,
            network: true,
            working_dir: working_dir.to_path_buf(),
            plan: WritePlan {
                dirs: vec![working_dir.to_path_buf(), PathBuf::from("/tmp")],
                git: Vec::new(),
                devices: vec![PathBuf::from("/dev/null")],
            },
        }
    }

    #[test]
    fn paths_are_found_in_the_usual_error_shapes() {
        let cases = [
            ("bash: line 1: /etc/x: Permission denied", "/etc/x"),
            ("bash: out.txt: Permission denied", "out.txt"),
            (
                "touch: cannot touch '/home/me/f': Permission denied",
                "/home/me/f",
            ),
            (
                "mkdir: cannot create directory ‘/opt/d’: Permission denied",
                "/opt/d",
            ),
            (
                "PermissionError: [Errno 13] Permission denied: '/srv/a.txt'",
                "/srv/a.txt",
            ),
            (
                "Error: EACCES: permission denied, open '/var/lib/x'",
                "/var/lib/x",
            ),
            (
                "cp: cannot create regular file '/etc/y': Read-only file system",
                "/etc/y",
            ),
        ];
        for (line, path) in cases {
            assert!(
                named_paths(line).iter().any(|p| p == path),
                "{line}: {:?}",
                named_paths(line)
            );
        }
        assert!(named_paths("curl: (7) Failed to connect: Permission denied").is_empty());
    }

    #[test]
    fn a_write_outside_the_roots_that_the_user_could_make_is_named() {
        let work = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let target = other.path().join("f");
        let r = Refusals {
            plan: WritePlan {
                dirs: vec![work.path().to_path_buf()],
                ..WritePlan::default()
            },
            ..refusals(SandboxMode::WorkspaceWrite, work.path())
        };
        let note = r
            .note(&format!("bash: {}: Permission denied\n", target.display()))
            .unwrap();
        assert!(
            note.contains("the sandbox (workspace-write) refused a write to")
                && note.contains(&target.display().to_string())
                && note.contains(&work.path().display().to_string())
                && note.contains("writable_roots"),
            "{note}"
        );
    }

    #[test]
    fn read_only_notes_say_no_files_may_change() {
        let work = tempfile::tempdir().unwrap();
        let r = Refusals {
            plan: WritePlan {
                dirs: vec![PathBuf::from("/nonexistent-scratch")],
                ..WritePlan::default()
            },
            ..refusals(SandboxMode::ReadOnly, work.path())
        };
        let note = r.note("bash: line 1: kept.txt: Permission denied").unwrap();
        assert!(
            note.contains("the sandbox (read-only) refused a write to")
                && note.contains(&work.path().join("kept.txt").display().to_string())
                && note.contains("may not change files"),
            "{note}"
        );
    }

    #[test]
    fn no_note_without_a_permission_error_or_when_the_path_was_allowed() {
        let work = tempfile::tempdir().unwrap();
        let r = refusals(SandboxMode::WorkspaceWrite, work.path());
        assert_eq!(r.note("all fine\nexit code: 0"), None);
        assert_eq!(r.note("bash: /tmp/x: Permission denied"), None);
        assert_eq!(r.note("bash: inside.txt: Permission denied"), None);
    }

    #[test]
    fn an_error_naming_no_path_gets_a_cautious_note() {
        let work = tempfile::tempdir().unwrap();
        let mut r = refusals(SandboxMode::WorkspaceWrite, work.path());
        r.network = false;
        let note = r.note("fatal: Operation not permitted").unwrap();
        assert!(
            note.contains("may be the sandbox") && note.contains("off the network"),
            "{note}"
        );
        assert!(!note.contains("refused a write"), "{note}");
    }
}
