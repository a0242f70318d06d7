//! The layered rules of one session.

use crate::agents::{Action, PermissionRules};
use std::sync::Arc;

/// One layer of rules and where it comes from.
#[derive(Debug, Clone)]
struct Layer {
    source: String,
    rules: Arc<PermissionRules>,
}

/// The rules that apply to one session: the config's, then its
/// ancestors' agents', then its own agent's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    layers: Vec<Layer>,
}

/// The answer for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ruling {
    /// What to do.
    pub(crate) action: Action,
    /// The pattern that decided, if a pattern did.
    pub(crate) pattern: Option<String>,
    /// Which layer decided (`config`, `agent plan`), empty when no rule
    /// matched (allowed by default).
    pub(crate) source: String,
}

impl Policy {
    /// A policy with one more (stricter or equal) layer on top.
    pub(crate) fn with_layer(&self, source: impl Into<String>, rules: &PermissionRules) -> Policy {
        let mut layers = self.layers.clone();
        if !rules.is_empty() {
            layers.push(Layer {
                source: source.into(),
                rules: Arc::new(rules.clone()),
            });
        }
        Policy { layers }
    }

    /// The strictest answer any layer gives; when none has a rule, `allow`,
    /// except `ask` for MCP tools (`mcp__…`).
    pub(crate) fn decide(&self, tool: &str, subject: Option<&str>) -> Ruling {
        let mut ruling = Ruling {
            action: Action::Allow,
            pattern: None,
            source: String::new(),
        };
        for layer in &self.layers {
            if let Some(verdict) = layer.rules.decide(tool, subject) {
                let stricter = verdict.action > ruling.action;
                if stricter || ruling.source.is_empty() {
                    ruling = Ruling {
                        action: verdict.action,
                        pattern: verdict.pattern,
                        source: layer.source.clone(),
                    };
                }
            }
        }
        if ruling.source.is_empty() && tool.starts_with("mcp__") {
            // Another program's tool: asked about until a rule allows it.
            ruling = Ruling {
                action: Action::Ask,
                pattern: None,
                source: "the defaults for MCP tools".into(),
            };
        }
        ruling
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml_text: &str) -> PermissionRules {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn the_strictest_layer_wins_and_no_rule_allows() {
        let config = rules("bash = { \"git *\" = \"allow\", \"*\" = \"ask\" }\n");
        let child = rules("bash = \"allow\"\nedit = \"deny\"\n");
        let policy = Policy::default()
            .with_layer("config", &config)
            .with_layer("agent general", &child);
        // The child's blanket allow cannot widen the config's ask.
        let r = policy.decide("bash", Some("rm -rf x"));
        assert_eq!(r.action, Action::Ask);
        assert_eq!(r.source, "config");
        assert_eq!(r.pattern.as_deref(), Some("*"));
        assert_eq!(policy.decide("bash", Some("git log")).action, Action::Allow);
        let r = policy.decide("edit", Some("a.rs"));
        assert_eq!(
            (r.action, r.source.as_str()),
            (Action::Deny, "agent general")
        );
        let r = policy.decide("read", Some("a.rs"));
        assert_eq!((r.action, r.source.as_str()), (Action::Allow, ""));
    }
}
