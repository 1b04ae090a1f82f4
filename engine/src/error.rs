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

/// Result alias of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
