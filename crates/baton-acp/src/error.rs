//! What can stop `baton acp`.

/// Why the ACP connection ended in an error.
#[derive(Debug, thiserror::Error)]
pub enum AcpError {
    /// The connection to the client failed (its transport, or a message
    /// that could not be sent).
    #[error("the ACP connection failed: {0}")]
    Connection(String),
}
