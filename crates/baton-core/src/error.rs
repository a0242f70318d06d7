//! Engine errors.

/// Why an engine operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request names something that does not exist or is invalid
    /// (bad model, unknown agent, missing working directory...).
    #[error("{0}")]
    Invalid(String),
    /// No task, shell, call or permission request has that id (the
    /// text says which).
    #[error("{0}")]
    NotFound(String),
    /// No session has that id.
    #[error("no session `{0}`")]
    UnknownSession(String),
    /// The session is doing something the request must wait for (the
    /// text says what); nothing changed.
    #[error("{0}")]
    Busy(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] baton_store::StoreError),
    /// Provider configuration is unusable.
    #[error(transparent)]
    Llm(#[from] baton_llm::LlmError),
    /// The engine is shutting down.
    #[error("the engine is shutting down")]
    ShuttingDown,
}
