//! Which rule answers a request.

use crate::Wire;
use crate::conversation::Conversation;
use crate::script::{Pattern, Rule, When};

impl When {
    /// Whether every condition that is set holds for this request.
    pub(crate) fn matches(&self, wire: Wire, conversation: &Conversation) -> bool {
        self.wire.is_none_or(|wanted| wanted == wire)
            && text_holds(self.first_user.as_ref(), conversation.first_user.as_deref())
            && text_holds(self.last_user.as_ref(), conversation.last_user.as_deref())
            && text_holds(self.system.as_ref(), conversation.system.as_deref())
            && self.last_tool_result.as_ref().is_none_or(|pattern| {
                conversation
                    .trailing_tool_results
                    .iter()
                    .any(|result| pattern.is_match(result))
            })
            && self
                .no_tool_results
                .is_none_or(|wanted| wanted == conversation.trailing_tool_results.is_empty())
            && self
                .tools_include
                .iter()
                .all(|tool| conversation.tool_names.contains(tool))
            && !self
                .tools_exclude
                .iter()
                .any(|tool| conversation.tool_names.contains(tool))
            && self
                .model
                .as_ref()
                .is_none_or(|pattern| pattern.is_match(&conversation.model))
            && self
                .any_text
                .as_ref()
                .is_none_or(|pattern| conversation.texts.iter().any(|text| pattern.is_match(text)))
    }
}

/// An absent pattern holds; a present one needs text that it matches.
fn text_holds(pattern: Option<&Pattern>, text: Option<&str>) -> bool {
    pattern.is_none_or(|pattern| text.is_some_and(|text| pattern.is_match(text)))
}

/// Picks the first rule that still has uses left and matches, and counts the use.
///
/// `used[i]` is how many times rule `i` has answered; the caller holds it under a lock so that
/// choosing and counting are one step.
pub(crate) fn select<'a>(
    rules: &'a [Rule],
    used: &mut [u32],
    wire: Wire,
    conversation: &Conversation,
) -> Option<(usize, &'a Rule)> {
    let index = rules.iter().enumerate().position(|(index, rule)| {
        let uses = used.get(index).copied().unwrap_or_default();
        rule.times.is_none_or(|limit| uses < limit) && rule.when.matches(wire, conversation)
    })?;
    if let Some(uses) = used.get_mut(index) {
        *uses = uses.saturating_add(1);
    }
    rules.get(index).map(|rule| (index, rule))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Script;

    fn conversation() -> Conversation {
        Conversation {
            model: "gpt-4o".into(),
            system: Some("You are baton".into()),
            first_user: Some("please read a.txt".into()),
            last_user: Some("thanks".into()),
            trailing_tool_results: vec!["line one".into(), "exit code 0".into()],
            tool_names: vec!["read".into(), "bash".into()],
            texts: vec![
                "You are baton".into(),
                "please read a.txt".into(),
                "Summarize the conversation so far".into(),
                "line one".into(),
            ],
        }
    }

    fn first_match(toml_when: &str, conversation: &Conversation) -> bool {
        let script = Script::from_toml(&format!(
            "[[rules]]\nreply = {{ text = \"x\" }}\n[rules.when]\n{toml_when}\n"
        ))
        .expect("valid script");
        script.rules[0].when.matches(Wire::OpenAi, conversation)
    }

    #[test]
    fn each_condition_can_hold_and_fail() {
        let c = conversation();
        let cases = [
            ("", true),
            ("wire = \"openai\"", true),
            ("wire = \"anthropic\"", false),
            ("first_user = \"a\\\\.txt\"", true),
            ("first_user = \"thanks\"", false),
            ("last_user = \"^thanks$\"", true),
            ("last_user = \"read\"", false),
            ("last_tool_result = \"exit code \\\\d\"", true),
            ("last_tool_result = \"error\"", false),
            ("no_tool_results = false", true),
            ("no_tool_results = true", false),
            ("system = \"baton\"", true),
            ("system = \"other\"", false),
            ("tools_include = [\"read\", \"bash\"]", true),
            ("tools_include = [\"read\", \"task\"]", false),
            ("tools_exclude = [\"task\"]", true),
            ("tools_exclude = [\"bash\"]", false),
            ("model = \"^gpt-4\"", true),
            ("model = \"claude\"", false),
            ("any_text = \"(?i)summari[sz]e\"", true),
            ("any_text = \"^line one$\"", true),
            ("any_text = \"nowhere\"", false),
        ];
        for (when, expected) in cases {
            assert_eq!(first_match(when, &c), expected, "condition {when:?}");
        }
    }

    #[test]
    fn absent_texts_do_not_match_patterns() {
        let empty = Conversation::default();
        assert!(!first_match("system = \".*\"", &empty));
        assert!(!first_match("first_user = \".*\"", &empty));
        assert!(!first_match("last_tool_result = \".*\"", &empty));
        assert!(!first_match("any_text = \".*\"", &empty));
        assert!(first_match("no_tool_results = true", &empty));
    }

    #[test]
    fn first_matching_rule_wins_and_times_limits_it() {
        let script = Script::from_toml(
            r#"
[[rules]]
name = "once"
times = 1
reply = { text = "a" }
[[rules]]
name = "never-for-openai"
when = { wire = "anthropic" }
reply = { text = "b" }
[[rules]]
reply = { text = "c" }
"#,
        )
        .expect("valid script");
        let mut used = vec![0; script.rules.len()];
        let c = conversation();
        assert_eq!(
            select(&script.rules, &mut used, Wire::OpenAi, &c).map(|(i, _)| i),
            Some(0)
        );
        assert_eq!(
            select(&script.rules, &mut used, Wire::OpenAi, &c).map(|(i, _)| i),
            Some(2)
        );
        assert_eq!(
            select(&script.rules, &mut used, Wire::Anthropic, &c).map(|(i, _)| i),
            Some(1)
        );
        assert_eq!(used, [1, 1, 1]);
    }

    #[test]
    fn nothing_matches_when_all_rules_are_used_up() {
        let script =
            Script::from_toml("[[rules]]\ntimes = 0\nreply = { text = \"a\" }\n").expect("valid");
        let mut used = vec![0];
        assert!(select(&script.rules, &mut used, Wire::OpenAi, &conversation()).is_none());
        assert_eq!(used, [0]);
    }
}
