//! Permissions: which tool calls run, which are refused, and which wait
//! for someone's approval.
//!
//! Rules come in layers: the config's `[permission]`, then the agent of
//! every ancestor session, then the session's own agent. A call gets the
//! strictest answer any layer gives (`deny` over `ask` over `allow`), so a
//! sub-agent can never do more than its parent. An `ask` is answered by
//! a person through the engine ([`crate::Engine::answer_permission`]), or,
//! in headless runs, by the [`AskMode`] policy, so nothing ever waits for
//! an answer that cannot come.

mod broker;
mod policy;
mod subject;

pub(crate) use broker::Broker;
pub(crate) use policy::{Policy, Ruling};
pub(crate) use subject::subject_for;

/// What happens to a call the rules say to `ask` about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AskMode {
    /// Wait for an answer through the engine (a UI or API client is there
    /// to give it). Other sessions keep running meanwhile.
    #[default]
    Wait,
    /// Allow it at once (`baton run --yes`).
    Allow,
    /// Refuse it at once, telling the model why (headless runs without
    /// `--yes`).
    Deny,
}

/// What the model reads when the person denied a call: that it was not
/// run and, when they said why, their words.
pub(crate) fn denial(what: &str, reason: Option<&str>) -> String {
    match reason {
        None => format!(
            "Permission denied: the user refused {what}. It was not run; do not retry it. Go on \
             without it, or ask the user how they want this done."
        ),
        Some(reason) => format!(
            "Permission denied: the user refused {what}. It was not run; do not retry it as it \
             was. The user denied this call: {reason}"
        ),
    }
}
