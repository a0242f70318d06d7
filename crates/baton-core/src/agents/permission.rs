//! Permission rules: per tool, `allow`, `ask` or `deny`, either for every
//! call or by patterns of the call's subject.
//!
//! The same shape is read from the config file's `[permission]` table and
//! from an agent file's `permission:` front matter:
//!
//! ```toml
//! [permission]
//! edit = "ask"
//! bash = { "git status" = "allow", "rm *" = "deny", "*" = "ask" }
//! "*" = "allow"
//! ```
//!
//! A tool's own entry decides its calls; the `"*"` entry decides the calls
//! of tools without an entry. A plain action applies to every call of the
//! tool. A pattern map decides the calls whose subject one of its patterns
//! matches (see [`PatternRule`] for the pattern syntax): the longest
//! matching pattern wins, and between patterns of the same length the
//! strictest action. When nothing matches, the rules say nothing and the
//! caller falls back to its defaults.

use super::pattern::{PatternError, PatternRule};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;

/// What happens to a tool call. Ordered by strictness:
/// `Allow < Ask < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The call runs.
    Allow,
    /// Someone must approve the call first.
    Ask,
    /// The call is refused.
    Deny,
}

impl Action {
    /// The stricter of two actions (`deny` over `ask` over `allow`).
    pub fn strictest(self, other: Action) -> Action {
        self.max(other)
    }

    /// The lowercase name used in rules: `allow`, `ask` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Ask => "ask",
            Action::Deny => "deny",
        }
    }

    /// Parses `allow`, `ask` or `deny`.
    fn parse(text: &str) -> Option<Action> {
        match text {
            "allow" => Some(Action::Allow),
            "ask" => Some(Action::Ask),
            "deny" => Some(Action::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What some rules decided for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What happens to the call.
    pub action: Action,
    /// The pattern that decided, or `None` when a plain action did.
    pub pattern: Option<String>,
}

/// The rule for one tool: one action for all its calls, or patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolRule {
    /// The same action for every call (`edit = "ask"`).
    Action(Action),
    /// Actions by pattern of the call's subject
    /// (`bash = { "git status" = "allow", "*" = "ask" }`).
    Patterns(Vec<PatternRule>),
}

impl ToolRule {
    /// A pattern rule from `(pattern, action)` pairs, sorted by pattern
    /// (the order they were written in never matters); fails on the first
    /// pattern that cannot be compiled.
    pub fn patterns<I, S>(entries: I) -> Result<ToolRule, PatternError>
    where
        I: IntoIterator<Item = (S, Action)>,
        S: Into<String>,
    {
        let mut rules = entries
            .into_iter()
            .map(|(pattern, action)| PatternRule::new(pattern, action))
            .collect::<Result<Vec<_>, _>>()?;
        rules.sort_by(|a, b| a.pattern().cmp(b.pattern()));
        Ok(ToolRule::Patterns(rules))
    }

    /// What this rule says about a call with the given subject: the plain
    /// action, or the longest matching pattern's action (on a tie, the
    /// strictest); `None` when no pattern matches.
    pub fn decide(&self, subject: Option<&str>) -> Option<Verdict> {
        match self {
            ToolRule::Action(action) => Some(Verdict {
                action: *action,
                pattern: None,
            }),
            ToolRule::Patterns(rules) => rules
                .iter()
                .filter(|rule| rule.matches(subject))
                .max_by_key(|rule| {
                    (
                        rule.pattern().chars().count(),
                        rule.action(),
                        // Same length and action: the first in sort order,
                        // so the answer never depends on the file's order.
                        Reverse(rule.pattern()),
                    )
                })
                .map(|rule| Verdict {
                    action: rule.action(),
                    pattern: Some(rule.pattern().to_owned()),
                }),
        }
    }
}

/// Permission rules: tool name → [`ToolRule`]; the key `"*"` covers every
/// tool without its own entry. Empty rules (the default) have no opinion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionRules {
    tools: BTreeMap<String, ToolRule>,
}

impl PermissionRules {
    /// Whether there are no rules at all.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Sets the rule of a tool (or of `"*"`), returning the one it replaces.
    pub fn set(&mut self, tool: impl Into<String>, rule: ToolRule) -> Option<ToolRule> {
        self.tools.insert(tool.into(), rule)
    }

    /// The rule written for exactly this key (no `"*"` fallback).
    pub fn get(&self, tool: &str) -> Option<&ToolRule> {
        self.tools.get(tool)
    }

    /// Every tool key and its rule, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ToolRule)> {
        self.tools.iter().map(|(tool, rule)| (tool.as_str(), rule))
    }

    /// What these rules say about a call of `tool` whose subject (command,
    /// path, agent) is `subject`: the tool's own rule, or else the rule of
    /// the longest tool-name pattern that matches it (a key ending in `*`,
    /// like `mcp__github__*`, or an MCP server's `mcp__github`, as Claude
    /// Code writes them), or else the `"*"` rule. `None` when none exists
    /// or no pattern of it matches.
    pub fn decide(&self, tool: &str, subject: Option<&str>) -> Option<Verdict> {
        self.tools
            .get(tool)
            .or_else(|| self.tool_pattern(tool))
            .or_else(|| self.tools.get("*"))?
            .decide(subject)
    }

    /// The rule of the longest key other than `"*"` that names `tool` by
    /// a prefix: `PREFIX*`, or `mcp__SERVER` for `mcp__SERVER__TOOL`.
    fn tool_pattern(&self, tool: &str) -> Option<&ToolRule> {
        self.tools
            .iter()
            .filter(|(key, _)| {
                if let Some(prefix) = key.strip_suffix('*') {
                    !prefix.is_empty() && tool.starts_with(prefix)
                } else {
                    key.starts_with("mcp__")
                        && tool
                            .strip_prefix(key.as_str())
                            .is_some_and(|rest| rest.starts_with("__"))
                }
            })
            .max_by_key(|(key, _)| key.len())
            .map(|(_, rule)| rule)
    }
}

impl Serialize for ToolRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolRule::Action(action) => action.serialize(serializer),
            ToolRule::Patterns(rules) => {
                let mut map = serializer.serialize_map(Some(rules.len()))?;
                for rule in rules {
                    map.serialize_entry(rule.pattern(), &rule.action())?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for PermissionRules {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(&self.tools)
    }
}

impl<'de> Deserialize<'de> for ToolRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ToolRuleSeed { tool: None }.deserialize(deserializer)
    }
}

impl<'de> Deserialize<'de> for PermissionRules {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RulesVisitor)
    }
}

/// Reads the `tool → rule` map, telling each rule its tool for errors.
struct RulesVisitor;

impl<'de> Visitor<'de> for RulesVisitor {
    type Value = PermissionRules;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of tool names to `allow`, `ask`, `deny` or pattern maps")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rules = PermissionRules::default();
        while let Some(tool) = map.next_key::<String>()? {
            let rule = map.next_value_seed(ToolRuleSeed { tool: Some(&tool) })?;
            rules.set(tool, rule);
        }
        Ok(rules)
    }
}

/// Reads one tool's rule; knows the tool's name (when there is one) so
/// errors can say which rule is wrong.
struct ToolRuleSeed<'a> {
    tool: Option<&'a str>,
}

impl ToolRuleSeed<'_> {
    /// `permission for `bash`: ` or nothing, to start an error message.
    fn context(&self) -> String {
        match self.tool {
            Some(tool) => format!("permission for `{tool}`: "),
            None => String::new(),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ToolRuleSeed<'_> {
    type Value = ToolRule;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ToolRule, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ToolRuleSeed<'_> {
    type Value = ToolRule;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tool {
            Some(tool) => write!(f, "a rule for `{tool}` "),
            None => f.write_str("a rule "),
        }?;
        f.write_str("(`allow`, `ask`, `deny`, or a map of patterns to those)")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ToolRule, E> {
        Action::parse(value).map(ToolRule::Action).ok_or_else(|| {
            E::custom(format!(
                "{}expected `allow`, `ask`, `deny` or a map of patterns, got `{value}`",
                self.context()
            ))
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolRule, A::Error> {
        let mut entries = Vec::new();
        while let Some(pattern) = map.next_key::<String>()? {
            let action = map.next_value::<String>()?;
            let action = Action::parse(&action).ok_or_else(|| {
                de::Error::custom(format!(
                    "{}pattern `{pattern}`: expected `allow`, `ask` or `deny`, got `{action}`",
                    self.context()
                ))
            })?;
            entries.push((pattern, action));
        }
        ToolRule::patterns(entries)
            .map_err(|err| de::Error::custom(format!("{}{err}", self.context())))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn toml_rules(text: &str) -> PermissionRules {
        toml::from_str(text).unwrap()
    }

    fn action(rules: &PermissionRules, tool: &str, subject: Option<&str>) -> Option<Action> {
        rules.decide(tool, subject).map(|v| v.action)
    }

    #[test]
    fn actions_are_ordered_by_strictness() {
        assert!(Action::Allow < Action::Ask && Action::Ask < Action::Deny);
        assert_eq!(Action::Allow.strictest(Action::Deny), Action::Deny);
        assert_eq!(Action::Ask.strictest(Action::Allow), Action::Ask);
        assert_eq!(Action::Deny.to_string(), "deny");
    }

    #[test]
    fn a_plain_action_covers_every_call_of_its_tool() {
        let rules = toml_rules(r#"edit = "ask""#);
        let verdict = rules.decide("edit", Some("src/a.rs")).unwrap();
        assert_eq!(
            verdict,
            Verdict {
                action: Action::Ask,
                pattern: None
            }
        );
        assert_eq!(action(&rules, "edit", None), Some(Action::Ask));
        assert_eq!(rules.decide("bash", Some("ls")), None);
    }

    #[test]
    fn the_longest_matching_pattern_wins() {
        let rules = toml_rules(
            r#"bash = { "git" = "ask", "git status" = "allow", "rm *" = "deny", "*" = "ask" }"#,
        );
        let verdict = rules.decide("bash", Some("git status -s")).unwrap();
        assert_eq!(verdict.action, Action::Allow);
        assert_eq!(verdict.pattern.as_deref(), Some("git status"));
        assert_eq!(action(&rules, "bash", Some("git push")), Some(Action::Ask));
        assert_eq!(action(&rules, "bash", Some("rm -rf /")), Some(Action::Deny));
        let verdict = rules.decide("bash", Some("cargo test")).unwrap();
        assert_eq!(verdict.pattern.as_deref(), Some("*"));
    }

    #[test]
    fn patterns_of_equal_length_give_the_strictest_action() {
        let rules = toml_rules(r#"bash = { "ls *" = "allow", "* -R" = "deny" }"#);
        let verdict = rules.decide("bash", Some("ls -R")).unwrap();
        assert_eq!(verdict.action, Action::Deny);
        assert_eq!(verdict.pattern.as_deref(), Some("* -R"));
    }

    #[test]
    fn no_matching_pattern_means_no_opinion() {
        let rules = toml_rules(r#"bash = { "git status" = "allow" }"#);
        assert_eq!(rules.decide("bash", Some("git statusx")), None);
        assert_eq!(rules.decide("bash", None), None);
    }

    #[test]
    fn a_call_without_subject_matches_only_a_star_pattern() {
        let rules = toml_rules(r#"todo_write = { "*" = "deny", "x" = "allow" }"#);
        let verdict = rules.decide("todo_write", None).unwrap();
        assert_eq!(verdict.action, Action::Deny);
        assert_eq!(verdict.pattern.as_deref(), Some("*"));
    }

    #[test]
    fn the_star_tool_covers_tools_without_an_entry() {
        let rules = toml_rules(
            r#"
            "*" = "ask"
            read = "allow"
            bash = { "ls" = "allow" }
            "#,
        );
        assert_eq!(action(&rules, "read", Some("a")), Some(Action::Allow));
        assert_eq!(action(&rules, "write", Some("a")), Some(Action::Ask));
        // bash has its own entry, so `*` does not fill its gaps.
        assert_eq!(action(&rules, "bash", Some("make")), None);
    }

    #[test]
    fn rules_read_the_same_from_yaml_and_json() {
        let yaml: PermissionRules = yaml_serde::from_str(
            "edit: deny\nbash:\n  git status: allow\n  'rm *': deny\n  '*': ask\n",
        )
        .unwrap();
        let toml = toml_rules(
            r#"
            edit = "deny"
            bash = { "git status" = "allow", "rm *" = "deny", "*" = "ask" }
            "#,
        );
        assert_eq!(yaml, toml);
        assert_eq!(action(&yaml, "bash", Some("rm x")), Some(Action::Deny));
        let json: PermissionRules =
            serde_json::from_value(serde_json::json!({ "bash": { "make *": "allow" } })).unwrap();
        assert_eq!(action(&json, "bash", Some("make all")), Some(Action::Allow));
    }

    #[test]
    fn rules_serialize_back_to_the_same_shape() {
        let rules = toml_rules(
            r#"edit = "ask"
bash = { "git status" = "allow", "*" = "deny" }"#,
        );
        let json = serde_json::to_value(&rules).unwrap();
        assert_eq!(json["edit"], "ask");
        assert_eq!(json["bash"]["git status"], "allow");
        let back: PermissionRules = serde_json::from_value(json).unwrap();
        assert_eq!(back, rules);
    }

    #[test]
    fn empty_rules_have_no_opinion() {
        let rules = PermissionRules::default();
        assert!(rules.is_empty());
        assert_eq!(rules.decide("bash", Some("ls")), None);
        assert!(!toml_rules(r#"edit = "ask""#).is_empty());
    }

    #[test]
    fn a_bad_glob_is_rejected_naming_tool_and_pattern() {
        let err = toml::from_str::<PermissionRules>(r#"bash = { "ls [a" = "allow" }"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`bash`") && err.contains("`ls [a`"), "{err}");
        let err = yaml_serde::from_str::<PermissionRules>("read:\n  'src/[x': deny\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`read`") && err.contains("`src/[x`"), "{err}");
    }

    #[test]
    fn a_bad_action_is_rejected_naming_tool_and_pattern() {
        let err = toml::from_str::<PermissionRules>(r#"edit = "maybe""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`edit`") && err.contains("`maybe`"), "{err}");
        let err = toml::from_str::<PermissionRules>(r#"bash = { "ls" = "yes" }"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`bash`") && err.contains("`ls`"), "{err}");
    }

    #[test]
    fn rules_can_be_built_in_code() {
        let mut rules = PermissionRules::default();
        rules.set(
            "bash",
            ToolRule::patterns([("git *", Action::Allow)]).unwrap(),
        );
        assert_eq!(action(&rules, "bash", Some("git log")), Some(Action::Allow));
        assert!(ToolRule::patterns([("[", Action::Allow)]).is_err());
        assert!(matches!(rules.get("bash"), Some(ToolRule::Patterns(p)) if p.len() == 1));
        assert_eq!(rules.iter().count(), 1);
    }

    #[test]
    fn tool_name_patterns_cover_mcp_tools() {
        let rules = toml_rules(
            "\"mcp__everything__*\" = \"allow\"\n\"mcp__everything__add\" = \"deny\"\n\
             mcp__github = \"ask\"\n\"*\" = \"deny\"\n",
        );
        let action = |tool: &str| rules.decide(tool, None).map(|v| v.action);
        assert_eq!(action("mcp__everything__echo"), Some(Action::Allow));
        assert_eq!(action("mcp__everything__add"), Some(Action::Deny));
        assert_eq!(action("mcp__github__create_issue"), Some(Action::Ask));
        assert_eq!(action("mcp__githubx__a"), Some(Action::Deny));
        assert_eq!(action("bash"), Some(Action::Deny));
    }
}
