//! The market layer's errors: every one names the file (and, for CSV input, the line, field
//! and value) so the user can fix the input.

use thiserror::Error;

/// Result with [`MarketError`].
pub type Result<T> = std::result::Result<T, MarketError>;

/// What went wrong, and where.
#[derive(Debug, Error)]
pub enum MarketError {
    /// A CSV field (or a whole record) that cannot be used.
    #[error("{file}:{line}: field `{field}` = {value:?}: {reason}")]
    Field {
        /// File name as given by the caller.
        file: String,
        /// 1-based line number in the file.
        line: u64,
        /// Column name.
        field: String,
        /// The offending value, verbatim.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A CSV file that cannot be read as CSV at all (bad header, ragged rows, bad UTF-8).
    #[error("{file}: {reason}")]
    Format {
        /// File name as given by the caller.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A class whose history is too short to estimate the model.
    #[error("{file}: class `{class}` has {observations} observations; at least {min} are needed")]
    TooShort {
        /// File name as given by the caller.
        file: String,
        /// GPU class id.
        class: String,
        /// Observations found.
        observations: usize,
        /// Observations needed.
        min: usize,
    },
    /// A class named in one input that the other does not know.
    #[error("{file}: unknown class `{class}` ({reason})")]
    UnknownClass {
        /// File name as given by the caller.
        file: String,
        /// GPU class id.
        class: String,
        /// Which classes are known.
        reason: String,
    },
    /// The estimator could not produce an estimate (degenerate data).
    #[error("class `{class}`: {reason}")]
    Estimation {
        /// GPU class id.
        class: String,
        /// What failed.
        reason: String,
    },
    /// A calibration option out of its range.
    #[error("option `{option}` = {value}: {reason}")]
    Option {
        /// The option (as the CLI spells it).
        option: String,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A portfolio file that cannot be updated.
    #[error("{file}: {reason}")]
    Portfolio {
        /// File name as given by the caller.
        file: String,
        /// What is wrong.
        reason: String,
    },
}
