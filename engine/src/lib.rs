//! # gaib-engine
//!
//! The domain of gaib: GPU classes and fleets, operators, deals (secured loans, revenue-share
//! agreements, hybrids), securitisation pools with tranches and their waterfall, and the
//! AID/sAID vault — with one portfolio schema read from TOML, JSON and CSV loan tapes, its
//! validation, and the deterministic monthly cash flows of MODEL.md.
//!
//! **Architecture invariant:** this crate knows nothing of randomness, threads, files, HTTP or
//! chains. The simulator supplies random market paths to the same [`CashflowPlan`] that the
//! deterministic [`base_case`] drives with `Decimal`.
//!
//! Units: money in USD, rates annual (0.05 = 5 %), spreads and fees in basis points, time in
//! months (`_months`) or years (`_years`), prices per GPU-hour.

mod amount;
mod base_case;
mod curve;
mod deal;
mod derivative;
mod error;
pub mod lanes;
mod load;
pub mod pool_wei;
mod portfolio;
mod router;
mod runner;
mod scenario;
mod stream;
mod validate;
mod vault;
mod waterfall;

pub use amount::Amount;
pub use base_case::{base_case, logistic, mean_path, BaseCase, DealMonth, MeanPath, PoolMonth};
pub use curve::DiscountCurve;
pub use deal::{
    annuity_payment, AnnuityPowers, DealFlows, DealParams, DealParamsKind, DealState, DefaultKind,
    MonthInputs,
};
pub use derivative::{DerivativeParams, Underlying};
pub use error::{EngineError, ErrorClass, FieldError, Result};
pub use load::{load_portfolio, parse_loan_tape, parse_portfolio, Format, Loaded};
pub use portfolio::*;
pub use router::{revenue_split, BpsTooLarge, RevenueSplit, WeiInt};
pub use runner::{
    CashflowPlan, CashflowState, FleetMonth, FleetParams, MarketMonth, MonthOutput, PoolPlan,
};
pub use scenario::{
    CreditOverride, PriceOverride, RatesOverride, Scenario, ScenarioPriceShock,
    UtilizationOverride, VaultOverride,
};
pub use stream::{fnv1a32, stream_id, SYSTEMATIC_FACTOR};
pub use validate::{
    validate, Validated, MAX_AMOUNT_USD, MAX_MONTHS, MAX_NOTIONAL_GPU_HOURS_PER_MONTH,
};
pub use vault::{
    tranche_mark, DealMark, VaultMonth, VaultMonthInput, VaultParams, VaultState, DAYS_PER_MONTH,
};
pub use waterfall::{
    PoolCollections, TrancheFlow, WaterfallMonth, WaterfallParams, WaterfallState,
};

pub use rust_decimal::Decimal;
