//! Claude Code–style hooks: shell commands the person configured, run on
//! the engine's events (before and after tool calls, on a prompt, at a
//! turn's end, when a task starts or stops, on a permission ask, when a
//! session starts) with the event as JSON on stdin. A hook can block what
//! it runs on (exit code 2, or a JSON decision on stdout), add context the
//! model reads, or just watch. Every run is announced (`hook.completed`).
//!
//! Where hooks come from is [`settings`]; running one command is [`run`].

mod run;
pub mod settings;

pub use settings::{
    ClaudeHooks, ClaudeSettingsFiles, HookCommand, HookEvent, HookSettings, HookType, MatcherGroup,
    claude_hooks, parse_claude_settings,
};

use crate::services::Services;
use baton_protocol::{EventKind, SessionId};
use run::Exit;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// A hook's timeout when none is given.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Claude Code's tool names and baton's: a matcher may use either, and a
/// hook is told Claude Code's name (`tool_name`) and baton's
/// (`baton_tool_name`).
const CLAUDE_NAMES: &[(&str, &str)] = &[
    ("Bash", "bash"),
    ("Edit", "edit"),
    ("Read", "read"),
    ("Write", "write"),
    ("Task", "task"),
    ("Grep", "grep"),
    ("Glob", "glob"),
    ("LS", "list"),
    ("TodoWrite", "todo_write"),
    ("BashOutput", "shell_output"),
    ("KillShell", "shell_kill"),
];

/// Claude Code's name for a baton tool, if it has one.
pub(crate) fn claude_name(tool: &str) -> Option<&'static str> {
    CLAUDE_NAMES
        .iter()
        .find(|(_, baton)| *baton == tool)
        .map(|(claude, _)| *claude)
}

/// The configured hooks, matchers compiled.
#[derive(Default)]
pub(crate) struct Hooks {
    events: BTreeMap<HookEvent, Vec<Group>>,
}

struct Group {
    /// `None` matches everything.
    matcher: Option<regex::Regex>,
    hooks: Vec<HookCommand>,
}

impl Group {
    fn matches(&self, subject: Option<&str>) -> bool {
        let (Some(re), Some(subject)) = (&self.matcher, subject) else {
            return true;
        };
        re.is_match(subject) || claude_name(subject).is_some_and(|c| re.is_match(c))
    }
}

/// What a hook's decision on a tool call's permission is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HookPermission {
    /// Skip the ask where baton's rules say `ask` (never past a `deny`).
    Allow,
    /// Ask even where baton's rules allow.
    Ask,
    /// Do not run the call.
    Deny,
}

/// What the hooks of one event said, together.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Why what the event is about must not go on (exit code 2, a `block`
    /// or `deny` decision), every blocking hook's reason.
    pub(crate) blocked: Option<String>,
    /// The strictest permission decision a PreToolUse hook gave.
    pub(crate) permission: Option<HookPermission>,
    /// Text for the model: plain stdout of a successful UserPromptSubmit or
    /// SessionStart hook, `additionalContext` of any.
    pub(crate) context: Vec<String>,
}

/// One hook run's reading.
struct Reading {
    outcome: &'static str,
    exit_code: Option<i32>,
    message: Option<String>,
    blocked: Option<String>,
    permission: Option<HookPermission>,
    context: Option<String>,
}

/// An event to run hooks on.
pub(crate) struct Fire<'a> {
    pub(crate) event: HookEvent,
    /// The session the hooks' runs are announced on.
    pub(crate) session: &'a SessionId,
    /// Where the commands run.
    pub(crate) cwd: &'a Path,
    /// What the matcher is tested on: the tool name, SessionStart's source.
    pub(crate) subject: Option<&'a str>,
    /// The event's own fields, beside the common ones (they may replace
    /// one: a SubagentStop names the parent as `session_id`).
    pub(crate) fields: Map<String, Value>,
}

impl Hooks {
    /// The hooks of the settings. Matchers were checked when the settings
    /// were read; one that still does not compile matches nothing.
    pub(crate) fn new(settings: &HookSettings) -> Self {
        let mut events: BTreeMap<HookEvent, Vec<Group>> = BTreeMap::new();
        for (event, groups) in &settings.0 {
            for group in groups {
                let matcher = match settings::matcher_regex(&group.matcher) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!("{e}; the hook never runs");
                        continue;
                    }
                };
                events.entry(*event).or_default().push(Group {
                    matcher,
                    hooks: group.hooks.clone(),
                });
            }
        }
        Self { events }
    }

    /// Whether any hook is configured for `event`.
    pub(crate) fn any(&self, event: HookEvent) -> bool {
        self.events.get(&event).is_some_and(|g| !g.is_empty())
    }

    /// Runs the hooks that match, all at once, each bounded by its
    /// timeout; announces each run and returns what they said together.
    pub(crate) async fn fire(&self, services: &Services, fire: Fire<'_>) -> Verdict {
        let commands: Vec<&HookCommand> = self
            .events
            .get(&fire.event)
            .into_iter()
            .flatten()
            .filter(|g| g.matches(fire.subject))
            .flat_map(|g| &g.hooks)
            .collect();
        if commands.is_empty() {
            return Verdict::default();
        }
        let mut input = Map::new();
        input.insert("session_id".into(), json!(fire.session.as_str()));
        input.insert("transcript_path".into(), Value::Null);
        input.insert("cwd".into(), json!(fire.cwd.to_string_lossy()));
        input.insert("hook_event_name".into(), json!(fire.event.as_str()));
        input.extend(fire.fields);
        let input = Value::Object(input).to_string().into_bytes();
        let runs = commands.iter().map(|hook| async {
            let timeout = hook.timeout.map_or(DEFAULT_TIMEOUT, Duration::from_secs);
            let ran = run::run_command(&hook.command, fire.cwd, &input, timeout).await;
            let reading = read(fire.event, &ran.exit, timeout);
            services.emit(
                fire.session,
                EventKind::HookCompleted {
                    event: fire.event.as_str().to_owned(),
                    command: hook.command.clone(),
                    outcome: reading.outcome.to_owned(),
                    exit_code: reading.exit_code,
                    message: reading.message.clone(),
                    duration_ms: u64::try_from(ran.elapsed.as_millis()).unwrap_or(u64::MAX),
                },
            );
            if reading.outcome == "failed" || reading.outcome == "timed_out" {
                tracing::warn!(
                    event = %fire.event,
                    command = %hook.command,
                    "hook {}: {}",
                    reading.outcome,
                    reading.message.as_deref().unwrap_or("")
                );
            }
            reading
        });
        let mut verdict = Verdict::default();
        for reading in futures::future::join_all(runs).await {
            if let Some(why) = reading.blocked {
                verdict.blocked = Some(match verdict.blocked.take() {
                    Some(earlier) => format!("{earlier}\n{why}"),
                    None => why,
                });
            }
            verdict.permission = verdict.permission.max(reading.permission);
            verdict.context.extend(reading.context);
        }
        verdict
    }
}

/// What a hook's exit and output mean.
fn read(event: HookEvent, exit: &Exit, timeout: Duration) -> Reading {
    let mut reading = Reading {
        outcome: "ok",
        exit_code: None,
        message: None,
        blocked: None,
        permission: None,
        context: None,
    };
    match exit {
        Exit::TimedOut => {
            reading.outcome = "timed_out";
            reading.message = Some(format!(
                "timed out after {} s; its processes were killed",
                timeout.as_secs()
            ));
        }
        Exit::NotStarted(why) => {
            reading.outcome = "failed";
            reading.message = Some(why.clone());
        }
        Exit::Exited {
            code: Some(0),
            stdout,
            ..
        } => read_stdout(event, stdout.trim(), &mut reading),
        Exit::Exited {
            code: Some(2),
            stderr,
            ..
        } => {
            reading.exit_code = Some(2);
            let why = non_empty(stderr)
                .unwrap_or_else(|| format!("a {event} hook blocked it (exit code 2)"));
            reading.outcome = "blocked";
            reading.message = Some(why.clone());
            reading.blocked = Some(why);
            if event == HookEvent::PreToolUse {
                reading.permission = Some(HookPermission::Deny);
            }
        }
        Exit::Exited { code, stderr, .. } => {
            reading.outcome = "failed";
            reading.exit_code = *code;
            let how = code.map_or("was killed by a signal".to_owned(), |c| {
                format!("exited with {c}")
            });
            reading.message = Some(match non_empty(stderr) {
                Some(err) => format!("{how}: {err}"),
                None => how,
            });
        }
    }
    reading
}

/// Reads the stdout of a hook that exited 0: a JSON decision, or text.
fn read_stdout(event: HookEvent, stdout: &str, reading: &mut Reading) {
    reading.exit_code = Some(0);
    let json = serde_json::from_str::<Value>(stdout)
        .ok()
        .filter(Value::is_object);
    let Some(json) = json else {
        // Plain text is context where Claude Code makes it so.
        if matches!(event, HookEvent::UserPromptSubmit | HookEvent::SessionStart) {
            reading.context = non_empty(stdout);
        }
        return;
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).and_then(non_empty);
    let specific = json.get("hookSpecificOutput");
    reading.context = text(specific.and_then(|s| s.get("additionalContext")));
    let reason = text(json.get("reason"));
    if json.get("decision").and_then(Value::as_str) == Some("block") {
        block(
            reading,
            reason.unwrap_or_else(|| format!("a {event} hook blocked it")),
        );
    }
    if event == HookEvent::PreToolUse {
        let decision = specific
            .and_then(|s| s.get("permissionDecision"))
            .and_then(Value::as_str);
        let why = text(specific.and_then(|s| s.get("permissionDecisionReason")));
        match decision {
            Some("allow") => reading.permission = Some(HookPermission::Allow),
            Some("ask") => reading.permission = Some(HookPermission::Ask),
            Some("deny") => block(
                reading,
                why.unwrap_or_else(|| "a PreToolUse hook denied it".to_owned()),
            ),
            _ if json.get("decision").and_then(Value::as_str) == Some("approve") => {
                reading.permission = Some(HookPermission::Allow);
            }
            _ => {}
        }
        if reading.blocked.is_some() {
            reading.permission = Some(HookPermission::Deny);
        }
    }
}

fn block(reading: &mut Reading, why: String) {
    reading.outcome = "blocked";
    reading.message = Some(why.clone());
    reading.blocked = Some(why);
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A tool call's fields for PreToolUse and PostToolUse: Claude Code's
/// tool name (where it has one) and baton's, and the arguments (with
/// Claude Code's `file_path` beside baton's `path`).
pub(crate) fn tool_fields(tool: &str, arguments: &str) -> Map<String, Value> {
    let mut input = serde_json::from_str::<Value>(arguments).unwrap_or(json!(arguments));
    if let Some(object) = input.as_object_mut()
        && let Some(path) = object.get("path").cloned()
    {
        object.entry("file_path").or_insert(path);
    }
    let mut fields = Map::new();
    fields.insert("tool_name".into(), json!(claude_name(tool).unwrap_or(tool)));
    fields.insert("baton_tool_name".into(), json!(tool));
    fields.insert("tool_input".into(), input);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: i32, stdout: &str, stderr: &str) -> Exit {
        Exit::Exited {
            code: Some(code),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn exit_codes_mean_go_on_block_or_a_failure() {
        let t = Duration::from_secs(1);
        let ok = read(
            HookEvent::UserPromptSubmit,
            &exited(0, "remember X\n", ""),
            t,
        );
        assert_eq!(
            (ok.outcome, ok.context.as_deref()),
            ("ok", Some("remember X"))
        );
        let quiet = read(HookEvent::PostToolUse, &exited(0, "log line", ""), t);
        assert_eq!(quiet.context, None);
        let blocked = read(HookEvent::PreToolUse, &exited(2, "", "no rm\n"), t);
        assert_eq!(blocked.blocked.as_deref(), Some("no rm"));
        assert_eq!(blocked.permission, Some(HookPermission::Deny));
        let failed = read(HookEvent::Stop, &exited(1, "", "oops"), t);
        assert_eq!(failed.outcome, "failed");
        assert_eq!(failed.message.as_deref(), Some("exited with 1: oops"));
        assert!(failed.blocked.is_none());
        assert_eq!(
            read(HookEvent::Stop, &Exit::TimedOut, t).outcome,
            "timed_out"
        );
    }

    #[test]
    fn json_decisions_are_read() {
        let t = Duration::from_secs(1);
        let stdout = |s: &str| exited(0, s, "");
        let deny = read(
            HookEvent::PreToolUse,
            &stdout(
                r#"{"hookSpecificOutput": {"hookEventName": "PreToolUse",
                "permissionDecision": "deny", "permissionDecisionReason": "not here"}}"#,
            ),
            t,
        );
        assert_eq!(deny.blocked.as_deref(), Some("not here"));
        assert_eq!(deny.permission, Some(HookPermission::Deny));
        let allow = read(
            HookEvent::PreToolUse,
            &stdout(r#"{"hookSpecificOutput": {"permissionDecision": "allow"}}"#),
            t,
        );
        assert_eq!(
            (allow.permission, allow.blocked),
            (Some(HookPermission::Allow), None)
        );
        let stop = read(
            HookEvent::Stop,
            &stdout(r#"{"decision": "block", "reason": "tests fail"}"#),
            t,
        );
        assert_eq!(stop.blocked.as_deref(), Some("tests fail"));
        let context = read(
            HookEvent::SessionStart,
            &stdout(r#"{"hookSpecificOutput": {"additionalContext": "on branch x"}}"#),
            t,
        );
        assert_eq!(context.context.as_deref(), Some("on branch x"));
    }

    #[test]
    fn matchers_take_claude_codes_names_and_batons() {
        let settings: HookSettings = toml::from_str(
            "[[PreToolUse]]\nmatcher = \"Bash|Edit\"\nhooks = []\n\
             [[PreToolUse]]\nmatcher = \"read\"\nhooks = []\n\
             [[PreToolUse]]\nmatcher = \"*\"\nhooks = []\n",
        )
        .unwrap();
        let hooks = Hooks::new(&settings);
        let groups = &hooks.events[&HookEvent::PreToolUse];
        let matching = |tool: &str| -> Vec<usize> {
            (0..groups.len())
                .filter(|i| groups[*i].matches(Some(tool)))
                .collect()
        };
        assert_eq!(matching("bash"), [0, 2]);
        assert_eq!(matching("edit"), [0, 2]);
        assert_eq!(matching("read"), [1, 2]);
        // Anchored: `Edit` does not match a tool that only contains it.
        assert_eq!(matching("bashful"), [2]);
    }

    #[test]
    fn tool_fields_carry_both_names_and_claude_codes_file_path() {
        let fields = tool_fields("edit", r#"{"path": "a.rs", "old_string": "x"}"#);
        assert_eq!(fields["tool_name"], "Edit");
        assert_eq!(fields["baton_tool_name"], "edit");
        assert_eq!(fields["tool_input"]["file_path"], "a.rs");
        assert_eq!(tool_fields("task_wait", "{}")["tool_name"], "task_wait");
    }
}
