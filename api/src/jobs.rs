//! Simulations as persisted jobs on a bounded worker pool.
//!
//! A job is written to the database (state `queued`, with the scenarios' texts) before the
//! service answers 202. `workers` threads claim queued jobs oldest first; each job gets its own
//! [`CancelToken`], and runs through `gaib-runs` exactly as `gaib run` does: the spec is built
//! from the stored portfolio and request, prepared, executed with a progress callback, and
//! written as a run directory with [`OutDir`]. A vault's valuation is then appended to the
//! valuations table in the same transaction that marks the job succeeded — published, or held
//! with the reason when a publish guard ([`crate::valuation::hold_of`]) stops it.
//!
//! Workers take jobs round-robin between keys ([`crate::db::Db::claim_next_job`]), so one key's
//! queue cannot keep another key's job waiting behind all of it.
//!
//! After a crash, [`crate::db::Db::recover`] re-queues interrupted jobs (or fails them with the
//! reason after `max_attempts`); on a graceful shutdown running jobs are cancelled and
//! re-queued without using up an attempt.

use crate::arrow_rows::ArrowSink;
use crate::db::{state, Db, JobRow, StoredScenario};
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::valuation::{Collateral, Valuation};
use gaib_runs::{
    BackendSelection, CancelToken, CheckedRun, ErrorClass, OutDir, PortfolioInput, RowsFile,
    RunControl, RunError, RunSpec, ScenarioInput,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// `POST /v1/simulations`: what to simulate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationRequest {
    /// The service's id of a stored portfolio (`POST /v1/portfolios`).
    pub portfolio_id: String,
    /// Monte Carlo paths.
    pub paths: u64,
    /// Seed of the random numbers.
    pub seed: u64,
    /// First path index (default 0).
    #[serde(default)]
    pub path_start: u64,
    /// Stress scenarios by name (e.g. `gpu-glut`), looked up as `gaib stress` does.
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// Also bump and revalue the standard sensitivities.
    #[serde(default)]
    pub sensitivities: bool,
    /// `cpu` (default), `cuda` or `auto`.
    #[serde(default)]
    pub backend: Option<String>,
    /// Keep the per-path rows (the Arrow stream of the results); default: when the job has at
    /// most the configured number of paths.
    #[serde(default)]
    pub path_rows: Option<bool>,
}

/// A stored job's request with its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredRequest {
    request: SimulationRequest,
    path_rows: bool,
}

fn valid_scenario_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Builds a run's spec from a stored portfolio, a request and the scenarios' texts.
fn spec_of(
    body: &[u8],
    req: &SimulationRequest,
    scenarios: &[StoredScenario],
    threads: Option<usize>,
) -> Result<RunSpec, RunError> {
    let portfolio = PortfolioInput::from_json_body(body)?;
    let backend = match req.backend.as_deref() {
        None => BackendSelection::Cpu,
        Some(b) => b.parse()?,
    };
    let scenarios = scenarios
        .iter()
        .map(|s| ScenarioInput::from_bytes(s.text.clone().into_bytes(), &s.source, &s.source))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RunSpec {
        scenarios,
        path_start: req.path_start,
        backend,
        threads,
        sensitivities: req.sensitivities,
        ..RunSpec::new(portfolio, req.paths, req.seed)
    })
}

/// A job in progress.
#[derive(Debug)]
struct Running {
    cancel: CancelToken,
    paths_done: Arc<AtomicU64>,
    by_shutdown: Arc<AtomicBool>,
}

/// Settings of the pool.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Worker threads.
    pub workers: usize,
    /// CPU threads per simulation.
    pub threads: Option<usize>,
    /// Run directories.
    pub runs_dir: PathBuf,
    /// Validity of published valuations, seconds.
    pub valid_for_s: u64,
    /// Per-key job limit.
    pub max_jobs_per_key: u32,
    /// Most paths per job.
    pub max_paths_per_job: u64,
    /// Default per-path rows up to this many paths.
    pub path_rows_max_paths: u64,
    /// When a finished job's valuation is published rather than held.
    pub guards: crate::valuation::Guards,
}

/// The latest valuation of each asset, with its collateral answer pre-serialised.
#[derive(Debug, Default)]
pub struct Latest {
    map: RwLock<HashMap<String, (Arc<Valuation>, axum::body::Bytes)>>,
    /// Notified on every new valuation (wakes the keeper).
    pub changed: Arc<tokio::sync::Notify>,
}

impl Latest {
    /// Records a new latest valuation.
    pub fn set(&self, v: Valuation) {
        let body = serde_json::to_vec(&Collateral::from(&v)).unwrap_or_default();
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(v.asset.clone(), (Arc::new(v), body.into()));
        self.changed.notify_one();
    }

    /// The latest valuation of `asset`.
    pub fn valuation(&self, asset: &str) -> Option<Arc<Valuation>> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(asset)
            .map(|(v, _)| v.clone())
    }

    /// The collateral JSON of `asset`.
    pub fn collateral_json(&self, asset: &str) -> Option<axum::body::Bytes> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(asset)
            .map(|(_, b)| b.clone())
    }
}

struct Inner {
    db: Arc<Db>,
    cfg: PoolConfig,
    metrics: Arc<Metrics>,
    latest: Arc<Latest>,
    running: Mutex<HashMap<String, Running>>,
    /// Queued jobs' runs as `submit` checked them, so a worker of this process runs them
    /// without parsing, validating and lowering their inputs again (a job recovered at
    /// start-up has none: its run is rebuilt from the database).
    checked: Mutex<HashMap<String, CheckedRun>>,
    wake: Condvar,
    wake_flag: Mutex<bool>,
    shutdown: AtomicBool,
}

/// The worker pool.
pub struct Jobs {
    inner: Arc<Inner>,
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("workers", &self.inner.cfg.workers)
            .finish()
    }
}

/// What `submit` returns.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The job id.
    pub id: String,
}

impl Jobs {
    /// Recovers interrupted jobs and starts the workers.
    pub fn start(
        db: Arc<Db>,
        cfg: PoolConfig,
        max_attempts: u32,
        metrics: Arc<Metrics>,
        latest: Arc<Latest>,
    ) -> Result<Self, crate::db::DbError> {
        let (restarted, failed) = db.recover(max_attempts)?;
        if restarted + failed > 0 {
            tracing::warn!(restarted, failed, "recovered jobs interrupted by a stop");
        }
        std::fs::create_dir_all(&cfg.runs_dir).map_err(|source| crate::db::DbError::Io {
            path: cfg.runs_dir.display().to_string(),
            source,
        })?;
        let inner = Arc::new(Inner {
            db,
            cfg,
            metrics,
            latest,
            running: Mutex::new(HashMap::new()),
            checked: Mutex::new(HashMap::new()),
            wake: Condvar::new(),
            wake_flag: Mutex::new(false),
            shutdown: AtomicBool::new(false),
        });
        let workers = (0..inner.cfg.workers)
            .map(|i| {
                let inner = inner.clone();
                std::thread::Builder::new()
                    .name(format!("gaib-worker-{i}"))
                    .spawn(move || worker(&inner))
                    .map_err(|source| crate::db::DbError::Io {
                        path: "worker thread".into(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inner,
            workers: Mutex::new(workers),
        })
    }

    /// Whether every worker thread is alive.
    pub fn alive(&self) -> bool {
        let w = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        !w.is_empty() && w.iter().all(|h| !h.is_finished())
    }

    /// The run directory of a job.
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.inner.cfg.runs_dir.join(id)
    }

    /// The per-path rows file of a job.
    pub fn rows_file(&self, id: &str) -> PathBuf {
        self.inner.cfg.runs_dir.join(format!("{id}.arrows"))
    }

    /// Paths done of a running job (None when it is not running here).
    pub fn progress(&self, id: &str) -> Option<u64> {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .map(|r| r.paths_done.load(Ordering::Relaxed))
    }

    /// Checks a request, stores the job (queued) and wakes a worker. Everything that can fail
    /// on bad input fails here ([`RunSpec::check`]: no backend is built), before the job is
    /// stored; the checked run is handed to the worker.
    pub fn submit(&self, key_id: &str, req: SimulationRequest) -> Result<Submitted, Problem> {
        let c = &self.inner.cfg;
        if req.paths > c.max_paths_per_job {
            return Err(Problem::invalid_field(
                "paths",
                req.paths.to_string(),
                format!(
                    "this service runs at most {} paths per job",
                    c.max_paths_per_job
                ),
            ));
        }
        let mut scenarios = Vec::new();
        for (i, name) in req.scenarios.iter().enumerate() {
            if !valid_scenario_name(name) {
                return Err(Problem::invalid_field(
                    format!("scenarios[{i}]"),
                    name,
                    "a scenario name: letters, digits, '-' and '_' (e.g. gpu-glut)",
                ));
            }
            let path = gaib_runs::locate_scenario(name, None).map_err(|e| {
                let mut p = Problem::from(e);
                for f in &mut p.errors {
                    f.path = format!("scenarios[{i}]");
                }
                p
            })?;
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Problem::invalid_field(format!("scenarios[{i}]"), name, format!("unreadable: {e}"))
            })?;
            scenarios.push(StoredScenario {
                source: path.display().to_string(),
                text,
            });
        }
        let owned = self.inner.db.owns_portfolio(&req.portfolio_id, key_id)?;
        let row = self
            .inner
            .db
            .portfolio(&req.portfolio_id)?
            .filter(|_| owned)
            .ok_or_else(|| {
                Problem::invalid_field(
                    "portfolio_id",
                    &req.portfolio_id,
                    "no such portfolio stored by this key (POST /v1/portfolios first)",
                )
            })?;
        let checked = spec_of(&row.body, &req, &scenarios, c.threads)?.check()?;
        let paths_total = checked.paths_total();
        let path_rows = match req.path_rows {
            Some(true) if req.paths > c.path_rows_max_paths => {
                return Err(Problem::invalid_field(
                    "path_rows",
                    "true",
                    format!(
                        "per-path rows are kept for jobs of at most {} paths",
                        c.path_rows_max_paths
                    ),
                ));
            }
            Some(b) => b,
            None => req.paths <= c.path_rows_max_paths,
        };
        let id = self.new_job_id(key_id)?;
        let stored = StoredRequest {
            request: req.clone(),
            path_rows,
        };
        let job = JobRow {
            id: id.clone(),
            key_id: key_id.to_string(),
            portfolio_id: req.portfolio_id.clone(),
            request: serde_json::to_string(&stored).map_err(Problem::internal)?,
            scenarios,
            state: state::QUEUED.into(),
            paths_total: paths_total as i64,
            paths_done: 0,
            attempts: 0,
            error: None,
            error_class: None,
            run_id: None,
            created_at: crate::db::now(),
            started_at: None,
            finished_at: None,
        };
        self.inner.db.insert_job(&job)?;
        self.inner
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), checked);
        tracing::info!(job = %id, paths = req.paths, seed = req.seed, "job queued");
        self.inner.notify();
        Ok(Submitted { id })
    }

    /// Cancels a job: a queued one at once, a running one through its token (it stops at the
    /// next chunk). Returns false when the job has already finished.
    pub fn cancel(&self, id: &str) -> Result<bool, Problem> {
        // Under the running map's lock a job is either still queued in the database or
        // registered here (workers claim while holding it).
        let running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = running.get(id) {
            r.cancel.cancel();
            return Ok(true);
        }
        let cancelled = self.inner.db.cancel_queued(id)?;
        if cancelled {
            self.inner.take_checked(id);
        }
        Ok(cancelled)
    }

    /// Stops the pool: no new job starts, running jobs are cancelled and re-queued, the
    /// workers are joined.
    pub fn shutdown(&self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        for r in self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            r.by_shutdown.store(true, Ordering::SeqCst);
            r.cancel.cancel();
        }
        self.inner.notify();
        let workers: Vec<_> = self
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Inner {
    fn notify(&self) {
        *self.wake_flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    fn wait(&self) {
        let mut f = self.wake_flag.lock().unwrap_or_else(|p| p.into_inner());
        if !*f {
            f = self
                .wake
                .wait_timeout(f, Duration::from_millis(500))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *f = false;
    }

    /// The run `submit` checked for job `id`, if this process holds it.
    fn take_checked(&self, id: &str) -> Option<CheckedRun> {
        self.checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }

    /// Claims the next job and registers its token, under the running map's lock.
    fn claim(&self) -> Result<Option<(JobRow, Running)>, crate::db::DbError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let Some(job) = self.db.claim_next_job()? else {
            return Ok(None);
        };
        let r = Running {
            cancel: CancelToken::new(),
            paths_done: Arc::new(AtomicU64::new(0)),
            by_shutdown: Arc::new(AtomicBool::new(false)),
        };
        running.insert(
            job.id.clone(),
            Running {
                cancel: r.cancel.clone(),
                paths_done: r.paths_done.clone(),
                by_shutdown: r.by_shutdown.clone(),
            },
        );
        Ok(Some((job, r)))
    }
}

fn worker(inner: &Inner) {
    while !inner.shutdown.load(Ordering::SeqCst) {
        match inner.claim() {
            Ok(Some((job, r))) => {
                let id = job.id.clone();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_job(inner, &job, &r)
                }))
                .unwrap_or_else(|_| Err(Outcome::Failed("internal", "the job panicked".into())));
                inner
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
                let recorded = match outcome {
                    Ok(()) => Ok(()),
                    Err(Outcome::Cancelled) if r.by_shutdown.load(Ordering::SeqCst) => {
                        tracing::info!(job = %id, "job re-queued by shutdown");
                        inner.db.requeue(&id)
                    }
                    Err(Outcome::Cancelled) => {
                        tracing::info!(job = %id, "job cancelled");
                        inner.db.end_job(&id, state::CANCELLED, None, None)
                    }
                    Err(Outcome::Failed(class, why)) => {
                        tracing::warn!(job = %id, class, error = %why, "job failed");
                        inner
                            .db
                            .end_job(&id, state::FAILED, Some(&why), Some(class))
                    }
                };
                if let Err(e) = recorded {
                    tracing::error!(job = %id, error = %e, "cannot record the job's outcome");
                }
            }
            Ok(None) => inner.wait(),
            Err(e) => {
                tracing::error!(error = %e, "cannot claim a job");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Why a job did not succeed.
enum Outcome {
    Cancelled,
    Failed(&'static str, String),
}

fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::Input => "input",
        ErrorClass::Mismatch => "mismatch",
        ErrorClass::Cancelled => "cancelled",
        ErrorClass::Internal => "internal",
    }
}

impl From<RunError> for Outcome {
    fn from(e: RunError) -> Self {
        match e.class() {
            ErrorClass::Cancelled => Outcome::Cancelled,
            c => Outcome::Failed(class_name(c), e.to_string()),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> Outcome {
    Outcome::Failed("internal", e.to_string())
}

fn run_job(inner: &Inner, job: &JobRow, r: &Running) -> Result<(), Outcome> {
    if let Some(st) = crate::structure_jobs::StoredStructure::of(job) {
        return run_structure_job(inner, job, r, &st);
    }
    let stored: StoredRequest = serde_json::from_str(&job.request).map_err(internal)?;
    let checked = match inner.take_checked(&job.id) {
        Some(c) => c,
        None => recheck(inner, job, &stored)?,
    };
    let prepared = checked.prepare()?;
    // The job owns its directory: a previous attempt's complete run is replaced as a whole.
    let out_dir = OutDir::claim(&inner.cfg.runs_dir.join(&job.id), true)?;
    let rows = if stored.path_rows {
        let rows_path = inner.cfg.runs_dir.join(format!("{}.arrows", job.id));
        let req = &stored.request;
        let sink = ArrowSink::create(
            &rows_path,
            prepared.base_plan(),
            req.seed,
            req.path_start,
            req.paths,
        )
        .map_err(internal)?;
        Some(Box::new(sink) as Box<dyn RowsFile>)
    } else {
        None
    };
    tracing::info!(job = %job.id, attempt = job.attempts, legs = prepared.legs(), "job started");
    let total = prepared.paths_total();
    let control = RunControl {
        cancel: r.cancel.clone(),
        progress: Some(progress_of(inner, job, r)),
    };
    let run = prepared.execute_to(out_dir, &control, rows)?;
    let run_id = gaib_runs::sha256_hex(&run.manifest_bytes);
    let valuation = crate::valuation::of_run(&run, &job.id, inner.cfg.valid_for_s)
        .map_err(|e| Outcome::Failed("internal", e))?;
    let record = valuation
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(internal)?;
    let guards = inner.cfg.guards;
    let hold = inner
        .db
        .succeed_job(
            &job.id,
            &run_id,
            total,
            valuation
                .as_ref()
                .zip(record.as_deref())
                .map(|(v, rec)| (v.asset.as_str(), rec, v.observed_at as i64)),
            |ctx| {
                valuation
                    .as_ref()
                    .and_then(|v| crate::valuation::hold_of(v, &job.key_id, ctx, &guards))
            },
        )
        .map_err(internal)?;
    tracing::info!(job = %job.id, run_id = %run_id, "job succeeded");
    match (valuation, hold) {
        (Some(v), Some(h)) => {
            tracing::warn!(job = %job.id, asset = %v.asset, reason = h.reason,
                detail = %h.detail, "valuation held, not published");
        }
        (Some(v), None) => inner.latest.set(v),
        (None, _) => {}
    }
    Ok(())
}

/// The run of a job this process did not check at submit (recovered, or re-queued by a
/// previous process): rebuilt from the stored portfolio, request and scenario texts.
fn recheck(inner: &Inner, job: &JobRow, stored: &StoredRequest) -> Result<CheckedRun, Outcome> {
    let row = inner
        .db
        .portfolio(&job.portfolio_id)
        .map_err(internal)?
        .ok_or_else(|| internal("the job's portfolio is gone"))?;
    let spec = spec_of(
        &row.body,
        &stored.request,
        &job.scenarios,
        inner.cfg.threads,
    )?;
    Ok(spec.check()?)
}

/// The progress callback of a running job: its paths done (for the status answer, and in the
/// database at most once a second) and the service's paths-simulated counter.
fn progress_of(inner: &Inner, job: &JobRow, r: &Running) -> Box<gaib_runs::ProgressFn> {
    let done = r.paths_done.clone();
    let metrics = inner.metrics.clone();
    let db = inner.db.clone();
    let id = job.id.clone();
    let last_write = Mutex::new(Instant::now());
    Box::new(move |p| {
        let before = done.swap(p.paths_done, Ordering::Relaxed);
        metrics
            .paths_simulated
            .fetch_add(p.paths_done.saturating_sub(before), Ordering::Relaxed);
        let mut t = last_write.lock().unwrap_or_else(|e| e.into_inner());
        if t.elapsed() >= Duration::from_secs(1) {
            *t = Instant::now();
            let _ = db.set_progress(&id, p.paths_done);
        }
    })
}

/// The stored request of a job (for its status answer).
pub fn request_of(job: &JobRow) -> Option<SimulationRequest> {
    serde_json::from_str::<StoredRequest>(&job.request)
        .ok()
        .map(|s| s.request)
}

/// Whether a job keeps per-path rows.
pub fn keeps_rows(job: &JobRow) -> bool {
    serde_json::from_str::<StoredRequest>(&job.request).is_ok_and(|s| s.path_rows)
}

/// Whether `dir` holds a complete run directory.
pub fn has_run(dir: &Path) -> bool {
    dir.join(gaib_runs::MANIFEST).is_file()
}

/// A structure job ([`crate::structure_jobs`]): computed through the run layer from the
/// simulation's run directory into the job's own directory; its `run_id` is the read run's.
fn run_structure_job(
    inner: &Inner,
    job: &JobRow,
    r: &Running,
    st: &crate::structure_jobs::StoredStructure,
) -> Result<(), Outcome> {
    tracing::info!(job = %job.id, simulation = %st.simulation, "structure job started");
    let out = inner.cfg.runs_dir.join(&job.id);
    let run_id = crate::structure_jobs::compute(&inner.cfg.runs_dir, st, &out, &r.cancel)?;
    inner
        .db
        .succeed_job(&job.id, &run_id, 0, None, |_| None)
        .map_err(internal)?;
    tracing::info!(job = %job.id, run_id = %run_id, "structure job succeeded");
    Ok(())
}

impl Jobs {
    /// A fresh job id for key `key_id`, or 429 problem+json when the key already has its
    /// maximum number of jobs queued or running (`max_jobs_per_key`).
    fn new_job_id(&self, key_id: &str) -> Result<String, Problem> {
        let c = &self.inner.cfg;
        if self.inner.db.active_jobs_of_key(key_id)? >= i64::from(c.max_jobs_per_key) {
            return Err(Problem::too_many(
                "job-limit",
                format!(
                    "this key has {} jobs queued or running, the most allowed: wait for one to \
                     finish or cancel one",
                    c.max_jobs_per_key
                ),
                5,
            ));
        }
        Ok(format!(
            "job_{}",
            crate::auth::random_id(12).map_err(Problem::internal)?
        ))
    }

    /// Stores a structure job (checked by the caller against the run of simulation `sim`,
    /// [`gaib_runs::StructureRequest::check`]) under the key's job limit and wakes a worker;
    /// returns its id.
    pub fn submit_structure(
        &self,
        key_id: &str,
        sim: &JobRow,
        stored: &crate::structure_jobs::StoredStructure,
    ) -> Result<String, Problem> {
        let id = self.new_job_id(key_id)?;
        let job = JobRow {
            id: id.clone(),
            key_id: key_id.to_string(),
            portfolio_id: sim.portfolio_id.clone(),
            request: serde_json::to_string(stored).map_err(Problem::internal)?,
            scenarios: Vec::new(),
            state: state::QUEUED.into(),
            paths_total: 0,
            paths_done: 0,
            attempts: 0,
            error: None,
            error_class: None,
            run_id: None,
            created_at: crate::db::now(),
            started_at: None,
            finished_at: None,
        };
        self.inner.db.insert_job(&job)?;
        tracing::info!(job = %id, simulation = %stored.simulation, "structure job queued");
        self.inner.notify();
        Ok(id)
    }
}
