//! Echo replies: a reply's `text_from` computes its text from the request, e.g. to answer a
//! summarisation request with the facts the conversation holds.

use std::collections::HashSet;

use crate::conversation::Conversation;
use crate::script::{Reply, TextFrom, TextSource};

impl TextFrom {
    /// The text for this request: `prefix`, then every distinct match in order of first
    /// appearance joined by `separator`, or `prefix` and `none_text` when nothing matches.
    pub(crate) fn render(&self, conversation: &Conversation) -> String {
        let texts: &[String] = match self.source {
            TextSource::All => &conversation.texts,
            TextSource::LastUser => conversation.last_user.as_slice(),
        };
        let mut seen = HashSet::new();
        let matches: Vec<&str> = texts
            .iter()
            .flat_map(|text| self.pattern.regex().find_iter(text))
            .map(|found| found.as_str())
            .filter(|found| seen.insert(*found))
            .collect();
        let body = if matches.is_empty() {
            self.none_text.clone()
        } else {
            matches.join(&self.separator)
        };
        format!("{}{body}", self.prefix)
    }
}

impl Reply {
    /// The reply with its `text_from` turned into `text` for this request.
    pub(crate) fn echoed(mut self, conversation: &Conversation) -> Reply {
        if let Some(text_from) = self.text_from.take() {
            self.text = Some(text_from.render(conversation));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Script;

    fn reply(text_from: &str) -> Reply {
        let script = Script::from_toml(&format!(
            "[[rules]]\nreply = {{ text_from = {{ {text_from} }} }}\n"
        ))
        .expect("valid script");
        script.rules[0].reply.clone()
    }

    fn conversation() -> Conversation {
        Conversation {
            last_user: Some("now FACT-3 and FACT-1 again".into()),
            texts: vec![
                "system: keep FACT-1".into(),
                "user: FACT-2, FACT-1".into(),
                "tool result: FACT-10".into(),
                "now FACT-3 and FACT-1 again".into(),
            ],
            ..Conversation::default()
        }
    }

    #[test]
    fn all_texts_give_distinct_matches_in_order_of_first_appearance() {
        let reply = reply(r#"pattern = "FACT-[0-9]+", prefix = "Facts: ""#).echoed(&conversation());
        assert_eq!(
            reply.text.as_deref(),
            Some("Facts: FACT-1, FACT-2, FACT-10, FACT-3")
        );
        assert!(reply.text_from.is_none());
    }

    #[test]
    fn last_user_searches_only_the_latest_user_text() {
        let reply = reply(r#"pattern = "FACT-[0-9]+", source = "last_user", separator = "|""#)
            .echoed(&conversation());
        assert_eq!(reply.text.as_deref(), Some("FACT-3|FACT-1"));
    }

    #[test]
    fn no_match_gives_the_prefix_and_none_text() {
        let defaults = reply(r#"pattern = "NOPE""#).echoed(&conversation());
        assert_eq!(defaults.text.as_deref(), Some("(none)"));
        let custom = reply(r#"pattern = "x", prefix = "Facts: ", none_text = "nothing""#)
            .echoed(&Conversation::default());
        assert_eq!(custom.text.as_deref(), Some("Facts: nothing"));
    }

    #[test]
    fn replies_without_text_from_are_unchanged() {
        let script =
            Script::from_toml("[[rules]]\nreply = { text = \"as written\" }\n").expect("valid");
        let reply = script.rules[0].reply.clone().echoed(&conversation());
        assert_eq!(reply.text.as_deref(), Some("as written"));
    }
}
