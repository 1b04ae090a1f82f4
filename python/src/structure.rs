//! `gaib.structure` / `Run.structure`: tranche sizing to target PDs or ELs and break-even
//! stresses of a pool (`gaib_runs::structure_spec`, `break_evens`, the code behind
//! `gaib structure`), as the JSON of `gaib structure --format json` (`{"structure": …,
//! "break_evens": …}`); the Python side makes polars DataFrames of it.

use crate::errors::IntoPy;
use crate::portfolio::Portfolio;
use gaib_runs::{break_evens, structure_spec, RunDir, RunSpec, TrancheTarget};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

/// Sizes and/or break-evens for the run of `spec`, as JSON.
fn sized(
    py: Python<'_>,
    spec: &RunSpec,
    targets: &[String],
    breakeven: Option<&str>,
    el_level_pct: f64,
) -> PyResult<String> {
    if targets.is_empty() && breakeven.is_none() {
        return Err(PyValueError::new_err(
            "structure: give targets, or breakeven=POOL, or both",
        ));
    }
    if !(el_level_pct > 0.0 && el_level_pct < 100.0) {
        return Err(PyValueError::new_err(format!(
            "invalid el_level_pct = {el_level_pct}: must be a percent strictly between 0 and 100"
        )));
    }
    let targets = targets
        .iter()
        .map(|t| t.parse::<TrancheTarget>())
        .collect::<gaib_runs::Result<Vec<_>>>()
        .py(py)?;
    let (s, b) = py
        .detach(|| -> gaib_runs::Result<_> {
            let s = (!targets.is_empty())
                .then(|| structure_spec(spec, &targets))
                .transpose()?;
            let b = breakeven
                .map(|pool| break_evens(spec, pool, el_level_pct))
                .transpose()?;
            Ok((s, b))
        })
        .py(py)?;
    Ok(serde_json::json!({ "structure": s, "break_evens": b }).to_string())
}

/// For the run of `portfolio` under (`seed`, paths `path_start` .. `path_start + paths`).
#[pyfunction]
#[pyo3(signature = (portfolio, seed, path_start, paths, targets, breakeven = None, el_level_pct = 1.0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn structure(
    py: Python<'_>,
    portfolio: &Portfolio,
    seed: u64,
    path_start: u64,
    paths: u64,
    targets: Vec<String>,
    breakeven: Option<&str>,
    el_level_pct: f64,
) -> PyResult<String> {
    let mut spec = RunSpec::new(portfolio.input.clone(), paths, seed);
    spec.path_start = path_start;
    sized(py, &spec, &targets, breakeven, el_level_pct)
}

/// For the run stored in directory `dir` (as `gaib structure DIR`).
#[pyfunction]
#[pyo3(signature = (dir, targets, breakeven = None, el_level_pct = 1.0))]
pub(crate) fn structure_dir(
    py: Python<'_>,
    dir: PathBuf,
    targets: Vec<String>,
    breakeven: Option<&str>,
    el_level_pct: f64,
) -> PyResult<String> {
    let run = RunDir::open(&dir).py(py)?;
    sized(py, &run.spec, &targets, breakeven, el_level_pct)
}
