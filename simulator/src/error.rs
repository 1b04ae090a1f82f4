//! The simulator's one error type.

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The portfolio was rejected by the engine (parse or validation).
    #[error(transparent)]
    Engine(#[from] gaib_engine::EngineError),
    /// A model input cannot be lowered (e.g. a correlation matrix that is not positive definite).
    #[error("invalid model input {field}: {reason}")]
    Model {
        /// Field path, e.g. `market.correlation`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Invalid run arguments (path range, seed, threads).
    #[error("invalid run argument {name} = {value}: {reason}")]
    Argument {
        /// Argument name, e.g. `paths`.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// The requested backend cannot run here.
    #[error("backend '{backend}' is unavailable: {reason}")]
    Unavailable {
        /// Backend name.
        backend: String,
        /// Why.
        reason: String,
    },
    /// The run was cancelled (Ctrl-C) between chunks.
    #[error("run cancelled")]
    Cancelled,
    /// A thread pool or other runtime resource could not be created.
    #[error("runtime error: {0}")]
    Runtime(String),
    /// A [`crate::PathSink`] refused rows (e.g. the per-path output file could not be written).
    #[error("per-path output: {0}")]
    Sink(crate::rows::SinkError),
}

impl SimError {
    /// Whose fault this is (see [`gaib_engine::ErrorClass`]): engine input errors, model
    /// inputs, arguments and an unavailable backend are the caller's; a cancellation is a
    /// cancellation; runtime and sink failures are internal.
    pub fn class(&self) -> gaib_engine::ErrorClass {
        use gaib_engine::ErrorClass;
        match self {
            SimError::Engine(e) => e.class(),
            SimError::Model { .. } | SimError::Argument { .. } | SimError::Unavailable { .. } => {
                ErrorClass::Input
            }
            SimError::Cancelled => ErrorClass::Cancelled,
            SimError::Runtime(_) | SimError::Sink(_) => ErrorClass::Internal,
        }
    }
}

/// Result alias of the simulator.
pub type Result<T, E = SimError> = std::result::Result<T, E>;
