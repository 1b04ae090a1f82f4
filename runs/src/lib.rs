//! # gaib-runs
//!
//! The run layer of gaib: the one orchestration of a Monte Carlo run that every front — the
//! `gaib` CLI, the HTTP service, the Python bindings — goes through, so none of them holds
//! orchestration of its own.
//!
//! - [`RunSpec`] (inputs with their bytes and SHA-256, seed, path range, backend, threads,
//!   sensitivities, scenarios) → [`RunSpec::check`] (every input check, no backend built:
//!   a [`CheckedRun`]) → [`RunSpec::prepare`] / [`CheckedRun::prepare`] (the backend chosen,
//!   before any path is simulated) → [`PreparedRun::execute`] with a [`RunControl`]
//!   (cancellation token, progress callback) → [`RunOutput`] (statistics, valuation, typed
//!   [`Results`], output files, [`Manifest`]); or [`PreparedRun::execute_to`] an [`OutDir`],
//!   per-path rows to a [`RowsFile`], → the written [`RunDir`].
//! - [`merge`]: two runs over adjacent path ranges merge exactly into the run over their union;
//!   a [`Shard`] is a run's statistics without its inputs, for shipping across a cluster.
//! - [`OutDir`] / [`RunDir`]: self-contained run directories (inputs copied in), written
//!   atomically; [`RunDir::verify`] re-runs one from its directory alone and checks every
//!   number bit for bit.
//! - [`report`]: `report.html` from a run's results.
//! - [`RunError::class`]: every error classified once (input, mismatch, cancelled, internal).
//!
//! **Architecture invariant:** every front goes through this crate; it knows nothing of
//! terminals, HTTP, Python or chains.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/valid/small.toml"));
//! use gaib_runs::{PortfolioInput, RunControl, RunSpec};
//! let spec = RunSpec::new(PortfolioInput::from_file(path)?, 1_000, 42);
//! let out = spec.prepare()?.execute(&RunControl::default(), None)?;
//! println!("senior price {:.4} % of par", out.valuation().tranches[0].price_pct.value);
//! # Ok(()) }
//! ```

pub mod arrow_rows;
mod breakeven;
mod control;
mod derivatives;
mod error;
mod explain;
mod input;
mod manifest;
pub mod report;
mod results;
mod run;
mod rundir;
mod structure;
mod structure_dir;
pub mod tables;
mod valuation;

pub use breakeven::{break_evens, BreakEvens, DealBreakEven, TrancheBreakEven, MAX_STRESS_PATHS};
pub use control::{CancelToken, Progress, ProgressFn, RunControl};
pub use derivatives::{
    DerivativeResult, HedgeComparison, HedgedDeal, HedgedTranche, HedgedVault, WithWithout,
};
pub use error::{Result, RunError};
pub use explain::{
    explain, explain_spec, worst_path_for_tranche, worst_path_spec, DealRow, DealTotal,
    Explanation, FleetRow, Focus, MarketRow, OperatorRow, PathTotals, PoolRow, TrancheRow,
    TrancheTotal, VaultRow,
};
pub use gaib_engine::ErrorClass;
pub use input::{
    locate_scenario, scenario_search_dirs, InputBytes, PortfolioInput, ScenarioInput, NO_FILE,
    SCENARIOS_ENV,
};
pub use manifest::{
    build_git_commit, build_git_dirty, json_diff, sha256_hex, write_atomic, InputFile, InputRole,
    Manifest, OutputFile, RunKind, SCHEMA_VERSION,
};
pub use results::{
    DerivativeChange, InstrumentSummary, Results, ScenarioResult, StressResults, VaultBook,
};
pub use run::{
    merge, select, BackendSelection, CheckedRun, Leg, OutputBytes, PreparedRun, RunOutput, RunSpec,
    Shard, MAX_PATHS,
};
pub use rundir::{
    default_run_dir, OutDir, RowsFile, RunDir, INPUTS_DIR, MANIFEST, REPORT, RESULTS,
    SENSITIVITIES, STRESS,
};
pub use structure::{
    structure, structure_report_html, structure_spec, SizedTranche, Structure, TargetMetric,
    TrancheTarget,
};
pub use structure_dir::{
    StructureFile, StructureRequest, StructureRun, DEFAULT_EL_LEVEL_PCT, STRUCTURE,
    STRUCTURE_SCHEMA_VERSION,
};
pub use valuation::{
    decimal_to_wei, percent_to_bps, usd_to_wei, wei_to_aid, OnchainValuation, WEI_PER_AID,
};

/// Version of gaib (this crate's version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
