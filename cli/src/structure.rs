//! `gaib structure DIR --target POOL/TRANCHE:pd=PCT|el=PCT ... [--format table|json] [--out
//! FILE]`: sizes a pool's tranches from the senior down to target PDs or ELs on the run's
//! paths (simulated once; each trial re-runs only the pool waterfall), and prints each
//! tranche's balance, attachment with its 95 % interval, achieved PD/EL ± se and price.
//! An infeasible target, an unknown tranche or a malformed target exits 2 naming it.
//! `--format json` and `--out` give `structure.json`'s versioned form (the request, the run
//! it read, the result); `--save` / `--save-to DIR` keep it in the run directory (or a copy),
//! where `gaib reproduce` re-computes and checks it.

use crate::CliError;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_runs::{
    structure_report_html, write_atomic, BreakEvens, RunDir, Structure, StructureRequest,
    TargetMetric, TrancheTarget, STRUCTURE,
};
use std::path::PathBuf;

use crate::tables::TableOrJson as Format;

/// Arguments of `gaib structure`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The run directory (or its manifest.json) whose paths to use.
    run: PathBuf,
    /// A tranche's target, percent: `POOL/TRANCHE:pd=0.5` (PD at most 0.5 %) or
    /// `POOL/TRANCHE:el=0.1` (EL at most 0.1 % of its balance). Repeat for several tranches
    /// of one pool; the equity takes the residual.
    #[arg(long = "target", value_name = "TRANCHE:pd|el=PCT")]
    targets: Vec<String>,
    /// Also the break-even stresses of this pool: per deal the GPU price shock at which it
    /// defaults in the base case; per tranche the price shock at which it first loses money
    /// in the base case, and the price shock and hazard multiplier at which its EL over the
    /// run's paths (at most 2 000) exceeds --el-level.
    #[arg(long, value_name = "POOL")]
    breakeven: Option<String>,
    /// The EL level of the Monte Carlo break-evens, % of a tranche's balance.
    #[arg(long, default_value_t = 1.0, value_name = "PCT")]
    el_level: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write the structure as JSON to this file (atomically).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write a self-contained HTML page: the sized tranches, the subordination vs
    /// target chart, the break-evens.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// Save the result into the run directory: structure.json (versioned: the request, the
    /// run it read, the result), a structure section in report.html, and manifest.json
    /// recording both, so that `gaib reproduce` re-computes and checks it. This changes
    /// manifest.json and so the run's id (its SHA-256); see --save-to.
    #[arg(long, conflicts_with = "save_to")]
    save: bool,
    /// Save as --save, into a copy of the run directory at DIR (absent or empty), leaving
    /// the run itself (and its id) untouched.
    #[arg(long, value_name = "DIR")]
    save_to: Option<PathBuf>,
}

/// Sizes and prints.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let targets = a
        .targets
        .iter()
        .map(|t| t.parse::<TrancheTarget>())
        .collect::<Result<Vec<_>, _>>()?;
    if !a.run.exists() {
        return Err(CliError::invalid(format!(
            "run: {}: no such run directory",
            a.run.display()
        )));
    }
    if targets.is_empty() && a.breakeven.is_none() {
        return Err(CliError::invalid(
            "target: give at least one --target TRANCHE:pd|el=PCT, or --breakeven POOL",
        ));
    }
    if !(a.el_level > 0.0 && a.el_level < 100.0) {
        return Err(CliError::invalid(format!(
            "el-level: {} is not a percent strictly between 0 and 100",
            a.el_level
        )));
    }
    let dir = RunDir::open(&a.run)?;
    let request = StructureRequest::new(targets, a.breakeven.clone(), a.el_level);
    let doc = dir.structure(&request)?;
    let (s, b) = (doc.structure.as_ref(), doc.break_evens.as_ref());
    let json = String::from_utf8(doc.to_json_bytes()?)?;
    if let Some(out) = &a.out {
        write_atomic(out, json.as_bytes())?;
    }
    if let Some(r) = &a.report {
        write_atomic(r, structure_report_html(s, b).as_bytes())?;
    }
    if a.save || a.save_to.is_some() {
        let saved = dir.save_structure(&doc, a.save_to.as_deref())?;
        eprintln!(
            "saved {} into {} (manifest.json and report.html updated; `gaib reproduce {}` \
             checks it)",
            STRUCTURE,
            saved.dir.display(),
            saved.dir.display()
        );
    }
    match a.format {
        Format::Json => print!("{json}"),
        Format::Table => {
            if let Some(s) = s {
                println!("{}", table(s));
            }
            if let Some(b) = b {
                println!("{}", breakeven_table(b));
            }
        }
    }
    Ok(())
}

fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

fn target_text(t: &TrancheTarget) -> String {
    let m = match t.metric {
        TargetMetric::Pd => "PD",
        TargetMetric::El => "EL",
    };
    format!("{m} ≤ {} %", t.max_pct)
}

/// The terminal table of a structure.
fn table(s: &Structure) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "tranche",
        "target",
        "met",
        "balance USD",
        "was USD",
        "attach %",
        "attach 95% CI",
        "detach %",
        "PD % (± se)",
        "EL % (± se)",
        "price % (± se)",
        "yield %",
    ]);
    for x in &s.tranches {
        t.add_row(vec![
            Cell::new(&x.tranche),
            Cell::new(x.target.as_ref().map(target_text).unwrap_or_default()),
            Cell::new(match x.meets_target {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            }),
            right(format!("{:.0}", x.balance_usd)),
            right(format!("{:.0}", x.original_balance_usd)),
            right(format!("{:.3}", x.attachment_pct)),
            right(
                x.attachment_ci95_pct
                    .map(|[lo, hi]| format!("{lo:.3} – {hi:.3}"))
                    .unwrap_or_default(),
            ),
            right(format!("{:.3}", x.detachment_pct)),
            right(format!("{:.3} ± {:.3}", x.pd_pct, x.pd_se_pct)),
            right(format!("{:.4} ± {:.4}", x.el_pct, x.el_se_pct)),
            right(format!("{:.3} ± {:.3}", x.price_pct, x.price_se_pct)),
            right(x.yield_pct.map_or_else(String::new, |y| format!("{y:.3}"))),
        ]);
    }
    format!(
        "pool {} of {} — seed {}, paths {}..{} (common random numbers; waterfall re-run per \
         trial)\n{t}",
        s.pool,
        s.portfolio_id,
        s.seed,
        s.path_start,
        s.path_start + s.paths
    )
}

fn opt(x: Option<f64>, unit: &str) -> String {
    x.map_or_else(|| "none".to_string(), |v| format!("{v:.2}{unit}"))
}

/// The terminal table of a pool's break-even stresses.
fn breakeven_table(b: &BreakEvens) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "instrument",
        "price shock: base-case loss/default",
        &format!("price shock: EL > {} %", b.el_level_pct),
        &format!("hazard ×: EL > {} %", b.el_level_pct),
    ]);
    for x in &b.tranches {
        t.add_row(vec![
            Cell::new(&x.tranche),
            right(opt(x.price_shock_first_loss_pct, " %")),
            right(opt(x.price_shock_el_pct, " %")),
            right(opt(x.hazard_multiplier_el, "×")),
        ]);
    }
    for x in &b.deals {
        t.add_row(vec![
            Cell::new(&x.deal),
            right(opt(x.price_shock_default_pct, " %")),
            Cell::new(""),
            Cell::new(""),
        ]);
    }
    format!(
        "break-even stresses of pool {} (Monte Carlo columns: {} paths; none = not within \
         −99.9 % / 1000×)\n{t}",
        b.pool, b.paths
    )
}
