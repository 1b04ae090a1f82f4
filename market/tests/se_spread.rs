//! The measurement behind docs/MARKET.md's standard-error figures (ignored: minutes of CPU):
//! simulates `GAIB_SE_SEEDS` (default 50) seeds of the four classes of tests/common/truth.rs,
//! `GAIB_SE_DAYS` (default 1095: three years) of daily data each, calibrates them with the
//! standard errors of `GAIB_SE_METHOD` (`observed`, or `bootstrap` with `GAIB_SE_REPLICATES`
//! replicates, default 40), and prints per parameter the spread of the z-scores
//! (estimate − truth)/se and the share within 2 and 3 standard errors. Seeds from
//! `GAIB_SE_FIRST_SEED` (default 1000), so they never overlap the always-run test's.
//!
//! `GAIB_SE_METHOD=bootstrap cargo test -p gaib-market --test se_spread -- --ignored --nocapture`

mod common;

use chrono::NaiveDate;
use common::sim::simulate_csv;
use common::truth::{collect, corr, report, truth, ZTable};
use gaib_market::{calibrate, parse_history, Options, StdErrorMethod};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "minutes of CPU: the measurement recorded in docs/MARKET.md"]
fn z_score_spread_over_many_simulated_classes() {
    let seeds = env("GAIB_SE_SEEDS", 50);
    let first = env("GAIB_SE_FIRST_SEED", 1000);
    let start = NaiveDate::from_ymd_opt(2023, 11, 1).unwrap();
    let days = env("GAIB_SE_DAYS", 1095) as u32;
    let method = std::env::var("GAIB_SE_METHOD").unwrap_or_else(|_| "observed".into());
    let std_errors = match method.as_str() {
        "observed" => StdErrorMethod::Observed,
        "bootstrap" => StdErrorMethod::Bootstrap {
            replicates: env("GAIB_SE_REPLICATES", 40) as usize,
            seed: gaib_market::bootstrap::DEFAULT_SEED,
        },
        m => panic!("GAIB_SE_METHOD={m}: observed or bootstrap"),
    };
    let options = Options {
        std_errors,
        ..Options::default()
    };
    let mut z = ZTable::new();
    let t0 = std::time::Instant::now();
    for seed in first..first + seeds {
        let csv = simulate_csv(&truth(), &corr(), days, start, seed, "");
        let h = parse_history(&csv, "sim.csv").unwrap();
        let cal = calibrate(&h, None, &options).unwrap();
        collect(&mut z, &cal);
    }
    println!(
        "{seeds} seeds × {} classes, {days} days, standard errors {std_errors:?}, {:.0} s",
        truth().len(),
        t0.elapsed().as_secs_f64()
    );
    print!("{}", report(&z));
}
