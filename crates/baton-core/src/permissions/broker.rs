//! Pending permission requests and the "allow always" grants of each
//! session tree.

use crate::agents::{Action, PermissionRules};
use crate::error::EngineError;
use baton_protocol::{PermissionAnswer, PermissionId, PermissionRequest, SessionId};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Requests waiting for an answer, and what was allowed for good.
#[derive(Default)]
pub(crate) struct Broker {
    pending: Mutex<HashMap<PermissionId, Pending>>,
    grants: Mutex<Vec<Grant>>,
    /// Trees whose stored grants were loaded.
    loaded: Mutex<HashSet<SessionId>>,
}

struct Pending {
    request: PermissionRequest,
    /// The top session of the asking session's tree.
    root: SessionId,
    answer: oneshot::Sender<PermissionAnswer>,
}

/// "Allow always": `rules` (one allowing pattern) hold for every session
/// of the tree under `root`.
struct Grant {
    root: SessionId,
    rules: PermissionRules,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Broker {
    /// Files a request; the receiver gets the answer.
    pub(crate) fn ask(
        &self,
        request: PermissionRequest,
        root: SessionId,
    ) -> oneshot::Receiver<PermissionAnswer> {
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(
            request.id.clone(),
            Pending {
                request,
                root,
                answer: tx,
            },
        );
        rx
    }

    /// Answers a pending request. "Allow always" also grants the request's
    /// pattern to its session tree.
    pub(crate) fn answer(
        &self,
        id: &PermissionId,
        answer: PermissionAnswer,
    ) -> Result<PermissionRequest, EngineError> {
        let pending = lock(&self.pending).remove(id).ok_or_else(|| {
            EngineError::NotFound(format!(
                "no pending permission request `{id}` (it was answered already, or its session \
                 was cancelled)"
            ))
        })?;
        if answer == PermissionAnswer::AllowAlways {
            let request = &pending.request;
            match grant_rules(&request.tool, &request.pattern) {
                Ok(rules) => lock(&self.grants).push(Grant {
                    root: pending.root.clone(),
                    rules,
                }),
                Err(e) => tracing::warn!(pattern = %request.pattern, "cannot grant: {e}"),
            }
        }
        // The asking call may have given up meanwhile (cancelled); the
        // answer then changes nothing.
        let _ = pending.answer.send(answer);
        Ok(pending.request)
    }

    /// Drops a request nobody needs an answer to any more.
    pub(crate) fn withdraw(&self, id: &PermissionId) -> bool {
        lock(&self.pending).remove(id).is_some()
    }

    /// Every pending request, oldest first.
    pub(crate) fn pending(&self) -> Vec<PermissionRequest> {
        let mut all: Vec<PermissionRequest> = lock(&self.pending)
            .values()
            .map(|p| p.request.clone())
            .collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// Whether the stored grants of the tree under `root` were loaded.
    pub(crate) fn has_grants_of(&self, root: &SessionId) -> bool {
        lock(&self.loaded).contains(root)
    }

    /// Takes the stored "allow always" grants (tool, pattern) of the tree
    /// under `root`, once.
    pub(crate) fn load_grants(&self, root: &SessionId, grants: Vec<(String, String)>) {
        if !lock(&self.loaded).insert(root.clone()) {
            return;
        }
        let mut held = lock(&self.grants);
        for (tool, pattern) in grants {
            match grant_rules(&tool, &pattern) {
                Ok(rules) => held.push(Grant {
                    root: root.clone(),
                    rules,
                }),
                Err(e) => tracing::warn!(%pattern, "cannot load a stored grant: {e}"),
            }
        }
    }

    /// Whether a request is waiting for an answer.
    pub(crate) fn is_pending(&self, id: &PermissionId) -> bool {
        lock(&self.pending).contains_key(id)
    }

    /// Whether "allow always" was given for this call in the tree.
    pub(crate) fn granted(&self, root: &SessionId, tool: &str, subject: Option<&str>) -> bool {
        lock(&self.grants).iter().any(|g| {
            g.root == *root
                && g.rules
                    .decide(tool, subject)
                    .is_some_and(|v| v.action == Action::Allow)
        })
    }
}

/// Rules allowing exactly `pattern` for `tool`.
fn grant_rules(tool: &str, pattern: &str) -> Result<PermissionRules, serde_json::Error> {
    serde_json::from_value(serde_json::json!({ tool: { pattern: "allow" } }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::{CallId, PermissionDecision};

    fn request(tool: &str, detail: &str, pattern: &str) -> PermissionRequest {
        PermissionRequest {
            id: PermissionId::generate(),
            session_id: SessionId::from("ses_child"),
            agent: "general".into(),
            tool: tool.into(),
            call_id: CallId::from("c1"),
            detail: detail.into(),
            pattern: pattern.into(),
            created_at: baton_protocol::now(),
        }
    }

    #[tokio::test]
    async fn answers_reach_the_asker_once_and_always_grants_the_tree() {
        let broker = Broker::default();
        let root = SessionId::from("ses_root");
        let req = request("bash", "cargo test -q", "cargo test -q");
        let id = req.id.clone();
        let rx = broker.ask(req, root.clone());
        assert_eq!(broker.pending().len(), 1);
        assert!(!broker.granted(&root, "bash", Some("cargo test -q")));
        broker.answer(&id, PermissionAnswer::AllowAlways).unwrap();
        assert_eq!(rx.await.unwrap(), PermissionAnswer::AllowAlways);
        assert!(broker.pending().is_empty());
        assert!(broker.granted(&root, "bash", Some("cargo test -q")));
        assert!(!broker.granted(&root, "bash", Some("rm -rf /")));
        assert!(!broker.granted(&SessionId::from("ses_other"), "bash", Some("cargo test -q")));
        let again = broker
            .answer(&id, PermissionDecision::Deny.into())
            .unwrap_err();
        assert!(
            again.to_string().contains("no pending permission request"),
            "{again}"
        );
    }

    #[tokio::test]
    async fn a_denial_reaches_the_asker_with_its_reason_and_grants_nothing() {
        let broker = Broker::default();
        let root = SessionId::from("ses_root");
        let req = request("bash", "make deploy", "make deploy");
        let id = req.id.clone();
        let rx = broker.ask(req, root.clone());
        let answer = PermissionAnswer::deny_because("deploys go through CI");
        broker.answer(&id, answer.clone()).unwrap();
        assert_eq!(rx.await.unwrap(), answer);
        assert!(!broker.granted(&root, "bash", Some("make deploy")));
    }

    #[test]
    fn withdrawn_requests_cannot_be_answered() {
        let broker = Broker::default();
        let req = request("edit", "a.rs", "a.rs");
        let id = req.id.clone();
        let _rx = broker.ask(req, SessionId::from("ses_root"));
        assert!(broker.withdraw(&id));
        assert!(broker.answer(&id, PermissionAnswer::AllowOnce).is_err());
    }
}
