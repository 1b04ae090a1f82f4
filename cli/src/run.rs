//! `gaib run FILE --paths N --seed S [--threads T] [--backend cpu|cuda|auto] [--out DIR]`:
//! the Monte Carlo job. Progress on stderr, a summary table on stdout, and `results.json` +
//! `manifest.json` written atomically into DIR. Ctrl-C stops between chunks, writes nothing,
//! and exits 130. `--paths-out FILE` also writes one row per path as Parquet
//! ([`crate::paths_out`]).

use crate::exit::{CliError, ExitKind};
use anyhow::Context;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_engine::{Loaded, Portfolio};
use gaib_pricing::{Sensitivity, Valuation};
use gaib_simulator::{
    build_git_commit, lower, select_backend, sha256_hex, write_atomic, Availability, Backend,
    BackendChoice, CpuBackend, InputFile, InstrumentStats, PathSink, PathStats, RunManifest,
    RunOptions, SimError, SimPlan, MAX_PATHS_PER_SEED, MODEL_VERSION,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Most paths one run accepts (beyond this a request is taken as a typo).
pub(crate) const MAX_PATHS: u64 = 10_000_000_000;

/// Which backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BackendArg {
    /// The CPU backend (rayon).
    Cpu,
    /// The CUDA backend (not built into this binary yet).
    Cuda,
    /// The fastest available backend, falling back to CPU with the reason printed.
    Auto,
}

/// Arguments of `gaib run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portfolio file (TOML or JSON).
    file: PathBuf,
    /// Number of Monte Carlo paths (1 ..= 2^32 per seed).
    #[arg(long)]
    paths: u64,
    /// Seed of the random numbers (an unsigned 64-bit integer).
    #[arg(long)]
    seed: u64,
    /// Worker threads (default: all CPUs). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendArg,
    /// Output directory (default: runs/PORTFOLIO-UNIXTIME-sSEED).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not draw the progress bar.
    #[arg(long)]
    quiet: bool,
    /// Also bump and revalue (common random numbers): price level, price vol, utilization
    /// mean, hazard, correlation; printed, and written to sensitivities.json and report.html.
    #[arg(long)]
    sensitivities: bool,
    /// Also write one row per path to this Parquet file (columns in the README), via FILE.tmp
    /// renamed at the end; memory stays bounded.
    #[arg(long, value_name = "FILE")]
    paths_out: Option<PathBuf>,
}

/// Stand-in for a backend that this binary was built without (the CUDA backend lives in
/// `gaib-gpu-kernels`), so `--backend auto` can say why it fell back.
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
    fn run(
        &self,
        _: &SimPlan,
        _: Range<u64>,
        _: u64,
        _: &RunOptions,
    ) -> gaib_simulator::Result<PathStats> {
        Err(SimError::Unavailable {
            backend: self.0.into(),
            reason: "not built into this binary".into(),
        })
    }
}

/// Picks the backend; CPU thread count from `threads`.
pub(crate) fn backend(
    choice: BackendArg,
    threads: Option<usize>,
) -> anyhow::Result<Box<dyn Backend>> {
    if threads == Some(0) {
        return Err(CliError::invalid("--threads must be at least 1"));
    }
    let cpu = CpuBackend::new(threads).map_err(|e| CliError::invalid(e.to_string()))?;
    let candidates: Vec<Box<dyn Backend>> = vec![Box::new(NotBuilt("cuda")), Box::new(cpu)];
    let choice = match choice {
        BackendArg::Cpu => BackendChoice::Named("cpu"),
        BackendArg::Cuda => BackendChoice::Named("cuda"),
        BackendArg::Auto => BackendChoice::Auto,
    };
    let (b, notes) =
        select_backend(candidates, choice).map_err(|e| CliError::invalid(e.to_string()))?;
    for n in notes {
        eprintln!("note: backend {n}; falling back to {}", b.name());
    }
    Ok(b)
}

/// Checks the path count: 1 ..= min(1e10, 2^32).
pub(crate) fn check_paths(paths: u64) -> anyhow::Result<()> {
    if paths == 0 {
        return Err(CliError::invalid("--paths must be at least 1"));
    }
    if paths > MAX_PATHS {
        return Err(CliError::invalid(format!(
            "--paths {paths} is absurd (more than 1e10 = {MAX_PATHS})"
        )));
    }
    if paths > MAX_PATHS_PER_SEED {
        return Err(CliError::invalid(format!(
            "--paths {paths}: at most 2^32 = {MAX_PATHS_PER_SEED} paths per seed (split the run over seeds)"
        )));
    }
    Ok(())
}

/// The Ctrl-C flag, installed once per process.
pub(crate) fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let f = Arc::new(AtomicBool::new(false));
        let g = f.clone();
        if let Err(e) = ctrlc::set_handler(move || g.store(true, Ordering::SeqCst)) {
            tracing::warn!("cannot install the Ctrl-C handler: {e}");
        }
        f
    })
    .clone()
}

fn interrupted() -> anyhow::Error {
    anyhow::Error::new(CliError {
        kind: ExitKind::Interrupted,
        message: "interrupted: nothing was written".into(),
    })
}

/// Input files of a loaded portfolio: the file itself, then referenced files (loan tape).
pub(crate) fn input_files(file: &Path, loaded: &Loaded) -> anyhow::Result<Vec<InputFile>> {
    let mut paths = vec![file.to_path_buf()];
    let own = file.display().to_string();
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    for src in &loaded.deal_sources {
        if *src != own {
            let p = dir.join(src);
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    paths
        .into_iter()
        .map(|p| {
            let bytes =
                std::fs::read(&p).with_context(|| format!("{}: cannot read", p.display()))?;
            Ok(InputFile {
                path: p.display().to_string(),
                sha256: sha256_hex(&bytes),
            })
        })
        .collect()
}

/// What a finished simulation produced.
pub(crate) struct Outcome {
    /// The statistics.
    pub(crate) stats: PathStats,
    /// `results.json` bytes (canonical: the hash input).
    pub(crate) results: Vec<u8>,
    /// The valuation (gaib-pricing) of the statistics; also in `results.json`.
    pub(crate) valuation: Valuation,
    /// Wall-clock seconds.
    pub(crate) elapsed_s: f64,
}

/// Runs `paths` paths in segments (progress bar between them), stopping on Ctrl-C.
pub(crate) fn simulate(
    portfolio: &Portfolio,
    plan: &SimPlan,
    backend: &dyn Backend,
    paths: u64,
    seed: u64,
    show_progress: bool,
) -> anyhow::Result<Outcome> {
    simulate_with_sink(portfolio, plan, backend, paths, seed, show_progress, None)
}

/// [`simulate`], also handing every path's row to `sink` (in path order) when given; the
/// statistics are the same either way.
pub(crate) fn simulate_with_sink(
    portfolio: &Portfolio,
    plan: &SimPlan,
    backend: &dyn Backend,
    paths: u64,
    seed: u64,
    show_progress: bool,
    mut sink: Option<&mut dyn PathSink>,
) -> anyhow::Result<Outcome> {
    let cancel = interrupt_flag();
    let opts = RunOptions {
        cancel: Some(cancel.clone()),
        ..RunOptions::default()
    };
    let bar = if show_progress {
        let b = ProgressBar::with_draw_target(Some(paths), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} paths ({per_sec}, ETA {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let threads = backend.threads().max(1) as u64;
    let segment = (opts.chunk_paths * threads * 4).max(paths / 100).max(1);
    let start = Instant::now();
    let mut stats = PathStats::new(plan);
    let mut done = 0;
    while done < paths {
        if cancel.load(Ordering::SeqCst) {
            bar.abandon();
            return Err(interrupted());
        }
        let end = (done + segment).min(paths);
        let part = match sink.as_deref_mut() {
            Some(s) => backend.run_with_sink(plan, done..end, seed, &opts, s),
            None => backend.run(plan, done..end, seed, &opts),
        };
        match part {
            Ok(s) => stats.merge(&s),
            Err(SimError::Cancelled) => {
                bar.abandon();
                return Err(interrupted());
            }
            Err(e) => return Err(e.into()),
        }
        done = end;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    let elapsed_s = start.elapsed().as_secs_f64();
    let valuation = gaib_pricing::value(portfolio, &stats)?;
    let results = results_json(plan, &stats, &valuation, seed)?;
    Ok(Outcome {
        stats,
        results,
        valuation,
        elapsed_s,
    })
}

/// Summary of one instrument in `results.json` (fractions of notional; `_se` = standard error).
#[derive(Debug, Serialize)]
struct InstrumentSummary<'a> {
    id: &'a str,
    notional_usd: f64,
    price: f64,
    price_se: f64,
    expected_loss: f64,
    expected_loss_se: f64,
    pd: f64,
    loss_q99: f64,
}

fn instrument_summary(s: &InstrumentStats) -> InstrumentSummary<'_> {
    InstrumentSummary {
        id: &s.id,
        notional_usd: s.notional_usd,
        price: s.pv.mean(),
        price_se: s.pv.std_error(),
        expected_loss: s.loss.mean(),
        expected_loss_se: s.loss.std_error(),
        pd: s.pd(),
        loss_q99: s.loss_hist.quantile(0.99),
    }
}

/// `results.json`: a readable summary and the full mergeable statistics.
#[derive(Debug, Serialize)]
struct Results<'a> {
    portfolio_id: &'a str,
    model_version: &'a str,
    seed: u64,
    paths: u64,
    tranches: Vec<InstrumentSummary<'a>>,
    deals: Vec<InstrumentSummary<'a>>,
    portfolio_loss_mean: f64,
    portfolio_loss_q99: f64,
    /// The pricing of the run (gaib-pricing `Valuation`).
    valuation: &'a Valuation,
    stats: &'a PathStats,
}

fn results_json(
    plan: &SimPlan,
    stats: &PathStats,
    valuation: &Valuation,
    seed: u64,
) -> anyhow::Result<Vec<u8>> {
    let r = Results {
        portfolio_id: &plan.portfolio_id,
        model_version: MODEL_VERSION,
        seed,
        paths: stats.paths,
        tranches: stats
            .tranches
            .iter()
            .flatten()
            .map(instrument_summary)
            .collect(),
        deals: stats.deals.iter().map(instrument_summary).collect(),
        portfolio_loss_mean: stats.portfolio.loss.mean(),
        portfolio_loss_q99: stats.portfolio.loss_hist.quantile(0.99),
        valuation,
        stats,
    };
    let mut v = serde_json::to_vec_pretty(&r)?;
    v.push(b'\n');
    Ok(v)
}

fn pct(x: f64) -> String {
    format!("{:.3}", 100.0 * x)
}

fn pm(x: f64, se: f64) -> String {
    format!("{} ± {}", pct(x), pct(se))
}

/// The summary tables: tranches, deals and the vault.
pub(crate) fn summary_tables(stats: &PathStats) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "instrument",
        "price % par",
        "EL % (± se)",
        "PD %",
        "loss q99 %",
    ]);
    let rows = stats.tranches.iter().flatten().chain(stats.deals.iter());
    for s in rows {
        t.add_row(vec![
            Cell::new(&s.id),
            Cell::new(pm(s.pv.mean(), s.pv.std_error())).set_alignment(CellAlignment::Right),
            Cell::new(pm(s.loss.mean(), s.loss.std_error())).set_alignment(CellAlignment::Right),
            Cell::new(pct(s.pd())).set_alignment(CellAlignment::Right),
            Cell::new(pct(s.loss_hist.quantile(0.99))).set_alignment(CellAlignment::Right),
        ]);
    }
    tables.push(t);
    if let Some(v) = &stats.vault {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            format!("vault {} (month {})", v.id, v.horizon_month),
            "mean (± se)".into(),
            "q1%".into(),
            "q5%".into(),
            "q50%".into(),
        ]);
        let nav0 = v.nav0_per_share_usd;
        for (name, m, h) in [
            ("staking NAV/share USD", &v.nav_staking, &v.nav_staking_hist),
            (
                "unstaking NAV/share USD",
                &v.nav_unstaking,
                &v.nav_unstaking_hist,
            ),
        ] {
            t.add_row(vec![
                Cell::new(name),
                Cell::new(format!(
                    "{:.6} ± {:.6}",
                    m.mean() * nav0,
                    m.std_error() * nav0
                ))
                .set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.6}", h.quantile(0.01) * nav0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.6}", h.quantile(0.05) * nav0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.6}", h.quantile(0.50) * nav0))
                    .set_alignment(CellAlignment::Right),
            ]);
        }
        t.add_row(vec![
            Cell::new("P[queue not cleared in 1/2/3 cycles] %"),
            Cell::new(format!(
                "{} / {} / {}",
                pct(v.p_queue_not_cleared(1)),
                pct(v.p_queue_not_cleared(2)),
                pct(v.p_queue_not_cleared(3))
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
        ]);
        tables.push(t);
    }
    tables
}

fn default_out_dir(plan: &SimPlan, seed: u64) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let id: String = plan
        .portfolio_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("runs").join(format!("{id}-{now}-s{seed}"))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs the job.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    check_paths(a.paths)?;
    let backend = backend(a.backend, a.threads)?;
    let loaded = crate::input::load(&a.file)?;
    let inputs = input_files(&a.file, &loaded)?;
    let plan = lower(&loaded.portfolio).map_err(|e| match e {
        SimError::Engine(e) => anyhow::Error::new(e),
        other => CliError::invalid(other.to_string()),
    })?;
    // Checked (and FILE.tmp created) before the run starts; removed again on any failure.
    let mut paths_out = a
        .paths_out
        .as_deref()
        .map(|p| crate::paths_out::PathsOut::create(p, &plan, a.seed, a.paths))
        .transpose()?;
    tracing::info!(
        paths = a.paths,
        seed = a.seed,
        backend = backend.name(),
        threads = backend.threads(),
        "run"
    );
    let out = simulate_with_sink(
        &loaded.portfolio,
        &plan,
        backend.as_ref(),
        a.paths,
        a.seed,
        !a.quiet,
        paths_out.as_mut().map(|p| p as &mut dyn PathSink),
    )?;
    let sensitivities = if a.sensitivities {
        run_sensitivities(&loaded.portfolio, &out.valuation, backend.as_ref(), &a)?
    } else {
        Vec::new()
    };
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&plan, a.seed));
    let manifest = RunManifest {
        gaib_version: gaib_simulator::VERSION.to_string(),
        git_commit: build_git_commit(),
        model_version: MODEL_VERSION.to_string(),
        backend: backend.name().to_string(),
        threads: backend.threads(),
        seed: a.seed,
        paths: a.paths,
        inputs,
        results_sha256: sha256_hex(&out.results),
        elapsed_s: out.elapsed_s,
        created_unix_s: unix_now(),
    };
    if interrupt_flag().load(Ordering::SeqCst) {
        return Err(interrupted());
    }
    if let Some(p) = paths_out.take() {
        p.finish()?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    write_atomic(&dir.join("results.json"), &out.results)?;
    let mut m = manifest.to_json();
    m.push('\n');
    write_atomic(&dir.join("manifest.json"), m.as_bytes())?;
    if a.sensitivities {
        let mut j = serde_json::to_vec_pretty(&sensitivities)?;
        j.push(b'\n');
        write_atomic(&dir.join("sensitivities.json"), &j)?;
    }
    crate::report::write(
        &dir,
        &crate::report::ReportInput {
            valuation: &out.valuation,
            run: crate::report::RunInfo {
                seed: a.seed,
                backend: backend.name().to_string(),
            },
            sensitivities: &sensitivities,
            stress: &[],
        },
    )?;

    for t in summary_tables(&out.stats) {
        println!("{t}");
    }
    for t in crate::report::pricing_tables(&out.valuation) {
        println!("{t}");
    }
    if a.sensitivities {
        println!(
            "{}",
            crate::report::sensitivity_table(&out.valuation, &sensitivities)
        );
    }
    let steps = plan.deal_steps_per_path() as f64 * a.paths as f64;
    println!(
        "{} paths × {} deals × {} months in {:.2} s ({:.3e} deal-steps/s, {} {} thread{}); wrote {}",
        a.paths,
        plan.n_deals(),
        plan.months,
        out.elapsed_s,
        steps / out.elapsed_s.max(1e-9),
        backend.name(),
        backend.threads(),
        if backend.threads() == 1 { "" } else { "s" },
        dir.display()
    );
    if let Some(p) = &a.paths_out {
        println!("per-path rows: {}", p.display());
    }
    Ok(())
}

/// Bump-and-revalue with the run's seed and paths (common random numbers); Ctrl-C stops it.
fn run_sensitivities(
    p: &Portfolio,
    base: &Valuation,
    backend: &dyn Backend,
    a: &Args,
) -> anyhow::Result<Vec<Sensitivity>> {
    if !a.quiet {
        eprintln!("sensitivities: 5 bumps × {} paths", a.paths);
    }
    let spec = gaib_pricing::RunSpec {
        backend,
        paths: a.paths,
        seed: a.seed,
        options: RunOptions {
            cancel: Some(interrupt_flag()),
            ..RunOptions::default()
        },
    };
    match gaib_pricing::sensitivities(p, base, &spec) {
        Ok(s) => Ok(s),
        Err(gaib_pricing::PricingError::Simulation(SimError::Cancelled)) => Err(interrupted()),
        Err(e) => Err(e.into()),
    }
}
