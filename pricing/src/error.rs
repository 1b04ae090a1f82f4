//! The pricing crate's one error type.

/// Errors of valuation, sensitivities and stress runs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// The portfolio (or a scenario applied to it) was rejected by the engine.
    #[error(transparent)]
    Engine(#[from] gaib_engine::EngineError),
    /// The simulation failed (lowering, backend, cancellation).
    #[error(transparent)]
    Simulation(#[from] gaib_simulator::SimError),
    /// Statistics with no paths cannot be valued.
    #[error("no simulated paths to value")]
    NoPaths,
    /// The statistics do not belong to the portfolio (different deals, pools or tranches).
    #[error("statistics do not match the portfolio: {0}")]
    Mismatch(String),
}

/// Result alias of the pricing crate.
pub type Result<T, E = PricingError> = std::result::Result<T, E>;
