//! `gaib`: the command line of the gaib structured-finance engine and risk simulator.
//!
//! Exit codes: 0 ok, 1 other errors, 2 invalid input (file, field or argument), 3 a
//! reproduction mismatch, 130 interrupted.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod calibrate;
mod cashflows;
mod deploy;
mod exit;
mod explain;
mod input;
mod keys;
mod paths_out;
mod progress;
mod publish;
mod reproduce;
mod run;
mod serve;
mod stress;
mod structure;
mod tables;
mod validate;

pub(crate) use exit::CliError;

/// gaib: structured finance and Monte Carlo risk for GPU-backed credit.
#[derive(Debug, Parser)]
#[command(name = "gaib", version, about, long_about = None)]
struct Cli {
    /// Log lines on stderr: `text` (human) or `json` (one object a line). The level comes from
    /// `RUST_LOG` (e.g. `info`, `gaib_api=debug`); default `info` for `serve`, `warn` otherwise.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The format of the log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line (timestamp, level, target, fields, spans).
    Json,
}

/// Installs the `tracing` subscriber: stderr, `RUST_LOG` or `default` as the filter.
fn install_logging(format: LogFormat, default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second subscriber (tests calling main twice) is not an error worth failing on.
    let _ = match format {
        LogFormat::Json => b.json().with_current_span(true).try_init(),
        LogFormat::Text => b
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a portfolio file (and its loan tape); exit 2 naming every invalid field.
    Validate(validate::Args),
    /// Price-process parameters from market data: a GPU-hour index history (and forward
    /// curve) in; the `[[gpu_classes]]` block or an updated portfolio (--update, --out), JSON
    /// and HTML out (docs/MARKET.md).
    Calibrate(calibrate::Args),
    /// Deterministic base-case cash flows of the deals and the pool waterfall.
    Cashflows(cashflows::Args),
    /// Monte Carlo run: progress, summary tables, and a self-contained run directory (inputs,
    /// results.json, report.html, manifest.json) in --out.
    Run(run::Args),
    /// Run the base portfolio and stress scenarios with common random numbers; print every
    /// metric's change side by side (`--format table|csv|json`; exit 2 on an unknown scenario
    /// file or a bad override).
    Stress(stress::Args),
    /// Re-run a run (plain, sensitivities or stress) from its directory alone and check every
    /// output bit for bit (exit 3 naming the differing fields if not).
    Reproduce(reproduce::Args),
    /// Replay one path of a run directory (same inputs, seed and draws) and print it month by
    /// month: market, fleets, deals, pool waterfalls, tranches (`--path N` or `--worst tranche
    /// ID`; `--deal`/`--pool` to narrow; `--format table|csv|json`).
    Explain(explain::Args),
    /// Size a pool's tranches to target PDs or ELs on a run's paths (`--target
    /// POOL/TRANCHE:pd=PCT|el=PCT`, repeated): balances, attachments with 95 % intervals,
    /// achieved PD/EL and prices (exit 2 on an infeasible target).
    Structure(structure::Args),
    /// Sign a valuation report with a local key and submit it to a ValuationOracle (JSON-RPC).
    Publish(publish::Args),
    /// Deploy the contracts from the checked-in artifacts as deploy.toml says; writes
    /// deployments/CHAIN_ID.json.
    Deploy(deploy::Args),
    /// The valuation service: HTTP API, simulation jobs, valuations, dashboard (docs/API.md).
    Serve(serve::Args),
    /// API keys of the service's write endpoints.
    Keys(keys::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    install_logging(cli.log_format, default_level);
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Cashflows(a) => cashflows::run(a),
        Command::Run(a) => run::run(a),
        Command::Stress(a) => stress::run(a),
        Command::Reproduce(a) => reproduce::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Structure(a) => structure::run(a),
        Command::Publish(a) => publish::run(a),
        Command::Deploy(a) => deploy::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Keys(a) => keys::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
