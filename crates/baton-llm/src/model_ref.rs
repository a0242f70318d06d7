//! `provider/model` names.

use crate::LlmError;
use std::fmt;
use std::str::FromStr;

/// A model named as `provider/model`. The split is at the first `/`, so the
/// model part may itself contain slashes (`openrouter/anthropic/claude-sonnet-4`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    /// The provider's name (a key of the [`ProviderRegistry`](crate::ProviderRegistry)).
    pub provider: String,
    /// The provider's own model name.
    pub model: String,
}

impl ModelRef {
    /// Parses `provider/model`; both parts must be non-empty.
    pub fn parse(s: &str) -> Result<ModelRef, LlmError> {
        let trimmed = s.trim();
        match trimmed.split_once('/') {
            Some((provider, model)) if !provider.is_empty() && !model.is_empty() => Ok(ModelRef {
                provider: provider.to_owned(),
                model: model.to_owned(),
            }),
            _ => Err(LlmError::InvalidModelRef {
                input: s.to_owned(),
            }),
        }
    }

    /// The model's name without any vendor path: what follows the last `/`
    /// (`claude-sonnet-4` for `openrouter/anthropic/claude-sonnet-4`).
    pub fn bare_model(&self) -> &str {
        self.model.rsplit('/').next().unwrap_or(&self.model)
    }
}

impl FromStr for ModelRef {
    type Err = LlmError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelRef::parse(s)
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_slash() {
        let r = ModelRef::parse("openrouter/anthropic/claude-sonnet-4").unwrap();
        assert_eq!(r.provider, "openrouter");
        assert_eq!(r.model, "anthropic/claude-sonnet-4");
        assert_eq!(r.bare_model(), "claude-sonnet-4");
        assert_eq!(r.to_string(), "openrouter/anthropic/claude-sonnet-4");
        let plain: ModelRef = " openai/gpt-4o ".parse().unwrap();
        assert_eq!(plain.bare_model(), "gpt-4o");
        assert_eq!(plain.to_string(), "openai/gpt-4o");
    }

    #[test]
    fn rejects_names_without_both_parts() {
        for bad in ["gpt-4o", "/gpt-4o", "openai/", "", "/"] {
            let err = ModelRef::parse(bad).unwrap_err();
            assert!(matches!(err, LlmError::InvalidModelRef { .. }), "{bad}");
        }
        assert_eq!(
            ModelRef::parse("gpt-4o").unwrap_err().to_string(),
            "invalid model \"gpt-4o\": expected provider/model, e.g. anthropic/claude-sonnet-4"
        );
    }
}
