//! One permission pattern: what it matches, compiled once.

use super::permission::Action;
use globset::{GlobBuilder, GlobMatcher};
use std::fmt;

/// A pattern that cannot be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// Why it was rejected.
    pub reason: String,
}

/// A pattern and the action for the calls it matches.
///
/// A pattern is matched against a call's *subject*: the command of a `bash`
/// call, the path of a file tool, the agent of a `task` call. Two kinds:
///
/// - **Glob**, when the pattern contains `*`, `?` or `[`: it must match the
///   whole subject. `*` matches any run of characters, `/` and spaces
///   included, so `rm *` matches `rm -rf build/out` and `src/*.rs` matches
///   `src/a/b.rs`. `?` matches one character, `[abc]` one of a set, `{a,b}`
///   either alternative, and `\` escapes the next character.
/// - **Prefix**, otherwise: the subject equals the pattern, or starts with
///   it followed by whitespace or `/`. So `git status` matches
///   `git status -s` but not `git statusx`, and `src` matches `src/a.rs`
///   but not `srcs/a.rs`. A pattern that itself ends in whitespace or `/`
///   (`src/`) matches anything that starts with it.
///
/// A call without a subject is matched only by the pattern `*`.
#[derive(Clone)]
pub struct PatternRule {
    pattern: String,
    action: Action,
    matcher: Matcher,
}

/// How a pattern is matched, decided when it is built.
#[derive(Clone)]
enum Matcher {
    Prefix,
    Glob(GlobMatcher),
}

impl PatternRule {
    /// Builds a rule, compiling the pattern once. Fails on an empty pattern
    /// or a glob that does not parse (such as an unclosed `[`).
    pub fn new(pattern: impl Into<String>, action: Action) -> Result<PatternRule, PatternError> {
        let pattern = pattern.into();
        if pattern.is_empty() {
            return Err(PatternError {
                pattern,
                reason: "a pattern cannot be empty (use `*` to match everything)".to_owned(),
            });
        }
        let matcher = if is_glob(&pattern) {
            let glob = GlobBuilder::new(&pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| PatternError {
                    pattern: pattern.clone(),
                    reason: e.kind().to_string(),
                })?;
            Matcher::Glob(glob.compile_matcher())
        } else {
            Matcher::Prefix
        };
        Ok(PatternRule {
            pattern,
            action,
            matcher,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// What happens to the calls the pattern matches.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Whether the pattern matches a call's subject. A call without a
    /// subject is matched only by the pattern `*`.
    pub fn matches(&self, subject: Option<&str>) -> bool {
        let Some(subject) = subject else {
            return self.pattern == "*";
        };
        match &self.matcher {
            Matcher::Glob(glob) => glob.is_match(subject),
            Matcher::Prefix => prefix_matches(&self.pattern, subject),
        }
    }
}

impl fmt::Debug for PatternRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternRule")
            .field("pattern", &self.pattern)
            .field("action", &self.action)
            .finish()
    }
}

/// Two rules are equal when they have the same pattern and action (the
/// compiled matcher follows from the pattern).
impl PartialEq for PatternRule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.action == other.action
    }
}

impl Eq for PatternRule {}

/// Whether a pattern is a glob rather than a prefix.
fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The prefix rule: equal, or followed by a word or path boundary.
fn prefix_matches(pattern: &str, subject: &str) -> bool {
    let Some(rest) = subject.strip_prefix(pattern) else {
        return false;
    };
    let ends_on_boundary = pattern.ends_with(|c: char| c.is_whitespace() || c == '/');
    rest.is_empty() || ends_on_boundary || rest.starts_with(|c: char| c.is_whitespace() || c == '/')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn matches(pattern: &str, subject: &str) -> bool {
        PatternRule::new(pattern, Action::Allow)
            .unwrap()
            .matches(Some(subject))
    }

    #[test]
    fn a_prefix_matches_on_word_and_path_boundaries() {
        assert!(matches("git status", "git status"));
        assert!(matches("git status", "git status -s"));
        assert!(matches("git status", "git status\t--short"));
        assert!(!matches("git status", "git statusx"));
        assert!(!matches("git status", "git stat"));
        assert!(matches("src", "src/a.rs"));
        assert!(!matches("src", "srcs/a.rs"));
        assert!(matches("src/", "src/a.rs"));
        assert!(!matches("src/a.rs", "xsrc/a.rs"));
    }

    #[test]
    fn a_glob_matches_the_whole_subject_across_slashes_and_spaces() {
        assert!(matches("*", "anything at/all"));
        assert!(matches("rm *", "rm -rf build/out"));
        assert!(!matches("rm *", "sudo rm -rf /"));
        assert!(matches("src/*.rs", "src/a/b.rs"));
        assert!(!matches("src/*.rs", "src/a.toml"));
        assert!(matches("git log -?", "git log -p"));
        assert!(matches("cargo [bt]*", "cargo test -p x"));
        assert!(!matches("cargo [bt]*", "cargo run"));
        assert!(matches("cargo {build,test}*", "cargo test --all"));
        assert!(!matches("cargo {build,test}*", "cargo run"));
        assert!(matches(r"echo \*", "echo *"));
        assert!(!matches(r"echo \*", "echo hi"));
    }

    #[test]
    fn without_a_subject_only_star_matches() {
        let star = PatternRule::new("*", Action::Ask).unwrap();
        let other = PatternRule::new("src/*", Action::Ask).unwrap();
        assert!(star.matches(None));
        assert!(!other.matches(None));
    }

    #[test]
    fn bad_and_empty_patterns_are_rejected_when_built() {
        let err = PatternRule::new("src/[a", Action::Deny).unwrap_err();
        assert_eq!(err.pattern, "src/[a");
        assert!(
            err.to_string().contains("invalid pattern `src/[a`"),
            "{err}"
        );
        let err = PatternRule::new("", Action::Deny).unwrap_err();
        assert!(err.reason.contains("empty"), "{err}");
    }
}
