//! `gaib`: the command line of the gaib structured-finance engine and risk simulator.
//!
//! Exit codes: 0 ok, 1 other errors, 2 invalid input (file, field or argument), 3 a
//! reproduction mismatch, 130 interrupted.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cashflows;
mod charts;
mod exit;
mod input;
mod paths_out;
mod publish;
mod report;
mod reproduce;
mod run;
mod stress;
mod validate;

pub(crate) use exit::CliError;

/// gaib: structured finance and Monte Carlo risk for GPU-backed credit.
#[derive(Debug, Parser)]
#[command(name = "gaib", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a portfolio file (and its loan tape); exit 2 naming every invalid field.
    Validate(validate::Args),
    /// Deterministic base-case cash flows of the deals and the pool waterfall.
    Cashflows(cashflows::Args),
    /// Monte Carlo run: progress, summary table, results.json and manifest.json in --out.
    Run(run::Args),
    /// Run the base portfolio and stress scenarios with common random numbers; print every
    /// metric's change side by side (exit 2 on an unknown scenario file or a bad override).
    Stress(stress::Args),
    /// Re-run a run from its manifest.json and check the results bit for bit (exit 3 if not).
    Reproduce(reproduce::Args),
    /// Sign a valuation report with a local key and submit it to a ValuationOracle (JSON-RPC).
    Publish(publish::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Cashflows(a) => cashflows::run(a),
        Command::Run(a) => run::run(a),
        Command::Stress(a) => stress::run(a),
        Command::Reproduce(a) => reproduce::run(a),
        Command::Publish(a) => publish::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
