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
    /// A market price given for an implied spread is not usable (unknown instrument, price
    /// not positive and finite, or no spread reproduces it).
    #[error("market price {field}: {message}")]
    MarketPrice {
        /// The instrument id as given.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The statistics do not belong to the portfolio (different deals, pools or tranches).
    #[error("statistics do not match the portfolio: {0}")]
    Mismatch(String),
}

impl PricingError {
    /// Whose fault this is (see [`gaib_engine::ErrorClass`]).
    pub fn class(&self) -> gaib_engine::ErrorClass {
        use gaib_engine::ErrorClass;
        match self {
            PricingError::Engine(e) => e.class(),
            PricingError::Simulation(e) => e.class(),
            PricingError::NoPaths | PricingError::MarketPrice { .. } => ErrorClass::Input,
            PricingError::Mismatch(_) => ErrorClass::Internal,
        }
    }
}

/// Result alias of the pricing crate.
pub type Result<T, E = PricingError> = std::result::Result<T, E>;
