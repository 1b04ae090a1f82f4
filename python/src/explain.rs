//! `Run.explain(path)` and `gaib.explain(dir, path)`: one path of a run replayed month by month
//! (`gaib_runs::explain_spec` / `explain`, the code behind `gaib explain`), as one Arrow table
//! per section — `operators`, `market`, `fleets`, `deals`, `pools`, `tranches`, `vault`,
//! `deal_totals`, `tranche_totals` — with the columns of the typed rows (USD amounts, fractions
//! of notional, months), and a header (portfolio id, seed, path, months, the path's portfolio
//! loss fraction and number of deal defaults) as JSON.

use crate::arrow::ArrowTable;
use crate::errors::{internal, IntoPy};
use crate::portfolio::Portfolio;
use crate::table::{ordered, Json, Rows};
use gaib_runs::{Explanation, Focus, RunDir, RunSpec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

/// What the Python side receives: the header as JSON and the named tables.
type Explained = (String, Vec<(&'static str, ArrowTable)>);

/// The focus of `deal=` / `pool=` (not both).
fn focus(deal: Option<String>, pool: Option<String>) -> PyResult<Focus> {
    match (deal, pool) {
        (Some(_), Some(_)) => Err(PyValueError::new_err(
            "explain: give deal= or pool=, not both",
        )),
        (Some(d), None) => Ok(Focus::Deal(d)),
        (None, Some(p)) => Ok(Focus::Pool(p)),
        (None, None) => Ok(Focus::All),
    }
}

/// One section's rows as an Arrow table (fields in declaration order).
fn table<T: serde::Serialize>(py: Python<'_>, rows: &[T]) -> PyResult<ArrowTable> {
    let mut out = Rows::default();
    if let Json::Array(items) = ordered(&rows) {
        for r in &items {
            out.row().flatten("", r);
        }
    }
    let batch = out
        .finish()
        .map_err(|e| internal(py, format!("explain table: {e}")))?;
    Ok(ArrowTable::of(batch))
}

/// The explanation as (header JSON, tables).
fn explained(py: Python<'_>, e: &Explanation) -> PyResult<Explained> {
    let header = serde_json::json!({
        "portfolio_id": e.portfolio_id,
        "seed": e.seed,
        "path": e.path,
        "months": e.months,
        "portfolio_loss_frac": e.totals.portfolio_loss_frac,
        "defaults": e.totals.defaults,
    });
    let tables = vec![
        ("operators", table(py, &e.operators)?),
        ("market", table(py, &e.market)?),
        ("fleets", table(py, &e.fleets)?),
        ("deals", table(py, &e.deals)?),
        ("pools", table(py, &e.pools)?),
        ("tranches", table(py, &e.tranches)?),
        ("vault", table(py, &e.vault)?),
        ("deal_totals", table(py, &e.totals.deals)?),
        ("tranche_totals", table(py, &e.totals.tranches)?),
    ];
    Ok((header.to_string(), tables))
}

/// The path to replay: `path`, or the worst path of `worst_tranche` (exactly one of them).
fn pick(
    py: Python<'_>,
    spec: &RunSpec,
    path: Option<u64>,
    worst_tranche: Option<&str>,
) -> PyResult<u64> {
    match (path, worst_tranche) {
        (Some(p), None) => Ok(p),
        (None, Some(t)) => {
            let r = py.detach(|| gaib_runs::worst_path_spec(spec, t));
            Ok(r.py(py)?.0)
        }
        _ => Err(PyValueError::new_err(
            "explain: give a path or worst_tranche=, exactly one",
        )),
    }
}

/// Replays a path of the run of `portfolio` under (`seed`, paths `path_start` ..
/// `path_start + paths`), made by this build.
#[pyfunction]
#[pyo3(signature = (portfolio, seed, path_start, paths, path = None, worst_tranche = None, deal = None, pool = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn explain(
    py: Python<'_>,
    portfolio: &Portfolio,
    seed: u64,
    path_start: u64,
    paths: u64,
    path: Option<u64>,
    worst_tranche: Option<&str>,
    deal: Option<String>,
    pool: Option<String>,
) -> PyResult<Explained> {
    let focus = focus(deal, pool)?;
    let mut spec = RunSpec::new(portfolio.input.clone(), paths, seed);
    spec.path_start = path_start;
    let path = pick(py, &spec, path, worst_tranche)?;
    let e = py.detach(|| gaib_runs::explain_spec(&spec, path, &focus));
    explained(py, &e.py(py)?)
}

/// Replays a path of the run stored in directory `dir` (as `gaib explain DIR`).
#[pyfunction]
#[pyo3(signature = (dir, path = None, worst_tranche = None, deal = None, pool = None))]
pub(crate) fn explain_dir(
    py: Python<'_>,
    dir: PathBuf,
    path: Option<u64>,
    worst_tranche: Option<&str>,
    deal: Option<String>,
    pool: Option<String>,
) -> PyResult<Explained> {
    let focus = focus(deal, pool)?;
    let run = RunDir::open(&dir).py(py)?;
    let path = match worst_tranche {
        Some(t) if path.is_none() => {
            let r = py.detach(|| gaib_runs::worst_path_for_tranche(&run, t));
            r.py(py)?.0
        }
        _ => pick(py, &run.spec, path, worst_tranche)?,
    };
    let e = py.detach(|| gaib_runs::explain(&run, path, &focus));
    explained(py, &e.py(py)?)
}
