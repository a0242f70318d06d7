//! What the API refuses before anything reaches the engine, in the words
//! it refuses it with. The HTTP server and the in-process client both
//! check requests here, so the same mistake reads the same through every
//! client; the OpenAPI document states the same rules (`minLength` and
//! `pattern: \S` on texts, `maximum` on `limit`, a `reason` only with a
//! denial).

use super::AnswerPermission;
use crate::{PermissionAnswer, PermissionDecision};
use std::fmt;

/// The largest `limit` a session listing takes: the store counts rows in
/// signed 64 bits.
pub const MAX_LIMIT: u64 = i64::MAX as u64;

/// Who a message is for, as its refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// A session (`POST /v1/sessions/{id}/messages`).
    Session,
    /// A delegated task (`POST /v1/tasks/{id}/messages`).
    Task,
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Session => "session",
            Self::Task => "task",
        })
    }
}

/// A request refused for its form, whichever client sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A message with nothing in it but white space.
    #[error("`text` is empty; send something for the {0} to read")]
    EmptyText(Recipient),
    /// A `limit` that is not a whole number the store can count to.
    #[error("`limit` must be a whole number from 0 to {MAX_LIMIT}, not `{0}`")]
    BadLimit(String),
    /// A `reason` given with an answer that allows the call.
    #[error(
        "`reason` goes only with `deny` (it tells the model why the call was refused), not with \
         `{0}`"
    )]
    ReasonWithAllow(PermissionDecision),
    /// A `reason` with nothing in it but white space.
    #[error("`reason` is empty; leave it out, or say why the call is denied")]
    EmptyReason,
}

/// Checks an answer to a permission request and makes it whole: a
/// `reason` only with `deny`, and not blank.
pub fn check_answer(body: AnswerPermission) -> Result<PermissionAnswer, Refusal> {
    match (body.decision, body.reason) {
        (decision, None) => Ok(decision.into()),
        (PermissionDecision::Deny, Some(reason)) if reason.trim().is_empty() => {
            Err(Refusal::EmptyReason)
        }
        (PermissionDecision::Deny, Some(reason)) => Ok(PermissionAnswer::Deny {
            reason: Some(reason),
        }),
        (decision, Some(_)) => Err(Refusal::ReasonWithAllow(decision)),
    }
}

/// Checks the text of a message for a session or a task: it must hold
/// something besides white space.
pub fn check_text(text: &str, to: Recipient) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        Err(Refusal::EmptyText(to))
    } else {
        Ok(())
    }
}

/// Checks the `limit` of a session listing: at most [`MAX_LIMIT`].
pub fn check_limit(limit: usize) -> Result<usize, Refusal> {
    match u64::try_from(limit) {
        Ok(n) if n <= MAX_LIMIT => Ok(limit),
        _ => Err(Refusal::BadLimit(limit.to_string())),
    }
}

/// Reads the `limit` of a session listing as a query string gives it:
/// digits only, from 0 to [`MAX_LIMIT`].
pub fn parse_limit(text: &str) -> Result<usize, Refusal> {
    let refused = || Refusal::BadLimit(text.to_owned());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    let limit = text.parse::<usize>().map_err(|_| refused())?;
    check_limit(limit).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_texts_are_refused_and_name_their_recipient() {
        assert_eq!(check_text("hi", Recipient::Session), Ok(()));
        assert_eq!(
            check_text(" \n\t", Recipient::Task),
            Err(Refusal::EmptyText(Recipient::Task))
        );
        assert_eq!(
            check_text("", Recipient::Session).unwrap_err().to_string(),
            "`text` is empty; send something for the session to read"
        );
    }

    #[test]
    fn a_reason_goes_only_with_a_denial_and_is_not_blank() {
        let answer = |decision, reason: Option<&str>| AnswerPermission {
            decision,
            reason: reason.map(str::to_owned),
        };
        assert_eq!(
            check_answer(answer(PermissionDecision::AllowOnce, None)),
            Ok(PermissionAnswer::AllowOnce)
        );
        assert_eq!(
            check_answer(answer(PermissionDecision::Deny, Some("not on main"))),
            Ok(PermissionAnswer::deny_because("not on main"))
        );
        assert_eq!(
            check_answer(answer(PermissionDecision::Deny, None)),
            Ok(PermissionAnswer::Deny { reason: None })
        );
        assert_eq!(
            check_answer(answer(PermissionDecision::Deny, Some(" \t"))),
            Err(Refusal::EmptyReason)
        );
        let refused = check_answer(answer(PermissionDecision::AllowAlways, Some("why not")));
        assert_eq!(
            refused,
            Err(Refusal::ReasonWithAllow(PermissionDecision::AllowAlways))
        );
        assert_eq!(
            refused.unwrap_err().to_string(),
            "`reason` goes only with `deny` (it tells the model why the call was refused), not \
             with `allow_always`"
        );
        // What a client sends for an answer is what it meant.
        for whole in [
            PermissionAnswer::AllowOnce,
            PermissionAnswer::AllowAlways,
            PermissionAnswer::Deny { reason: None },
            PermissionAnswer::deny_because("the tests are slow"),
        ] {
            assert_eq!(check_answer(whole.clone().into()), Ok(whole));
        }
    }

    #[test]
    fn limits_are_whole_numbers_the_store_can_count_to() {
        assert_eq!(parse_limit("0"), Ok(0));
        assert_eq!(parse_limit("20"), Ok(20));
        assert_eq!(parse_limit("9223372036854775807"), Ok(i64::MAX as usize));
        for bad in [
            "9223372036854775808",
            "99999999999999999999",
            "-1",
            "+1",
            "1.5",
            "many",
            "",
            " 1",
        ] {
            assert_eq!(
                parse_limit(bad),
                Err(Refusal::BadLimit(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_limit("-1").unwrap_err().to_string(),
            "`limit` must be a whole number from 0 to 9223372036854775807, not `-1`"
        );
    }

    #[test]
    fn a_limit_past_the_store_reads_as_the_query_would() {
        let huge = i64::MAX as usize + 1;
        assert_eq!(check_limit(7), Ok(7));
        assert_eq!(
            check_limit(huge),
            parse_limit(&huge.to_string()).map(|_| huge)
        );
    }
}
