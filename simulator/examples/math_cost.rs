//! Cost per call of model version 5's elementary functions (`gaib_simulator::math`) against the
//! platform's libm (Rust's `f64` methods): `math_cost FUNC IMPL N` calls FUNC (`exp`, `ln`,
//! `ln_1p`, `cos_tau`, `sin_cos_tau`) from IMPL (`gaib` or `libm`) on N deterministic arguments
//! in the domain the Monte Carlo uses (exp: [−50, 50]; ln, cos/sin of 2πu: u in (0, 1);
//! ln_1p: (−0.5, 0]) in a loop over an array, as the Monte Carlo's market does, and prints the
//! sum of the results (so nothing is optimised away).
//!
//! IMPL `none` runs the same loop with the identity (the loop's own cost). The instructions per
//! call are callgrind's marginal counts, as in docs/PERFORMANCE.md: with I(IMPL, N) the total
//! of `valgrind --tool=callgrind target/release/examples/math_cost FUNC IMPL N`, a function's
//! cost per call is (I(IMPL, 2N) − I(IMPL, N) − I(none, 2N) + I(none, N)) / N (the differences
//! remove start-up and the loop), e.g. N = 1048576 (2^20).

use gaib_simulator::math;
use std::hint::black_box;

/// The i-th argument in (lo, hi): a Weyl sequence (i·φ·2^64 mod 2^64, top 53 bits), cheap
/// (a multiply, a shift, a conversion) and in no order a branch predictor learns.
#[inline(always)]
fn argument(i: u64, lo: f64, hi: f64) -> f64 {
    let u =
        ((i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
    lo + (hi - lo) * u
}

/// Σ f(argument i) over i < n: the arguments into an array, f over the array in place (the
/// shape of the Monte Carlo's market loops, which the compiler may vectorise), then the sum.
fn sum_of(n: u64, lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    let mut v: Vec<f64> = (0..n).map(|i| argument(i, lo, hi)).collect();
    let v = black_box(&mut v);
    for x in v.iter_mut() {
        *x = f(*x);
    }
    black_box(v).iter().sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: math_cost exp|ln|ln_1p|cos_tau|sin_cos_tau gaib|libm|none N";
    let (Some(func), Some(imp), Some(n)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let n: u64 = n.parse().unwrap_or_else(|_| {
        eprintln!("N must be a positive integer: {n}\n{usage}");
        std::process::exit(2);
    });
    let ours = match imp.as_str() {
        "gaib" => true,
        "libm" | "none" => false,
        _ => {
            eprintln!("IMPL must be gaib, libm or none: {imp}\n{usage}");
            std::process::exit(2);
        }
    };
    let (lo, hi) = match func.as_str() {
        "exp" => (-50.0, 50.0),
        "ln_1p" => (-0.5, 0.0),
        _ => (0.0, 1.0),
    };
    let tau = std::f64::consts::TAU;
    // Each arm monomorphises `sum_of`, so the function is inlined into the loop as in the
    // Monte Carlo's loops (no call through a pointer).
    let sum = match (func.as_str(), ours) {
        // The loop alone (argument, sum): subtract its count to get a function's own cost.
        (_, _) if imp == "none" => sum_of(n, lo, hi, |x| x),
        ("exp", true) => sum_of(n, lo, hi, math::exp),
        ("exp", false) => sum_of(n, lo, hi, f64::exp),
        ("ln", true) => sum_of(n, lo, hi, math::ln),
        ("ln", false) => sum_of(n, lo, hi, f64::ln),
        ("ln_1p", true) => sum_of(n, lo, hi, math::ln_1p),
        ("ln_1p", false) => sum_of(n, lo, hi, f64::ln_1p),
        ("cos_tau", true) => sum_of(n, lo, hi, math::cos_tau),
        ("cos_tau", false) => sum_of(n, lo, hi, |u| (tau * u).cos()),
        ("sin_cos_tau", true) => sum_of(n, lo, hi, |u| {
            let (s, c) = math::sin_cos_tau(u);
            s + c
        }),
        ("sin_cos_tau", false) => sum_of(n, lo, hi, |u| {
            let (s, c) = (tau * u).sin_cos();
            s + c
        }),
        _ => {
            eprintln!("unknown FUNC {func}\n{usage}");
            std::process::exit(2);
        }
    };
    println!("{func} {imp} n={n} sum={sum:e}");
}
