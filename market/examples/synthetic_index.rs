//! Writes the synthetic sample in data/market/: `synthetic-gpu-index.csv` (daily index of the
//! sample portfolio's four GPU classes, 2024-09-01 .. 2026-10-31, simulated by gaib's price
//! model from the parameters below) and `synthetic-forward-curve.csv` (the model's E[P(t)]
//! at the last date with the same parameters, times a deterministic ±0.5 % wiggle standing
//! in for quote noise). Deterministic: `cargo run -p gaib-market --example synthetic_index`.

#![allow(missing_docs)]

#[path = "../tests/common/sim.rs"]
mod sim;

use chrono::NaiveDate;
use gaib_market::forward::{expected_price, PriceProcess};
use sim::{simulate_csv, TrueClass};

fn main() {
    let classes = vec![
        TrueClass {
            id: "H100",
            price0: 4.20,
            drift: -0.28,
            kappa: 3.0,
            sigma: 0.35,
            jump_intensity: 3.0,
            jump_mean: -0.12,
            jump_std: 0.04,
        },
        TrueClass {
            id: "H200",
            price0: 5.40,
            drift: -0.22,
            kappa: 3.0,
            sigma: 0.35,
            jump_intensity: 3.0,
            jump_mean: -0.12,
            jump_std: 0.04,
        },
        TrueClass {
            id: "B200",
            price0: 6.60,
            drift: -0.10,
            kappa: 2.5,
            sigma: 0.40,
            jump_intensity: 3.0,
            jump_mean: -0.10,
            jump_std: 0.05,
        },
        TrueClass {
            id: "A100",
            price0: 2.30,
            drift: -0.30,
            kappa: 3.5,
            sigma: 0.30,
            jump_intensity: 2.0,
            jump_mean: -0.12,
            jump_std: 0.04,
        },
    ];
    let corr = vec![
        vec![1.00, 0.80, 0.60, 0.70],
        vec![0.80, 1.00, 0.70, 0.60],
        vec![0.60, 0.70, 1.00, 0.45],
        vec![0.70, 0.60, 0.45, 1.00],
    ];
    let start = NaiveDate::from_ymd_opt(2024, 9, 1).expect("date");
    let end = NaiveDate::from_ymd_opt(2026, 10, 31).expect("date");
    let days = (end - start).num_days() as u32;
    let header = "# SYNTHETIC — not market data. Simulated by gaib's price model (MODEL.md §1, daily exact\n\
                  # discretisation) from the known parameters in data/market/README.md, seed 20240901,\n\
                  # by `cargo run -p gaib-market --example synthetic_index`. Prices in USD per GPU-hour.\n";
    let csv = simulate_csv(&classes, &corr, days, start, 20_240_901, header);
    std::fs::write("data/market/synthetic-gpu-index.csv", &csv).expect("write index");
    // Last simulated price per class.
    let mut last = std::collections::BTreeMap::new();
    for line in csv.lines().filter(|l| l.starts_with(&end.to_string())) {
        let f: Vec<&str> = line.split(',').collect();
        last.insert(f[1].to_string(), f[2].parse::<f64>().expect("price"));
    }
    let mut fwd = String::from(
        "# SYNTHETIC — not market data. The model's E[P(t)] (docs/MARKET.md) at the last date of\n\
         # synthetic-gpu-index.csv under its true parameters, times a deterministic +-0.5 % wiggle\n\
         # standing in for quote noise. USD per GPU-hour.\nas_of,class,tenor_months,forward\n",
    );
    for c in &classes {
        let p = PriceProcess {
            price0: last[c.id],
            drift: c.drift,
            kappa: c.kappa,
            sigma: c.sigma,
            jump_intensity: c.jump_intensity,
            jump_mean: c.jump_mean,
            jump_std: c.jump_std,
        };
        for (k, m) in [1u32, 2, 3, 6, 9, 12, 18, 24, 36].iter().enumerate() {
            let wiggle = if k % 2 == 0 { 1.005 } else { 0.995 };
            let f = expected_price(&p, f64::from(*m) / 12.0, 0.0) * wiggle;
            fwd.push_str(&format!("{end},{},{m},{f:.4}\n", c.id));
        }
    }
    std::fs::write("data/market/synthetic-forward-curve.csv", fwd).expect("write curve");
}
