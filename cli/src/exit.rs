//! Mapping errors to exit codes, exactly once.

use gaib_engine::EngineError;
use std::fmt;
use std::process::ExitCode;

/// Classes of failure with their exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitKind {
    /// Bad input: a file, field or argument (exit 2).
    Invalid,
    /// A reproduction did not match (exit 3).
    Mismatch,
    /// Interrupted by the user (exit 130).
    Interrupted,
}

/// An error with an explicit exit class.
#[derive(Debug)]
pub(crate) struct CliError {
    /// Exit class.
    pub(crate) kind: ExitKind,
    /// Message for the user.
    pub(crate) message: String,
}

impl CliError {
    /// Bad input (exit 2).
    pub(crate) fn invalid(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(CliError {
            kind: ExitKind::Invalid,
            message: message.into(),
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Prints the error and returns its exit code: 2 for invalid input (any engine input error),
/// 3 for a mismatch, 130 for an interruption, 1 otherwise.
pub(crate) fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    let mut code = 1;
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<CliError>() {
            code = match c.kind {
                ExitKind::Invalid => 2,
                ExitKind::Mismatch => 3,
                ExitKind::Interrupted => 130,
            };
            break;
        }
        if let Some(engine) = cause.downcast_ref::<EngineError>() {
            code = match engine {
                EngineError::Overflow { .. } => 1,
                _ => 2,
            };
            break;
        }
    }
    ExitCode::from(code)
}
