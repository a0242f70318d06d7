//! [`SqliteStore`]: the async face of [`SqliteDb`]. Every call moves its
//! arguments to a blocking thread and runs there, so the engine's async
//! workers never wait on SQLite.

use super::SqliteDb;
use crate::{
    InputRecord, IsAlive, NoticeRecord, Orphans, SessionQuery, SessionRecord, SettingsChange,
    ShellRecord, Store, StoreError, TaskRecord, TreeRecords,
};
use baton_protocol::{
    CallId, Message, PermissionAnswer, PermissionId, PermissionRequest, SessionId, SessionStatus,
    TaskId, Usage,
};
use std::path::Path;
use std::sync::Arc;

/// A [`Store`] in one SQLite file (WAL mode). Cheap to clone; clones share
/// one connection.
#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<SqliteDb>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Arc::new(SqliteDb::open(path)?),
        })
    }

    /// A private in-memory database (tests, throwaway runs).
    pub fn in_memory() -> Result<Self, StoreError> {
        Ok(Self {
            db: Arc::new(SqliteDb::in_memory()?),
        })
    }

    /// Runs `f` on a blocking thread.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&SqliteDb) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || f(&db)).await {
            Ok(result) => result,
            Err(join) => Err(StoreError::Worker(join.to_string())),
        }
    }
}

/// Implements [`Store`] for [`SqliteStore`]: the methods written out in
/// braces as they are, and each listed one by forwarding to [`SqliteDb`]'s
/// method of the same name on a blocking thread. `ref` arguments are
/// borrowed by the caller and owned for the trip (`to_owned`); `val`
/// arguments are copied. (The `async_trait` attribute is emitted here so
/// it sees the generated methods.)
macro_rules! store_impl {
    ({ $($written:item)* } $( fn $name:ident($($kind:ident $arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        #[async_trait::async_trait]
        impl Store for SqliteStore {
            $($written)*
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    $( store_impl!(@own $kind $arg); )*
                    self.run(move |db| db.$name($(store_impl!(@pass $kind $arg)),*)).await
                }
            )*
        }
    };
    (@own ref $arg:ident) => { let $arg = $arg.to_owned(); };
    (@own val $arg:ident) => {};
    (@pass ref $arg:ident) => { &$arg };
    (@pass val $arg:ident) => { $arg };
}

store_impl! {
    {
    async fn finish_task(
        &self,
        task: &TaskRecord,
        notice: &NoticeRecord,
        consumed_via: Option<&str>,
    ) -> Result<(), StoreError> {
        let (task, notice, via) = (task.clone(), notice.clone(), consumed_via.map(str::to_owned));
        self.run(move |db| db.finish_task(&task, &notice, via.as_deref()))
            .await
    }

    async fn mark_orphans_interrupted(
        &self,
        is_alive: IsAlive,
    ) -> Result<Orphans, StoreError> {
        self.run(move |db| db.mark_orphans_interrupted(&*is_alive))
            .await
    }
    }

        fn create_session(ref session: &SessionRecord) -> ();
        fn get_session(ref id: &SessionId) -> Option<SessionRecord>;
        fn resolve_session_id(ref prefix: &str) -> SessionId;
        fn list_sessions(ref query: &SessionQuery) -> Vec<SessionRecord>;
        fn set_status(ref id: &SessionId, val status: SessionStatus) -> ();
        fn set_title_if_empty(ref id: &SessionId, ref title: &str) -> bool;
        fn update_settings(ref id: &SessionId, ref change: &SettingsChange) -> SessionRecord;
        fn fix_system_prompt(ref id: &SessionId, ref prompt: &str) -> String;
        fn set_owner(ref id: &SessionId, val pid: Option<u32>) -> ();
        fn add_usage(ref id: &SessionId, ref usage: &Usage) -> ();
        fn usage_with_descendants(ref id: &SessionId) -> Usage;
        fn descendants(ref id: &SessionId) -> Vec<SessionId>;
        fn append_message(ref message: &Message) -> ();
        fn messages(ref id: &SessionId) -> Vec<Message>;
        fn last_answer(ref id: &SessionId) -> Option<String>;
        fn tool_calls_with_descendants(ref id: &SessionId) -> u64;
        fn tree(ref root: &SessionId) -> Option<TreeRecords>;
        fn enqueue_input(ref input: &InputRecord) -> ();
        fn pending_inputs(ref session: &SessionId) -> Vec<InputRecord>;
        fn take_input(ref message: &Message) -> bool;
        fn withdraw_inputs(ref session: &SessionId) -> Vec<InputRecord>;
        fn create_task(ref task: &TaskRecord) -> ();
        fn update_task(ref task: &TaskRecord) -> ();
        fn get_task(ref id: &TaskId) -> Option<TaskRecord>;
        fn list_tasks(ref parent: &SessionId) -> Vec<TaskRecord>;
        fn pending_notices(ref session: &SessionId) -> Vec<NoticeRecord>;
        fn deliver_notices(ref session: &SessionId, ref notices: &[NoticeRecord]) -> Option<Message>;
        fn create_shell(ref shell: &ShellRecord) -> ();
        fn end_shell(ref shell: &ShellRecord, ref notice: &NoticeRecord) -> ();
        fn add_notice(ref notice: &NoticeRecord) -> ();
        fn list_shells(ref session: &SessionId) -> Vec<ShellRecord>;
        fn add_permission_request(ref request: &PermissionRequest, ref root: &SessionId) -> ();
        fn answer_permission_request(ref id: &PermissionId, ref answer: &PermissionAnswer) -> bool;
        fn withdraw_permission_request(ref id: &PermissionId) -> bool;
        fn permission_grants(ref root: &SessionId) -> Vec<(String, String)>;
        fn permission_denials(ref session: &SessionId) -> Vec<(CallId, Option<String>)>;
}
