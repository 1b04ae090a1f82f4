//! # gaib-pricing
//!
//! Valuation and risk metrics of gaib (MODEL.md §8) from the simulator's [`PathStats`]:
//! E\[PV\], price, expected loss, PD, LGD, WAL, yield and duration of every tranche and deal;
//! portfolio VaR and expected shortfall; the vault's NAV per share, haircut, recommended LTV
//! and redemption-queue risk; deal collateral ratios. Every Monte Carlo mean is an
//! [`McEstimate`] `{ value, std_error, ci95, paths, as_of }`.
//!
//! - [`value`] → [`Valuation`] (the `valuation` of `results.json`).
//! - [`metrics`], [`compare`]: a valuation as named scalars and the change between two.
//! - [`simulate_and_value`], [`sensitivities`]: bump-and-revalue with common random numbers;
//!   stress scenarios are [`gaib_engine::Scenario`]s applied the same way.
//! - [`closed_form`]: annuity, bullet and Vasicek large-pool formulas the tests check the
//!   simulation against.
//!
//! **Architecture invariant:** pricing knows no deal or waterfall rule and draws no random
//! number; it reads statistics, the discount curve and instrument spreads.
//!
//! [`PathStats`]: gaib_simulator::PathStats

mod cashflow;
pub mod closed_form;
mod error;
mod mc;
mod metrics;
mod revalue;
mod valuation;

pub use cashflow::{
    duration_years, implied_spread_bps, month_time_years, present_value, present_value_at_yield,
    wal_years, yield_cc, YIELD_TOLERANCE,
};
pub use error::{PricingError, Result};
pub use mc::{McEstimate, Z95};
pub use metrics::{compare, higher_is_adverse, metrics, Metric, MetricChange};
pub use revalue::{sensitivities, simulate_and_value, standard_bumps, Bump, RunSpec, Sensitivity};
pub use valuation::{
    implied_spreads, value, ChartHistogram, CollateralSeries, FanPoint, ImpliedSpread,
    InstrumentKind, InstrumentValuation, LendingHorizon, LendingHorizonBasis, MarketPrice,
    PortfolioRisk, Quantile, TailRisk, Valuation, VaultRisk, CHART_LOSS_BINS, FAN_LEVELS,
    LOSS_QUANTILE_LEVELS, NAV_QUANTILE_LEVELS, VAR_LEVELS,
};
