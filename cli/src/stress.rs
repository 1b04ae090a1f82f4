//! `gaib stress FILE --scenario S... [--paths N] [--seed S] [--threads T] [--backend B]
//! [--format table|json] [--out DIR]`: runs the base portfolio and each scenario with the same seed and paths (common
//! random numbers) and prints every metric of the base run with its change under each scenario.
//!
//! A scenario is a TOML file (`data/scenarios/*.toml`; a bare name such as `gpu-glut` is looked
//! up there). Every scenario is read, parsed and applied before any simulation starts, so an
//! unknown file, an unknown field or a bad override exits 2 at once. `--out DIR` writes
//! `stress.json` and `report.html` (base valuation plus the stress table).

use crate::report::{self, ReportInput, RunInfo, StressColumn};
use crate::run::{backend, check_paths, simulate, BackendArg};
use crate::CliError;
use anyhow::Context;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_engine::{Portfolio, Scenario};
use gaib_pricing::{compare, metrics, Valuation};
use gaib_simulator::{lower, write_atomic, SimError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Output format of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A table: metric, base, then each scenario's value and change.
    Table,
    /// JSON: base metrics and each scenario's changes.
    Json,
}

/// Arguments of `gaib stress`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portfolio file (TOML or JSON).
    file: PathBuf,
    /// Scenario files (or names of files in data/scenarios), one or more.
    #[arg(long = "scenario", required = true, num_args = 1..)]
    scenarios: Vec<String>,
    /// Monte Carlo paths per run (the same paths for every scenario).
    #[arg(long, default_value_t = 10_000)]
    paths: u64,
    /// Seed (the same for every scenario: common random numbers).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: all CPUs). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Backend (as for `gaib run`).
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Directory for stress.json and report.html.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not draw progress bars.
    #[arg(long)]
    quiet: bool,
}

/// Finds a scenario file: the path as given, else `data/scenarios/<name>.toml`.
fn locate(s: &str) -> anyhow::Result<PathBuf> {
    let p = PathBuf::from(s);
    if p.is_file() {
        return Ok(p);
    }
    let named = Path::new("data/scenarios").join(format!("{s}.toml"));
    if named.is_file() {
        return Ok(named);
    }
    let known: Vec<String> = std::fs::read_dir("data/scenarios")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
                })
                .collect()
        })
        .unwrap_or_default();
    let hint = if known.is_empty() {
        String::new()
    } else {
        let mut k = known;
        k.sort();
        format!(" (known in data/scenarios: {})", k.join(", "))
    };
    Err(CliError::invalid(format!(
        "scenario '{s}': no such file{hint}"
    )))
}

fn run_one(
    p: &Portfolio,
    backend: &dyn gaib_simulator::Backend,
    a: &Args,
    label: &str,
) -> anyhow::Result<Valuation> {
    let plan = lower(p).map_err(|e| match e {
        SimError::Engine(e) => anyhow::Error::new(e),
        other => CliError::invalid(other.to_string()),
    })?;
    if !a.quiet {
        eprintln!("{label}: {} paths, seed {}", a.paths, a.seed);
    }
    let out = simulate(p, &plan, backend, a.paths, a.seed, !a.quiet)?;
    Ok(out.valuation)
}

#[derive(Serialize)]
struct StressJson<'a> {
    portfolio_id: &'a str,
    seed: u64,
    paths: u64,
    base: Vec<gaib_pricing::Metric>,
    scenarios: Vec<ScenarioJson<'a>>,
}

#[derive(Serialize)]
struct ScenarioJson<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    file: String,
    changes: &'a [gaib_pricing::MetricChange],
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    check_paths(a.paths)?;
    let loaded = crate::input::load(&a.file)?;
    let base_p = loaded.portfolio;
    // Read, parse and apply every scenario before simulating anything.
    let mut stressed = Vec::new();
    for s in &a.scenarios {
        let path = locate(s)?;
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::invalid(format!("{name}: cannot read: {e}")))?;
        let scenario = Scenario::from_toml(&text, &name)?;
        let p = scenario.apply(&base_p, &name)?;
        stressed.push((scenario, name, p));
    }
    let backend = backend(a.backend, a.threads)?;
    let base = run_one(&base_p, backend.as_ref(), &a, "base")?;
    let mut columns = Vec::new();
    for (scenario, file, p) in &stressed {
        let v = run_one(p, backend.as_ref(), &a, scenario.label())?;
        columns.push((scenario, file, compare(&base, &v)));
    }

    match a.format {
        Format::Table => {
            let mut t = Table::new();
            t.load_style(UTF8_FULL_CONDENSED);
            let mut header = vec!["metric".to_string(), "unit".into(), "base".into()];
            header.extend(columns.iter().map(|(s, _, _)| format!("{} (Δ)", s.label())));
            t.set_header(header);
            for m in metrics(&base) {
                let mut row = vec![
                    Cell::new(&m.key),
                    Cell::new(&m.unit),
                    Cell::new(format!("{:.3}", m.value)).set_alignment(CellAlignment::Right),
                ];
                for (_, _, changes) in &columns {
                    let cell = changes.iter().find(|c| c.key == m.key).map_or_else(
                        || "–".to_string(),
                        |c| format!("{:.3} ({:+.3})", c.value, c.change),
                    );
                    row.push(Cell::new(cell).set_alignment(CellAlignment::Right));
                }
                t.add_row(row);
            }
            println!("{t}");
            println!(
                "{} paths, seed {} for every run (common random numbers); Δ = scenario − base.",
                a.paths, a.seed
            );
        }
        Format::Json => {
            let j = stress_json(&base, &columns, &a);
            println!("{}", serde_json::to_string_pretty(&j)?);
        }
    }

    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        let j = stress_json(&base, &columns, &a);
        let mut bytes = serde_json::to_vec_pretty(&j)?;
        bytes.push(b'\n');
        write_atomic(&dir.join("stress.json"), &bytes)?;
        let stress: Vec<StressColumn> = columns
            .iter()
            .map(|(s, _, changes)| StressColumn {
                label: s.label().to_string(),
                description: s.description.clone(),
                changes: changes.clone(),
            })
            .collect();
        let path = report::write(
            dir,
            &ReportInput {
                valuation: &base,
                run: RunInfo {
                    seed: a.seed,
                    backend: backend.name().to_string(),
                },
                sensitivities: &[],
                stress: &stress,
            },
        )?;
        eprintln!(
            "wrote {} and {}",
            dir.join("stress.json").display(),
            path.display()
        );
    }
    Ok(())
}

fn stress_json<'a>(
    base: &'a Valuation,
    columns: &'a [(&'a Scenario, &'a String, Vec<gaib_pricing::MetricChange>)],
    a: &Args,
) -> StressJson<'a> {
    StressJson {
        portfolio_id: &base.portfolio_id,
        seed: a.seed,
        paths: a.paths,
        base: metrics(base),
        scenarios: columns
            .iter()
            .map(|(s, file, changes)| ScenarioJson {
                id: &s.id,
                name: s.label(),
                description: &s.description,
                file: (*file).clone(),
                changes,
            })
            .collect(),
    }
}
