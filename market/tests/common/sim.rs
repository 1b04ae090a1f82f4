//! Simulated index histories from gaib's own price model (MODEL.md §1) at a daily step, for
//! the accuracy tests and the synthetic sample in data/market/.
//!
//! The simulator's price step (simulator/src/model.rs) is private and fixed to the monthly
//! grid (dt = 1/12 in `simulator::plan::lower`), so this helper implements MODEL.md §1's exact
//! discretisation itself at dt = 1 day = 1/365.25 year — the same formulas, with model
//! version 5's draw table (Philox4x32-10 from gaib-simulator: per class and step, call 0 gives
//! eps by Box–Muller from words 0–1 and the Poisson count by inverse CDF from word 2; calls 1,
//! 2, … give the jump sizes four at a time; version 6's simulator draws two months per call 0,
//! which this synthetic history, committed in data/market/, does not follow), with the step
//! index being the day instead of the month.

#![allow(dead_code, unreachable_pub)]

use chrono::NaiveDate;
use gaib_simulator::rng::{box_muller_first, poisson_inverse, uniform, PathRng};

/// One class's true parameters (MODEL.md §1 field names).
#[derive(Debug, Clone)]
pub struct TrueClass {
    pub id: &'static str,
    pub price0: f64,
    pub drift: f64,
    pub kappa: f64,
    pub sigma: f64,
    pub jump_intensity: f64,
    pub jump_mean: f64,
    pub jump_std: f64,
}

/// Simulates `days + 1` daily observations (day 0 = `start`) of every class under `seed`,
/// with `corr` the correlation of the diffusive shocks; returns `date,class,price` CSV text.
pub fn simulate_csv(
    classes: &[TrueClass],
    corr: &[Vec<f64>],
    days: u32,
    start: NaiveDate,
    seed: u64,
    header: &str,
) -> String {
    let nc = classes.len();
    let l = cholesky(corr);
    let dt = 1.0 / 365.25;
    let rng = PathRng::new(seed, 0);
    let mut x = vec![0.0; nc];
    let mut j = vec![0.0; nc];
    let mut out = String::from(header);
    out.push_str("date,class,price\n");
    let mut eps = vec![0.0; nc];
    for k in 0..=days {
        let t = f64::from(k) * dt;
        if k > 0 {
            for (c, cl) in classes.iter().enumerate() {
                let stream = 0x6d61_726b ^ (c as u32 + 1);
                let w = rng.words(stream, k, 0);
                eps[c] = box_muller_first(w[0], w[1]);
                let n = poisson_inverse(cl.jump_intensity * dt, uniform(w[2]), 64);
                let mut normals = [0.0; 4];
                for q in 0..n {
                    if q % 4 == 0 {
                        normals = rng.normals4(stream, k, 1 + q / 4);
                    }
                    j[c] += cl.jump_mean + cl.jump_std * normals[(q % 4) as usize];
                }
            }
            for (c, cl) in classes.iter().enumerate() {
                let z: f64 = (0..=c).map(|q| l[c][q] * eps[q]).sum();
                let phi = (-cl.kappa * dt).exp();
                let scale = cl.sigma * ((1.0 - phi * phi) / (2.0 * cl.kappa)).sqrt();
                x[c] = x[c] * phi + scale * z;
            }
        }
        let date = start + chrono::Days::new(u64::from(k));
        for (c, cl) in classes.iter().enumerate() {
            let p = (cl.price0.ln() + cl.drift * t + x[c] + j[c]).exp();
            out.push_str(&format!("{date},{},{p:.6}\n", cl.id));
        }
    }
    out
}

fn cholesky(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for k in 0..=i {
            let s: f64 = (0..k).map(|q| l[i][q] * l[k][q]).sum();
            if i == k {
                l[i][k] = (a[i][i] - s).sqrt();
            } else {
                l[i][k] = (a[i][k] - s) / l[k][k];
            }
        }
    }
    l
}
