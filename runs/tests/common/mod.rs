//! Helpers shared by the run layer's integration tests.
#![allow(dead_code)]

use gaib_runs::{PortfolioInput, RunControl, RunOutput, RunSpec};
use gaib_testkit::sample_portfolio;

/// data/portfolios/sample.toml (with its loan tape) as a run input.
pub(crate) fn sample() -> PortfolioInput {
    PortfolioInput::from_file(&sample_portfolio()).unwrap()
}

/// Prepares and executes `spec` with the default control and no row sink.
pub(crate) fn run(spec: RunSpec) -> RunOutput {
    spec.prepare()
        .unwrap()
        .execute(&RunControl::default(), None)
        .unwrap()
}
