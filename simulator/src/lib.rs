//! # gaib-simulator
//!
//! The Monte Carlo simulator of the gaib model (shared/design/MODEL.md, version 1): GPU price
//! processes, utilization and copula credit defaults, driving the engine's deterministic
//! cash-flow machine ([`gaib_engine::CashflowPlan`]) and vault ([`gaib_engine::VaultState`])
//! path by path.
//!
//! - [`rng`]: Philox4x32-10 and the documented draw layout (MODEL.md §9).
//! - [`lower`] → [`SimPlan`]: a validated portfolio as flat f64 arrays.
//! - [`Backend`], [`CpuBackend`], [`select_backend`]: who runs the paths.
//! - [`PathStats`]: streaming, exactly mergeable statistics that pricing consumes.
//! - [`PathRows`], [`PathSink`]: optional per-path output, chunk by chunk in path order.
//! - [`trace_path`] → [`PathTrace`]: one path month by month (`gaib explain`, GPU parity).
//!
//! **Architecture invariant:** the simulator knows no deal, waterfall or vault rule; every cash
//! flow and NAV comes from `gaib-engine`. It knows nothing of files, terminals, HTTP or chains
//! (run manifests and directories are `gaib-runs`).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/valid/small.toml");
//! # let text = std::fs::read_to_string(path)?;
//! # let portfolio = gaib_engine::load_portfolio(&text, path, |_| Err("no tape".into()))?.portfolio;
//! use gaib_simulator::{lower, Backend, CpuBackend, RunOptions};
//! let plan = lower(&portfolio)?;
//! let stats = CpuBackend::new(None)?.run(&plan, 0..1_000, 42, &RunOptions::default())?;
//! println!("senior price {:.4}", stats.tranches[0][0].pv.mean());
//! # Ok(()) }
//! ```

mod accum;
mod backend;
mod derivatives;
mod error;
mod lanes;
mod market;
pub mod math;
mod model;
mod plan;
pub mod rng;
mod rows;
mod stats;
mod trace;

pub use backend::{
    check_paths, run_serial, select_backend, Availability, Backend, BackendChoice, CpuBackend,
    RunOptions, Simulation, DEFAULT_CHUNK_PATHS, MAX_PATHS_PER_SEED,
};
pub use derivatives::DerivativeStats;
pub use error::{Result, SimError};
pub use model::{
    default_time, logistic_clamped, MarketPath, PathBatch, Worker, LOSS_EPS, ONE_YEAR_MONTHS, U_EPS,
};
pub use plan::{
    lower, ClassArrays, DerivativeArrays, FleetArrays, OperatorArrays, SimPlan,
    MAX_JUMPS_PER_MONTH, MONTHS_PER_YEAR,
};
pub use rows::{ColumnData, ColumnKind, PathRows, PathSink, SinkError, VaultRows};
pub use stats::{
    ExactSum, Histogram, InstrumentStats, Moments, PathStats, PortfolioStats, VaultStats,
    COLLATERAL_BINS, COLLATERAL_HIST_MAX, FRAC_BITS, LOSS_BINS, MAX_COLLATERAL_RATIO, MAX_VALUE,
    NAV_BINS, NAV_FAN_BINS, PORTFOLIO_LOSS_BINS,
};
pub use trace::{pool_collections, trace_path, worst_path, MonthTrace, PathTrace};

/// Version of the model this simulator implements (MODEL.md "version 6").
pub const MODEL_VERSION: &str = "6";
/// Version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
