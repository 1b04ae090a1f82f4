//! Backends: who runs the paths. [`Backend`] is implemented here by [`CpuBackend`] (rayon) and
//! later by the CUDA backend of `gaib-gpu-kernels`; [`select_backend`] picks one at run time.
//!
//! Because [`PathStats`] sums are exact integers (see [`crate::stats`]), the result of a run
//! does not depend on the number of threads, the chunk size, or the order chunks finish in;
//! chunks are nevertheless merged in path order.

use crate::error::{Result, SimError};
use crate::lanes::Groups;
use crate::model::Worker;
use crate::plan::SimPlan;
use crate::rows::{PathRows, PathSink};
use crate::stats::PathStats;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Largest path index + 1 per seed (the path index is one u32 counter word).
pub const MAX_PATHS_PER_SEED: u64 = 1 << 32;
/// Default paths per chunk (the unit of parallel work and of cancellation checks). Each chunk
/// fills and merges a whole `PathStats` (per deal and month: sums and histograms), so a chunk
/// of 1 024 paths rather than 256 saves ≈ 9 % of the sample's single-thread CPU time; a run
/// of few paths on many threads gets smaller chunks (see `CpuBackend::simulate`). Results do
/// not depend on the chunking.
pub const DEFAULT_CHUNK_PATHS: u64 = 1024;

/// Smallest chunk the CPU backend shrinks a chunk to, to keep every thread busy on a short run.
const MIN_SPREAD_CHUNK_PATHS: u64 = 64;

/// Whether a backend can run on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Ready.
    Available,
    /// Not usable here, and why (e.g. "not compiled with CUDA support", "no device").
    Unavailable(String),
}

impl Availability {
    /// Whether available.
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }
}

/// Options of one [`Backend::run`] call.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Paths per chunk (≥ 1).
    pub chunk_paths: u64,
    /// Set to true to stop between chunks; `run` then returns [`SimError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            chunk_paths: DEFAULT_CHUNK_PATHS,
            cancel: None,
        }
    }
}

/// One backend call: which paths under which seed, how, and who hears of them besides the
/// returned [`PathStats`] — the per-path rows' sink and the progress callback.
pub struct Simulation<'a> {
    /// Path indices (< 2^32).
    pub paths: Range<u64>,
    /// Seed of the random numbers.
    pub seed: u64,
    /// Chunking and cancellation.
    pub opts: &'a RunOptions,
    /// Receives every path's [`PathRows`] in path order, chunk by chunk (see
    /// [`crate::PathSink`]); None records nothing per path.
    pub sink: Option<&'a mut dyn PathSink>,
    /// Called with the number of paths newly completed, on the calling thread, between units
    /// of work (the CPU backend: after each batch of chunks; CUDA: after each launch);
    /// cancellation is checked at the same points.
    pub progress: Option<&'a mut dyn FnMut(u64)>,
}

impl<'a> Simulation<'a> {
    /// Paths `paths` under `seed` with `opts`, no sink and no progress callback.
    pub fn new(paths: Range<u64>, seed: u64, opts: &'a RunOptions) -> Self {
        Self {
            paths,
            seed,
            opts,
            sink: None,
            progress: None,
        }
    }

    /// Also hands every path's rows to `sink`.
    pub fn with_sink(self, sink: &'a mut dyn PathSink) -> Self {
        Self {
            sink: Some(sink),
            ..self
        }
    }

    /// Also reports progress to `progress`.
    pub fn with_progress(self, progress: &'a mut dyn FnMut(u64)) -> Self {
        Self {
            progress: Some(progress),
            ..self
        }
    }
}

impl std::fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("paths", &self.paths)
            .field("seed", &self.seed)
            .field("opts", &self.opts)
            .field("sink", &self.sink.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Something that simulates paths of a [`SimPlan`] into [`PathStats`].
pub trait Backend: Send + Sync {
    /// Short name ("cpu", "cuda").
    fn name(&self) -> &'static str;
    /// Whether it can run here.
    fn availability(&self) -> Availability;
    /// Number of parallel workers (threads, or the device's notion of it).
    fn threads(&self) -> usize;

    /// Simulates `sim.paths` of `plan` under `sim.seed`; results depend only on (plan, paths,
    /// seed), never on threads or chunking, and are bit-identical with or without a sink. A
    /// sink error stops the run with [`SimError::Sink`], a cancellation with
    /// [`SimError::Cancelled`]. The run layer drives every leg through one call, so a backend
    /// sees each plan once (the CUDA backend uploads it once).
    fn simulate(&self, plan: &SimPlan, sim: Simulation<'_>) -> Result<PathStats>;

    /// [`Backend::simulate`] without a sink or a progress callback.
    fn run(
        &self,
        plan: &SimPlan,
        paths: Range<u64>,
        seed: u64,
        opts: &RunOptions,
    ) -> Result<PathStats> {
        self.simulate(plan, Simulation::new(paths, seed, opts))
    }
}

/// The CPU backend: a dedicated rayon pool of `threads` threads.
#[derive(Debug)]
pub struct CpuBackend {
    pool: rayon::ThreadPool,
    threads: usize,
}

impl CpuBackend {
    /// A CPU backend with `threads` threads (None: all logical CPUs). 0 is an error.
    pub fn new(threads: Option<usize>) -> Result<Self> {
        let threads = match threads {
            Some(0) => {
                return Err(SimError::Argument {
                    name: "threads",
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                })
            }
            Some(t) => t,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("gaib-cpu-{i}"))
            .build()
            .map_err(|e| SimError::Runtime(e.to_string()))?;
        Ok(Self { pool, threads })
    }
}

/// Checks a path range: non-empty is not required, but the end must be ≤ 2^32.
pub fn check_paths(paths: &Range<u64>) -> Result<()> {
    if paths.end > MAX_PATHS_PER_SEED || paths.start > paths.end {
        return Err(SimError::Argument {
            name: "paths",
            value: format!("{}..{}", paths.start, paths.end),
            reason: format!("path indices must lie in 0..{MAX_PATHS_PER_SEED} (2^32 per seed)"),
        });
    }
    Ok(())
}

/// Simulates `paths` sequentially on the calling thread (the reference every backend matches).
pub fn run_serial(plan: &SimPlan, paths: Range<u64>, seed: u64) -> Result<PathStats> {
    check_paths(&paths)?;
    let mut stats = PathStats::new(plan);
    let mut w = Worker::new(plan);
    let mut groups = Groups::new(plan);
    let mut batch = w.batch(&mut stats);
    batch.run_range(seed, paths, None, groups.as_mut());
    drop(batch);
    Ok(stats)
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn availability(&self) -> Availability {
        Availability::Available
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn simulate(&self, plan: &SimPlan, sim: Simulation<'_>) -> Result<PathStats> {
        let mut no_progress = |_: u64| {};
        let progress: &mut dyn FnMut(u64) = match sim.progress {
            Some(p) => p,
            None => &mut no_progress,
        };
        self.run_chunks(plan, sim.paths, sim.seed, sim.opts, sim.sink, progress)
    }
}

impl CpuBackend {
    /// The parallel loop of [`Backend::simulate`]. Without a sink nothing is
    /// recorded per path; with one, each chunk fills its own [`PathRows`] (allocated once per
    /// chunk), handed to the sink in path order after its batch completes and then dropped, so
    /// at most `batch` chunks of rows exist at once. `progress` hears of each batch's paths
    /// after the batch is merged.
    fn run_chunks(
        &self,
        plan: &SimPlan,
        paths: Range<u64>,
        seed: u64,
        opts: &RunOptions,
        mut sink: Option<&mut dyn PathSink>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<PathStats> {
        check_paths(&paths)?;
        // Bounded memory: at most `batch` chunk results exist at once, merged in path order.
        let batch = (self.threads * 4).max(1);
        // At most `chunk_paths`, and small enough that a short run still gives every thread
        // about four chunks (not below `MIN_SPREAD_CHUNK_PATHS`): the statistics are the same
        // for any chunking, only the work's spread changes.
        let spread = ((paths.end - paths.start) / batch as u64).max(MIN_SPREAD_CHUNK_PATHS);
        let chunk = opts.chunk_paths.max(1).min(spread);
        let starts: Vec<u64> = (paths.start..paths.end).step_by(chunk as usize).collect();
        let with_rows = sink.is_some();
        let cancelled = || {
            opts.cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
        };
        let mut total = PathStats::new(plan);
        for group in starts.chunks(batch) {
            if cancelled() {
                return Err(SimError::Cancelled);
            }
            let parts: Vec<Option<(PathStats, Option<PathRows>)>> = self.pool.install(|| {
                group
                    .par_iter()
                    .map_init(
                        || (Worker::new(plan), Groups::new(plan)),
                        |(w, groups), &s| {
                            if cancelled() {
                                return None;
                            }
                            let end = (s + chunk).min(paths.end);
                            let mut st = PathStats::new(plan);
                            let mut batch = w.batch(&mut st);
                            let mut rows = with_rows
                                .then(|| PathRows::with_capacity(plan, (end - s) as usize));
                            batch.run_range(seed, s..end, rows.as_mut(), groups.as_mut());
                            // Merges the chunk's per-(deal, month) statistics into `st`.
                            drop(batch);
                            Some((st, rows))
                        },
                    )
                    .collect()
            });
            for part in parts {
                let Some((st, rows)) = part else {
                    return Err(SimError::Cancelled);
                };
                total.merge(&st);
                if let (Some(sink), Some(rows)) = (sink.as_deref_mut(), rows) {
                    sink.accept(&rows).map_err(SimError::Sink)?;
                }
            }
            let (first, last) = (group[0], group[group.len() - 1]);
            progress((last + chunk).min(paths.end) - first);
        }
        Ok(total)
    }
}

/// Which backend the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// Exactly the backend of this name; an error if it is unavailable.
    Named(&'static str),
    /// The first available backend in the list's order (put the fastest first); the reason
    /// each skipped backend was unavailable is logged.
    Auto,
}

/// Picks a backend from `candidates`. `Auto` takes the first available one and logs (via
/// `tracing`) why each earlier one was skipped; the returned notes carry the same reasons.
pub fn select_backend(
    candidates: Vec<Box<dyn Backend>>,
    choice: BackendChoice,
) -> Result<(Box<dyn Backend>, Vec<String>)> {
    let mut notes = Vec::new();
    match choice {
        BackendChoice::Named(name) => {
            let b = candidates
                .into_iter()
                .find(|b| b.name() == name)
                .ok_or_else(|| SimError::Unavailable {
                    backend: name.to_string(),
                    reason: "not built into this binary".into(),
                })?;
            match b.availability() {
                Availability::Available => Ok((b, notes)),
                Availability::Unavailable(reason) => Err(SimError::Unavailable {
                    backend: name.to_string(),
                    reason,
                }),
            }
        }
        BackendChoice::Auto => {
            for b in candidates {
                match b.availability() {
                    Availability::Available => return Ok((b, notes)),
                    Availability::Unavailable(reason) => {
                        tracing::warn!(backend = b.name(), %reason, "backend unavailable, falling back");
                        notes.push(format!("{}: {reason}", b.name()));
                    }
                }
            }
            Err(SimError::Unavailable {
                backend: "auto".into(),
                reason: format!("no backend available ({})", notes.join("; ")),
            })
        }
    }
}
