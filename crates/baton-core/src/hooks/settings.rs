//! Where hooks are configured, in Claude Code's shape: event name → list
//! of `{ matcher, hooks = [{ type = "command", command, timeout }] }`.
//!
//! baton's own `[hooks]` section is read strictly (an unknown event, field
//! or hook type is an error, like any config typo). Claude Code's
//! `settings.json` files are read leniently: what baton cannot run (other
//! hook types, events baton does not have) is skipped and named.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The events a hook can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum HookEvent {
    /// Before a tool call runs (after the model asked for it).
    PreToolUse,
    /// After a tool call ran.
    PostToolUse,
    /// A person's message is taken into a top-level session.
    UserPromptSubmit,
    /// A top-level session's turn ends with the model's answer.
    Stop,
    /// A task (sub-agent) starts running.
    SubagentStart,
    /// A task's session ends a turn with its answer.
    SubagentStop,
    /// baton asks for permission.
    Notification,
    /// A session's actor starts (a new session, or a stored one reopened).
    SessionStart,
}

impl HookEvent {
    /// Every event, in the order the docs list them.
    pub const ALL: [HookEvent; 8] = [
        Self::PreToolUse,
        Self::PostToolUse,
        Self::UserPromptSubmit,
        Self::Stop,
        Self::SubagentStart,
        Self::SubagentStop,
        Self::Notification,
        Self::SessionStart,
    ];

    /// The event's name, as Claude Code spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreToolUse => "PreToolUse",
            Self::PostToolUse => "PostToolUse",
            Self::UserPromptSubmit => "UserPromptSubmit",
            Self::Stop => "Stop",
            Self::SubagentStart => "SubagentStart",
            Self::SubagentStop => "SubagentStop",
            Self::Notification => "Notification",
            Self::SessionStart => "SessionStart",
        }
    }

    /// The event called `name`, if baton has it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hooks by event: the `[hooks]` section, or the `hooks` key of a Claude
/// Code settings file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct HookSettings(pub BTreeMap<HookEvent, Vec<MatcherGroup>>);

impl HookSettings {
    /// Adds `other`'s hooks after these (hooks from several files add up).
    pub fn extend(&mut self, other: HookSettings) {
        for (event, groups) in other.0 {
            self.0.entry(event).or_default().extend(groups);
        }
    }

    /// Whether no hook is configured.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(Vec::is_empty)
    }
}

/// Hooks that run when the matcher matches.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherGroup {
    /// A regular expression on the tool name (PreToolUse, PostToolUse) or
    /// the start's source (SessionStart), matched against the whole name;
    /// empty or `*` matches everything.
    #[serde(default, deserialize_with = "matcher")]
    pub matcher: String,
    /// The commands to run.
    pub hooks: Vec<HookCommand>,
}

/// One hook: a shell command.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookCommand {
    /// Always `command` (the only type baton runs).
    #[serde(rename = "type")]
    pub kind: HookType,
    /// Run with `sh -c` in the session's working directory.
    pub command: String,
    /// Seconds before the hook is killed (default 60).
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// The kinds of hook baton runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookType {
    /// A shell command.
    Command,
}

fn matcher<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    check_matcher(&text).map_err(serde::de::Error::custom)?;
    Ok(text)
}

/// The matcher as an anchored regular expression; `None` matches all.
pub(crate) fn matcher_regex(text: &str) -> Result<Option<regex::Regex>, String> {
    let text = text.trim();
    if text.is_empty() || text == "*" {
        return Ok(None);
    }
    regex::Regex::new(&format!("^(?:{text})$"))
        .map(Some)
        .map_err(|e| format!("the hook matcher `{text}` is not a regular expression: {e}"))
}

fn check_matcher(text: &str) -> Result<(), String> {
    matcher_regex(text).map(|_| ())
}

/// The files Claude Code's hooks are read from.
#[derive(Debug, Clone)]
pub struct ClaudeSettingsFiles {
    /// `~/.claude/settings.json`, when there is a home directory.
    pub user: Option<PathBuf>,
    /// The project's `.claude/settings.json` and
    /// `.claude/settings.local.json`.
    pub project: [PathBuf; 2],
}

impl ClaudeSettingsFiles {
    /// The files for a home directory (`$HOME`) and a project directory.
    pub fn new(home: Option<&Path>, project_dir: &Path) -> Self {
        let dir = project_dir.join(".claude");
        Self {
            user: home.map(|h| h.join(".claude/settings.json")),
            project: [dir.join("settings.json"), dir.join("settings.local.json")],
        }
    }
}

/// Hooks read from Claude Code settings files, and what was skipped.
#[derive(Debug, Default)]
pub struct ClaudeHooks {
    /// What runs.
    pub hooks: HookSettings,
    /// Project files with hooks that were ignored because the project is
    /// not trusted.
    pub untrusted: Vec<PathBuf>,
    /// What could not be read or run, one line each (logged by the
    /// binary).
    pub problems: Vec<String>,
}

/// Reads the hooks of Claude Code's settings files: the user's always,
/// the project's only when `trusted`.
pub fn claude_hooks(files: &ClaudeSettingsFiles, trusted: bool) -> ClaudeHooks {
    let mut out = ClaudeHooks::default();
    let read = |path: &Path, out: &mut ClaudeHooks| -> Option<HookSettings> {
        match std::fs::read_to_string(path) {
            Ok(text) => Some(parse_claude_settings(path, &text, &mut out.problems)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                out.problems
                    .push(format!("{}: cannot read it: {e}", path.display()));
                None
            }
        }
    };
    if let Some(user) = &files.user
        && let Some(hooks) = read(user, &mut out)
    {
        out.hooks.extend(hooks);
    }
    for path in &files.project {
        let Some(hooks) = read(path, &mut out) else {
            continue;
        };
        if trusted {
            out.hooks.extend(hooks);
        } else if !hooks.is_empty() {
            out.untrusted.push(path.clone());
        }
    }
    out
}

/// The hooks of one Claude Code settings file's text; what cannot be used
/// is named in `problems` and skipped.
pub fn parse_claude_settings(path: &Path, text: &str, problems: &mut Vec<String>) -> HookSettings {
    let mut settings = HookSettings::default();
    let mut problem = |what: String| problems.push(format!("{}: {what}", path.display()));
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problem(format!("not JSON ({e}); its hooks were skipped"));
            return settings;
        }
    };
    let Some(hooks) = value.get("hooks") else {
        return settings;
    };
    let Some(hooks) = hooks.as_object() else {
        problem("`hooks` is not an object; skipped".to_owned());
        return settings;
    };
    for (name, groups) in hooks {
        let Some(event) = HookEvent::parse(name) else {
            problem(format!(
                "baton has no `{name}` hook event; those hooks were skipped"
            ));
            continue;
        };
        let Some(groups) = groups.as_array() else {
            problem(format!("`hooks.{name}` is not a list; skipped"));
            continue;
        };
        for group in groups {
            let matcher = group
                .get("matcher")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Err(e) = check_matcher(&matcher) {
                problem(format!("{e}; that `{name}` entry was skipped"));
                continue;
            }
            let commands: Vec<HookCommand> = group
                .get("hooks")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|hook| {
                    let kind = hook.get("type").and_then(serde_json::Value::as_str);
                    let command = hook.get("command").and_then(serde_json::Value::as_str);
                    match (kind, command) {
                        (Some("command"), Some(command)) => Some(HookCommand {
                            kind: HookType::Command,
                            command: command.to_owned(),
                            timeout: hook.get("timeout").and_then(serde_json::Value::as_u64),
                        }),
                        _ => {
                            problem(format!(
                                "a `{name}` hook of type `{}` was skipped (baton runs `command` \
                                 hooks with a `command`)",
                                kind.unwrap_or("?")
                            ));
                            None
                        }
                    }
                })
                .collect();
            if !commands.is_empty() {
                settings.0.entry(event).or_default().push(MatcherGroup {
                    matcher,
                    hooks: commands,
                });
            }
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_codes_format_parses_and_what_baton_cannot_run_is_named() {
        let text = r#"{
            "permissions": {"allow": ["Bash(ls)"]},
            "hooks": {
                "PreToolUse": [
                    {"matcher": "Bash|Edit", "hooks": [
                        {"type": "command", "command": "check.sh", "timeout": 30},
                        {"type": "prompt", "prompt": "is it fine?"}
                    ]}
                ],
                "Stop": [{"hooks": [{"type": "command", "command": "done.sh"}]}],
                "PreCompact": [{"hooks": [{"type": "command", "command": "x"}]}],
                "PostToolUse": [{"matcher": "(", "hooks": [{"type": "command", "command": "y"}]}]
            }
        }"#;
        let mut problems = Vec::new();
        let hooks = parse_claude_settings(Path::new("s.json"), text, &mut problems);
        let pre = &hooks.0[&HookEvent::PreToolUse];
        assert_eq!(pre.len(), 1);
        assert_eq!(pre[0].matcher, "Bash|Edit");
        assert_eq!(
            pre[0].hooks,
            [HookCommand {
                kind: HookType::Command,
                command: "check.sh".into(),
                timeout: Some(30),
            }]
        );
        assert_eq!(hooks.0[&HookEvent::Stop][0].matcher, "");
        assert_eq!(hooks.0[&HookEvent::Stop][0].hooks[0].timeout, None);
        assert!(!hooks.0.contains_key(&HookEvent::PostToolUse));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("`prompt`")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("PreCompact")),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p.contains("`(`")), "{problems:?}");
    }

    #[test]
    fn a_settings_file_without_hooks_or_not_json_gives_none() {
        let mut problems = Vec::new();
        let none = parse_claude_settings(Path::new("a"), r#"{"model": "x"}"#, &mut problems);
        assert!(none.is_empty());
        assert!(problems.is_empty());
        let bad = parse_claude_settings(Path::new("b"), "{", &mut problems);
        assert!(bad.is_empty());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn the_toml_section_has_the_same_shape_and_is_strict() {
        let table: HookSettings = toml::from_str(
            r#"
[[PreToolUse]]
matcher = "Bash"
hooks = [{ type = "command", command = "check.sh", timeout = 5 }]
"#,
        )
        .unwrap();
        assert_eq!(table.0[&HookEvent::PreToolUse][0].hooks[0].timeout, Some(5));
        for bad in [
            "[[PreCompact]]\nhooks = []\n",
            "[[Stop]]\nhooks = [{ type = \"prompt\", command = \"x\" }]\n",
            "[[Stop]]\nhooks = [{ type = \"command\", command = \"x\", async = true }]\n",
            "[[PreToolUse]]\nmatcher = \"(\"\nhooks = []\n",
        ] {
            assert!(toml::from_str::<HookSettings>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_projects_claude_hooks_are_withheld_and_named() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let hook = |cmd: &str| {
            format!(
                r#"{{"hooks": {{"Stop": [{{"hooks": [{{"type": "command", "command": "{cmd}"}}]}}]}}}}"#
            )
        };
        std::fs::create_dir_all(home.path().join(".claude")).unwrap();
        std::fs::write(home.path().join(".claude/settings.json"), hook("mine")).unwrap();
        std::fs::create_dir_all(project.path().join(".claude")).unwrap();
        std::fs::write(
            project.path().join(".claude/settings.local.json"),
            hook("theirs"),
        )
        .unwrap();
        let files = ClaudeSettingsFiles::new(Some(home.path()), project.path());
        let commands = |hooks: &HookSettings| -> Vec<String> {
            hooks.0[&HookEvent::Stop]
                .iter()
                .flat_map(|g| g.hooks.iter().map(|h| h.command.clone()))
                .collect()
        };
        let untrusted = claude_hooks(&files, false);
        assert_eq!(commands(&untrusted.hooks), ["mine"]);
        assert_eq!(untrusted.untrusted, [files.project[1].clone()]);
        let trusted = claude_hooks(&files, true);
        assert_eq!(commands(&trusted.hooks), ["mine", "theirs"]);
        assert!(trusted.untrusted.is_empty());
    }
}
