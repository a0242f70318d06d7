//! Budgets: what a task may spend (tokens, dollars, model calls) over all
//! its runs and everything it delegates. Every model call in a tree is
//! charged to the task of each session on its way up; a task that reaches
//! a limit is stopped with its whole sub-tree and ends `failed`, its
//! notice naming the limit.

use super::Delegation;
use crate::lineage::Lineage;
use baton_protocol::api::Budget;
use baton_protocol::{SessionId, Usage};

/// What a task has spent so far.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Spent {
    /// Input plus output tokens.
    pub(super) tokens: u64,
    /// US dollars.
    pub(super) cost: f64,
    /// Model calls (counted by this process).
    pub(super) steps: u64,
}

impl Spent {
    /// What a stored usage counts for (tokens and cost; steps are not
    /// stored).
    pub(super) fn from_usage(usage: &Usage, steps: u64) -> Spent {
        Spent {
            tokens: usage.input_tokens + usage.output_tokens,
            cost: usage.cost_usd,
            steps,
        }
    }

    fn add(&mut self, usage: &Usage) {
        self.tokens += usage.input_tokens + usage.output_tokens;
        self.cost += usage.cost_usd;
        self.steps += 1;
    }
}

/// The limit of `budget` that `spent` has reached, said for the notice.
pub(super) fn reached(budget: &Budget, spent: &Spent) -> Option<String> {
    if let Some(max) = budget.max_steps
        && spent.steps >= max
    {
        return Some(format!(
            "its budget max_steps ({max}) was reached: it made {} model calls",
            spent.steps
        ));
    }
    if let Some(max) = budget.max_tokens
        && spent.tokens >= max
    {
        return Some(format!(
            "its budget max_tokens ({max}) was reached: it used {} tokens",
            spent.tokens
        ));
    }
    if let Some(max) = budget.max_cost
        && spent.cost >= max
    {
        return Some(format!(
            "its budget max_cost (${max:.4}) was reached: it spent ${:.4}",
            spent.cost
        ));
    }
    None
}

impl Delegation {
    /// Charges one model call of `session` to the budget of its own task
    /// and of every task above it; stops each task whose budget this call
    /// used up (its child session tree is cancelled and the task ends
    /// `failed`, saying which limit).
    pub(crate) fn charge(&self, session: &SessionId, lineage: &Lineage, usage: &Usage) {
        // The top session of the tree is nobody's task.
        let Some((_root, above)) = lineage.ancestors.split_last() else {
            return;
        };
        for s in std::iter::once(session).chain(above) {
            let Some(entry) = self.table.of_child(s) else {
                continue;
            };
            let stop = {
                let mut state = entry.lock();
                if state.record.budget.is_unlimited() {
                    continue;
                }
                state.spent.add(usage);
                if state.over_budget {
                    None
                } else {
                    reached(&state.record.budget, &state.spent).map(|why| {
                        state.over_budget = true;
                        state.reason = Some(why);
                        state.record.child_session_id.clone()
                    })
                }
            };
            if let Some(child) = stop {
                tracing::info!(session = %child, "a task reached its budget: stopping it");
                if let Some(child) = entry.request_cancel() {
                    self.host.cancel_tree(&child);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_is_reached_at_its_value_and_named() {
        let budget = Budget {
            max_tokens: Some(1_000),
            max_cost: Some(0.5),
            max_steps: Some(3),
        };
        let spent = |tokens, cost, steps| Spent {
            tokens,
            cost,
            steps,
        };
        assert_eq!(reached(&budget, &spent(999, 0.49, 2)), None);
        assert!(
            reached(&budget, &spent(0, 0.0, 3))
                .unwrap()
                .contains("max_steps (3)")
        );
        assert!(
            reached(&budget, &spent(1_000, 0.0, 0))
                .unwrap()
                .contains("max_tokens (1000)")
        );
        assert!(
            reached(&budget, &spent(0, 0.5, 0))
                .unwrap()
                .contains("max_cost ($0.5000)")
        );
        assert_eq!(
            reached(&Budget::default(), &spent(u64::MAX, 1e9, u64::MAX)),
            None
        );
    }
}
