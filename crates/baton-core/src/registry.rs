//! The live sessions: which stored sessions have a running actor, opening
//! one (loading its conversation, pending notices and queued messages),
//! unloading one that has been idle, and cancelling a session's tree.
//!
//! Every way of adding work to a live session (a message, a notice, a
//! task's or shell's unit) begins that work under the map's lock, and a
//! session is unloaded only under the same lock when it has none: so a
//! session never leaves memory with work on its way.

use crate::delegation::Delegation;
use crate::error::EngineError;
use crate::lineage::Lineage;
use crate::services::Services;
use crate::session::{SessionHandle, SessionSetup, WorkGuard, spawn_session};
use baton_protocol::SessionId;
use baton_store::{NoticeRecord, SessionRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The live sessions of one engine.
pub(crate) struct Registry {
    pub(crate) services: Arc<Services>,
    pub(crate) tasks: Arc<Delegation>,
    live: Mutex<HashMap<SessionId, Live>>,
    /// Opening is one at a time, so a session never gets two actors.
    opening: tokio::sync::Mutex<()>,
    /// Held while a session's settings are changed, so changes are
    /// stored and announced in the same order.
    pub(crate) settings_changes: tokio::sync::Mutex<()>,
    /// A session with no work for this long leaves memory.
    unload_after: Duration,
    me: Weak<Registry>,
}

struct Live {
    handle: SessionHandle,
    task: JoinHandle<()>,
}

impl Registry {
    pub(crate) fn new(
        services: Arc<Services>,
        tasks: Arc<Delegation>,
        unload_after: Duration,
        me: Weak<Registry>,
    ) -> Self {
        Self {
            services,
            tasks,
            live: Mutex::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
            settings_changes: tokio::sync::Mutex::new(()),
            unload_after,
            me,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A live session's handle.
    pub(crate) fn handle(&self, id: &SessionId) -> Option<SessionHandle> {
        self.lock().get(id).map(|l| l.handle.clone())
    }

    /// How many sessions are live.
    pub(crate) fn live_count(&self) -> usize {
        self.lock().len()
    }

    /// The ids of the live sessions.
    pub(crate) fn live_ids(&self) -> Vec<SessionId> {
        self.lock().keys().cloned().collect()
    }

    /// Begins a unit of work on a live session's behalf.
    pub(crate) fn work(&self, id: &SessionId) -> Option<WorkGuard> {
        self.lock().get(id).map(|l| l.handle.work())
    }

    /// Hands a notice to a live session; false when it is not live.
    pub(crate) fn deliver(&self, id: &SessionId, notice: NoticeRecord) -> bool {
        match self.lock().get(id) {
            Some(l) => {
                l.handle.deliver(notice);
                true
            }
            None => false,
        }
    }

    /// A live session's handle with a unit of work begun for it, and a
    /// follower of its work, all under the lock.
    fn counted(&self, id: &SessionId) -> Option<(SessionHandle, WorkGuard, watch::Receiver<u64>)> {
        self.lock()
            .get(id)
            .map(|l| (l.handle.clone(), l.handle.work(), l.handle.quiet()))
    }

    /// Stores a message for a session (opening it if it is not live) and
    /// puts it in its mailbox. Returns the `seq` of `message.queued` and a
    /// follower of the session's work.
    pub(crate) async fn send(
        self: &Arc<Self>,
        id: &SessionId,
        text: String,
    ) -> Result<(u64, watch::Receiver<u64>), EngineError> {
        let (handle, work, quiet) = match self.counted(id) {
            Some(found) => found,
            None => {
                self.open(id).await?;
                self.counted(id)
                    .ok_or_else(|| EngineError::UnknownSession(id.to_string()))?
            }
        };
        let seq = handle.send(text, work).await?;
        Ok((seq, quiet))
    }

    /// Makes sure a stored session has a live actor; returns its record
    /// and handle. Opening loads its conversation (recording results for
    /// calls a dead process left open), its tasks, its tree's "allow
    /// always" grants, and hands it its undelivered notices and its
    /// queued messages.
    pub(crate) async fn open(
        self: &Arc<Self>,
        id: &SessionId,
    ) -> Result<(SessionRecord, SessionHandle), EngineError> {
        let services = &self.services;
        let store = &services.store;
        if let Some(handle) = self.handle(id) {
            return Ok((services.session_record(id).await?, handle));
        }
        let _one_at_a_time = self.opening.lock().await;
        // Read under the lock: a change that retired the last actor
        // (`closed_for_change`) is stored before it lets the lock go.
        let record = services.session_record(id).await?;
        if let Some(handle) = self.handle(id) {
            return Ok((record, handle));
        }
        services.check_open()?;
        let model = services.check_model(&record.model)?;
        let agent = services.find_agent(&record.agent)?;
        let ancestors = self.ancestors_of(&record).await?;
        let lineage = Arc::new(Lineage::build(
            &services.config.permission,
            &services.agents,
            ancestors,
            &agent,
        ));
        let mut history = store.messages(id).await?;
        let denials = store.permission_denials(id).await?;
        if let Some(results) =
            crate::conversation::results_for_interrupted_calls(&history, &denials)
        {
            // The process that ran these calls died before they returned:
            // record that, so the stored conversation is whole again.
            store.append_message(&results).await?;
            history.push(results);
        }
        // After a compaction the model reads its summary, not what it
        // replaced.
        let history = crate::compaction::model_view(history);
        let notices = store.pending_notices(id).await?;
        let inputs = store.pending_inputs(id).await?;
        self.tasks.table.adopt(store.list_tasks(id).await?);
        let root = lineage.root(id);
        if !services.permissions.has_grants_of(&root) {
            let grants = store.permission_grants(&root).await?;
            services.permissions.load_grants(&root, grants);
        }
        let (handle, task) = spawn_session(SessionSetup {
            services: services.clone(),
            tasks: self.tasks.clone(),
            record: record.clone(),
            agent,
            model,
            history,
            lineage,
        })
        .await?;
        {
            let mut live = self.lock();
            for notice in notices {
                handle.deliver(notice);
            }
            for input in inputs {
                handle.requeue(input, handle.work());
            }
            live.insert(
                id.clone(),
                Live {
                    handle: handle.clone(),
                    task,
                },
            );
        }
        self.unload_when_idle(id.clone(), &handle);
        Ok((record, handle))
    }

    /// The ancestors of a session, parent first, with their agents.
    async fn ancestors_of(
        &self,
        record: &SessionRecord,
    ) -> Result<Vec<(SessionId, String)>, EngineError> {
        let mut chain = Vec::new();
        let mut parent = record.parent_id.clone();
        while let Some(p) = parent {
            if chain.iter().any(|(id, _)| *id == p) || p == record.id {
                return Err(EngineError::Invalid(format!(
                    "session `{}` is its own ancestor in the store",
                    record.id
                )));
            }
            let found = self.services.session_record(&p).await?;
            parent = found.parent_id.clone();
            chain.push((found.id, found.agent));
        }
        Ok(chain)
    }

    /// Unloads the session once it has had no work for `unload_after`.
    fn unload_when_idle(&self, id: SessionId, handle: &SessionHandle) {
        let after = self.unload_after;
        let mut work = handle.quiet();
        let me = self.me.clone();
        tokio::spawn(async move {
            loop {
                if work.wait_for(|n| *n == 0).await.is_err() {
                    return;
                }
                let changed = tokio::select! {
                    () = tokio::time::sleep(after) => false,
                    r = work.changed() => {
                        if r.is_err() {
                            return;
                        }
                        true
                    }
                };
                if changed {
                    continue;
                }
                let Some(me) = me.upgrade() else { return };
                if me.unload_if_idle(&id) {
                    return;
                }
            }
        });
    }

    /// For a change a live actor cannot take (its agent): takes the
    /// session out of memory if it is live and idle, and keeps it from
    /// being opened again until the returned guard is dropped, so that its
    /// next actor reads what was stored meanwhile. Refuses, changing
    /// nothing, when the session has work: a turn, a task or a shell of
    /// its own, or a message on its way.
    pub(crate) async fn closed_for_change(
        &self,
        id: &SessionId,
    ) -> Result<tokio::sync::MutexGuard<'_, ()>, EngineError> {
        let guard = self.opening.lock().await;
        if !self.unload_if_idle(id) && self.handle(id).is_some() {
            return Err(EngineError::Busy(format!(
                "session `{id}` is working (a turn, a task or a shell of its own is under \
                 way); change it when it is idle, or cancel its work first"
            )));
        }
        Ok(guard)
    }

    /// Takes a session out of memory if it has no work (it is opened again
    /// from the store when touched); returns whether it did.
    fn unload_if_idle(&self, id: &SessionId) -> bool {
        let removed = {
            let mut live = self.lock();
            match live.get(id) {
                Some(l) if l.handle.pending_work() == 0 => live.remove(id),
                _ => None,
            }
        };
        let Some(live) = removed else {
            return false;
        };
        live.handle.stop();
        let forgotten = self.tasks.table.forget_ended_of(id);
        tracing::debug!(session = %id, forgotten, "idle session unloaded");
        true
    }

    /// Cancels a session's turn, its tasks (queued ones never start;
    /// running ones are cancelled recursively) and its shells.
    pub(crate) fn cancel_tree(&self, id: &SessionId) {
        if let Some(handle) = self.handle(id) {
            handle.cancel();
        }
        // A task's child cancelled directly ends its task `cancelled`.
        if let Some(own) = self.tasks.table.of_child(id) {
            let _ = own.request_cancel();
        }
        for entry in self.tasks.table.active_of(id) {
            if let Some(child) = entry.request_cancel() {
                self.cancel_tree(&child);
            }
        }
        let shells = self.services.shells.clone();
        let session = id.to_string();
        tokio::spawn(async move {
            shells.kill_session(&session).await;
        });
    }

    /// Cancels every live session, kills every shell and waits for the
    /// actors to stop.
    pub(crate) async fn shutdown(&self) {
        self.services.closing.cancel();
        for id in self.live_ids() {
            self.cancel_tree(&id);
        }
        self.services.shells.kill_all().await;
        self.services.mcp.shutdown().await;
        self.tasks.wait_watchers().await;
        let lives: Vec<Live> = self.lock().drain().map(|(_, l)| l).collect();
        for live in lives {
            live.handle.stop();
            drop(live.handle);
            if let Err(e) = live.task.await {
                tracing::warn!("a session actor ended badly: {e}");
            }
        }
    }
}
