//! `gaib.structure` / `Run.structure`: tranche sizing to target PDs or ELs and break-even
//! stresses of a pool (`gaib_runs::structure_spec`, `break_evens`, the code behind
//! `gaib structure`), as the JSON of `gaib structure --format json` (`structure.json`'s
//! versioned document: `{"schema_version", "run", "request", "structure", "break_evens"}`);
//! the Python side makes polars DataFrames of it. `structure_dir(..., save=True)` keeps it in
//! the run directory as `gaib structure --save` does; `saved_structure` reads it back.

use crate::errors::IntoPy;
use crate::portfolio::Portfolio;
use gaib_runs::{RunDir, RunSpec, StructureFile, StructureRequest, TrancheTarget};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

/// The request of `targets` (`POOL/TRANCHE:pd=PCT` strings), `breakeven` and `el_level_pct`.
fn request(
    py: Python<'_>,
    targets: &[String],
    breakeven: Option<&str>,
    el_level_pct: f64,
) -> PyResult<StructureRequest> {
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
    Ok(StructureRequest::new(
        targets,
        breakeven.map(str::to_string),
        el_level_pct,
    ))
}

/// `structure.json`'s text of `doc`.
fn text(py: Python<'_>, doc: &StructureFile) -> PyResult<String> {
    let bytes = doc.to_json_bytes().py(py)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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
    let r = request(py, &targets, breakeven, el_level_pct)?;
    let doc = py.detach(|| r.compute(&spec, None)).py(py)?;
    text(py, &doc)
}

/// For the run stored in directory `dir` (as `gaib structure DIR`); with `save`, kept in the
/// directory (`--save`), with `save_to`, in a copy of it there (`--save-to`).
#[pyfunction]
#[pyo3(signature = (dir, targets, breakeven = None, el_level_pct = 1.0, save = false, save_to = None))]
pub(crate) fn structure_dir(
    py: Python<'_>,
    dir: PathBuf,
    targets: Vec<String>,
    breakeven: Option<&str>,
    el_level_pct: f64,
    save: bool,
    save_to: Option<PathBuf>,
) -> PyResult<String> {
    if save && save_to.is_some() {
        return Err(PyValueError::new_err(
            "structure: give save=True or save_to=DIR, not both",
        ));
    }
    let run = RunDir::open(&dir).py(py)?;
    let r = request(py, &targets, breakeven, el_level_pct)?;
    let doc = py
        .detach(|| -> gaib_runs::Result<_> {
            let doc = run.structure(&r)?;
            if save || save_to.is_some() {
                run.save_structure(&doc, save_to.as_deref())?;
            }
            Ok(doc)
        })
        .py(py)?;
    text(py, &doc)
}

/// The structure saved in run directory `dir` (`structure.json`), or None.
#[pyfunction]
pub(crate) fn saved_structure(py: Python<'_>, dir: PathBuf) -> PyResult<Option<String>> {
    let run = RunDir::open(&dir).py(py)?;
    run.structure.as_ref().map(|d| text(py, d)).transpose()
}
