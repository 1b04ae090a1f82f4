//! `gaib stress FILE --scenario S... [--paths N] [--seed S] [--threads T] [--backend B]
//! [--format table|json] [--out DIR [--force]]`: runs the base portfolio and each scenario with
//! the same seed and paths (common random numbers) and prints every metric of the base run with
//! its change under each scenario — a thin front over `gaib-runs`.
//!
//! A scenario is a TOML file; a bare name such as `gpu-glut` is looked up as documented in
//! [`gaib_runs::scenario_search_dirs`] (`$GAIB_SCENARIOS`, next to the portfolio, `data/scenarios`,
//! the shipped scenarios). Every scenario is read, parsed and applied before any simulation
//! starts, so an unknown file, an unknown field or a bad override exits 2 at once. `--out DIR`
//! writes a self-contained run directory (inputs, results.json, stress.json, report.html,
//! manifest.json) that `gaib reproduce DIR` re-runs and checks bit for bit. A portfolio with
//! `[[derivatives]]` adds each derivative's E\[PV\] under each scenario (in stress.json too)
//! and, with hedges, the base run with and without them.

use crate::run::Execution;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_runs::{PortfolioInput, RunSpec, ScenarioInput, StressResults};
use std::path::PathBuf;

use crate::tables::TableOrJson as Format;

/// Arguments of `gaib stress`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portfolio file (TOML or JSON).
    file: PathBuf,
    /// Scenario files, or bare names looked up in $GAIB_SCENARIOS, next to the portfolio
    /// (scenarios/, ../scenarios/), ./data/scenarios and the shipped data/scenarios.
    #[arg(long = "scenario", required = true, num_args = 1..)]
    scenarios: Vec<String>,
    /// Monte Carlo paths per run (the same paths for every scenario).
    #[arg(long, default_value_t = 10_000)]
    paths: u64,
    /// Seed (the same for every scenario: common random numbers).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Run directory to write (inputs, results.json, stress.json, report.html, manifest.json);
    /// must be absent or empty.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    exec: Execution,
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let portfolio = PortfolioInput::from_file(&a.file)?;
    let scenarios = a
        .scenarios
        .iter()
        .map(|s| ScenarioInput::locate(s, Some(&a.file)))
        .collect::<gaib_runs::Result<Vec<_>>>()?;
    let prepared = a.exec.prepare(RunSpec {
        scenarios,
        ..RunSpec::new(portfolio, a.paths, a.seed)
    })?;
    let out_dir = a.out.as_deref().map(|d| a.exec.claim(d)).transpose()?;
    let (stress, results, dir) =
        a.exec
            .on_terminal(prepared.paths_total(), |control| match out_dir {
                Some(d) => prepared
                    .execute_to(d, control, None)
                    .map(|dir| (dir.stress, dir.results, Some(dir.dir))),
                None => prepared
                    .execute(control, None)
                    .map(|out| (out.stress, out.results, None)),
            })?;
    let stress = stress.expect("a run with scenarios has a stress comparison");
    match a.format {
        Format::Table => {
            println!("{}", stress_table(&stress));
            // With derivatives: their E[PV] under each scenario, and the base run with and
            // without its hedges.
            let tables = [
                gaib_runs::tables::stress_derivative_table(&stress),
                gaib_runs::tables::hedge_table(&results),
            ];
            for t in tables.iter().flatten() {
                print!(
                    "{}",
                    crate::tables::render_cashflows(t, crate::tables::OutputFormat::Table)
                );
            }
            println!(
                "{} paths, seed {} for every run (common random numbers); Δ = scenario − base.",
                a.paths, a.seed
            );
        }
        // The bytes of stress.json (pretty JSON and a final newline).
        Format::Json => println!("{}", serde_json::to_string_pretty(&stress)?),
    }
    if let Some(dir) = dir {
        eprintln!(
            "wrote {} (stress.json, report.html, manifest.json; `gaib reproduce {}` re-checks it)",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Metric, unit, base, then each scenario's value and change.
fn stress_table(s: &StressResults) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec!["metric".to_string(), "unit".into(), "base".into()];
    header.extend(s.scenarios.iter().map(|c| format!("{} (Δ)", c.name)));
    t.set_header(header);
    for m in &s.base {
        let mut row = vec![
            Cell::new(&m.key),
            Cell::new(&m.unit),
            Cell::new(format!("{:.3}", m.value)).set_alignment(CellAlignment::Right),
        ];
        for c in &s.scenarios {
            let cell = c.changes.iter().find(|x| x.key == m.key).map_or_else(
                || "–".to_string(),
                |x| format!("{:.3} ({:+.3})", x.value, x.change),
            );
            row.push(Cell::new(cell).set_alignment(CellAlignment::Right));
        }
        t.add_row(row);
    }
    t
}
