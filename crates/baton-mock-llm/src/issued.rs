//! The opaque reasoning tokens a server handed out (Anthropic thinking signatures and redacted
//! thinking data, Responses API encrypted reasoning), so that a request sending one back can be
//! checked the way the real providers check theirs: only what this server issued, unchanged.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Issued tokens, each with the content it vouches for.
#[derive(Debug, Default)]
pub(crate) struct Issued {
    tokens: Mutex<HashMap<String, String>>,
}

impl Issued {
    fn tokens(&self) -> MutexGuard<'_, HashMap<String, String>> {
        // Inserting or reading a map entry cannot leave it half-done.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `token` as issued for `content`.
    pub(crate) fn issue(&self, token: &str, content: &str) {
        self.tokens().insert(token.to_string(), content.to_string());
    }

    /// Whether `token` was issued (for `content`, when given).
    pub(crate) fn vouches(&self, token: &str, content: Option<&str>) -> bool {
        self.tokens()
            .get(token)
            .is_some_and(|issued| content.is_none_or(|content| issued == content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_issued_tokens_vouch_and_only_for_their_content() {
        let issued = Issued::default();
        issued.issue("sig_1", "I thought");
        assert!(issued.vouches("sig_1", Some("I thought")));
        assert!(issued.vouches("sig_1", None));
        assert!(!issued.vouches("sig_1", Some("I thought otherwise")));
        assert!(!issued.vouches("sig_2", None));
    }
}
