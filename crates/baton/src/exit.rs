//! Exit codes and the one line a failure prints.

use std::process::ExitCode;

/// A failure to report on stderr, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

/// The run did not complete (provider error after retries, tool crash).
const RUN_FAILED: u8 = 1;
/// Bad usage or configuration.
const BAD_USAGE: u8 = 2;
/// Interrupted by Ctrl+C (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;

impl Failure {
    /// Bad usage or configuration: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: BAD_USAGE,
            message: message.into(),
        }
    }

    /// The run failed: exit 1.
    pub fn run(message: impl Into<String>) -> Self {
        Self {
            code: RUN_FAILED,
            message: message.into(),
        }
    }

    /// Prints `baton: MESSAGE` on stderr and returns the exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("baton: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<baton_core::EngineError> for Failure {
    fn from(e: baton_core::EngineError) -> Self {
        match e {
            baton_core::EngineError::Invalid(_)
            | baton_core::EngineError::UnknownSession(_)
            | baton_core::EngineError::Llm(_) => Self::usage(e.to_string()),
            other => Self::run(other.to_string()),
        }
    }
}

impl From<baton_client::ClientError> for Failure {
    fn from(e: baton_client::ClientError) -> Self {
        use baton_client::ClientError as E;
        match e {
            E::Invalid(m) | E::NotFound(m) | E::Unauthorized(m) => Self::usage(m),
            E::Unavailable(m) | E::Failed(m) => Self::run(m),
        }
    }
}

/// What a command returns.
pub type CmdResult = Result<ExitCode, Failure>;
