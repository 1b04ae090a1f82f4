//! Throughput of the CPU backend: `cargo run --release -p gaib-simulator --example throughput --
//! PORTFOLIO PATHS [THREADS] [--summary FILE] [--digest]`. Prints one line `paths=… threads=… seconds=…
//! deal_steps_per_s=… peak_rss_kib=… deal_steps_per_path=…` (deals × months; peak RSS from /proc/self/status, Linux only; 0
//! elsewhere). `--summary FILE` also writes every deal's and tranche's E[loss], PD and E[PV]
//! (fractions of notional / of paths) with their standard errors as JSON, the figures
//! `scripts/bench_numpy.py --check` compares its NumPy implementation with (scripts/bench.sh).
//! `--digest` also prints `digest=0x…`: FNV-1a 64 of the whole `PathStats` as JSON (every
//! exact sum, count and histogram bin), the bit-identity check of a speed change (the same
//! digest before and after, for the same portfolio, paths and seed).

use gaib_simulator::{lower, Backend, CpuBackend, InstrumentStats, RunOptions};
use std::path::Path;
use std::time::Instant;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// One instrument's E[loss], PD and E[PV] over `paths` paths, with their standard errors.
fn summary(s: &InstrumentStats, paths: u64) -> serde_json::Value {
    let pd = s.pd();
    serde_json::json!({
        "id": s.id,
        "el": s.loss.mean(),
        "el_se": s.loss.std_error(),
        "pd": pd,
        "pd_se": (pd * (1.0 - pd) / paths as f64).sqrt(),
        "pv": s.pv.mean(),
        "pv_se": s.pv.std_error(),
    })
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let summary_file = args.iter().position(|a| a == "--summary").map(|i| {
        let f = args.get(i + 1).cloned().expect("--summary FILE");
        args.drain(i..i + 2);
        f
    });
    let digest = args.iter().position(|a| a == "--digest").map(|i| {
        args.remove(i);
    });
    if args.len() < 3 {
        eprintln!("usage: throughput PORTFOLIO PATHS [THREADS] [--summary FILE] [--digest]");
        std::process::exit(2);
    }
    let file = Path::new(&args[1]);
    let paths: u64 = args[2].parse().expect("PATHS must be an integer");
    let threads: Option<usize> = args.get(3).map(|t| t.parse().expect("THREADS"));
    let text = std::fs::read_to_string(file).expect("read portfolio");
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let loaded = gaib_engine::load_portfolio(&text, &args[1], |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let plan = lower(&loaded.portfolio).unwrap_or_else(|e| panic!("{e}"));
    let backend = CpuBackend::new(threads).unwrap_or_else(|e| panic!("{e}"));
    let t0 = Instant::now();
    let stats = backend
        .run(&plan, 0..paths, 42, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let secs = t0.elapsed().as_secs_f64();
    let steps = plan.deal_steps_per_path() as f64 * paths as f64;
    println!(
        "paths={paths} threads={} seconds={secs:.3} deal_steps_per_s={:.4e} peak_rss_kib={} deal_steps_per_path={} (senior price {:.6})",
        backend.threads(),
        steps / secs,
        peak_rss_kib(),
        plan.deal_steps_per_path(),
        stats.tranches.first().and_then(|t| t.first()).map_or(0.0, |t| t.pv.mean()),
    );
    if digest.is_some() {
        let json = serde_json::to_string(&stats).expect("PathStats serialises");
        let h = json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        println!("digest={h:#018x}");
    }
    if let Some(f) = summary_file {
        let json = serde_json::json!({
            "paths": stats.paths,
            "deals": stats.deals.iter().map(|s| summary(s, stats.paths)).collect::<Vec<_>>(),
            "tranches": stats
                .tranches
                .iter()
                .flatten()
                .map(|s| summary(s, stats.paths))
                .collect::<Vec<_>>(),
        });
        std::fs::write(&f, serde_json::to_vec_pretty(&json).expect("json"))
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}
