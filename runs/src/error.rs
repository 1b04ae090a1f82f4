//! The run layer's one error type, classified once ([`RunError::class`]) so that each front
//! translates it once: the CLI to an exit code, the service to an HTTP status, Python to an
//! exception class.

use gaib_engine::{EngineError, ErrorClass};
use gaib_pricing::PricingError;
use gaib_simulator::SimError;

/// Errors of a run: preparing it, executing it, writing or reading its directory, verifying it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The portfolio or a scenario was rejected by the engine (parse, validation, reference).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The simulation failed (lowering, backend, per-path sink).
    #[error(transparent)]
    Simulation(SimError),
    /// Valuation failed.
    #[error(transparent)]
    Pricing(PricingError),
    /// An argument of the run is invalid (paths, seed range, threads, backend, output
    /// directory, scenario name).
    #[error("invalid {name} = {value}: {reason}")]
    Argument {
        /// The argument, e.g. `paths`, `out`, `scenario`.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A run directory (or one of its files) is missing, malformed or inconsistent with its
    /// manifest's record of the inputs.
    #[error("invalid run {dir}: {reason}")]
    InvalidRun {
        /// The run directory.
        dir: String,
        /// What is wrong.
        reason: String,
    },
    /// A recorded result does not match: a file's bytes against the manifest's hash, or a
    /// re-run against the recorded file. Every difference is listed.
    #[error("mismatch: {}", .differences.join("\n  "))]
    Mismatch {
        /// One line per difference, e.g. `results.json: $.valuation.tranches[0].price_pct.value: 97.1 != 97.2`.
        differences: Vec<String>,
    },
    /// Two run outputs cannot be merged (different inputs, seed, kind, or path ranges that
    /// are not adjacent).
    #[error("cannot merge runs: {0}")]
    NotMergeable(String),
    /// The run was cancelled through its [`crate::CancelToken`].
    #[error("interrupted: nothing was written")]
    Cancelled,
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("{path}: {message}")]
    Json {
        /// The file (or document) concerned.
        path: String,
        /// The parser's message.
        message: String,
    },
}

impl RunError {
    /// Whose fault this is. Engine, simulation and pricing errors keep their own
    /// classification; arguments and invalid run directories are input; a mismatch is a
    /// mismatch; cancellation is cancellation; I/O and JSON serialisation failures are
    /// internal (a run directory's unreadable JSON is reported as [`RunError::InvalidRun`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            RunError::Engine(e) => e.class(),
            RunError::Simulation(e) => e.class(),
            RunError::Pricing(e) => e.class(),
            RunError::Argument { .. } | RunError::InvalidRun { .. } => ErrorClass::Input,
            RunError::NotMergeable(_) => ErrorClass::Input,
            RunError::Mismatch { .. } => ErrorClass::Mismatch,
            RunError::Cancelled => ErrorClass::Cancelled,
            RunError::Io { .. } | RunError::Json { .. } => ErrorClass::Internal,
        }
    }

    pub(crate) fn argument(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        RunError::Argument {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_run(dir: &std::path::Path, reason: impl Into<String>) -> Self {
        RunError::InvalidRun {
            dir: dir.display().to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        RunError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<SimError> for RunError {
    fn from(e: SimError) -> Self {
        match e {
            SimError::Cancelled => RunError::Cancelled,
            SimError::Engine(e) => RunError::Engine(e),
            other => RunError::Simulation(other),
        }
    }
}

impl From<PricingError> for RunError {
    fn from(e: PricingError) -> Self {
        match e {
            PricingError::Simulation(s) => s.into(),
            PricingError::Engine(e) => RunError::Engine(e),
            other => RunError::Pricing(other),
        }
    }
}

/// Result alias of the run layer.
pub type Result<T, E = RunError> = std::result::Result<T, E>;
