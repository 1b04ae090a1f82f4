//! `gaib cashflows FILE [--deal ID | --pool ID | --section NAME] [--format table|csv|json]
//! [--out DIR]`: the deterministic base case (engine, Decimal).
//!
//! Without `--deal`/`--pool` the output has several sections — `tranches-<POOL>` per pool and
//! `deals`. Each invocation prints one valid document: a table per section; one JSON object
//! whose keys are the section names; or, for CSV (one header per file), the section chosen
//! with `--section` (an error naming the sections otherwise). `--out DIR` writes one file per
//! section (`DIR/<section>.csv` or `.json`) instead of printing.

use crate::tables::{render_cashflows, render_sections, OutputFormat};
use crate::CliError;
use gaib_engine::base_case;
use gaib_runs::tables::{
    deal_schedule, deal_summary, pool_waterfall, tranche_summary, CashflowTable,
};
use std::path::PathBuf;

/// Arguments of `gaib cashflows`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portfolio file (TOML or JSON).
    file: PathBuf,
    /// Monthly schedule of one deal.
    #[arg(long, conflicts_with = "pool")]
    deal: Option<String>,
    /// Monthly waterfall of one pool.
    #[arg(long)]
    pool: Option<String>,
    /// One section of the summary: `deals` or `tranches-<POOL>` (needed for CSV on stdout).
    #[arg(long, conflicts_with_all = ["deal", "pool"])]
    section: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Write one file per section into this directory (`<section>.csv` / `.json`; with table
    /// format, `.txt`) instead of printing.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let loaded = crate::input::load(&a.file)?;
    let p = &loaded.portfolio;
    let bc = base_case(p)?;
    let grids = if let Some(id) = &a.deal {
        let d = p.deal_index(id).ok_or_else(|| {
            CliError::invalid(format!(
                "--deal: unknown deal id '{id}' in {}",
                a.file.display()
            ))
        })?;
        vec![deal_schedule(p, &bc, d)]
    } else if let Some(id) = &a.pool {
        let q = p.pool_index(id).ok_or_else(|| {
            CliError::invalid(format!(
                "--pool: unknown pool id '{id}' in {}",
                a.file.display()
            ))
        })?;
        vec![pool_waterfall(p, &bc, q)]
    } else {
        let mut g: Vec<CashflowTable> = (0..p.pools.len())
            .map(|q| tranche_summary(p, &bc, q))
            .collect();
        g.push(deal_summary(p, &bc));
        match &a.section {
            None => g,
            Some(name) => {
                let names: Vec<String> = g.iter().map(|x| x.name.clone()).collect();
                let one = g.into_iter().find(|x| &x.name == name).ok_or_else(|| {
                    CliError::invalid(format!(
                        "--section: unknown section '{name}' (sections: {})",
                        names.join(", ")
                    ))
                })?;
                vec![one]
            }
        }
    };
    if let Some(dir) = &a.out {
        return write_sections(dir, &grids, a.format);
    }
    print!("{}", render_document(&grids, a.format)?);
    Ok(())
}

/// One document for stdout: tables one after the other; one JSON array (one section) or
/// object (several); CSV of exactly one section.
fn render_document(grids: &[CashflowTable], format: OutputFormat) -> anyhow::Result<String> {
    match (format, grids) {
        (_, [one]) => Ok(render_cashflows(one, format)),
        (OutputFormat::Table, _) => Ok(grids
            .iter()
            .map(|g| render_cashflows(g, format) + "\n")
            .collect()),
        (OutputFormat::Json, _) => Ok(render_sections(grids)),
        (OutputFormat::Csv, _) => Err(CliError::invalid(format!(
            "--format csv prints one table: choose one with --section ({}), or write every \
             section with --out DIR",
            grids
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Writes `DIR/<section>.<ext>` per section (DIR is created if missing).
fn write_sections(
    dir: &std::path::Path,
    grids: &[CashflowTable],
    format: OutputFormat,
) -> anyhow::Result<()> {
    let ext = match format {
        OutputFormat::Table => "txt",
        OutputFormat::Csv => "csv",
        OutputFormat::Json => "json",
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::invalid(format!("--out {}: cannot create: {e}", dir.display())))?;
    for g in grids {
        let path = dir.join(format!("{}.{ext}", g.name));
        gaib_runs::write_atomic(&path, render_cashflows(g, format).as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
