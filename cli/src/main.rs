//! `gaib`: the command line of the gaib structured-finance engine and risk simulator.
//!
//! Exit codes: 0 ok, 1 other errors, 2 invalid input (file, field or argument), 3 a
//! reproduction mismatch, 130 interrupted.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cashflows;
mod exit;
mod input;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Cashflows(a) => cashflows::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
