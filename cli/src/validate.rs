//! `gaib validate FILE`.

use std::path::PathBuf;

/// Arguments of `gaib validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portfolio file (TOML or JSON).
    file: PathBuf,
}

/// Validates the file and prints a one-line summary.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let loaded = crate::input::load(&a.file)?;
    let p = &loaded.portfolio;
    let funded: gaib_engine::Decimal = p.deals.iter().map(|d| d.funded_amount()).sum();
    println!(
        "ok: {} — {} gpu classes, {} operators, {} fleets, {} deals (USD {} funded), {} pools, {} vault; horizon {} months",
        a.file.display(),
        p.gpu_classes.len(),
        p.operators.len(),
        p.fleets.len(),
        p.deals.len(),
        funded.round_dp(2),
        p.pools.len(),
        if p.vault.is_some() { "1" } else { "no" },
        p.horizon_months()
    );
    for w in p.derivative_warnings() {
        eprintln!("warning: {w}");
    }
    Ok(())
}
