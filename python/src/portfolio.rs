//! Portfolios and scenarios as Python objects: [`PortfolioInput`] / [`ScenarioInput`] of the
//! run layer (parsed, validated, with their exact bytes and SHA-256), loaded from a file or a
//! JSON document, and taken apart into bytes (`to_parts`) and put together again
//! (`from_parts`) so that a Dask worker rebuilds the very same inputs (same hashes) without
//! the client's files.

use crate::errors::IntoPy;
use gaib_engine::Decimal;
use gaib_runs::{PortfolioInput, ScenarioInput, NO_FILE};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::{Path, PathBuf};

/// A parsed and validated portfolio with the bytes of its file and loan tape.
#[pyclass(module = "gaib._native", frozen)]
pub(crate) struct Portfolio {
    pub(crate) input: PortfolioInput,
    /// The name the bytes were parsed under (a path, or `portfolio.json`): picks the format
    /// and names the file in errors.
    name: String,
}

impl Portfolio {
    /// The portfolio file, when it came from one (where bare scenario names are also looked
    /// up).
    pub(crate) fn file(&self) -> Option<&Path> {
        (self.input.file.source != NO_FILE).then(|| Path::new(&self.input.file.source))
    }
}

/// The referenced files of `input` as `(reference, source, bytes)`.
type Referenced = Vec<(String, String, Vec<u8>)>;

/// `(name, source, bytes, [(reference, source, bytes)])` of [`Portfolio::to_parts`].
type Parts<'py> = (
    String,
    String,
    Bound<'py, PyBytes>,
    Vec<(String, String, Bound<'py, PyBytes>)>,
);

fn from_bytes(
    py: Python<'_>,
    bytes: Vec<u8>,
    name: &str,
    source: &str,
    read: impl FnMut(&str) -> Result<(Vec<u8>, String), String>,
) -> PyResult<Portfolio> {
    let input = PortfolioInput::from_bytes(bytes, name, source, read).py(py)?;
    Ok(Portfolio {
        input,
        name: name.to_string(),
    })
}

/// Reads a portfolio file (TOML or JSON) and its loan tape.
#[pyfunction]
pub(crate) fn load_file(py: Python<'_>, path: PathBuf) -> PyResult<Portfolio> {
    let input = PortfolioInput::from_file(&path).py(py)?;
    Ok(Portfolio {
        input,
        name: path.display().to_string(),
    })
}

/// A portfolio from a JSON document (`json.dumps` of a dict). Its canonical bytes are the
/// document's pretty JSON with sorted keys (the run layer's rule for a dict), so the same dict
/// always has the same SHA-256. A loan tape it references is read relative to `base_dir`; with
/// no `base_dir` it may reference none.
#[pyfunction]
#[pyo3(signature = (text, base_dir = None))]
pub(crate) fn load_json(
    py: Python<'_>,
    text: &str,
    base_dir: Option<PathBuf>,
) -> PyResult<Portfolio> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("not JSON: {e}")))?;
    let Some(dir) = base_dir else {
        let input = PortfolioInput::from_json_value(&value).py(py)?;
        return Ok(Portfolio {
            input,
            name: "portfolio.json".into(),
        });
    };
    let mut bytes = serde_json::to_vec_pretty(&value)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    bytes.push(b'\n');
    from_bytes(py, bytes, "portfolio.json", NO_FILE, |reference| {
        let p = dir.join(reference);
        std::fs::read(&p)
            .map(|b| (b, p.display().to_string()))
            .map_err(|e| format!("{}: {e}", p.display()))
    })
}

#[pymethods]
impl Portfolio {
    /// Rebuilds a portfolio from [`Portfolio::to_parts`]: the same bytes, so the same hashes.
    #[staticmethod]
    fn from_parts(
        py: Python<'_>,
        name: String,
        source: String,
        bytes: Vec<u8>,
        referenced: Referenced,
    ) -> PyResult<Portfolio> {
        from_bytes(py, bytes, &name, &source, |reference| {
            referenced
                .iter()
                .find(|(r, _, _)| r == reference)
                .map(|(_, s, b)| (b.clone(), s.clone()))
                .ok_or_else(|| format!("no copy of '{reference}' was shipped"))
        })
    }

    /// `(name, source, bytes, [(reference, source, bytes)])`: everything needed to rebuild
    /// this portfolio elsewhere.
    fn to_parts<'py>(&self, py: Python<'py>) -> Parts<'py> {
        (
            self.name.clone(),
            self.input.file.source.clone(),
            PyBytes::new(py, &self.input.file.bytes),
            self.input
                .referenced
                .iter()
                .map(|r| {
                    (
                        r.reference.clone().unwrap_or_default(),
                        r.source.clone(),
                        PyBytes::new(py, &r.bytes),
                    )
                })
                .collect(),
        )
    }

    /// The portfolio's id.
    #[getter]
    fn id(&self) -> String {
        self.input.portfolio().portfolio.id.clone()
    }

    /// SHA-256 of the portfolio file's bytes.
    #[getter]
    fn sha256(&self) -> String {
        self.input.sha256().to_string()
    }

    /// Where it came from: the path, or `(request body)`.
    #[getter]
    fn source(&self) -> String {
        self.input.file.source.clone()
    }

    /// The portfolio file's exact bytes.
    #[getter]
    fn bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.input.file.bytes)
    }

    /// Every input file as `(role, stored name, source, sha256)`.
    #[getter]
    fn files(&self) -> Vec<(String, String, String, String)> {
        self.input
            .files()
            .map(|f| {
                (
                    crate::table::json(&f.role)
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    f.stored_name.clone(),
                    f.source.clone(),
                    f.sha256.clone(),
                )
            })
            .collect()
    }

    /// Deal ids, in portfolio order (inline deals, then the loan tape's).
    #[getter]
    fn deal_ids(&self) -> Vec<String> {
        self.input
            .portfolio()
            .deals
            .iter()
            .map(|d| d.id.clone())
            .collect()
    }

    /// Pool ids, in file order.
    #[getter]
    fn pool_ids(&self) -> Vec<String> {
        self.input
            .portfolio()
            .pools
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    /// Tranche ids `POOL/TRANCHE`, pool by pool in waterfall order.
    #[getter]
    fn tranche_ids(&self) -> Vec<String> {
        self.input
            .portfolio()
            .pools
            .iter()
            .flat_map(|p| p.tranches.iter().map(move |t| format!("{}/{}", p.id, t.id)))
            .collect()
    }

    /// What `gaib validate` reports, as JSON: counts, funded USD, vault, horizon.
    fn summary_json(&self) -> String {
        let p = self.input.portfolio();
        let funded: Decimal = p.deals.iter().map(|d| d.funded_amount()).sum();
        serde_json::json!({
            "id": p.portfolio.id,
            "source": self.input.file.source,
            "sha256": self.input.sha256(),
            "gpu_classes": p.gpu_classes.len(),
            "operators": p.operators.len(),
            "fleets": p.fleets.len(),
            "deals": p.deals.len(),
            "funded_usd": gaib_engine::Amount::to_f64(funded.round_dp(2)),
            "pools": p.pools.len(),
            "tranches": p.pools.iter().map(|q| q.tranches.len()).sum::<usize>(),
            "vault": p.vault.as_ref().map(|v| v.id.clone()),
            "horizon_months": p.horizon_months(),
        })
        .to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Portfolio(id={:?}, source={:?}, sha256={:?})",
            self.id(),
            self.input.file.source,
            &self.input.sha256()[..12]
        )
    }
}

/// A parsed stress scenario with the bytes of its file.
#[pyclass(module = "gaib._native", frozen)]
pub(crate) struct Scenario {
    pub(crate) input: ScenarioInput,
}

/// Finds a scenario by path or bare name (`gpu-glut`: `$GAIB_SCENARIOS`, next to the
/// portfolio file, `./data/scenarios`, the shipped scenarios) and reads it.
#[pyfunction]
#[pyo3(signature = (name_or_path, portfolio = None))]
pub(crate) fn load_scenario(
    py: Python<'_>,
    name_or_path: &str,
    portfolio: Option<&Portfolio>,
) -> PyResult<Scenario> {
    let input = ScenarioInput::locate(name_or_path, portfolio.and_then(Portfolio::file)).py(py)?;
    Ok(Scenario { input })
}

#[pymethods]
impl Scenario {
    /// Rebuilds a scenario from [`Scenario::to_parts`].
    #[staticmethod]
    fn from_parts(py: Python<'_>, source: String, bytes: Vec<u8>) -> PyResult<Scenario> {
        let input = ScenarioInput::from_bytes(bytes, &source, &source).py(py)?;
        Ok(Scenario { input })
    }

    /// `(source, bytes)`.
    fn to_parts<'py>(&self, py: Python<'py>) -> (String, Bound<'py, PyBytes>) {
        (
            self.input.file.source.clone(),
            PyBytes::new(py, &self.input.file.bytes),
        )
    }

    /// The scenario's id.
    #[getter]
    fn id(&self) -> String {
        self.input.scenario.id.clone()
    }

    /// Its display name.
    #[getter]
    fn name(&self) -> String {
        self.input.scenario.label().to_string()
    }

    /// What it does.
    #[getter]
    fn description(&self) -> String {
        self.input.scenario.description.clone()
    }

    /// The file it was read from.
    #[getter]
    fn source(&self) -> String {
        self.input.file.source.clone()
    }

    /// SHA-256 of its bytes.
    #[getter]
    fn sha256(&self) -> String {
        self.input.file.sha256.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Scenario(id={:?}, source={:?})",
            self.input.scenario.id, self.input.file.source
        )
    }
}
