//! Carries out effects through the client and turns the answers into
//! outcomes.

use crate::effect::{Effect, Outcome, Tree};
use baton_client::{Client, ClientError, SessionFilter};
use baton_protocol::SessionId;
use baton_protocol::api::{Accepted, CreateSession, UpdateSession};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::path::Path;

/// Most older sessions the picker lists.
const PICKER_LIMIT: usize = 30;

/// Whether an effect changes something (those run one at a time, in the
/// order they were asked for) or only reads (those run at once).
pub fn is_ordered(effect: &Effect) -> bool {
    !matches!(
        effect,
        Effect::LoadTree(_)
            | Effect::LoadHistory(_)
            | Effect::FetchShell(_)
            | Effect::ListSessions
            | Effect::ListAgents
            | Effect::ListModels
    )
}

/// Carries out one effect; a panic while doing so (the panic hook has
/// logged and reported it) fails only this effect.
pub async fn guarded(client: &dyn Client, cwd: &Path, effect: Effect) -> Outcome {
    // A tree load always answers as one, so the events held for it go on.
    let loads_tree = matches!(effect, Effect::LoadTree(_));
    AssertUnwindSafe(perform(client, cwd, effect))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            let text = "a request to the engine stopped on an internal error".to_string();
            if loads_tree {
                Outcome::TreeFailed(text)
            } else {
                Outcome::Failed(text)
            }
        })
}

/// Carries out one effect.
async fn perform(client: &dyn Client, cwd: &Path, effect: Effect) -> Outcome {
    let failed = |what: &str, e: ClientError| Outcome::Failed(format!("{what}: {e}"));
    match effect {
        Effect::CreateSession {
            agent,
            model,
            first_message,
        } => match client
            .create_session(CreateSession {
                agent,
                model,
                title: None,
                cwd: Some(cwd.to_string_lossy().into_owned()),
            })
            .await
        {
            Ok(view) => Outcome::Created(view, first_message),
            Err(e) => failed("could not create the session", e),
        },
        Effect::LoadTree(root) => match load_tree(client, &root).await {
            Ok(tree) => Outcome::Tree(tree),
            Err(e) => Outcome::TreeFailed(format!("could not load the session: {e}")),
        },
        Effect::LoadHistory(id) => match client.messages(&id).await {
            Ok(messages) => Outcome::History(id, messages),
            Err(e) => failed("could not load the conversation", e),
        },
        Effect::Send(id, text) => match client.send_message(&id, &text).await {
            Ok(_) => Outcome::Done(String::new()),
            Err(e) => failed("the message was not sent", e),
        },
        Effect::SendToTask(task, text) => match client.send_to_task(&task, &text).await {
            Ok(_) => Outcome::Done(String::new()),
            Err(e) => failed("the message was not sent", e),
        },
        Effect::Interrupt(id) => match client.interrupt(&id).await {
            Ok(accepted) => handed_back(id, accepted),
            Err(e) => failed("could not interrupt", e),
        },
        Effect::Compact(id) => match client.compact(&id).await {
            Ok(_) => Outcome::Done(String::new()),
            Err(e) => failed("could not compact", e),
        },
        Effect::Cancel(id) => match client.cancel(&id).await {
            Ok(accepted) => handed_back(id, accepted),
            Err(e) => failed("could not cancel", e),
        },
        Effect::CancelTask(task) => match client.cancel_task(&task).await {
            Ok(_) => Outcome::Done(format!("cancelling {task}")),
            Err(e) => failed("could not cancel the task", e),
        },
        Effect::Background(call) => match client.background_call(&call).await {
            Ok(_) => Outcome::Done("moved to the background".into()),
            Err(e) => failed("could not move it to the background", e),
        },
        Effect::KillShell(id) => match client.kill_shell(&id).await {
            Ok(view) => Outcome::Shell(view),
            Err(e) => failed("could not kill the shell", e),
        },
        Effect::FetchShell(id) => match client.shell(&id).await {
            Ok(view) => Outcome::Shell(view),
            Err(e) => failed("could not read the shell", e),
        },
        Effect::Answer(id, answer) => match client.answer_permission(&id, answer).await {
            Ok(_) => Outcome::Done(String::new()),
            Err(e) => failed("could not answer", e),
        },
        Effect::ListSessions => match client
            .sessions(SessionFilter {
                cwd: Some(cwd.to_string_lossy().into_owned()),
                roots_only: true,
                parent: None,
                limit: Some(PICKER_LIMIT),
            })
            .await
        {
            Ok(list) => Outcome::Sessions(list),
            Err(e) => failed("could not list sessions", e),
        },
        Effect::ListAgents => match client.agents().await {
            Ok(list) => Outcome::Agents(list),
            Err(e) => failed("could not list agents", e),
        },
        Effect::ListModels => match client.models().await {
            Ok(list) => Outcome::Models(list),
            Err(e) => failed("could not list models", e),
        },
        Effect::SetModel(id, model) => match client
            .update_session(
                &id,
                UpdateSession {
                    model: Some(model),
                    title: None,
                    agent: None,
                },
            )
            .await
        {
            Ok(view) => Outcome::Session(view),
            Err(e) => failed("could not switch the model", e),
        },
    }
}

/// What an interrupt or a cancel handed back: the queued messages the
/// session had not taken.
fn handed_back(id: SessionId, accepted: Accepted) -> Outcome {
    if accepted.withdrawn.is_empty() {
        Outcome::Done(String::new())
    } else {
        Outcome::Withdrawn(id, accepted.withdrawn)
    }
}

/// A session with everything under it, its tasks, shells and pending
/// permission requests, in one request.
pub async fn load_tree(client: &dyn Client, root: &SessionId) -> Result<Tree, ClientError> {
    let tree = client.tree(root).await?;
    let mut sessions = tree.sessions.into_iter();
    let root_view = sessions
        .next()
        .ok_or_else(|| ClientError::NotFound(format!("no session `{root}`")))?;
    Ok(Tree {
        root: root_view,
        // Oldest first: the order they were spawned in.
        descendants: sessions.collect(),
        tasks: tree.tasks,
        shells: tree.shells,
        permissions: tree.permissions,
        as_of: Some(tree.as_of),
    })
}
