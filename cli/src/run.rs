//! `gaib run FILE --paths N --seed S [--threads T] [--backend cpu|cuda|auto] [--out DIR]
//! [--force] [--sensitivities] [--paths-out FILE]`: the Monte Carlo job, a thin front over
//! `gaib-runs`. Progress on stderr, summary tables on stdout, and a self-contained run
//! directory (inputs, results.json, manifest.json, report.html) written atomically into DIR.
//! Ctrl-C stops between chunks, writes nothing, and exits 130. `--paths-out FILE` also writes
//! one row per path as Parquet ([`crate::paths_out`]). A portfolio with `[[derivatives]]`
//! (MODEL.md §10) adds the derivatives table and, with hedges, the comparison with and
//! without them (`--format csv|json` prints only these two, for scripts).

use crate::progress::{cancel_on_ctrl_c, progress_bar};
use crate::tables::{render_cashflows, render_sections, OutputFormat};
use gaib_pricing::MarketPrice;
use gaib_runs::{
    default_run_dir, BackendSelection, OutDir, PortfolioInput, PreparedRun, RowsFile, RunControl,
    RunDir, RunSpec,
};
use std::path::{Path, PathBuf};

/// Which backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BackendArg {
    /// The CPU backend (rayon).
    Cpu,
    /// The CUDA backend (gaib-gpu-kernels; needs an NVIDIA driver, else exit 2 with the reason).
    Cuda,
    /// The fastest available backend, falling back to CPU with the reason printed.
    Auto,
}

impl From<BackendArg> for BackendSelection {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Cpu => BackendSelection::Cpu,
            BackendArg::Cuda => BackendSelection::Cuda,
            BackendArg::Auto => BackendSelection::Auto,
        }
    }
}

/// How a run is computed and shown (never what it computes): the arguments `gaib run` and
/// `gaib stress` share.
#[derive(Debug, clap::Args)]
pub(crate) struct Execution {
    /// Worker threads (default: all CPUs). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendArg,
    /// Replace the previous run in --out (a directory holding a manifest.json) as a whole.
    #[arg(long)]
    force: bool,
    /// Do not draw the progress bar.
    #[arg(long)]
    quiet: bool,
}

impl Execution {
    /// Prepares `spec` on the chosen backend and threads, printing why `auto` skipped a
    /// backend.
    pub(crate) fn prepare(&self, spec: RunSpec) -> gaib_runs::Result<PreparedRun> {
        let prepared = RunSpec {
            backend: self.backend.into(),
            threads: self.threads,
            ..spec
        }
        .prepare()?;
        for n in prepared.notes() {
            eprintln!("note: {n}");
        }
        Ok(prepared)
    }

    /// Claims `dir` for the run (checked writable, empty or `--force`) before any path is
    /// simulated.
    pub(crate) fn claim(&self, dir: &Path) -> gaib_runs::Result<OutDir> {
        OutDir::claim(dir, self.force)
    }

    /// Runs `execute` over `paths_total` paths with a progress bar on stderr (unless
    /// `--quiet`) and Ctrl-C cancelling it.
    pub(crate) fn on_terminal<T>(
        &self,
        paths_total: u64,
        execute: impl FnOnce(&RunControl) -> gaib_runs::Result<T>,
    ) -> gaib_runs::Result<T> {
        let bar = progress_bar(paths_total, !self.quiet);
        let control = RunControl {
            cancel: cancel_on_ctrl_c(),
            progress: Some(bar.callback()),
        };
        let out = execute(&control);
        bar.finish();
        out
    }
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
    /// First path index (default 0): runs paths START .. START+PATHS of the seed, a shard of
    /// a larger run that merges exactly with its neighbours.
    #[arg(long, default_value_t = 0, value_name = "START")]
    path_start: u64,
    /// Output directory (default: out/PORTFOLIO-UNIXTIME-sSEED). Must be absent or empty.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    exec: Execution,
    /// Also bump and revalue (common random numbers): price level, price vol, utilization
    /// mean, hazard, correlation; printed, and written to sensitivities.json and report.html.
    #[arg(long)]
    sensitivities: bool,
    /// Also write one row per path to this Parquet file (columns in the README), via FILE.tmp
    /// renamed at the end; memory stays bounded.
    #[arg(long, value_name = "FILE")]
    paths_out: Option<PathBuf>,
    /// A market price of a deal or tranche, `ID=PCT` (percent of par, e.g. `GPU-ABS-1/A=99.25`;
    /// repeatable): reports the spread over the discount curve that reproduces it next to the
    /// model's (results.json `implied_spreads`).
    #[arg(long = "price", value_name = "ID=PCT")]
    prices: Vec<MarketPrice>,
    /// How to print: `table` (every table), or `csv` / `json` for the derivatives and the
    /// with/without-hedges comparison only (results.json has everything).
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// Runs the job.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let portfolio = PortfolioInput::from_file(&a.file)?;
    for w in portfolio.portfolio().derivative_warnings() {
        eprintln!("warning: {w}");
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| default_run_dir(&portfolio.portfolio().portfolio.id, a.seed));
    let prepared = a.exec.prepare(RunSpec {
        path_start: a.path_start,
        sensitivities: a.sensitivities,
        market_prices: a.prices.clone(),
        ..RunSpec::new(portfolio, a.paths, a.seed)
    })?;
    let out_dir = a.exec.claim(&out)?;
    // Checked (and FILE.tmp created) before the run starts; removed again on any failure.
    let rows = match &a.paths_out {
        Some(p) => Some(Box::new(crate::paths_out::PathsOut::create(
            p,
            prepared.base_plan(),
            a.seed,
            a.path_start,
            a.paths,
        )?) as Box<dyn RowsFile>),
        None => None,
    };
    tracing::info!(
        paths = a.paths,
        seed = a.seed,
        backend = prepared.backend_name(),
        threads = prepared.threads(),
        "run"
    );
    let plan = prepared.base_plan();
    let (steps_per_path, months, deals) = (plan.deal_steps_per_path(), plan.months, plan.n_deals());
    let legs = prepared.legs();
    let dir = a.exec.on_terminal(prepared.paths_total(), |control| {
        prepared.execute_to(out_dir, control, rows)
    })?;
    if a.format != OutputFormat::Table {
        print_derivatives(&dir, a.format);
        return Ok(());
    }
    print_tables(&dir);
    let m = &dir.manifest;
    let steps = steps_per_path as f64 * a.paths as f64 * legs as f64;
    println!(
        "{} paths × {} deals × {} months{} in {:.2} s ({:.3e} deal-steps/s, {} {} thread{}); wrote {}",
        a.paths,
        deals,
        months,
        if legs == 1 {
            String::new()
        } else {
            format!(" × {legs} legs")
        },
        m.elapsed_s,
        steps / m.elapsed_s.max(1e-9),
        m.backend,
        m.threads,
        if m.threads == 1 { "" } else { "s" },
        dir.dir.display()
    );
    if let Some(p) = &a.paths_out {
        println!("per-path rows: {}", p.display());
    }
    Ok(())
}

/// Prints the summary, pricing and (when computed) sensitivity tables.
fn print_tables(run: &RunDir) {
    let r = &run.results;
    for t in crate::tables::summary_tables(&r.stats) {
        println!("{t}");
    }
    for t in crate::tables::pricing_tables(&r.valuation) {
        println!("{t}");
    }
    if let Some(s) = &run.sensitivities {
        println!("{}", crate::tables::sensitivity_table(&r.valuation, s));
    }
    if !r.implied_spreads.is_empty() {
        println!(
            "{}",
            crate::tables::implied_spread_table(&r.implied_spreads)
        );
    }
    print_derivatives(run, OutputFormat::Table);
}

/// The derivatives table and the hedge comparison (each only when the run has them) in
/// `format`: tables with their titles, CSV tables separated by a blank line, or one JSON
/// object with the sections `derivatives` and `hedges` (`{}` without derivatives).
fn print_derivatives(run: &RunDir, format: OutputFormat) {
    let tables: Vec<_> = [
        gaib_runs::tables::derivative_table(&run.results),
        gaib_runs::tables::hedge_table(&run.results),
    ]
    .into_iter()
    .flatten()
    .collect();
    match format {
        OutputFormat::Json => print!("{}", render_sections(&tables)),
        _ => {
            let parts: Vec<String> = tables.iter().map(|t| render_cashflows(t, format)).collect();
            print!("{}", parts.join("\n"));
        }
    }
}
