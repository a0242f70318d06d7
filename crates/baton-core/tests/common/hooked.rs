//! A store that forwards to a real one, where a test can pause one call of
//! an operation (to hold the engine at an exact point) or make one fail.

use async_trait::async_trait;
use baton_protocol::{
    CallId, Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, SessionStatus,
    TaskId, Usage,
};
use baton_store::{
    InputRecord, IsAlive, NoticeRecord, Orphans, SessionQuery, SessionRecord, SettingsChange,
    ShellRecord, Store, StoreError, TaskRecord, TreeRecords,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, watch};

/// What the test asked for, by operation name.
#[derive(Default)]
pub struct Hooks {
    pauses: Mutex<HashMap<&'static str, Pause>>,
    failures: Mutex<HashMap<&'static str, usize>>,
}

#[derive(Clone)]
struct Pause {
    entered: Arc<watch::Sender<bool>>,
    release: Arc<Semaphore>,
}

/// A paused call: see it arrive, then let it go on.
pub struct Paused {
    entered: watch::Receiver<bool>,
    release: Arc<Semaphore>,
}

impl Paused {
    /// Waits until the paused call has arrived (it now waits).
    pub async fn entered(&mut self) {
        let _ = self.entered.wait_for(|e| *e).await;
    }

    /// Lets the paused call go on.
    pub fn release(&self) {
        self.release.add_permits(1);
    }
}

impl Hooks {
    /// The next call of `op` waits until released.
    pub fn pause_next(&self, op: &'static str) -> Paused {
        let (tx, rx) = watch::channel(false);
        let release = Arc::new(Semaphore::new(0));
        self.pauses.lock().unwrap().insert(
            op,
            Pause {
                entered: Arc::new(tx),
                release: release.clone(),
            },
        );
        Paused {
            entered: rx,
            release,
        }
    }

    /// The next `times` calls of `op` fail.
    pub fn fail_next(&self, op: &'static str, times: usize) {
        self.failures.lock().unwrap().insert(op, times);
    }

    async fn before(&self, op: &'static str) -> Result<(), StoreError> {
        let pause = self.pauses.lock().unwrap().remove(op);
        if let Some(pause) = pause {
            pause.entered.send_replace(true);
            let _ = pause.release.acquire().await;
        }
        let mut failures = self.failures.lock().unwrap();
        if let Some(left) = failures.get_mut(op)
            && *left > 0
        {
            *left -= 1;
            return Err(StoreError::Corrupt(format!("{op} failed on purpose")));
        }
        Ok(())
    }
}

/// The hooked store.
pub struct Hooked {
    pub inner: Arc<dyn Store>,
    pub hooks: Arc<Hooks>,
}

macro_rules! hooked {
    ($( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        #[async_trait]
        impl Store for Hooked {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    self.hooks.before(stringify!($name)).await?;
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

hooked! {
    fn create_session(session: &SessionRecord) -> ();
    fn get_session(id: &SessionId) -> Option<SessionRecord>;
    fn resolve_session_id(prefix: &str) -> SessionId;
    fn list_sessions(query: &SessionQuery) -> Vec<SessionRecord>;
    fn set_status(id: &SessionId, status: SessionStatus) -> ();
    fn set_title_if_empty(id: &SessionId, title: &str) -> bool;
    fn update_settings(id: &SessionId, change: &SettingsChange) -> SessionRecord;
    fn fix_system_prompt(id: &SessionId, prompt: &str) -> String;
    fn set_owner(id: &SessionId, pid: Option<u32>) -> ();
    fn add_usage(id: &SessionId, usage: &Usage) -> ();
    fn usage_with_descendants(id: &SessionId) -> Usage;
    fn descendants(id: &SessionId) -> Vec<SessionId>;
    fn append_message(message: &Message) -> ();
    fn messages(id: &SessionId) -> Vec<Message>;
    fn last_answer(id: &SessionId) -> Option<String>;
    fn mark_orphans_interrupted(is_alive: IsAlive) -> Orphans;
    fn tool_calls_with_descendants(id: &SessionId) -> u64;
    fn tree(root: &SessionId) -> Option<TreeRecords>;
    fn enqueue_input(input: &InputRecord) -> ();
    fn pending_inputs(session: &SessionId) -> Vec<InputRecord>;
    fn take_input(message: &Message) -> bool;
    fn add_notice(notice: &NoticeRecord) -> ();
    fn withdraw_inputs(session: &SessionId) -> Vec<InputRecord>;
    fn create_task(task: &TaskRecord) -> ();
    fn update_task(task: &TaskRecord) -> ();
    fn finish_task(task: &TaskRecord, notice: &NoticeRecord, consumed_via: Option<&str>) -> ();
    fn get_task(id: &TaskId) -> Option<TaskRecord>;
    fn list_tasks(parent: &SessionId) -> Vec<TaskRecord>;
    fn pending_notices(session: &SessionId) -> Vec<NoticeRecord>;
    fn deliver_notices(session: &SessionId, notices: &[NoticeRecord]) -> Option<Message>;
    fn create_shell(shell: &ShellRecord) -> ();
    fn end_shell(shell: &ShellRecord, notice: &NoticeRecord) -> ();
    fn list_shells(session: &SessionId) -> Vec<ShellRecord>;
    fn add_permission_request(request: &PermissionRequest, root: &SessionId) -> ();
    fn answer_permission_request(id: &PermissionId, answer: &PermissionAnswer) -> bool;
    fn withdraw_permission_request(id: &PermissionId) -> bool;
    fn permission_grants(root: &SessionId) -> Vec<(String, String)>;
    fn permission_denials(session: &SessionId) -> Vec<(CallId, Option<String>)>;
}
