//! Runs: `simulate` builds a [`RunSpec`], prepares it (every input check, with the GIL held),
//! then executes it on a worker thread with the GIL released; the calling thread waits and
//! checks for signals every 50 ms, and a Ctrl-C (any exception a signal handler raises)
//! cancels the run's [`CancelToken`] — the run stops at the next chunk — and is re-raised
//! (`KeyboardInterrupt`). A [`Run`] holds the [`RunOutput`] and, when asked, the per-path rows
//! as Arrow record batches; its tables are built from the typed results on demand.
//! `from_shards` rebuilds and merges [`Shard`]s (Dask); `reproduce` is [`RunDir::verify`].

use crate::arrow::ArrowTable;
use crate::errors::{internal, to_py, IntoPy};
use crate::portfolio::{Portfolio, Scenario};
use crate::table::{json, ordered, percent, Json, Rows};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use gaib_pricing::{MarketPrice, FAN_LEVELS};
use gaib_runs::{
    merge, BackendSelection, CancelToken, OutDir, RunControl, RunDir, RunError, RunOutput, RunSpec,
    Shard,
};
use gaib_simulator::{PathRows, PathSink, SinkError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Collects per-path rows as record batches, one per chunk the simulator hands over.
struct BatchSink {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl PathSink for BatchSink {
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        self.batches
            .push(gaib_runs::arrow_rows::batch(&self.schema, rows)?);
        Ok(())
    }
}

/// The result of a run: typed results, output files, manifest, and per-path rows if asked.
#[pyclass(module = "gaib._native", frozen)]
pub(crate) struct Run {
    out: RunOutput,
    rows: Option<(SchemaRef, Vec<RecordBatch>)>,
}

fn spec_of(
    portfolio: &Portfolio,
    scenarios: &[PyRef<'_, Scenario>],
    sensitivities: bool,
    prices: Vec<(String, f64)>,
    paths: u64,
    seed: u64,
) -> RunSpec {
    RunSpec {
        scenarios: scenarios.iter().map(|s| s.input.clone()).collect(),
        sensitivities,
        market_prices: prices
            .into_iter()
            .map(|(id, price_pct)| MarketPrice { id, price_pct })
            .collect(),
        ..RunSpec::new(portfolio.input.clone(), paths, seed)
    }
}

/// Runs `work` with a fresh [`RunControl`] on a worker thread with the GIL released,
/// checking for signals every 50 ms from this thread; on a signal's exception, cancels the
/// control's token, waits for the worker and returns that exception.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&RunControl) -> gaib_runs::Result<T> + Send,
) -> PyResult<T> {
    let cancel = CancelToken::new();
    let control = RunControl::with_cancel(cancel.clone());
    let (result, interrupted) = py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let control = &control;
            let worker = s.spawn(move || {
                let _ = tx.send(work(control));
            });
            let mut interrupted: Option<PyErr> = None;
            let result = loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(r) => break Some(r),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if interrupted.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                cancel.cancel();
                                interrupted = Some(e);
                            }
                        }
                    }
                }
            };
            // Joined here, a panic of the worker is this function's error, not the scope's.
            let result = worker.join().ok().and(result);
            (result, interrupted)
        })
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    match result {
        Some(r) => r.py(py),
        None => Err(internal(py, "the run's thread panicked".into())),
    }
}

/// Simulates a portfolio (and its scenarios or bumps) through the run layer.
#[pyfunction]
#[pyo3(signature = (portfolio, paths, seed, scenarios = Vec::new(), threads = None,
    backend = "cpu", path_start = 0, sensitivities = false, paths_out = false,
    prices = Vec::new()))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn simulate(
    py: Python<'_>,
    portfolio: &Portfolio,
    paths: u64,
    seed: u64,
    scenarios: Vec<PyRef<'_, Scenario>>,
    threads: Option<usize>,
    backend: &str,
    path_start: u64,
    sensitivities: bool,
    paths_out: bool,
    prices: Vec<(String, f64)>,
) -> PyResult<Run> {
    let backend: BackendSelection = backend.parse().py(py)?;
    let spec = RunSpec {
        path_start,
        backend,
        threads,
        ..spec_of(portfolio, &scenarios, sensitivities, prices, paths, seed)
    };
    let prepared = spec.prepare().py(py)?;
    let mut sink = paths_out.then(|| BatchSink {
        schema: gaib_runs::arrow_rows::schema(prepared.base_plan(), seed, path_start, paths),
        batches: Vec::new(),
    });
    let out = interruptible(py, |control| {
        prepared.execute(control, sink.as_mut().map(|s| s as &mut dyn PathSink))
    })?;
    Ok(Run {
        out,
        rows: sink.map(|s| (s.schema, s.batches)),
    })
}

/// Rebuilds the run of `portfolio` (with `scenarios`, `sensitivities`, `prices`) from shards
/// computed elsewhere and merges them in path order: the result equals, byte for byte, one
/// run over the union of their path ranges.
#[pyfunction]
#[pyo3(signature = (portfolio, shards, scenarios = Vec::new(), sensitivities = false,
    prices = Vec::new()))]
pub(crate) fn from_shards(
    py: Python<'_>,
    portfolio: &Portfolio,
    shards: Vec<Vec<u8>>,
    scenarios: Vec<PyRef<'_, Scenario>>,
    sensitivities: bool,
    prices: Vec<(String, f64)>,
) -> PyResult<Run> {
    let spec = spec_of(portfolio, &scenarios, sensitivities, prices, 1, 0);
    let mut parsed = shards
        .iter()
        .map(|b| {
            serde_json::from_slice::<Shard>(b)
                .map_err(|e| PyValueError::new_err(format!("not a gaib shard: {e}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    parsed.sort_by_key(|s| s.path_start);
    let out = py.detach(|| -> gaib_runs::Result<RunOutput> {
        let mut it = parsed.into_iter();
        let first = it
            .next()
            .ok_or_else(|| RunError::NotMergeable("no shards".into()))?;
        let mut acc = RunOutput::from_shard(&spec, first)?;
        for s in it {
            acc = merge(&acc, &RunOutput::from_shard(&spec, s)?)?;
        }
        Ok(acc)
    });
    Ok(Run {
        out: out.py(py)?,
        rows: None,
    })
}

/// Re-runs a run directory from its stored inputs and compares every output bit for bit:
/// `(True, [])` on a match, `(False, differences)` on a mismatch.
#[pyfunction]
#[pyo3(signature = (dir, threads = None))]
pub(crate) fn reproduce(
    py: Python<'_>,
    dir: PathBuf,
    threads: Option<usize>,
) -> PyResult<(bool, Vec<String>)> {
    let run_dir = RunDir::open(&dir).py(py)?;
    // The re-run is interruptible like a run; a mismatch is a value here, not an exception.
    let verified = interruptible(py, |control| Ok(run_dir.verify(threads, control)))?;
    match verified {
        Ok(_) => Ok((true, Vec::new())),
        Err(RunError::Mismatch { differences }) => Ok((false, differences)),
        Err(e) => Err(to_py(py, e)),
    }
}

fn batch(py: Python<'_>, rows: Rows) -> PyResult<ArrowTable> {
    rows.finish()
        .map(ArrowTable::of)
        .map_err(|e| internal(py, e.to_string()))
}

impl Run {
    fn instruments(&self, py: Python<'_>, which: &str) -> PyResult<ArrowTable> {
        let v = ordered(self.out.valuation());
        let mut rows = Rows::default();
        if let Some(Json::Array(items)) = v.get(which) {
            for i in items {
                rows.row().flatten("", i);
            }
        }
        batch(py, rows)
    }
}

#[pymethods]
impl Run {
    /// `results.json`'s exact bytes.
    fn results_json<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.out.outputs[0].bytes)
    }

    /// The bytes of output `path` (`results.json`, `sensitivities.json`, `stress.json`,
    /// `report.html`), or None.
    fn output<'py>(&self, py: Python<'py>, path: &str) -> Option<Bound<'py, PyBytes>> {
        self.out.output(path).map(|b| PyBytes::new(py, b))
    }

    /// The output files' names, `results.json` first.
    fn outputs(&self) -> Vec<String> {
        self.out
            .outputs
            .iter()
            .map(|o| o.path.to_string())
            .collect()
    }

    /// `manifest.json`'s text.
    fn manifest_json(&self) -> String {
        self.out.manifest.to_json()
    }

    /// The valuation as JSON.
    fn valuation_json(&self) -> String {
        serde_json::to_string(self.out.valuation()).unwrap_or_default()
    }

    /// Notes on backend selection.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.out.notes.clone()
    }

    /// Seed, first path and number of paths.
    #[getter]
    fn path_range(&self) -> (u64, u64, u64) {
        let s = &self.out.spec;
        (s.seed, s.path_start, s.paths)
    }

    /// Every tranche's valuation, one row each (flattened: `price_pct`, `price_pct_se`, ...).
    fn tranches(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        self.instruments(py, "tranches")
    }

    /// Every deal's valuation, one row each.
    fn deals(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        self.instruments(py, "deals")
    }

    /// Every derivative (MODEL.md §10), one row each, `results.json`'s `derivatives`
    /// flattened: `pv_usd`, `pv_usd_se`, `closed_form_pv_usd`, `closed_form_z`,
    /// `delta_usd_per_index_pct`, `expected_settlement_usd` (a list per month), ...; no rows
    /// without derivatives.
    fn derivatives(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        let mut rows = Rows::default();
        if let Json::Array(items) = ordered(&self.out.results.derivatives) {
            for i in &items {
                rows.row().flatten("", i);
            }
        }
        batch(py, rows)
    }

    /// The comparison with and without hedges (same paths), long form: `instrument`,
    /// `hedged_by`, `metric` (`pd_pct`, `expected_loss_pct`, `price_pct`; `haircut_pct`,
    /// `recommended_ltv_pct` for the vault), `hedged`, `hedged_se`, `unhedged`,
    /// `unhedged_se`, `change`, `hedge_premium_usd` (a deal's rows: the net premium of its
    /// hedges to their holders at t = 0, USD, + paid; paid outside the fleet's cash, so not in
    /// the hedged figures, MODEL.md §10.4); None when no derivative hedges a fleet.
    fn hedges(&self, py: Python<'_>) -> PyResult<Option<ArrowTable>> {
        let Some(h) = &self.out.results.hedges else {
            return Ok(None);
        };
        let mut rows = Rows::default();
        let mut push = |id: &str,
                        by: Option<String>,
                        premium: Option<f64>,
                        metric: &str,
                        w: &gaib_runs::WithWithout| {
            rows.row()
                .set("instrument", id)
                .set("hedged_by", by)
                .set("metric", metric)
                .set("hedged", w.hedged.value)
                .set("hedged_se", w.hedged.std_error)
                .set("unhedged", w.unhedged.value)
                .set("unhedged_se", w.unhedged.std_error)
                .set("change", w.hedged.value - w.unhedged.value)
                .set("hedge_premium_usd", premium);
        };
        for d in &h.deals {
            let by = Some(d.hedged_by.join(" "));
            let premium = Some(d.hedge_premium_usd.iter().sum::<f64>());
            push(&d.id, by.clone(), premium, "pd_pct", &d.pd_pct);
            push(
                &d.id,
                by.clone(),
                premium,
                "expected_loss_pct",
                &d.expected_loss_pct,
            );
            push(&d.id, by, premium, "price_pct", &d.price_pct);
        }
        for t in &h.tranches {
            push(&t.id, None, None, "pd_pct", &t.pd_pct);
            push(&t.id, None, None, "expected_loss_pct", &t.expected_loss_pct);
            push(&t.id, None, None, "price_pct", &t.price_pct);
        }
        push(
            "portfolio",
            None,
            None,
            "expected_loss_pct",
            &h.portfolio_expected_loss_pct,
        );
        if let Some(v) = &h.vault {
            for (metric, a, b) in [
                ("haircut_pct", v.haircut_pct, v.haircut_unhedged_pct),
                (
                    "recommended_ltv_pct",
                    v.recommended_ltv_pct,
                    v.recommended_ltv_unhedged_pct,
                ),
            ] {
                rows.row()
                    .set("instrument", v.id.as_str())
                    .set("hedged_by", None::<String>)
                    .set("metric", metric)
                    .set("hedged", a)
                    .set("hedged_se", None::<f64>)
                    .set("unhedged", b)
                    .set("unhedged_se", None::<f64>)
                    .set("change", a - b)
                    .set("hedge_premium_usd", None::<f64>);
            }
        }
        batch(py, rows).map(Some)
    }

    /// The portfolio loss's tail: VaR and ES per confidence level, and the expected loss.
    fn portfolio_loss(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        let p = &self.out.valuation().portfolio;
        let mut rows = Rows::default();
        for t in &p.tail {
            rows.row()
                .set("confidence", t.confidence)
                .set("var_pct", t.var_pct)
                .set("var_ci95_lo_pct", t.var_ci95_pct[0])
                .set("var_ci95_hi_pct", t.var_ci95_pct[1])
                .set("var_usd", t.var_usd)
                .set("es_pct", t.es_pct)
                .set("es_usd", t.es_usd)
                .set("expected_loss_pct", p.expected_loss_pct.value)
                .set("expected_loss_pct_se", p.expected_loss_pct.std_error)
                .set("expected_loss_usd", p.expected_loss_usd.value)
                .set("funded_usd", p.funded_usd);
        }
        batch(py, rows)
    }

    /// The portfolio loss distribution: histogram bins (% of funded) and their probabilities;
    /// the last row is the mass beyond the chart (`hi_pct` null).
    fn loss_distribution(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        let h = &self.out.valuation().portfolio.loss_histogram_pct;
        let mut rows = Rows::default();
        for (i, p) in h.probabilities.iter().enumerate() {
            let lo = h.lo + h.width * i as f64;
            rows.row()
                .set("lo_pct", lo)
                .set("hi_pct", lo + h.width)
                .set("probability", *p);
        }
        rows.row()
            .set("lo_pct", h.lo + h.width * h.probabilities.len() as f64)
            .set("hi_pct", serde_json::Value::Null)
            .set("probability", h.beyond);
        batch(py, rows)
    }

    /// The vault's NAV fan: per month the mean unstaking NAV per share and its quantiles
    /// (None without a vault).
    fn vault(&self, py: Python<'_>) -> PyResult<Option<ArrowTable>> {
        let Some(v) = &self.out.valuation().vault else {
            return Ok(None);
        };
        let mut rows = Rows::default();
        for f in &v.fan {
            rows.row().set("month", f.month).set("mean_usd", f.mean_usd);
            for (level, q) in FAN_LEVELS.iter().zip(&f.quantiles_usd) {
                rows.set(&format!("q{}_usd", percent(*level)), *q);
            }
        }
        batch(py, rows).map(Some)
    }

    /// Per deal, the collateral series: month, mean and standard deviation of the collateral
    /// value per USD of debt, and the performing paths (None when empty).
    fn collateral(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        let mut rows = Rows::default();
        for c in &self.out.valuation().collateral {
            for (k, m) in c.mean.iter().enumerate() {
                rows.row()
                    .set("deal", c.deal_id.as_str())
                    .set("month", k as u64 + 1)
                    .set("mean", *m)
                    .set("std_dev", c.std_dev.get(k).copied())
                    .set("performing_paths", c.performing_paths.get(k).copied());
            }
        }
        batch(py, rows)
    }

    /// The sensitivities (a run with `sensitivities=True`): per metric its base value and
    /// the change under each bump (columns named by bump id); None otherwise.
    fn sensitivities(&self, py: Python<'_>) -> PyResult<Option<ArrowTable>> {
        let Some(s) = &self.out.sensitivities else {
            return Ok(None);
        };
        let legs: Vec<(&str, &[gaib_pricing::MetricChange])> = s
            .iter()
            .map(|b| (b.id.as_str(), b.changes.as_slice()))
            .collect();
        comparison(py, &legs, false).map(Some)
    }

    /// The stress comparison (a run with scenarios): per metric its base value and, per
    /// scenario id, the value and the change; None otherwise.
    fn stress(&self, py: Python<'_>) -> PyResult<Option<ArrowTable>> {
        let Some(s) = &self.out.stress else {
            return Ok(None);
        };
        let legs: Vec<(&str, &[gaib_pricing::MetricChange])> = s
            .scenarios
            .iter()
            .map(|c| (c.id.as_str(), c.changes.as_slice()))
            .collect();
        comparison(py, &legs, true).map(Some)
    }

    /// The per-path rows (a run with `paths_out=True`), else None.
    fn paths(&self) -> Option<ArrowTable> {
        self.rows
            .as_ref()
            .map(|(schema, b)| ArrowTable::new(schema.clone(), b.clone()))
    }

    /// Writes the run directory (inputs, outputs, manifest) atomically into `dir`, which must
    /// be absent or empty (or, with `force`, a previous run's directory); returns its path.
    #[pyo3(signature = (dir, force = false))]
    fn save(&self, py: Python<'_>, dir: PathBuf, force: bool) -> PyResult<String> {
        let written = OutDir::claim(&dir, force)
            .and_then(|o| o.write(&self.out))
            .py(py)?;
        Ok(written.dir.display().to_string())
    }

    /// This run's exact statistics as a shard (JSON bytes), for [`from_shards`].
    fn to_shard<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes =
            serde_json::to_vec(&self.out.to_shard()).map_err(|e| internal(py, e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __repr__(&self) -> String {
        let m = &self.out.manifest;
        format!(
            "Run(portfolio={:?}, kind={}, seed={}, paths={}..{}, results_sha256={:?})",
            self.out.results.portfolio_id,
            json(&m.kind).as_str().unwrap_or_default(),
            m.seed,
            m.path_start,
            m.path_start + m.paths,
            &m.results_sha256[..12]
        )
    }
}

/// Metrics side by side: `metric`, `unit`, `base`, then per leg its change (and, with
/// `values`, its value first).
fn comparison(
    py: Python<'_>,
    legs: &[(&str, &[gaib_pricing::MetricChange])],
    values: bool,
) -> PyResult<ArrowTable> {
    let mut rows = Rows::default();
    let Some((_, first)) = legs.first() else {
        return batch(py, rows);
    };
    for m in first.iter() {
        rows.row()
            .set("metric", m.key.as_str())
            .set("unit", m.unit.as_str())
            .set("base", m.base);
        for (id, changes) in legs {
            let c = changes.iter().find(|c| c.key == m.key);
            if values {
                rows.set(id, c.map(|c| c.value));
            }
            let name = if values {
                format!("{id}_change")
            } else {
                id.to_string()
            };
            rows.set(&name, c.map(|c| c.change));
        }
    }
    batch(py, rows)
}
