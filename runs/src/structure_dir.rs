//! `structure.json`: a structure analysis (tranche sizing and/or break-evens, `gaib structure
//! --save`) kept in a run directory, in a versioned form that `gaib reproduce` re-computes and
//! checks byte for byte.
//!
//! A [`StructureRequest`] (the targets, the break-even pool and EL level) and the run it reads
//! (portfolio bytes, seed, path range: the stored inputs) determine a [`StructureFile`]
//! exactly: the sizing re-runs the pool waterfall on the run's paths in path order, so the
//! result depends on no thread count. Saving one amends the run directory:
//!
//! - `structure.json` ([`STRUCTURE`]): the [`StructureFile`] (pretty JSON, final newline);
//! - `report.html`: re-rendered with the structure section;
//! - `manifest.json`: `structure` records the request, `outputs` lists `structure.json` and
//!   the new `report.html` with their SHA-256 (written last, so an interrupted save leaves a
//!   directory whose hashes name the file that was not finished).
//!
//! The amendment changes `manifest.json`, so the run's id (the SHA-256 of `manifest.json`, the
//! `run_id` of a published valuation) changes; `results.json` and its hash do not.
//! [`RunDir::save_structure`] with a target directory saves into a copy of the run and leaves
//! the original (and a published id) untouched.

use crate::breakeven::{break_evens, first_tranche, BreakEvens};
use crate::error::{Result, RunError};
use crate::manifest::{sha256_hex, write_atomic, Manifest, OutputFile};
use crate::report;
use crate::results::to_json_bytes;
use crate::run::{OutputBytes, RunOutput, RunSpec};
use crate::rundir::{report_input, RunDir, INPUTS_DIR, MANIFEST, REPORT};
use crate::structure::{locate, structure_spec, Structure, TargetMetric, TrancheTarget};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file name of a saved structure in a run directory.
pub const STRUCTURE: &str = "structure.json";
/// Version of `structure.json`'s schema. A change of any field's meaning or a removal bumps
/// it; readers refuse other versions.
pub const STRUCTURE_SCHEMA_VERSION: u32 = 1;
/// The default EL level of the Monte Carlo break-evens, % of a tranche's balance.
pub const DEFAULT_EL_LEVEL_PCT: f64 = 1.0;

fn default_el_level_pct() -> f64 {
    DEFAULT_EL_LEVEL_PCT
}

/// What a structure analysis asks: targets to size to and/or a pool's break-evens. With the
/// run it reads, it determines the result exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureRequest {
    /// Target PD or EL per tranche, all of one pool (empty: no sizing).
    #[serde(default)]
    pub targets: Vec<TrancheTarget>,
    /// The pool whose break-even stresses to compute (None: none).
    #[serde(default)]
    pub breakeven_pool: Option<String>,
    /// The EL level of the Monte Carlo break-evens, % of a tranche's balance (0 < level <
    /// 100; default 1).
    #[serde(default = "default_el_level_pct")]
    pub el_level_pct: f64,
}

/// The run a structure was computed on: what determines its paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructureRun {
    /// Portfolio id.
    pub portfolio_id: String,
    /// SHA-256 of the portfolio file's bytes (as in the run's manifest).
    pub portfolio_sha256: String,
    /// The run's seed.
    pub seed: u64,
    /// First path.
    pub path_start: u64,
    /// Number of paths.
    pub paths: u64,
    /// SHA-256 of the run's `results.json` when the structure was computed from a run
    /// directory (None for a run held in memory).
    pub results_sha256: Option<String>,
}

/// `structure.json`: a structure analysis, the request and the run that determine it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructureFile {
    /// [`STRUCTURE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The run it was computed on.
    pub run: StructureRun,
    /// What was asked.
    pub request: StructureRequest,
    /// The sized tranches (None without targets).
    pub structure: Option<Structure>,
    /// The break-even stresses (None without a break-even pool).
    pub break_evens: Option<BreakEvens>,
}

impl StructureRequest {
    /// A request; see the fields.
    pub fn new(
        targets: Vec<TrancheTarget>,
        breakeven_pool: Option<String>,
        el_level_pct: f64,
    ) -> Self {
        Self {
            targets,
            breakeven_pool,
            el_level_pct,
        }
    }

    /// Every check that needs no simulation, against the run of `spec`: something is asked,
    /// the EL level and every bound are percents in (0, 100), every target names a tranche
    /// of one pool (not its equity, none twice), the break-even pool exists. Errors name the
    /// field (`target`, `el_level_pct`, `pool`) and the value.
    pub fn check(&self, spec: &RunSpec) -> Result<()> {
        if self.targets.is_empty() && self.breakeven_pool.is_none() {
            return Err(RunError::argument(
                "target",
                "(none)",
                "give at least one tranche target, or a break-even pool, or both",
            ));
        }
        if !(self.el_level_pct > 0.0 && self.el_level_pct < 100.0) {
            return Err(RunError::argument(
                "el_level_pct",
                self.el_level_pct,
                "must be a percent strictly between 0 and 100",
            ));
        }
        for t in &self.targets {
            if !(t.max_pct > 0.0 && t.max_pct < 100.0) {
                return Err(RunError::argument(
                    "target",
                    target_text(t),
                    "the bound must be a percent strictly between 0 and 100",
                ));
            }
        }
        let portfolio = spec.portfolio.portfolio();
        if !self.targets.is_empty() {
            let plan = gaib_simulator::lower(portfolio)?;
            locate(&plan, &self.targets)?;
        }
        if let Some(pool) = &self.breakeven_pool {
            first_tranche(portfolio, pool)?;
        }
        Ok(())
    }

    /// Computes the analysis on the run of `spec` (checked first); `results_sha256` is the
    /// hash of the run's `results.json` when it comes from a run directory.
    pub fn compute(&self, spec: &RunSpec, results_sha256: Option<&str>) -> Result<StructureFile> {
        self.check(spec)?;
        let structure = (!self.targets.is_empty())
            .then(|| structure_spec(spec, &self.targets))
            .transpose()?;
        let break_evens = self
            .breakeven_pool
            .as_deref()
            .map(|pool| break_evens(spec, pool, self.el_level_pct))
            .transpose()?;
        Ok(StructureFile {
            schema_version: STRUCTURE_SCHEMA_VERSION,
            run: StructureRun {
                portfolio_id: spec.portfolio.portfolio().portfolio.id.clone(),
                portfolio_sha256: spec.portfolio.sha256().to_string(),
                seed: spec.seed,
                path_start: spec.path_start,
                paths: spec.paths,
                results_sha256: results_sha256.map(str::to_string),
            },
            request: self.clone(),
            structure,
            break_evens,
        })
    }
}

/// `POOL/TRANCHE:pd=PCT` as the command line writes a target.
fn target_text(t: &TrancheTarget) -> String {
    let m = match t.metric {
        TargetMetric::Pd => "pd",
        TargetMetric::El => "el",
    };
    format!("{}:{m}={}", t.tranche, t.max_pct)
}

impl StructureFile {
    /// The bytes of `structure.json`: pretty JSON with a final newline.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>> {
        to_json_bytes(self, STRUCTURE)
    }

    /// Parses `structure.json`; `path` names it in errors. Another schema version is refused
    /// with the version it has.
    pub fn from_json(bytes: &[u8], path: &str) -> Result<Self> {
        let bad = |message: String| RunError::Json {
            path: path.to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        match value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v == u64::from(STRUCTURE_SCHEMA_VERSION) => {}
            other => {
                return Err(bad(format!(
                    "schema_version {} is not supported (this gaib reads \
                     {STRUCTURE_SCHEMA_VERSION})",
                    other.map_or_else(|| "missing".to_string(), |v| v.to_string())
                )))
            }
        }
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }
}

/// The files a saved `doc` changes, from the run's typed results: `structure.json`'s bytes
/// and `report.html` re-rendered with the structure section; `manifest` gets the request
/// and their hashes (`structure.json` listed right before `report.html`).
fn amend(
    results: &crate::Results,
    sensitivities: Option<&[gaib_pricing::Sensitivity]>,
    stress: Option<&crate::StressResults>,
    manifest: &mut Manifest,
    doc: &StructureFile,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let html = report::render(&report_input(
        results,
        &manifest.backend,
        sensitivities,
        stress,
        Some(doc),
    ))
    .into_bytes();
    let bytes = doc.to_json_bytes()?;
    manifest.structure = Some(doc.request.clone());
    manifest.outputs.retain(|o| o.path != STRUCTURE);
    let at = manifest
        .outputs
        .iter()
        .position(|o| o.path == REPORT)
        .unwrap_or(manifest.outputs.len());
    manifest.outputs.insert(
        at,
        OutputFile {
            path: STRUCTURE.to_string(),
            sha256: sha256_hex(&bytes),
        },
    );
    for o in manifest.outputs.iter_mut().filter(|o| o.path == REPORT) {
        o.sha256 = sha256_hex(&html);
    }
    Ok((bytes, html))
}

/// In [`RunDir::verify`]: re-computes the structure the manifest records on the re-run and
/// amends the re-run's outputs as the save did.
pub(crate) fn amend_rerun(out: &mut RunOutput, request: &StructureRequest) -> Result<()> {
    let results = out.manifest.results_sha256.clone();
    let doc = request.compute(&out.spec, Some(&results))?;
    let (json, html) = amend(
        &out.results,
        out.sensitivities.as_deref(),
        out.stress.as_ref(),
        &mut out.manifest,
        &doc,
    )?;
    out.outputs.retain(|o| o.path != STRUCTURE);
    let at = out
        .outputs
        .iter()
        .position(|o| o.path == REPORT)
        .unwrap_or(out.outputs.len());
    out.outputs.insert(
        at,
        OutputBytes {
            path: STRUCTURE,
            bytes: json,
        },
    );
    for o in out.outputs.iter_mut().filter(|o| o.path == REPORT) {
        o.bytes = html.clone();
    }
    Ok(())
}

impl RunDir {
    /// Computes `request` on this run (its stored inputs, seed and paths).
    pub fn structure(&self, request: &StructureRequest) -> Result<StructureFile> {
        request.compute(&self.spec, Some(&self.manifest.results_sha256))
    }

    /// Saves `doc` (computed on this run: [`RunDir::structure`]) into this run directory, or,
    /// with `to`, into a copy of it at `to` (absent or an empty directory; the original is
    /// left untouched): writes `structure.json`, `report.html` with the structure section,
    /// then `manifest.json` recording the request and the new hashes. A previously saved
    /// structure is replaced. Returns the directory as written.
    pub fn save_structure(&self, doc: &StructureFile, to: Option<&Path>) -> Result<RunDir> {
        let m = &self.manifest;
        let r = &doc.run;
        if r.results_sha256.as_deref() != Some(m.results_sha256.as_str())
            || r.seed != m.seed
            || r.path_start != m.path_start
            || r.paths != m.paths
        {
            return Err(RunError::argument(
                "structure",
                format!("seed {} paths {}+{}", r.seed, r.path_start, r.paths),
                format!(
                    "was not computed on the run in {} (seed {}, paths {}+{}, results {})",
                    self.dir.display(),
                    m.seed,
                    m.path_start,
                    m.paths,
                    m.results_sha256
                ),
            ));
        }
        let dir = match to {
            Some(to) => {
                self.copy_to(to)?;
                to.to_path_buf()
            }
            None => self.dir.clone(),
        };
        let mut manifest = self.manifest.clone();
        let (json, html) = amend(
            &self.results,
            self.sensitivities.as_deref(),
            self.stress.as_ref(),
            &mut manifest,
            doc,
        )?;
        write_atomic(&dir.join(STRUCTURE), &json)?;
        write_atomic(&dir.join(REPORT), &html)?;
        write_atomic(&dir.join(MANIFEST), manifest.to_json().as_bytes())?;
        RunDir::open(&dir)
    }

    /// Copies the run's stored inputs, outputs and manifest to `to` (absent or empty).
    fn copy_to(&self, to: &Path) -> Result<()> {
        let bad = |reason: String| RunError::argument("save_to", to.display(), reason);
        if to.exists() {
            let mut entries =
                std::fs::read_dir(to).map_err(|e| bad(format!("cannot read: {e}")))?;
            if !to.is_dir() || entries.next().is_some() {
                return Err(bad("exists and is not an empty directory".into()));
            }
        }
        let files = self
            .manifest
            .inputs
            .iter()
            .map(|f| f.path.as_str())
            .chain(self.manifest.outputs.iter().map(|o| o.path.as_str()))
            .chain([MANIFEST]);
        for rel in files {
            debug_assert!(rel.starts_with(INPUTS_DIR) || !rel.contains('/'));
            let dst = to.join(rel);
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent).map_err(|e| RunError::io(parent, e))?;
            }
            let src = self.dir.join(rel);
            let bytes = std::fs::read(&src).map_err(|e| RunError::io(&src, e))?;
            write_atomic(&dst, &bytes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DealBreakEven, PortfolioInput, TrancheBreakEven};

    fn spec() -> RunSpec {
        let p = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/portfolios/sample.toml"
        ));
        RunSpec::new(PortfolioInput::from_file(p).unwrap(), 100, 3)
    }

    #[test]
    fn a_bad_request_is_refused_before_simulating_naming_the_field() {
        let spec = spec();
        let t = |s: &str| s.parse::<TrancheTarget>().unwrap();
        let ok = StructureRequest::new(vec![t("GPU-ABS-1/A:pd=1")], None, 1.0);
        ok.check(&spec).unwrap();
        let cases = [
            (StructureRequest::new(vec![], None, 1.0), "target"),
            (
                StructureRequest::new(vec![], Some("GPU-ABS-1".into()), 0.0),
                "el_level_pct = 0",
            ),
            (
                StructureRequest::new(vec![], Some("NOPE".into()), 1.0),
                "pool = NOPE",
            ),
            (
                StructureRequest::new(vec![t("GPU-ABS-1/Z:pd=1")], None, 1.0),
                "GPU-ABS-1/Z",
            ),
            (
                StructureRequest::new(vec![t("GPU-ABS-1/E:pd=1")], None, 1.0),
                "equity",
            ),
        ];
        for (r, needle) in cases {
            let e = r.check(&spec).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        // A bound out of range arriving as JSON (not through the parser) is refused too.
        let json = r#"{"targets":[{"tranche":"GPU-ABS-1/A","metric":"pd","max_pct":150}]}"#;
        let r: StructureRequest = serde_json::from_str(json).unwrap();
        assert_eq!(r.el_level_pct, DEFAULT_EL_LEVEL_PCT);
        let e = r.check(&spec).unwrap_err().to_string();
        assert!(
            e.contains("GPU-ABS-1/A:pd=150") && e.contains("between 0 and 100"),
            "{e}"
        );
        assert!(serde_json::from_str::<StructureRequest>(r#"{"tragets":[]}"#).is_err());
    }

    #[test]
    fn the_file_round_trips_refuses_other_versions_and_renders_its_section() {
        let spec = spec();
        let request = StructureRequest::new(vec!["GPU-ABS-1/A:el=1".parse().unwrap()], None, 1.0);
        let mut doc = request.compute(&spec, Some("ab")).unwrap();
        doc.break_evens = Some(BreakEvens {
            pool: "GPU-ABS-1".into(),
            el_level_pct: 1.0,
            paths: 100,
            deals: vec![DealBreakEven {
                deal: "D-1".into(),
                price_shock_default_pct: Some(-41.25),
            }],
            tranches: vec![TrancheBreakEven {
                tranche: "GPU-ABS-1/A".into(),
                price_shock_first_loss_pct: None,
                price_shock_el_pct: Some(-80.5),
                hazard_multiplier_el: Some(12.0),
            }],
        });
        let bytes = doc.to_json_bytes().unwrap();
        assert_eq!(StructureFile::from_json(&bytes, "s").unwrap(), doc);
        let other = String::from_utf8(bytes).unwrap().replacen(
            "\"schema_version\": 1",
            "\"schema_version\": 7",
            1,
        );
        let e = StructureFile::from_json(other.as_bytes(), "s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema_version 7 is not supported"), "{e}");
        let html = crate::report::structure::section(Some(&doc));
        for needle in [
            "<h2 id=\"structure\">",
            "fig-subordination",
            "fig-structure-target",
            "GPU-ABS-1/A EL target",
            "-41.25 %",
            "12.00×",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        assert!(!html.contains("NaN"));
        assert_eq!(crate::report::structure::section(None), "");
    }
}
