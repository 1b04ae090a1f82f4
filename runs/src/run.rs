//! [`RunSpec`] → [`PreparedRun`] → [`RunOutput`]: the one orchestration of a run that every
//! front uses. A run simulates one or more *legs* with the same seed and path range (common
//! random numbers): the base portfolio, then either the five standard bumps (sensitivities)
//! or each stress scenario; and values every leg. The run's files (typed results, their bytes,
//! the report and the manifest) are built from the valued legs in `rundir.rs`.

use crate::control::RunControl;
use crate::error::{Result, RunError};
use crate::input::{PortfolioInput, ScenarioInput};
use crate::manifest::{Manifest, RunKind, SCHEMA_VERSION};
use crate::results::{Results, StressResults};
use gaib_engine::{DiscountCurve, Portfolio};
use gaib_pricing::{standard_bumps, ImpliedSpread, MarketPrice, Sensitivity, Valuation};
use gaib_simulator::{
    lower, select_backend, Availability, Backend, BackendChoice, CpuBackend, PathSink, PathStats,
    RunOptions, SimError, SimPlan, Simulation, MAX_PATHS_PER_SEED,
};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::time::Instant;

/// Most paths one run accepts (beyond this a request is taken as a typo).
pub const MAX_PATHS: u64 = 10_000_000_000;

/// Which backend a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendSelection {
    /// The CPU backend (rayon).
    #[default]
    Cpu,
    /// The CUDA backend (an error where it is not available).
    Cuda,
    /// The fastest available backend, falling back to CPU with the reason in the notes.
    Auto,
}

impl std::str::FromStr for BackendSelection {
    type Err = RunError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "auto" => Ok(Self::Auto),
            other => Err(RunError::argument(
                "backend",
                other,
                "expected cpu, cuda or auto",
            )),
        }
    }
}

/// Stand-in for a backend this build does not contain (the CUDA backend lives in
/// `gaib-gpu-kernels`), so `auto` can say why it fell back.
struct NotBuilt(&'static str);

impl Backend for NotBuilt {
    fn name(&self) -> &'static str {
        self.0
    }
    fn availability(&self) -> Availability {
        Availability::Unavailable("not built into this binary".into())
    }
    fn threads(&self) -> usize {
        0
    }
    fn simulate(&self, _: &SimPlan, _: Simulation<'_>) -> gaib_simulator::Result<PathStats> {
        Err(SimError::Unavailable {
            backend: self.0.into(),
            reason: "not built into this binary".into(),
        })
    }
}

/// Why the CUDA backend cannot run in this process, if it cannot; probed once per process
/// (loading the driver and, on a device, the kernel) and remembered, so a queue can answer a
/// run that names `cuda` at submit without building a backend per run. A driver or device
/// does not appear while a process runs.
fn cuda_unavailable() -> Option<String> {
    #[cfg(feature = "cuda")]
    {
        static PROBE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        PROBE
            .get_or_init(
                || match gaib_gpu_kernels::CudaBackend::new().availability() {
                    Availability::Available => None,
                    Availability::Unavailable(reason) => Some(reason),
                },
            )
            .clone()
    }
    #[cfg(not(feature = "cuda"))]
    {
        Some("not built into this binary".into())
    }
}

/// Picks the backend for `selection` with `threads` CPU threads (None: all CPUs); returns it
/// and a note for every backend `auto` skipped, with the reason.
pub fn select(
    selection: BackendSelection,
    threads: Option<usize>,
) -> Result<(Box<dyn Backend>, Vec<String>)> {
    if threads == Some(0) {
        return Err(RunError::argument("threads", 0, "must be at least 1"));
    }
    let cpu = CpuBackend::new(threads)?;
    // Only a run that may use CUDA loads it (on a device: the kernel from the cache or NVRTC).
    let cuda: Box<dyn Backend> = match selection {
        BackendSelection::Cpu => Box::new(NotBuilt("cuda")),
        #[cfg(feature = "cuda")]
        BackendSelection::Cuda | BackendSelection::Auto => {
            Box::new(gaib_gpu_kernels::CudaBackend::new())
        }
        #[cfg(not(feature = "cuda"))]
        BackendSelection::Cuda | BackendSelection::Auto => Box::new(NotBuilt("cuda")),
    };
    let candidates: Vec<Box<dyn Backend>> = vec![cuda, Box::new(cpu)];
    let choice = match selection {
        BackendSelection::Cpu => BackendChoice::Named("cpu"),
        BackendSelection::Cuda => BackendChoice::Named("cuda"),
        BackendSelection::Auto => BackendChoice::Auto,
    };
    let (b, notes) = select_backend(candidates, choice)?;
    let notes = notes
        .into_iter()
        .map(|n| format!("backend {n}; falling back to {}", b.name()))
        .collect();
    Ok((b, notes))
}

/// Everything that determines a run's results (and, for the backend and threads, how it is
/// computed — results never depend on them).
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The portfolio, parsed and validated, with its bytes.
    pub portfolio: PortfolioInput,
    /// Stress scenarios (a stress run when not empty), compared in this order.
    pub scenarios: Vec<ScenarioInput>,
    /// Seed of the random numbers.
    pub seed: u64,
    /// First path index (0 for a whole run; a shard of a larger run starts later).
    pub path_start: u64,
    /// Number of paths: indices `path_start .. path_start + paths`.
    pub paths: u64,
    /// Which backend.
    pub backend: BackendSelection,
    /// CPU threads (None: all CPUs).
    pub threads: Option<usize>,
    /// Also bump and revalue the five standard sensitivities.
    pub sensitivities: bool,
    /// Market prices whose implied discount spreads the results report (`gaib run --price`).
    pub market_prices: Vec<MarketPrice>,
}

impl RunSpec {
    /// A plain CPU run of `paths` paths from index 0 under `seed`.
    pub fn new(portfolio: PortfolioInput, paths: u64, seed: u64) -> Self {
        Self {
            portfolio,
            scenarios: Vec::new(),
            seed,
            path_start: 0,
            paths,
            backend: BackendSelection::Cpu,
            threads: None,
            sensitivities: false,
            market_prices: Vec::new(),
        }
    }

    /// What kind of run this is.
    pub fn kind(&self) -> RunKind {
        if !self.scenarios.is_empty() {
            RunKind::Stress
        } else if self.sensitivities {
            RunKind::Sensitivities
        } else {
            RunKind::Plain
        }
    }

    /// Number of legs: 1, plus the five standard bumps with sensitivities, plus one per
    /// scenario, plus the `unhedged` leg when a derivative hedges a fleet.
    pub fn leg_count(&self) -> usize {
        let bumps = if self.sensitivities {
            standard_bumps(self.portfolio.portfolio()).len()
        } else {
            0
        };
        let unhedged = usize::from(self.portfolio.portfolio().has_hedges());
        1 + bumps + self.scenarios.len() + unhedged
    }

    /// The path indices of the run.
    pub fn path_range(&self) -> Range<u64> {
        self.path_start..self.path_start.saturating_add(self.paths)
    }

    /// Checks the arguments: 1 ..= 1e10 paths, the range inside 0..2^32, at least one thread,
    /// not both sensitivities and scenarios, the market prices.
    fn check_arguments(&self) -> Result<()> {
        if self.threads == Some(0) {
            return Err(RunError::argument("threads", 0, "must be at least 1"));
        }
        if self.paths == 0 {
            return Err(RunError::argument("paths", 0, "must be at least 1"));
        }
        if self.paths > MAX_PATHS {
            return Err(RunError::argument(
                "paths",
                self.paths,
                format!("absurd (more than 1e10 = {MAX_PATHS})"),
            ));
        }
        let end = self.path_start.checked_add(self.paths);
        if end.is_none_or(|e| e > MAX_PATHS_PER_SEED) {
            return Err(RunError::argument(
                "paths",
                format!("{}..{}+{}", self.path_start, self.path_start, self.paths),
                format!(
                    "at most 2^32 = {MAX_PATHS_PER_SEED} paths per seed: indices must lie in \
                     0..2^32 (split the run over seeds)"
                ),
            ));
        }
        if self.sensitivities && !self.scenarios.is_empty() {
            return Err(RunError::argument(
                "sensitivities",
                true,
                "a stress run does not also compute sensitivities: run them separately",
            ));
        }
        self.check_market_prices()
    }

    /// Every market price names a tranche (`POOL/TRANCHE`) or deal of the portfolio once, at a
    /// positive, finite percent of par.
    fn check_market_prices(&self) -> Result<()> {
        let p = self.portfolio.portfolio();
        let known: Vec<String> = p
            .pools
            .iter()
            .flat_map(|q| q.tranches.iter().map(move |t| format!("{}/{}", q.id, t.id)))
            .chain(p.deals.iter().map(|d| d.id.clone()))
            .collect();
        for (i, m) in self.market_prices.iter().enumerate() {
            let value = format!("{}={}", m.id, m.price_pct);
            if !known.contains(&m.id) {
                return Err(RunError::argument(
                    "price",
                    value,
                    format!(
                        "no tranche or deal {:?} (known: {})",
                        m.id,
                        known.join(", ")
                    ),
                ));
            }
            if !m.price_pct.is_finite() || m.price_pct <= 0.0 {
                return Err(RunError::argument(
                    "price",
                    value,
                    "the price must be a positive percent of par",
                ));
            }
            if self.market_prices[..i].iter().any(|o| o.id == m.id) {
                return Err(RunError::argument("price", value, "given more than once"));
            }
        }
        Ok(())
    }

    /// The legs of the run: the base portfolio, then each bump or scenario applied to it,
    /// then — when a derivative hedges a fleet — the base portfolio without its hedges
    /// (MODEL.md §10.4; the hedge comparison of `results.json`).
    fn legs(&self) -> Result<Vec<LegInput>> {
        let base = self.portfolio.portfolio();
        let mut legs = vec![LegInput {
            id: LegId::Base,
            portfolio: base.clone(),
        }];
        if self.sensitivities {
            for b in standard_bumps(base) {
                legs.push(LegInput {
                    portfolio: b.scenario.apply(base, b.id)?,
                    id: LegId::Bump {
                        id: b.id.to_string(),
                        description: b.description,
                    },
                });
            }
        }
        for (i, s) in self.scenarios.iter().enumerate() {
            legs.push(LegInput {
                portfolio: s.scenario.apply(base, &s.file.source)?,
                id: LegId::Scenario(i),
            });
        }
        if base.has_hedges() {
            legs.push(LegInput {
                id: LegId::Unhedged,
                portfolio: base.without_hedges(),
            });
        }
        Ok(legs)
    }

    /// Checks the arguments (and, for a run that names `cuda`, that CUDA can run in this
    /// process: probed once per process), applies every scenario and bump and lowers every
    /// leg: every answer to bad input, without choosing (or building) a backend for this run — the answer a queue gives when it accepts a run, which it then
    /// holds as the [`CheckedRun`] until it executes it.
    pub fn check(self) -> Result<CheckedRun> {
        self.check_arguments()?;
        if self.backend == BackendSelection::Cuda {
            if let Some(reason) = cuda_unavailable() {
                return Err(SimError::Unavailable {
                    backend: "cuda".into(),
                    reason,
                }
                .into());
            }
        }
        let legs = self
            .legs()?
            .into_iter()
            .map(|l| {
                let plan = lower(&l.portfolio)?;
                Ok((l, plan))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CheckedRun { spec: self, legs })
    }

    /// [`RunSpec::check`], then picks the backend — everything that can fail on bad input
    /// fails here, before any path is simulated.
    pub fn prepare(self) -> Result<PreparedRun> {
        self.check()?.prepare()
    }
}

/// Which leg of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LegId {
    Base,
    Bump {
        id: String,
        description: String,
    },
    Scenario(usize),
    /// The base portfolio without its hedges (same seed and paths).
    Unhedged,
}

impl LegId {
    /// `base`, the bump id or the scenario id.
    pub(crate) fn label<'a>(&'a self, spec: &'a RunSpec) -> &'a str {
        match self {
            LegId::Base => "base",
            LegId::Bump { id, .. } => id,
            LegId::Scenario(i) => &spec.scenarios[*i].scenario.id,
            LegId::Unhedged => "unhedged",
        }
    }
}

#[derive(Debug, Clone)]
struct LegInput {
    id: LegId,
    portfolio: Portfolio,
}

/// A run checked ([`RunSpec::check`]): arguments checked, scenarios and bumps applied, every
/// leg lowered; its backend not yet chosen.
#[derive(Debug, Clone)]
pub struct CheckedRun {
    spec: RunSpec,
    legs: Vec<(LegInput, SimPlan)>,
}

impl CheckedRun {
    /// Picks the backend (building it: the CUDA backend loads its kernel), which can fail when
    /// the named backend is unavailable here.
    pub fn prepare(self) -> Result<PreparedRun> {
        let (backend, notes) = select(self.spec.backend, self.spec.threads)?;
        Ok(PreparedRun {
            run: self,
            backend,
            notes,
        })
    }

    /// The base portfolio's simulation plan (for sizing per-path output).
    pub fn base_plan(&self) -> &SimPlan {
        &self.legs[0].1
    }

    /// The spec.
    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    /// Number of legs (1 for a plain run, 6 with sensitivities, 1 + scenarios for stress; one
    /// more with hedges).
    pub fn legs(&self) -> usize {
        self.legs.len()
    }

    /// Paths over all legs.
    pub fn paths_total(&self) -> u64 {
        self.spec.paths * self.legs.len() as u64
    }

    /// Deal-steps per path of the base leg (deals × months), for throughput figures.
    pub fn deal_steps_per_path(&self) -> u64 {
        self.legs[0].1.deal_steps_per_path()
    }
}

/// A run ready to execute: checked ([`CheckedRun`]) and its backend chosen.
pub struct PreparedRun {
    run: CheckedRun,
    backend: Box<dyn Backend>,
    notes: Vec<String>,
}

impl std::fmt::Debug for PreparedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRun")
            .field("backend", &self.backend.name())
            .field("legs", &self.run.legs())
            .finish()
    }
}

impl std::ops::Deref for PreparedRun {
    type Target = CheckedRun;

    /// The checked run: plans, spec, legs and paths of a prepared run.
    fn deref(&self) -> &CheckedRun {
        &self.run
    }
}

impl PreparedRun {
    /// Why `auto` skipped a backend, one line each (empty when nothing was skipped).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The chosen backend's name.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// The chosen backend's worker count.
    pub fn threads(&self) -> usize {
        self.backend.threads()
    }

    /// Simulates every leg (the base leg's per-path rows go to `sink` when given), values
    /// them and assembles the output. Stops between chunks when `control.cancel` is
    /// cancelled, returning [`RunError::Cancelled`].
    pub fn execute(
        self,
        control: &RunControl,
        sink: Option<&mut dyn PathSink>,
    ) -> Result<RunOutput> {
        let start = Instant::now();
        let total = self.paths_total();
        let opts = RunOptions {
            cancel: Some(control.cancel.flag()),
            ..RunOptions::default()
        };
        let mut stats = Vec::with_capacity(self.run.legs.len());
        let mut sink = sink;
        for (k, (leg, plan)) in self.run.legs.iter().enumerate() {
            let label = leg.id.label(&self.run.spec);
            let offset = k as u64 * self.run.spec.paths;
            // Per-path rows are the base leg's only.
            let leg_sink = sink.take();
            stats.push(self.simulate_leg(plan, label, offset, total, &opts, control, leg_sink)?);
        }
        if control.cancel.is_cancelled() {
            return Err(RunError::Cancelled);
        }
        let elapsed_s = start.elapsed().as_secs_f64();
        let legs = self
            .run
            .legs
            .into_iter()
            .zip(stats)
            .map(|((l, _), s)| (l, s))
            .collect();
        assemble(
            self.run.spec,
            Computed {
                made: Provenance {
                    backend: self.backend.name().to_string(),
                    threads: self.backend.threads(),
                    elapsed_s,
                    created_unix_s: unix_now(),
                },
                legs,
                notes: self.notes,
            },
        )
    }

    /// One leg in one backend call, which reports progress (and checks cancellation) between
    /// its units of work.
    #[allow(clippy::too_many_arguments)]
    fn simulate_leg(
        &self,
        plan: &SimPlan,
        label: &str,
        offset: u64,
        total: u64,
        opts: &RunOptions,
        control: &RunControl,
        sink: Option<&mut dyn PathSink>,
    ) -> Result<PathStats> {
        if control.cancel.is_cancelled() {
            return Err(RunError::Cancelled);
        }
        let mut done = offset;
        control.report(label, done, total);
        let mut progress = |n: u64| {
            done += n;
            control.report(label, done, total);
        };
        let mut sim = Simulation::new(self.run.spec.path_range(), self.run.spec.seed, opts)
            .with_progress(&mut progress);
        if let Some(sink) = sink {
            sim = sim.with_sink(sink);
        }
        Ok(self.backend.simulate(plan, sim)?)
    }
}

/// What simulation produced, before assembly.
struct Computed {
    made: Provenance,
    legs: Vec<(LegInput, PathStats)>,
    notes: Vec<String>,
}

/// Which backend computed a run and when: the manifest's record of it.
pub(crate) struct Provenance {
    /// Backend name.
    pub(crate) backend: String,
    /// Its worker count.
    pub(crate) threads: usize,
    /// Wall-clock seconds.
    pub(crate) elapsed_s: f64,
    /// Unix time it finished, seconds.
    pub(crate) created_unix_s: u64,
}

/// The statistics and valuation of one leg beyond the base.
#[derive(Debug, Clone)]
pub struct Leg {
    /// The bump id or scenario id.
    pub id: String,
    /// The leg's statistics.
    pub stats: PathStats,
    /// Their valuation.
    pub valuation: Valuation,
}

/// One output file's name and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputBytes {
    /// Path relative to the run directory.
    pub path: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a run produced: typed results, the bytes of every output file, and the manifest.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The spec it was run from.
    pub spec: RunSpec,
    /// The base portfolio's results (statistics and valuation).
    pub results: Results,
    /// Bump-and-revalue results (a sensitivities run).
    pub sensitivities: Option<Vec<Sensitivity>>,
    /// The comparison (a stress run).
    pub stress: Option<StressResults>,
    /// Every leg beyond the base (bumps or scenarios), with its statistics and valuation.
    pub legs: Vec<Leg>,
    /// The output files, `results.json` first, `report.html` last.
    pub outputs: Vec<OutputBytes>,
    /// The manifest (its `outputs` hash `outputs`).
    pub manifest: Manifest,
    /// Notes on backend selection.
    pub notes: Vec<String>,
}

impl RunOutput {
    /// The base valuation.
    pub fn valuation(&self) -> &Valuation {
        &self.results.valuation
    }

    /// The base statistics.
    pub fn stats(&self) -> &PathStats {
        &self.results.stats
    }

    /// The bytes of output `path` (e.g. `results.json`).
    pub fn output(&self, path: &str) -> Option<&[u8]> {
        self.outputs
            .iter()
            .find(|o| o.path == path)
            .map(|o| o.bytes.as_slice())
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Every leg of a run simulated and valued: the numbers its files are built from
/// ([`RunOutput::build`] in `rundir.rs`).
pub(crate) struct Valued {
    /// The base portfolio's statistics.
    pub(crate) base_stats: PathStats,
    /// Their valuation.
    pub(crate) base_valuation: Valuation,
    /// The discount spread each of the spec's market prices implies, in their order.
    pub(crate) implied_spreads: Vec<ImpliedSpread>,
    /// Every leg beyond the base (bumps or scenarios), in leg order.
    pub(crate) extra: Vec<(LegId, PathStats, Valuation)>,
    /// Which backend computed it and when.
    pub(crate) made: Provenance,
    /// Notes on backend selection.
    pub(crate) notes: Vec<String>,
}

/// Values every leg and the market prices' implied spreads. The same function serves a fresh
/// run and a merge, so that both give the same bytes.
fn value_legs(spec: &RunSpec, c: Computed) -> Result<Valued> {
    let mut legs = c.legs.into_iter();
    let (base_leg, base_stats) = legs
        .next()
        .ok_or_else(|| RunError::NotMergeable("no legs".into()))?;
    let base_valuation = gaib_pricing::value(&base_leg.portfolio, &base_stats)?;
    let mut extra = Vec::new();
    for (leg, stats) in legs {
        let valuation = gaib_pricing::value(&leg.portfolio, &stats)?;
        extra.push((leg.id, stats, valuation));
    }
    let implied_spreads = gaib_pricing::implied_spreads(
        &base_valuation,
        &DiscountCurve::new(&spec.portfolio.portfolio().market.discount_curve),
        &spec.market_prices,
    )?;
    Ok(Valued {
        base_stats,
        base_valuation,
        implied_spreads,
        extra,
        made: c.made,
        notes: c.notes,
    })
}

/// Values every leg, then builds results, output files and manifest.
fn assemble(spec: RunSpec, c: Computed) -> Result<RunOutput> {
    let valued = value_legs(&spec, c)?;
    RunOutput::build(spec, valued)
}

/// The exact statistics of a run (or a shard of one) without its inputs: what a worker of a
/// cluster ships back to the client, which holds the [`RunSpec`] and rebuilds the output with
/// [`RunOutput::from_shard`], then [`merge`]s the shards in path order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// SHA-256 of every input (portfolio, loan tape, scenarios), in the manifest's order.
    pub input_sha256: Vec<String>,
    /// The seed.
    pub seed: u64,
    /// Whether the legs include the sensitivities' bumps.
    pub sensitivities: bool,
    /// First path index.
    pub path_start: u64,
    /// Number of paths.
    pub paths: u64,
    /// Backend that ran it.
    pub backend: String,
    /// Its worker count.
    pub threads: usize,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
    /// Unix time it finished, seconds.
    pub created_unix_s: u64,
    /// Statistics of every leg, base first.
    pub stats: Vec<PathStats>,
}

fn input_hashes(spec: &RunSpec) -> Vec<String> {
    spec.portfolio
        .files()
        .chain(spec.scenarios.iter().map(|x| &x.file))
        .map(|f| f.sha256.clone())
        .collect()
}

impl RunOutput {
    /// This run's statistics as a [`Shard`].
    pub fn to_shard(&self) -> Shard {
        Shard {
            schema_version: SCHEMA_VERSION,
            input_sha256: input_hashes(&self.spec),
            seed: self.spec.seed,
            sensitivities: self.spec.sensitivities,
            path_start: self.spec.path_start,
            paths: self.spec.paths,
            backend: self.manifest.backend.clone(),
            threads: self.manifest.threads,
            elapsed_s: self.manifest.elapsed_s,
            created_unix_s: self.manifest.created_unix_s,
            stats: std::iter::once(self.stats())
                .chain(self.legs.iter().map(|l| &l.stats))
                .cloned()
                .collect(),
        }
    }

    /// Rebuilds a run's output from a [`Shard`] computed elsewhere for the inputs of `spec`
    /// (its seed, path range and leg statistics are the shard's). Refuses a shard of other
    /// inputs, seed, kind, schema or model version.
    pub fn from_shard(spec: &RunSpec, shard: Shard) -> Result<RunOutput> {
        let refuse = |why: String| Err(RunError::NotMergeable(format!("shard: {why}")));
        if shard.schema_version != SCHEMA_VERSION {
            return refuse(format!("schema_version {}", shard.schema_version));
        }
        if shard.input_sha256 != input_hashes(spec) {
            return refuse("computed from other inputs".into());
        }
        // Same inputs, same seed and paths, but another model version (a worker running an
        // older or newer gaib) gives other numbers: merging them would mix two models.
        if let Some(s) = shard
            .stats
            .iter()
            .find(|s| s.model_version != gaib_simulator::MODEL_VERSION)
        {
            return refuse(format!(
                "computed under model version {}, this gaib simulates version {}",
                s.model_version,
                gaib_simulator::MODEL_VERSION
            ));
        }
        if shard.sensitivities != spec.sensitivities {
            return refuse("of another kind of run".into());
        }
        let spec = RunSpec {
            seed: shard.seed,
            path_start: shard.path_start,
            paths: shard.paths,
            ..spec.clone()
        };
        let legs = spec.legs()?;
        if legs.len() != shard.stats.len() {
            return refuse(format!(
                "{} legs of statistics for a run of {}",
                shard.stats.len(),
                legs.len()
            ));
        }
        if shard.stats.iter().any(|s| s.paths != shard.paths) {
            return refuse("statistics over another number of paths".into());
        }
        assemble(
            spec,
            Computed {
                made: Provenance {
                    backend: shard.backend,
                    threads: shard.threads,
                    elapsed_s: shard.elapsed_s,
                    created_unix_s: shard.created_unix_s,
                },
                legs: legs.into_iter().zip(shard.stats).collect(),
                notes: Vec::new(),
            },
        )
    }
}

/// Merges the statistics of two runs of the same inputs and seed over adjacent path ranges
/// (in either order) into the output of one run over the union: exactly — the merged results,
/// valuation and output files equal, byte for byte, those of a single run over the union
/// (`PathStats` sums are exact integers). The manifest's elapsed time is the sum, its creation
/// time the later of the two.
pub fn merge(a: &RunOutput, b: &RunOutput) -> Result<RunOutput> {
    let same = |what: &str, x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug, eq: bool| {
        if eq {
            Ok(())
        } else {
            Err(RunError::NotMergeable(format!(
                "different {what}: {x:?} and {y:?}"
            )))
        }
    };
    let (sa, sb) = (&a.spec, &b.spec);
    same(
        "portfolio",
        &sa.portfolio.sha256(),
        &sb.portfolio.sha256(),
        sa.portfolio.sha256() == sb.portfolio.sha256(),
    )?;
    let ref_hashes = input_hashes;
    same(
        "inputs",
        &ref_hashes(sa),
        &ref_hashes(sb),
        ref_hashes(sa) == ref_hashes(sb),
    )?;
    same("seed", &sa.seed, &sb.seed, sa.seed == sb.seed)?;
    same(
        "market prices",
        &sa.market_prices,
        &sb.market_prices,
        sa.market_prices == sb.market_prices,
    )?;
    same(
        "sensitivities",
        &sa.sensitivities,
        &sb.sensitivities,
        sa.sensitivities == sb.sensitivities,
    )?;
    let (first, second) = if sa.path_range().end == sb.path_start {
        (a, b)
    } else if sb.path_range().end == sa.path_start {
        (b, a)
    } else {
        return Err(RunError::NotMergeable(format!(
            "path ranges {:?} and {:?} are not adjacent",
            sa.path_range(),
            sb.path_range()
        )));
    };
    let mut spec = first.spec.clone();
    spec.paths += second.spec.paths;
    let leg_inputs = spec.legs()?;
    let pairs = std::iter::once((first.stats(), second.stats())).chain(
        first
            .legs
            .iter()
            .map(|l| &l.stats)
            .zip(second.legs.iter().map(|l| &l.stats)),
    );
    let mut legs = Vec::new();
    for (leg, (x, y)) in leg_inputs.into_iter().zip(pairs) {
        let mut s = x.clone();
        s.merge(y);
        legs.push((leg, s));
    }
    assemble(
        spec,
        Computed {
            made: Provenance {
                backend: first.manifest.backend.clone(),
                threads: first.manifest.threads,
                elapsed_s: first.manifest.elapsed_s + second.manifest.elapsed_s,
                created_unix_s: first
                    .manifest
                    .created_unix_s
                    .max(second.manifest.created_unix_s),
            },
            legs,
            notes: Vec::new(),
        },
    )
}

#[cfg(test)]
mod cuda_selection_tests {
    use super::*;

    /// Without a GPU (CI, this machine) `auto` falls back to the CPU naming why, and `cuda`
    /// fails with the same reason; on a GPU machine `auto` picks CUDA.
    #[test]
    fn auto_falls_back_to_cpu_naming_why_cuda_is_unavailable() {
        let (b, notes) = select(BackendSelection::Auto, Some(1)).unwrap();
        if b.name() == "cpu" {
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert!(notes[0].starts_with("backend cuda: "), "{notes:?}");
            assert!(notes[0].ends_with("; falling back to cpu"), "{notes:?}");
            let Err(err) = select(BackendSelection::Cuda, Some(1)) else {
                panic!("--backend cuda must fail where auto fell back");
            };
            let err = err.to_string();
            assert!(err.contains("cuda") && err.contains("unavailable"), "{err}");
        } else {
            assert_eq!(b.name(), "cuda");
        }
    }
}
