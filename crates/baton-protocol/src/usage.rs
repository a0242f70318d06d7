//! Token and cost accounting.

use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

/// Tokens spent and what they cost. Costs are in US dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    /// Prompt tokens, including cached ones.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Output tokens the model spent reasoning (part of `output_tokens`).
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// Cost in US dollars, when the model's prices are known.
    #[serde(default)]
    pub cost_usd: f64,
}

impl Usage {
    /// Total tokens, in and out.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, o: Self) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.reasoning_tokens += o.reasoning_tokens;
        self.cost_usd += o.cost_usd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_up() {
        let mut a = Usage {
            input_tokens: 10,
            output_tokens: 2,
            cost_usd: 0.5,
            ..Usage::default()
        };
        a += Usage {
            input_tokens: 5,
            output_tokens: 1,
            cost_usd: 0.25,
            ..Usage::default()
        };
        assert_eq!(a.total_tokens(), 18);
        assert!((a.cost_usd - 0.75).abs() < 1e-9);
    }
}
