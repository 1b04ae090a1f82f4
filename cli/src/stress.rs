//! `gaib stress FILE --scenario S... [--paths N] [--seed S] [--threads T] [--backend B]
//! [--format table|csv|json] [--out DIR [--force]]`: runs the base portfolio and each scenario
//! with the same seed and paths (common random numbers) and prints every metric of the base run
//! with its change under each scenario — a thin front over `gaib-runs`.
//!
//! `--format csv` prints the same numbers as one long-form CSV for spreadsheets: a header
//! `metric,unit,scenario,value,change` and one row per metric and run — the base (scenario
//! `base`, change empty) then each scenario under its name — with every value at full precision
//! (shortest round-trip), an empty cell where a value is absent, and each derivative's E\[PV\]
//! as metric `ID E[PV]` in USD. The hedge comparison is not in it (see `--out`'s results.json).
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
use std::io::Write;
use std::path::PathBuf;

/// Output format of `gaib stress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A table for people (values to 3 decimals).
    Table,
    /// Long-form CSV (`metric,unit,scenario,value,change`, one row per metric and run, full
    /// precision) for spreadsheets.
    Csv,
    /// JSON (the contents of stress.json).
    Json,
}

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
    /// Output format: `table`, `csv` (long form: metric,unit,scenario,value,change; one row
    /// per metric and run, the base as scenario `base`, full precision) or `json`
    /// (stress.json).
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
        Format::Csv => match write_csv(&stress, std::io::stdout().lock()) {
            // A reader that stops early (`| head`) is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        },
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

/// The header of `--format csv`.
const CSV_HEADER: [&str; 5] = ["metric", "unit", "scenario", "value", "change"];

/// The scenario name of the base run's rows in `--format csv`.
const BASE: &str = "base";

/// A number at full precision (shortest round-trip, no exponent); an empty cell for an absent
/// or non-finite value (JSON writes those as `null`).
fn csv_number(x: Option<f64>) -> String {
    x.filter(|x| x.is_finite())
        .map_or_else(String::new, |x| x.to_string())
}

/// `s` as long-form CSV into `out`: the header, then for each metric (in the base run's
/// order) a row for the base (change empty) and one per scenario (value and change empty where
/// the scenario lacks the metric), then the same for each derivative's E\[PV\] (metric
/// `ID E[PV]`, unit `USD`). Fields are quoted by the `csv` crate (RFC 4180).
pub(crate) fn write_csv(s: &StressResults, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    write_rows(s, &mut w).map_err(std::io::Error::from)?;
    w.flush()
}

/// The rows of [`write_csv`].
fn write_rows<W: Write>(s: &StressResults, w: &mut csv::Writer<W>) -> csv::Result<()> {
    w.write_record(CSV_HEADER)?;
    for m in &s.base {
        w.write_record([
            m.key.as_str(),
            &m.unit,
            BASE,
            &csv_number(Some(m.value)),
            "",
        ])?;
        for c in &s.scenarios {
            let x = c.changes.iter().find(|x| x.key == m.key);
            w.write_record([
                m.key.as_str(),
                &m.unit,
                &c.name,
                &csv_number(x.map(|x| x.value)),
                &csv_number(x.map(|x| x.change)),
            ])?;
        }
    }
    // Each derivative, in the first scenario's (portfolio) order, as the table prints them.
    if let Some(first) = s.scenarios.first() {
        for (i, d) in first.derivatives.iter().enumerate() {
            let metric = format!("{} E[PV]", d.id);
            w.write_record([
                metric.as_str(),
                "USD",
                BASE,
                &csv_number(Some(d.base_usd)),
                "",
            ])?;
            for c in &s.scenarios {
                let x = c.derivatives.get(i).filter(|x| x.id == d.id);
                w.write_record([
                    metric.as_str(),
                    "USD",
                    &c.name,
                    &csv_number(x.map(|x| x.value_usd)),
                    &csv_number(x.map(|x| x.change_usd)),
                ])?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_full_precision_and_absent_ones_are_empty() {
        assert_eq!(csv_number(Some(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(csv_number(Some(-1.5)), "-1.5");
        assert_eq!(csv_number(None), "");
        assert_eq!(csv_number(Some(f64::NAN)), "");
    }
}
