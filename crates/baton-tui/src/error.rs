//! What can stop the UI.

use baton_client::ClientError;

/// Why the UI could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The terminal could not be set up, read or drawn on.
    #[error("terminal: {0}")]
    Terminal(#[source] std::io::Error),
    /// The engine could not be reached.
    #[error("{0}")]
    Client(#[source] ClientError),
    /// The UI hit a bug (it panicked); the terminal was restored first.
    /// The text is the panic's message and where it happened.
    #[error("the terminal UI stopped on an internal error: {0}")]
    Panicked(String),
}
