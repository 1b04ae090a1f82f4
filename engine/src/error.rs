//! The engine's one error type.

use std::fmt;

/// One invalid value in a portfolio: which file, which field, which value and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// File the value came from (portfolio file or loan tape).
    pub file: String,
    /// Field path, e.g. `deals["L-07"].principal` or `pools["P1"].tranches[2].balance`.
    pub path: String,
    /// The offending value as written (or as understood).
    pub value: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} = {}: {}",
            self.file, self.path, self.value, self.reason
        )
    }
}

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The file is not well-formed TOML/JSON/CSV, or a field has the wrong type.
    #[error("{file}: {message}")]
    Parse {
        /// File that failed to parse.
        file: String,
        /// The parser's message (with line/column or row where known).
        message: String,
    },
    /// The file parsed but one or more values are invalid.
    #[error("{}", render_invalid(.errors))]
    Invalid {
        /// Every invalid value found (at least one).
        errors: Vec<FieldError>,
    },
    /// A referenced file (loan tape) could not be read.
    #[error("{file}: cannot read referenced file '{referenced}': {message}")]
    Reference {
        /// File that holds the reference.
        file: String,
        /// The referenced path as written.
        referenced: String,
        /// Why it could not be read.
        message: String,
    },
    /// An arithmetic overflow in a deterministic schedule (amounts beyond 7.9e28).
    #[error("arithmetic overflow while computing {what}")]
    Overflow {
        /// The quantity being computed.
        what: String,
    },
    /// A request named an id that the portfolio does not contain.
    #[error("unknown {kind} id '{id}'")]
    UnknownId {
        /// "deal", "pool", ...
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
}

fn render_invalid(errors: &[FieldError]) -> String {
    let mut s = format!(
        "invalid portfolio ({} error{}):",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        s.push_str("\n  - ");
        s.push_str(&e.to_string());
    }
    s
}

/// Whose fault an error is, so that every front translates it once: the CLI to an exit code,
/// the HTTP service to a status, the Python bindings to an exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The caller's input is wrong (a file, field, argument or request body): fix it and retry.
    Input,
    /// A re-run did not reproduce recorded results, or recorded files disagree with their
    /// manifest.
    Mismatch,
    /// The caller cancelled the work (Ctrl-C, a cancelled job).
    Cancelled,
    /// Not the caller's fault: an I/O failure, an overflow, a bug.
    Internal,
}

impl EngineError {
    /// Whose fault this is: every variant but [`EngineError::Overflow`] is bad input.
    pub fn class(&self) -> ErrorClass {
        match self {
            EngineError::Overflow { .. } => ErrorClass::Internal,
            _ => ErrorClass::Input,
        }
    }
}

/// Result alias of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
