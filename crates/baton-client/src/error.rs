//! What can go wrong talking to the engine.

/// Why a client call failed. The same kinds for both clients, so a front
/// end handles them once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The request was refused as invalid; nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// What the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The server did not accept the token.
    #[error("{0}")]
    Unauthorized(String),
    /// The engine cannot be reached, or is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// The engine failed to do it.
    #[error("{0}")]
    Failed(String),
}

impl From<baton_core::EngineError> for ClientError {
    fn from(e: baton_core::EngineError) -> Self {
        use baton_core::EngineError as E;
        let text = e.to_string();
        match e {
            E::Invalid(_) | E::Busy(_) => Self::Invalid(text),
            E::NotFound(_) | E::UnknownSession(_) => Self::NotFound(text),
            E::ShuttingDown => Self::Unavailable(text),
            E::Store(_) | E::Llm(_) => Self::Failed(text),
        }
    }
}

impl From<baton_protocol::api::Refusal> for ClientError {
    fn from(refusal: baton_protocol::api::Refusal) -> Self {
        Self::Invalid(refusal.to_string())
    }
}
