//! Named captures: a rule's `when` regexes can capture parts of the
//! conversation (`(?P<task>task_[0-9a-f]+)`), and its reply can use them
//! as `${task}`, so a script can act on ids the client made up.

use crate::Wire;
use crate::conversation::Conversation;
use crate::script::{Pattern, Reply, ToolArguments, When};
use serde_json::Value;
use std::collections::HashMap;

impl When {
    /// The named captures of every regex condition (first user, latest
    /// user, system, the first matching tool result, model, the first text
    /// `any_text` matches). Call it only for a `when` that matched.
    pub(crate) fn captures(&self, _wire: Wire, c: &Conversation) -> HashMap<String, String> {
        let mut out = HashMap::new();
        let mut take = |pattern: Option<&Pattern>, text: Option<&str>| {
            if let (Some(p), Some(t)) = (pattern, text) {
                p.captures_into(t, &mut out);
            }
        };
        take(self.first_user.as_ref(), c.first_user.as_deref());
        take(self.last_user.as_ref(), c.last_user.as_deref());
        take(self.system.as_ref(), c.system.as_deref());
        take(self.model.as_ref(), Some(c.model.as_str()));
        if let Some(p) = &self.last_tool_result
            && let Some(result) = c.trailing_tool_results.iter().find(|r| p.is_match(r))
        {
            p.captures_into(result, &mut out);
        }
        if let Some(p) = &self.any_text
            && let Some(text) = c.texts.iter().find(|t| p.is_match(t))
        {
            p.captures_into(text, &mut out);
        }
        out
    }
}

impl Pattern {
    /// Adds this pattern's named captures in `text` to `out`.
    fn captures_into(&self, text: &str, out: &mut HashMap<String, String>) {
        let regex = self.regex();
        if let Some(caps) = regex.captures(text) {
            for name in regex.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    out.insert(name.to_owned(), m.as_str().to_owned());
                }
            }
        }
    }
}

/// `text` with every `${name}` of a known capture replaced.
fn fill(text: &str, captures: &HashMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (name, value) in captures {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

fn fill_value(value: &mut Value, captures: &HashMap<String, String>) {
    match value {
        Value::String(s) => *s = fill(s, captures),
        Value::Array(items) => items.iter_mut().for_each(|v| fill_value(v, captures)),
        Value::Object(map) => map.values_mut().for_each(|v| fill_value(v, captures)),
        _ => {}
    }
}

impl Reply {
    /// The reply with `${name}` placeholders in its text (`text`, or the
    /// `prefix` and `none_text` of `text_from`) and tool-call arguments
    /// filled from `captures`.
    pub(crate) fn filled(&self, captures: &HashMap<String, String>) -> Reply {
        let mut reply = self.clone();
        if captures.is_empty() {
            return reply;
        }
        reply.text = reply.text.map(|t| fill(&t, captures));
        if let Some(text_from) = &mut reply.text_from {
            text_from.prefix = fill(&text_from.prefix, captures);
            text_from.none_text = fill(&text_from.none_text, captures);
        }
        for call in &mut reply.tool_calls {
            match &mut call.arguments {
                ToolArguments::Json(map) => map.values_mut().for_each(|v| fill_value(v, captures)),
                ToolArguments::Raw(raw) => *raw = fill(raw, captures),
            }
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Script;

    #[test]
    fn captures_fill_text_and_arguments() {
        let script = Script::from_toml(
            r#"
[[rules]]
[rules.when]
last_tool_result = "started (?P<task>task_[0-9a-f]+)"
last_user = "for (?P<who>\\w+)"
[rules.reply]
text = "waiting on ${task} for ${who}"
tool_calls = [{ name = "task_wait", arguments = { task_ids = ["${task}"], note = "${missing}" } }]
"#,
        )
        .unwrap();
        let rule = &script.rules[0];
        let conversation = Conversation {
            last_user: Some("do it for alice".into()),
            trailing_tool_results: vec!["other".into(), "started task_ab12".into()],
            ..Conversation::default()
        };
        assert!(rule.when.matches(Wire::OpenAi, &conversation));
        let caps = rule.when.captures(Wire::OpenAi, &conversation);
        let reply = rule.reply.filled(&caps);
        assert_eq!(
            reply.text.as_deref(),
            Some("waiting on task_ab12 for alice")
        );
        let ToolArguments::Json(args) = &reply.tool_calls[0].arguments else {
            panic!("json arguments");
        };
        assert_eq!(args["task_ids"][0], "task_ab12");
        assert_eq!(args["note"], "${missing}", "unknown names stay as written");
    }

    #[test]
    fn any_text_captures_fill_the_echo_prefix() {
        let script = Script::from_toml(
            r#"
[[rules]]
when = { any_text = "summary for (?P<who>\\w+)" }
reply = { text_from = { pattern = "x", prefix = "${who}: ", none_text = "none for ${who}" } }
"#,
        )
        .unwrap();
        let rule = &script.rules[0];
        let conversation = Conversation {
            texts: vec!["hello".into(), "write a summary for bob".into()],
            ..Conversation::default()
        };
        assert!(rule.when.matches(Wire::Anthropic, &conversation));
        let caps = rule.when.captures(Wire::Anthropic, &conversation);
        let text_from = rule.reply.filled(&caps).text_from.expect("text_from");
        assert_eq!(text_from.prefix, "bob: ");
        assert_eq!(text_from.none_text, "none for bob");
    }
}
