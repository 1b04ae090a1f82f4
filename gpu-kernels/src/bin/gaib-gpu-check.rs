//! `gaib-gpu-check`: the device check of the CUDA backend, as one small binary for a GPU
//! machine without a Rust toolchain (run by `scripts/gpu-check.sh`).
//!
//! 1. time to first result: process start → CUDA backend ready (driver, NVRTC compile, module
//!    load) → the first 10 000 paths of the sample simulated and read back;
//! 2. parity on the device: CUDA against the CPU backend, path by path, on the sample and the
//!    gpu-glut, utilization-collapse and bank-run scenarios and on the sample with derivatives
//!    and hedges, data/portfolios/sample_hedged.toml (MODEL.md §9: per-path values
//!    within 1e-9 relative and identical default months on ≥ 99.99 % of the paths, merged
//!    statistics within 1e-9);
//! 3. throughput: deal-steps/s of the CPU backend (all cores) and of CUDA per path count.
//!
//! The sample portfolio and the scenario files are compiled in. Usage:
//! `gaib-gpu-check [--out FILE] [--parity-paths N] [--cuda-paths 100000,1000000,10000000]
//! [--cpu-paths 100000,1000000] [--skip-parity] [--host]`; `--host` runs the same flow with the
//! host-compiled kernel instead of the device (a self-test of this program without a GPU: no
//! CUDA figures). Exit status 0 when every check passes, 1 when
//! one fails, 2 on a usage error, 3 when CUDA is unavailable.

use gaib_engine::{load_portfolio, Portfolio, Scenario};
use gaib_gpu_kernels::host::{self, KernelRun};
use gaib_gpu_kernels::parity::{path_mismatches, stats_differences, tranche_default_mismatches};
use gaib_gpu_kernels::{CudaBackend, FlatPlan};
use gaib_simulator::{lower, Availability, Backend, CpuBackend, PathRows, RunOptions, Simulation};
use std::fmt::Write as _;
use std::time::Instant;

const SAMPLE: &str = include_str!("../../../data/portfolios/sample.toml");
const TAPE: &str = include_str!("../../../data/portfolios/sample_loan_tape.csv");
/// The sample with compute-price derivatives and hedges (MODEL.md §10): the parity leg
/// "sample-hedged".
const SAMPLE_HEDGED: &str = include_str!("../../../data/portfolios/sample_hedged.toml");
const SCENARIOS: [(&str, &str); 3] = [
    (
        "gpu-glut",
        include_str!("../../../data/scenarios/gpu-glut.toml"),
    ),
    (
        "utilization-collapse",
        include_str!("../../../data/scenarios/utilization-collapse.toml"),
    ),
    (
        "bank-run",
        include_str!("../../../data/scenarios/bank-run.toml"),
    ),
];
const SEED: u64 = 42;
/// MODEL.md §9.
const REL: f64 = 1e-9;

struct Args {
    out: Option<String>,
    parity_paths: u64,
    cuda_paths: Vec<u64>,
    cpu_paths: Vec<u64>,
    skip_parity: bool,
    host: bool,
}

fn parse_list(s: &str) -> Result<Vec<u64>, String> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .map(|v| v as u64)
                .map_err(|e| format!("{x}: {e}"))
        })
        .collect()
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        out: None,
        parity_paths: 20_000,
        cuda_paths: vec![100_000, 1_000_000, 10_000_000],
        cpu_paths: vec![100_000, 1_000_000],
        skip_parity: false,
        host: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{x} needs a value"));
        match x.as_str() {
            "--out" => a.out = Some(val()?),
            "--parity-paths" => a.parity_paths = parse_list(&val()?)?[0],
            "--cuda-paths" => a.cuda_paths = parse_list(&val()?)?,
            "--cpu-paths" => a.cpu_paths = parse_list(&val()?)?,
            "--skip-parity" => a.skip_parity = true,
            "--host" => a.host = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn sample() -> Portfolio {
    load_portfolio(SAMPLE, "sample.toml", |_| Ok(TAPE.to_string()))
        .expect("the compiled-in sample loads")
        .portfolio
}

fn sample_hedged() -> Portfolio {
    load_portfolio(
        SAMPLE_HEDGED,
        "sample_hedged.toml",
        |_| Ok(TAPE.to_string()),
    )
    .expect("the compiled-in hedged sample loads")
    .portfolio
}

fn main() {
    let start = Instant::now();
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gaib-gpu-check: {e}");
            std::process::exit(2);
        }
    };
    let mut rep = String::new();
    let mut ok = true;
    let cuda = CudaBackend::new();
    let ready = start.elapsed().as_secs_f64();
    if let (false, Availability::Unavailable(why)) = (a.host, cuda.availability()) {
        println!("cuda unavailable: {why}");
        if let Some(f) = &a.out {
            let _ = std::fs::write(f, format!("cuda unavailable: {why}\n"));
        }
        std::process::exit(3);
    }
    // The kernel under test: the device, or (--host) the same source compiled for the host.
    let kernel = |flat: &FlatPlan, n: u64, rows: bool| -> KernelRun {
        if a.host {
            host::run(flat, 0..n, SEED, rows).expect("host kernel run")
        } else {
            cuda.run_flat(flat, 0..n, SEED, rows, &RunOptions::default())
                .expect("CUDA run")
        }
    };
    let cpu = CpuBackend::new(None).expect("CPU backend");
    let opts = RunOptions::default();
    let base = sample();
    let plan = lower(&base).expect("sample lowers");
    let flat = FlatPlan::new(&plan).expect("sample is supported by the kernel");
    let first = kernel(&flat, 10_000, false);
    let first_s = start.elapsed().as_secs_f64();
    let _ = writeln!(
        rep,
        "kernel on: {}\ncompile+load: {:.3} s; backend ready after {ready:.3} s; first result \
         (10 000 sample paths, senior price {:.6}) after {first_s:.3} s from process start",
        if a.host {
            "host (self-test, no device)"
        } else {
            cuda.device_name().unwrap_or("?")
        },
        cuda.compile_time().map_or(f64::NAN, |d| d.as_secs_f64()),
        first.stats.tranches[0][0].pv.mean()
    );

    if !a.skip_parity {
        let mut legs = vec![("sample".to_string(), base.clone())];
        for (name, text) in SCENARIOS {
            let s = Scenario::from_toml(text, name).expect("scenario parses");
            legs.push((
                name.to_string(),
                s.apply(&base, name).expect("scenario applies"),
            ));
        }
        legs.push(("sample-hedged".to_string(), sample_hedged()));
        for (name, p) in &legs {
            let plan = lower(p).expect("lowers");
            let flat = FlatPlan::new(&plan).expect("supported");
            let n = a.parity_paths;
            let mut rows = PathRows::new(&plan);
            let cs = cpu
                .simulate(
                    &plan,
                    Simulation::new(0..n, SEED, &opts).with_sink(&mut rows),
                )
                .expect("CPU run");
            let g = kernel(&flat, n, true);
            let m = path_mismatches(&plan, &flat, &rows, &g.rows, REL);
            let t = tranche_default_mismatches(&plan, &flat, &g.rows, n as usize, SEED);
            let mut bad: Vec<usize> = m.iter().map(|x| x.0).chain(t).collect();
            bad.sort_unstable();
            bad.dedup();
            // MODEL.md §9: at most 0.01 % of the paths may change a default event; the same
            // share may cross a histogram bin edge by a last-bit difference.
            let diffs = stats_differences(&g.stats, &cs, REL, n / 10_000);
            let pass = bad.len() as u64 * 10_000 <= n && diffs.is_empty();
            ok &= pass;
            let _ = writeln!(
                rep,
                "parity {name}: {} of {n} paths differ; merged statistics: {}; {}",
                bad.len(),
                if diffs.is_empty() {
                    "within 1e-9, histograms within 0.01 % of paths".to_string()
                } else {
                    format!("{} fields differ (first: {})", diffs.len(), diffs[0])
                },
                if pass { "PASS" } else { "FAIL" }
            );
            for why in diffs.iter().take(8) {
                let _ = writeln!(rep, "  {why}");
            }
            for (i, why) in m.iter().take(3) {
                let _ = writeln!(rep, "  path {i}: {why}");
            }
        }
    }

    let steps = plan.deal_steps_per_path() as f64;
    let _ = writeln!(rep, "deal-steps per path (sample): {steps}");
    for &n in &a.cpu_paths {
        let t = Instant::now();
        cpu.run(&plan, 0..n, SEED, &opts).expect("CPU run");
        let s = t.elapsed().as_secs_f64();
        let _ = writeln!(
            rep,
            "cpu ({} threads) {n} paths: {s:.3} s, {:.4e} deal-steps/s",
            cpu.threads(),
            n as f64 * steps / s
        );
    }
    for &n in a.cuda_paths.iter().filter(|_| !a.host) {
        let t = Instant::now();
        kernel(&flat, n, false);
        let s = t.elapsed().as_secs_f64();
        let _ = writeln!(
            rep,
            "cuda {n} paths: {s:.3} s, {:.4e} deal-steps/s",
            n as f64 * steps / s
        );
    }
    let _ = writeln!(rep, "overall: {}", if ok { "PASS" } else { "FAIL" });
    print!("{rep}");
    if let Some(f) = &a.out {
        if let Err(e) = std::fs::write(f, &rep) {
            eprintln!("gaib-gpu-check: writing {f}: {e}");
            std::process::exit(1);
        }
    }
    std::process::exit(if ok { 0 } else { 1 });
}
