//! Self-contained run directories: a run's files (`RunOutput::build`: typed results, their
//! bytes, the report and the manifest, from the valued legs); [`OutDir`] claims an output
//! location before a run (so an unwritable or occupied `--out` fails before any path is
//! simulated) and writes a [`RunOutput`] into it atomically; [`PreparedRun::execute_to`] runs
//! a prepared run into one, with its per-path [`RowsFile`]; [`RunDir`] opens one, checks it
//! against its manifest, and re-runs it ([`RunDir::verify`]).
//!
//! Layout:
//! ```text
//! DIR/manifest.json          what the run was made of and produced (hashes of everything)
//! DIR/results.json           base results (typed: crate::Results)
//! DIR/sensitivities.json     bump-and-revalue results (sensitivities runs)
//! DIR/stress.json            the stress comparison (stress runs)
//! DIR/report.html            the report
//! DIR/structure.json         a saved structure analysis (`gaib structure --save`)
//! DIR/inputs/<portfolio>     copies of every input: the portfolio, its loan tape,
//! DIR/inputs/<loan tape>       and each scenario (inputs/scenarios/<file>)
//! DIR/inputs/scenarios/…
//! ```

use crate::control::RunControl;
use crate::error::{Result, RunError};
use crate::input::{PortfolioInput, ScenarioInput};
use crate::manifest::{
    build_git_commit, build_git_dirty, json_diff, sha256_hex, write_atomic, InputFile, InputRole,
    Manifest, OutputFile, SCHEMA_VERSION,
};
use crate::report::{self, ReportInput, RunInfo, StressColumn};
use crate::results::{to_json_bytes, DerivativeChange, Results, ScenarioResult, StressResults};
use crate::run::{
    unix_now, BackendSelection, Leg, LegId, OutputBytes, PreparedRun, Provenance, RunOutput,
    RunSpec, Valued,
};
use crate::structure_dir::{StructureFile, STRUCTURE};
use gaib_pricing::{compare, metrics, Sensitivity, Valuation};
use gaib_simulator::{PathRows, PathSink, PathStats, SimError, SinkError, MODEL_VERSION};
use std::path::{Path, PathBuf};

/// Folder of the stored inputs inside a run directory.
pub const INPUTS_DIR: &str = "inputs";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The base results' file name.
pub const RESULTS: &str = "results.json";
/// The sensitivities' file name.
pub const SENSITIVITIES: &str = "sensitivities.json";
/// The stress comparison's file name.
pub const STRESS: &str = "stress.json";
/// The report's file name.
pub const REPORT: &str = "report.html";

/// The legs beyond the base, valued: (leg, statistics, valuation).
type ExtraLegs = [(LegId, PathStats, Valuation)];

impl RunOutput {
    /// Builds a run's files from its valued legs: the typed results (`results.json`,
    /// `sensitivities.json`, `stress.json`), their bytes, `report.html`, and the manifest that
    /// hashes them.
    pub(crate) fn build(spec: RunSpec, v: Valued) -> Result<RunOutput> {
        let sensitivities = spec
            .sensitivities
            .then(|| sensitivities_of(&v.base_valuation, &v.extra));
        let stress = stress_of(&spec, &v.base_stats, &v.base_valuation, &v.extra);
        let (derivatives, hedges) = derivatives_of(&spec, &v);
        let mut results = Results::new(
            &spec.portfolio.portfolio().portfolio.id,
            spec.seed,
            spec.path_start,
            v.base_stats,
            v.base_valuation,
        );
        results.implied_spreads = v.implied_spreads;
        results.vault_book = crate::VaultBook::of(spec.portfolio.portfolio())?;
        results.derivatives = derivatives;
        results.hedges = hedges;
        let outputs = output_files(
            &results,
            &v.made.backend,
            sensitivities.as_deref(),
            stress.as_ref(),
        )?;
        let manifest = manifest_of(&spec, &v.made, &outputs);
        let legs = v
            .extra
            .into_iter()
            .map(|(id, stats, valuation)| Leg {
                id: id.label(&spec).to_string(),
                stats,
                valuation,
            })
            .collect();
        Ok(RunOutput {
            spec,
            results,
            sensitivities,
            stress,
            legs,
            outputs,
            manifest,
            notes: v.notes,
        })
    }

    /// The report page of this run (`report.html`'s text, as rendered into [`Self::outputs`]).
    pub fn report_html(&self) -> String {
        String::from_utf8_lossy(self.output(REPORT).unwrap_or_default()).into_owned()
    }
}

/// `sensitivities.json`: each bump's changes against the base valuation, in bump order.
fn sensitivities_of(base: &Valuation, extra: &ExtraLegs) -> Vec<Sensitivity> {
    extra
        .iter()
        .filter_map(|(id, _, v)| match id {
            LegId::Bump { id, description } => Some(Sensitivity {
                id: id.clone(),
                description: description.clone(),
                changes: compare(base, v),
            }),
            _ => None,
        })
        .collect()
}

/// `results.json`'s `derivatives` (from the base leg, with delta and vega from the
/// `price_level` and `price_vol` bumps when the run has them) and `hedges` (the base leg
/// against the `unhedged` leg, when there is one).
fn derivatives_of(
    spec: &RunSpec,
    v: &Valued,
) -> (Vec<crate::DerivativeResult>, Option<crate::HedgeComparison>) {
    let p = spec.portfolio.portfolio();
    let bump = |name: &str| {
        v.extra.iter().find_map(|(id, s, _)| match id {
            LegId::Bump { id, .. } if id == name => Some(s),
            _ => None,
        })
    };
    let derivatives = crate::derivatives::derivative_results(
        p,
        &v.base_stats,
        &v.base_valuation,
        bump("price_level"),
        bump("price_vol"),
    );
    let hedges = v
        .extra
        .iter()
        .find(|(id, _, _)| *id == LegId::Unhedged)
        .and_then(|(_, _, unhedged)| {
            crate::derivatives::hedge_comparison(p, &v.base_valuation, unhedged)
        });
    (derivatives, hedges)
}

/// Each derivative's E\[PV\] under a scenario (statistics `scenario`) against the base
/// statistics `base`, in portfolio order.
fn derivative_changes(base: &PathStats, scenario: &PathStats) -> Vec<DerivativeChange> {
    base.derivatives
        .iter()
        .zip(&scenario.derivatives)
        .map(|(b, s)| DerivativeChange {
            id: b.id.clone(),
            base_usd: b.expected_pv_usd(),
            value_usd: s.expected_pv_usd(),
            change_usd: s.expected_pv_usd() - b.expected_pv_usd(),
        })
        .collect()
}

/// `stress.json` of a stress run (None without scenarios): the base metrics and each
/// scenario's changes, naming the scenario's stored copy under [`INPUTS_DIR`].
fn stress_of(
    spec: &RunSpec,
    base_stats: &PathStats,
    base: &Valuation,
    extra: &ExtraLegs,
) -> Option<StressResults> {
    if spec.scenarios.is_empty() {
        return None;
    }
    let scenarios = extra
        .iter()
        .filter_map(|(id, stats, v)| match id {
            LegId::Scenario(i) => {
                let s = &spec.scenarios[*i];
                Some(ScenarioResult {
                    id: s.scenario.id.clone(),
                    name: s.scenario.label().to_string(),
                    description: s.scenario.description.clone(),
                    file: format!("{INPUTS_DIR}/{}", s.file.stored_name),
                    sha256: s.file.sha256.clone(),
                    changes: compare(base, v),
                    derivatives: derivative_changes(base_stats, stats),
                })
            }
            _ => None,
        })
        .collect();
    Some(StressResults {
        schema_version: SCHEMA_VERSION,
        portfolio_id: spec.portfolio.portfolio().portfolio.id.clone(),
        seed: spec.seed,
        path_start: spec.path_start,
        paths: spec.paths,
        base: metrics(base),
        scenarios,
    })
}

/// The output files' bytes: `results.json` first, then `sensitivities.json` and
/// `stress.json` when present, `report.html` last.
fn output_files(
    results: &Results,
    backend: &str,
    sensitivities: Option<&[Sensitivity]>,
    stress: Option<&StressResults>,
) -> Result<Vec<OutputBytes>> {
    let mut outputs = vec![OutputBytes {
        path: RESULTS,
        bytes: to_json_bytes(results, RESULTS)?,
    }];
    if let Some(s) = sensitivities {
        outputs.push(OutputBytes {
            path: SENSITIVITIES,
            bytes: to_json_bytes(&s, SENSITIVITIES)?,
        });
    }
    if let Some(s) = stress {
        outputs.push(OutputBytes {
            path: STRESS,
            bytes: to_json_bytes(s, STRESS)?,
        });
    }
    let html = report::render(&report_input(results, backend, sensitivities, stress, None));
    outputs.push(OutputBytes {
        path: REPORT,
        bytes: html.into_bytes(),
    });
    Ok(outputs)
}

/// The manifest of a run whose output files are `outputs` (`results.json` first).
fn manifest_of(spec: &RunSpec, made: &Provenance, outputs: &[OutputBytes]) -> Manifest {
    Manifest {
        schema_version: SCHEMA_VERSION,
        kind: spec.kind(),
        gaib_version: crate::VERSION.to_string(),
        git_commit: build_git_commit(),
        git_dirty: build_git_dirty(),
        model_version: MODEL_VERSION.to_string(),
        backend: made.backend.clone(),
        threads: made.threads,
        seed: spec.seed,
        path_start: spec.path_start,
        paths: spec.paths,
        sensitivities: spec.sensitivities,
        market_prices: spec.market_prices.clone(),
        inputs: input_files(spec),
        outputs: outputs
            .iter()
            .map(|o| OutputFile {
                path: o.path.to_string(),
                sha256: sha256_hex(&o.bytes),
            })
            .collect(),
        results_sha256: sha256_hex(&outputs[0].bytes),
        elapsed_s: made.elapsed_s,
        created_unix_s: made.created_unix_s,
        structure: None,
    }
}

/// The manifest's input list: portfolio, loan tape, scenarios, stored under [`INPUTS_DIR`].
fn input_files(spec: &RunSpec) -> Vec<InputFile> {
    spec.portfolio
        .files()
        .chain(spec.scenarios.iter().map(|s| &s.file))
        .map(|f| InputFile {
            role: f.role,
            path: format!("{INPUTS_DIR}/{}", f.stored_name),
            source: f.source.clone(),
            reference: f.reference.clone(),
            sha256: f.sha256.clone(),
        })
        .collect()
}

/// The report's inputs from a run's typed results (and a saved structure).
pub(crate) fn report_input<'a>(
    results: &'a Results,
    backend: &str,
    sensitivities: Option<&'a [Sensitivity]>,
    stress: Option<&StressResults>,
    structure: Option<&'a StructureFile>,
) -> ReportInput<'a> {
    let stress = stress
        .map(|s| {
            s.scenarios
                .iter()
                .map(|c| StressColumn {
                    label: c.name.clone(),
                    description: c.description.clone(),
                    changes: c.changes.clone(),
                    derivatives: c.derivatives.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    ReportInput {
        valuation: &results.valuation,
        run: RunInfo {
            seed: results.seed,
            backend: backend.to_string(),
        },
        sensitivities: sensitivities.unwrap_or(&[]),
        stress,
        structure,
        derivatives: &results.derivatives,
        hedges: results.hedges.as_ref(),
    }
}

/// The default directory of a run: `out/<portfolio id>-<unix time>-s<seed>` (characters other
/// than ASCII letters, digits, `-` and `_` in the id become `_`).
pub fn default_run_dir(portfolio_id: &str, seed: u64) -> PathBuf {
    let id: String = portfolio_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("out").join(format!("{id}-{}-s{seed}", unix_now()))
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// A sibling of `path` named `.<name>.<what>-<pid>-<nanos>`.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    parent
        .unwrap_or_else(|| Path::new("."))
        .join(format!(".{name}.{what}-{}", unique_suffix()))
}

/// An output directory claimed for a run: checked to be absent, empty, or (with `force`) a
/// previous run's directory, and writable — before the run starts.
#[derive(Debug, Clone)]
pub struct OutDir {
    path: PathBuf,
}

impl OutDir {
    /// Claims `path`. Refuses (as bad input) a path that is a file, a non-empty directory
    /// (unless `force` and it holds a previous run's `manifest.json`), or one that cannot be
    /// written.
    pub fn claim(path: &Path, force: bool) -> Result<Self> {
        let bad = |reason: String| RunError::argument("out", path.display(), reason);
        if path.exists() {
            if !path.is_dir() {
                return Err(bad("exists and is not a directory".into()));
            }
            let entries: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| bad(format!("cannot read: {e}")))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if !entries.is_empty() {
                if !force {
                    return Err(bad(format!(
                        "is not empty ({} entries, e.g. {}): choose a new directory, or pass \
                         --force to replace a previous run's directory",
                        entries.len(),
                        entries[0]
                    )));
                }
                if !path.join(MANIFEST).is_file() {
                    return Err(bad(
                        "is not a run directory (no manifest.json): refusing to replace it \
                         even with --force"
                            .into(),
                    ));
                }
            }
        }
        // Probe: the staging directory must be creatable next to the target.
        let probe = sibling(path, "probe");
        if let Some(parent) = probe.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| bad(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::create_dir(&probe).map_err(|e| bad(format!("cannot write: {e}")))?;
        let _ = std::fs::remove_dir(&probe);
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The claimed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the run — inputs, outputs, then the manifest — into a staging directory next to
    /// the target and renames it into place, replacing a claimed previous run as a whole, so
    /// the directory never holds files of two runs or of a half-written one.
    pub fn write(self, out: &RunOutput) -> Result<RunDir> {
        self.put(out)?;
        RunDir::written(self.path, out.clone())
    }

    /// [`OutDir::write`] of an output the caller gives up.
    fn write_owned(self, out: RunOutput) -> Result<RunDir> {
        self.put(&out)?;
        RunDir::written(self.path, out)
    }

    /// The staging directory's writing and its rename into place.
    fn put(&self, out: &RunOutput) -> Result<()> {
        let staging = sibling(&self.path, "tmp");
        let result = write_into(&staging, out);
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let old = self.path.exists().then(|| sibling(&self.path, "old"));
        if let Some(old) = &old {
            std::fs::rename(&self.path, old).map_err(|e| RunError::io(&self.path, e))?;
        }
        if let Err(e) = std::fs::rename(&staging, &self.path) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.path);
            }
            let _ = std::fs::remove_dir_all(&staging);
            return Err(RunError::io(&self.path, e));
        }
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(())
    }
}

/// A per-path rows file a run writes as it goes (`gaib run --paths-out`'s Parquet, the
/// service's Arrow stream): the base leg's rows arrive as a [`PathSink`]; the file is
/// completed when the run succeeds and removed when it fails or is cancelled
/// ([`PreparedRun::execute_to`]), so no partial file is left behind.
pub trait RowsFile: PathSink {
    /// Completes the file (last block and footer, sync, rename into place).
    fn finish(self: Box<Self>) -> std::result::Result<(), SinkError>;
    /// Removes what was written (the run failed or was cancelled).
    fn discard(self: Box<Self>);
}

/// A [`RowsFile`] as the [`PathSink`] it is (trait upcasting needs Rust 1.86; the workspace
/// supports 1.85).
struct AsSink<'a>(&'a mut (dyn RowsFile + 'static));

impl PathSink for AsSink<'_> {
    fn accept(&mut self, rows: &PathRows) -> std::result::Result<(), SinkError> {
        self.0.accept(rows)
    }
}

impl PreparedRun {
    /// The whole run into `out`: simulates and values every leg (the base leg's per-path rows
    /// go to `rows`), completes `rows` — or removes it when the run fails or is cancelled —
    /// and writes the run directory atomically ([`OutDir::write`]). Nothing is written on
    /// an error. The returned [`RunDir`] is built from what was written, not read back.
    pub fn execute_to(
        self,
        out: OutDir,
        control: &RunControl,
        mut rows: Option<Box<dyn RowsFile>>,
    ) -> Result<RunDir> {
        let mut sink = rows.as_deref_mut().map(AsSink);
        let result = self.execute(control, sink.as_mut().map(|s| s as &mut dyn PathSink));
        let output = match result {
            Ok(output) => output,
            Err(e) => {
                if let Some(r) = rows {
                    r.discard();
                }
                return Err(e);
            }
        };
        if let Some(r) = rows {
            r.finish().map_err(SimError::Sink)?;
        }
        out.write_owned(output)
    }
}

fn write_into(dir: &Path, out: &RunOutput) -> Result<()> {
    let inputs = out
        .spec
        .portfolio
        .files()
        .chain(out.spec.scenarios.iter().map(|s| &s.file));
    for f in inputs {
        let p = dir.join(INPUTS_DIR).join(&f.stored_name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| RunError::io(parent, e))?;
        }
        write_atomic(&p, &f.bytes)?;
    }
    for o in &out.outputs {
        write_atomic(&dir.join(o.path), &o.bytes)?;
    }
    write_atomic(&dir.join(MANIFEST), out.manifest.to_json().as_bytes())
}

/// A run directory opened and checked against its manifest: every stored input hashes as
/// recorded, and the inputs parse and validate again.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// `manifest.json`'s bytes (a published report's run id is their SHA-256).
    pub manifest_bytes: Vec<u8>,
    /// The base results, typed.
    pub results: Results,
    /// Sensitivities, when the run has them.
    pub sensitivities: Option<Vec<Sensitivity>>,
    /// The stress comparison, when the run is a stress run.
    pub stress: Option<StressResults>,
    /// The saved structure analysis (`structure.json`), when the run has one.
    pub structure: Option<StructureFile>,
    /// The spec to re-run it (inputs from the directory's stored copies).
    pub spec: RunSpec,
}

fn read(dir: &Path, rel: &str) -> Result<Vec<u8>> {
    std::fs::read(dir.join(rel)).map_err(|e| {
        RunError::invalid_run(dir, format!("cannot read {}: {e}", dir.join(rel).display()))
    })
}

/// `structure.json` when the manifest lists it (`gaib structure --save`).
fn saved_structure(dir: &Path, m: &Manifest) -> Result<Option<StructureFile>> {
    if !m.outputs.iter().any(|o| o.path == STRUCTURE) {
        return Ok(None);
    }
    let bytes = read(dir, STRUCTURE)?;
    let name = dir.join(STRUCTURE).display().to_string();
    StructureFile::from_json(&bytes, &name)
        .map(Some)
        .map_err(|e| RunError::invalid_run(dir, e.to_string()))
}

fn typed<T: serde::de::DeserializeOwned>(dir: &Path, rel: &str) -> Result<T> {
    let bytes = read(dir, rel)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| RunError::invalid_run(dir, format!("{}: {e}", dir.join(rel).display())))
}

impl RunDir {
    /// The run directory `dir` into which `out` was just written: its manifest, results and
    /// inputs are `out`'s, and its spec is `out`'s with the backend that ran it and no thread
    /// count, as [`RunDir::open`] would read them back.
    fn written(dir: PathBuf, out: RunOutput) -> Result<Self> {
        let backend = out.manifest.backend.parse::<BackendSelection>()?;
        Ok(Self {
            dir,
            manifest_bytes: out.manifest.to_json().into_bytes(),
            manifest: out.manifest,
            results: out.results,
            sensitivities: out.sensitivities,
            stress: out.stress,
            structure: None,
            spec: RunSpec {
                backend,
                threads: None,
                ..out.spec
            },
        })
    }

    /// Opens a run directory (or its `manifest.json`). Bad input (exit 2 in the CLI) if the
    /// manifest is missing or malformed, if a stored input is missing or does not hash as
    /// recorded, or if the results files do not parse.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(RunError::invalid_run(path, "no such directory or file"));
        }
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from("."))
        };
        let manifest_bytes = read(&dir, MANIFEST)?;
        let manifest = Manifest::from_json(
            &String::from_utf8_lossy(&manifest_bytes),
            &dir.join(MANIFEST).display().to_string(),
        )
        .map_err(|e| RunError::invalid_run(&dir, e.to_string()))?;
        let spec = Self::stored_spec(&dir, &manifest)?;
        let results = typed(&dir, RESULTS)?;
        let sensitivities = manifest
            .outputs
            .iter()
            .any(|o| o.path == SENSITIVITIES)
            .then(|| typed(&dir, SENSITIVITIES))
            .transpose()?;
        let stress = manifest
            .outputs
            .iter()
            .any(|o| o.path == STRESS)
            .then(|| typed(&dir, STRESS))
            .transpose()?;
        let structure = saved_structure(&dir, &manifest)?;
        Ok(Self {
            dir,
            manifest,
            manifest_bytes,
            results,
            sensitivities,
            stress,
            structure,
            spec,
        })
    }

    /// Checks the stored inputs' hashes and rebuilds the spec from them.
    fn stored_spec(dir: &Path, m: &Manifest) -> Result<RunSpec> {
        let mut changed = Vec::new();
        let mut stored = Vec::new();
        for f in &m.inputs {
            if f.path.split('/').any(|c| c == "..") || Path::new(&f.path).is_absolute() {
                return Err(RunError::invalid_run(
                    dir,
                    format!("input path {} leaves the run directory", f.path),
                ));
            }
            let bytes = read(dir, &f.path)?;
            let got = sha256_hex(&bytes);
            if got != f.sha256 {
                changed.push(format!("{}: sha256 {got} != recorded {}", f.path, f.sha256));
            }
            stored.push((f, bytes));
        }
        if !changed.is_empty() {
            return Err(RunError::invalid_run(
                dir,
                format!("inputs changed since the run:\n  {}", changed.join("\n  ")),
            ));
        }
        let (pf, pbytes) = stored
            .iter()
            .find(|(f, _)| f.role == InputRole::Portfolio)
            .ok_or_else(|| RunError::invalid_run(dir, "the manifest lists no portfolio input"))?;
        let name = dir.join(&pf.path).display().to_string();
        let portfolio = PortfolioInput::from_bytes(pbytes.clone(), &name, &pf.source, |r| {
            stored
                .iter()
                .find(|(f, _)| f.role == InputRole::LoanTape && f.reference.as_deref() == Some(r))
                .map(|(f, b)| (b.clone(), f.source.clone()))
                .ok_or_else(|| format!("the run directory stores no copy of '{r}'"))
        })?;
        let scenarios = stored
            .iter()
            .filter(|(f, _)| f.role == InputRole::Scenario)
            .map(|(f, b)| {
                ScenarioInput::from_bytes(
                    b.clone(),
                    &dir.join(&f.path).display().to_string(),
                    &f.source,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let backend = m.backend.parse::<BackendSelection>().map_err(|_| {
            RunError::invalid_run(
                dir,
                format!("unknown backend '{}' in the manifest", m.backend),
            )
        })?;
        Ok(RunSpec {
            portfolio,
            scenarios,
            seed: m.seed,
            path_start: m.path_start,
            paths: m.paths,
            backend,
            threads: None,
            sensitivities: m.sensitivities,
            market_prices: m.market_prices.clone(),
        })
    }

    /// Every output file whose bytes do not hash as the manifest records, and an
    /// inconsistent `results_sha256`, one line each (empty when all agree).
    pub fn output_hash_differences(&self) -> Vec<String> {
        let mut out = Vec::new();
        for o in &self.manifest.outputs {
            match std::fs::read(self.dir.join(&o.path)) {
                Ok(b) => {
                    let got = sha256_hex(&b);
                    if got != o.sha256 {
                        out.push(format!(
                            "{}: sha256 {got} != {} recorded in manifest.json",
                            o.path, o.sha256
                        ));
                    }
                }
                Err(e) => out.push(format!("{}: cannot read: {e}", o.path)),
            }
        }
        if self.manifest.outputs.first().map(|o| &o.sha256) != Some(&self.manifest.results_sha256) {
            out.push(format!(
                "manifest.json: results_sha256 {} != outputs[0] ({})",
                self.manifest.results_sha256,
                self.manifest
                    .outputs
                    .first()
                    .map_or("none", |o| o.sha256.as_str())
            ));
        }
        out
    }

    /// The report page of the stored run (the same page the run wrote).
    pub fn report_html(&self) -> String {
        report::render(&report_input(
            &self.results,
            &self.manifest.backend,
            self.sensitivities.as_deref(),
            self.stress.as_ref(),
            self.structure.as_ref(),
        ))
    }

    /// Re-runs the run from its stored inputs (with `threads` CPU threads; results do not
    /// depend on it) and compares every output file bit for bit with the stored one, and each
    /// stored file with its hash in the manifest. Returns the re-run on a match, else
    /// [`RunError::Mismatch`] listing every difference (naming the differing JSON fields).
    pub fn verify(&self, threads: Option<usize>, control: &RunControl) -> Result<RunOutput> {
        let mut differences = self.output_hash_differences();
        let mut spec = self.spec.clone();
        spec.threads = threads.or(Some(self.manifest.threads.max(1)));
        let mut rerun = spec.prepare()?.execute(control, None)?;
        if let Some(request) = &self.manifest.structure {
            crate::structure_dir::amend_rerun(&mut rerun, request)?;
        }
        for o in &self.manifest.outputs {
            let Some(new) = rerun.output(&o.path) else {
                differences.push(format!("{}: not produced by the re-run", o.path));
                continue;
            };
            let Ok(old) = std::fs::read(self.dir.join(&o.path)) else {
                continue;
            };
            if old == new {
                continue;
            }
            if o.path.ends_with(".json") {
                match (
                    serde_json::from_slice::<serde_json::Value>(&old),
                    serde_json::from_slice::<serde_json::Value>(new),
                ) {
                    (Ok(a), Ok(b)) => {
                        let d = json_diff(&a, &b, 20);
                        if d.is_empty() {
                            differences
                                .push(format!("{}: bytes differ (same JSON values)", o.path));
                        }
                        differences.extend(
                            d.into_iter()
                                .map(|l| format!("{} (recorded != re-run): {l}", o.path)),
                        );
                    }
                    _ => differences.push(format!("{}: not valid JSON", o.path)),
                }
            } else {
                differences.push(format!("{}: differs from the re-run", o.path));
            }
        }
        for o in &rerun.outputs {
            if !self.manifest.outputs.iter().any(|m| m.path == o.path) {
                differences.push(format!(
                    "{}: produced by the re-run but not recorded",
                    o.path
                ));
            }
        }
        if differences.is_empty() {
            Ok(rerun)
        } else {
            Err(RunError::Mismatch { differences })
        }
    }
}
