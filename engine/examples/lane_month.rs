//! Cost of a deal's month in lanes of paths against the scalar state machine
//! (docs/PERFORMANCE.md, "A lane-native simulator"): the same deals, states and inputs, stepped
//! path by path (`scalar`), four paths per AVX2 vector (`lanes4`) or eight per AVX-512 vector
//! (`lanes8`). Prints the time per path-month and a checksum (the same for all three).
//!
//! Usage: `cargo run --release -p gaib-engine --example lane_month -- MODE [REPS]`
//! with MODE one of scalar, lanes4, lanes8.

use gaib_engine::lanes::deal::{step_deal, DealLanes, FlowLanes};
use gaib_engine::{
    Amortization, AnnuityPowers, DealFlows, DealParams, DealParamsKind, DealState, MonthInputs,
};
use std::time::Instant;

const DEALS: usize = 30;
const TERM: u32 = 48;
const PATHS: usize = 8;

fn deals() -> Vec<DealParams<f64>> {
    (0..DEALS)
        .map(|d| DealParams {
            kind: DealParamsKind::Loan {
                principal: 1e6 + 1e4 * d as f64,
                fixed_rate: Some(0.08 + 0.001 * d as f64),
                floating_spread: 0.0,
                amortization: Amortization::Annuity,
                grace_months: 0,
                dsra_months: 3,
                cash_sweep: 0.25,
                refinance_ratio: 1.2,
                kicker_share: 0.0,
            },
            term_months: TERM - (d as u32 % 12),
            recovery_lag_months: 3,
            secured: true,
            unsecured_recovery: 0.3,
        })
        .collect()
}

/// Cash available to deal `d` in month `k` (1-based) on path `i`, indexed as
/// `(k − 1)·DEALS·PATHS + d·PATHS + i`: mostly enough, sometimes short. A table, so that the
/// timed loops do not compute it.
fn cash_table() -> Vec<f64> {
    let mut v = Vec::with_capacity(TERM as usize * DEALS * PATHS);
    for k in 1..=TERM as usize {
        for d in 0..DEALS {
            for i in 0..PATHS {
                let x = ((d * 7919 + k * 104_729 + i * 1_299_709) % 1000) as f64 / 1000.0;
                v.push(20_000.0 + 40_000.0 * x);
            }
        }
    }
    v
}

#[inline(always)]
fn cash(c: &[f64], d: usize, k: u32, i: usize) -> f64 {
    c[(k as usize - 1) * DEALS * PATHS + d * PATHS + i]
}

#[inline(always)]
fn inputs(c: &[f64], d: usize, k: u32, i: usize) -> MonthInputs<f64> {
    MonthInputs {
        revenue: 2.0 * cash(c, d, k, i),
        cash_available: cash(c, d, k, i),
        base_rate: 0.04,
        refinance_collateral: 5e5,
        credit_default: false,
    }
}

/// An order-independent checksum of a month's flows (a wrapping sum of their bits).
#[inline(always)]
fn checksum(acc: &mut u64, x: [f64; 4]) {
    for v in x {
        *acc = acc.wrapping_add(v.to_bits());
    }
}

fn scalar(ps: &[DealParams<f64>], qs: &[AnnuityPowers<f64>], c: &[f64], reps: u32) -> u64 {
    let mut acc = 0;
    let mut f = DealFlows::zero(0.0);
    for _ in 0..reps {
        for i in 0..PATHS {
            let mut st: Vec<DealState<f64>> =
                ps.iter().map(|p| DealState::at_close(p, 0.04)).collect();
            for k in 1..=TERM {
                for d in 0..DEALS {
                    if st[d].is_idle() {
                        continue;
                    }
                    st[d].step_into(&ps[d], &qs[d], k, &inputs(c, d, k, i), &mut f);
                    checksum(
                        &mut acc,
                        [
                            f.interest,
                            f.scheduled_principal,
                            f.prepayment,
                            f.dsra_release,
                        ],
                    );
                }
            }
        }
    }
    acc
}

#[inline(always)]
fn lanes<const W: usize>(
    ps: &[DealParams<f64>],
    qs: &[AnnuityPowers<f64>],
    c: &[f64],
    reps: u32,
) -> u64 {
    let mut acc = 0;
    let mut f = FlowLanes::<W>::empty();
    for _ in 0..reps {
        for g in 0..PATHS / W {
            let mut st: Vec<DealLanes<W>> = ps
                .iter()
                .map(|p| DealLanes::from_states(&[DealState::at_close(p, 0.04); W]))
                .collect();
            for k in 1..=TERM {
                for d in 0..DEALS {
                    if (0..W).all(|i| st[d].lane(i).is_idle()) {
                        continue;
                    }
                    let m: [MonthInputs<f64>; W] =
                        std::array::from_fn(|i| inputs(c, d, k, g * W + i));
                    // SAFETY: called only from functions compiled for, and chosen on a CPU
                    // with, the extensions of width W.
                    unsafe { step_deal(&mut st[d], &ps[d], &qs[d], k, &m, &mut f) };
                    let f = (0..W).map(|i| f.lane(i));
                    for f in f {
                        checksum(
                            &mut acc,
                            [
                                f.interest,
                                f.scheduled_principal,
                                f.prepayment,
                                f.dsra_release,
                            ],
                        );
                    }
                }
            }
        }
    }
    acc
}
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes4_avx2(ps: &[DealParams<f64>], qs: &[AnnuityPowers<f64>], c: &[f64], reps: u32) -> u64 {
    lanes::<4>(ps, qs, c, reps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn lanes8_avx512(ps: &[DealParams<f64>], qs: &[AnnuityPowers<f64>], c: &[f64], reps: u32) -> u64 {
    lanes::<8>(ps, qs, c, reps)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "scalar".into());
    let reps: u32 = args
        .next()
        .map_or(2_000, |r| r.parse().expect("REPS: a number"));
    let ps = deals();
    let qs: Vec<_> = ps.iter().map(AnnuityPowers::new).collect();
    let c = cash_table();
    let t = Instant::now();
    let acc = match mode.as_str() {
        "scalar" => scalar(&ps, &qs, &c, reps),
        #[cfg(target_arch = "x86_64")]
        "lanes4" if is_x86_feature_detected!("avx2") => unsafe { lanes4_avx2(&ps, &qs, &c, reps) },
        #[cfg(target_arch = "x86_64")]
        "lanes8" if is_x86_feature_detected!("avx512f") => unsafe {
            lanes8_avx512(&ps, &qs, &c, reps)
        },
        "lanes3" => lanes::<3>(&ps, &qs, &c, reps),
        m => panic!("unknown mode {m}"),
    };
    let months = f64::from(reps) * PATHS as f64 * DEALS as f64 * f64::from(TERM);
    println!(
        "mode={mode} reps={reps} ns_per_path_month={:.2} checksum={acc:#018x}",
        t.elapsed().as_secs_f64() * 1e9 / months
    );
}
