//! # gaib-python
//!
//! The native half of the `gaib` Python package (`gaib._native`, built by maturin as an abi3
//! wheel). It holds no orchestration: portfolios are [`gaib_runs::PortfolioInput`]s, runs are
//! [`gaib_runs::RunSpec`] → [`gaib_runs::PreparedRun`] → [`gaib_runs::RunOutput`], run
//! directories are [`gaib_runs::OutDir`] / [`gaib_runs::RunDir`], and scale-out ships
//! [`gaib_runs::Shard`]s. What this crate adds is the crossing into Python:
//!
//! - tables as Arrow record batches behind the Arrow PyCapsule stream interface
//!   (`__arrow_c_stream__`), so polars imports them without a row-by-row copy (`arrow`);
//! - errors as Python exceptions, classified once by [`gaib_runs::RunError::class`]
//!   (`errors`);
//! - the GIL released while a run executes, and Ctrl-C turned into the run's
//!   [`gaib_runs::CancelToken`] and then `KeyboardInterrupt` (`run`).
//!
//! The Python-facing API (polars DataFrames, `gaib.dask`) is in `python/gaib/`.

use pyo3::prelude::*;

mod arrow;
mod cashflows;
mod errors;
mod explain;
mod portfolio;
mod run;
mod structure;
mod table;

/// The `gaib._native` extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", gaib_runs::VERSION)?;
    m.add("MODEL_VERSION", gaib_simulator::MODEL_VERSION)?;
    m.add("SCHEMA_VERSION", gaib_runs::SCHEMA_VERSION)?;
    m.add("MAX_PATHS", gaib_runs::MAX_PATHS)?;
    m.add_class::<arrow::ArrowTable>()?;
    m.add_class::<portfolio::Portfolio>()?;
    m.add_class::<portfolio::Scenario>()?;
    m.add_class::<run::Run>()?;
    m.add_function(wrap_pyfunction!(portfolio::load_file, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio::load_json, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio::load_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(cashflows::cashflows, m)?)?;
    m.add_function(wrap_pyfunction!(run::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(run::from_shards, m)?)?;
    m.add_function(wrap_pyfunction!(run::reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(explain::explain, m)?)?;
    m.add_function(wrap_pyfunction!(explain::explain_dir, m)?)?;
    m.add_function(wrap_pyfunction!(structure::structure, m)?)?;
    m.add_function(wrap_pyfunction!(structure::structure_dir, m)?)?;
    m.add_function(wrap_pyfunction!(structure::saved_structure, m)?)?;
    Ok(())
}
