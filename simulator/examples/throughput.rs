//! Throughput of the CPU backend: `cargo run --release -p gaib-simulator --example throughput --
//! PORTFOLIO PATHS [THREADS]`. Prints one line `paths=… threads=… seconds=… deal_steps_per_s=…
//! peak_rss_kib=…` (peak RSS from /proc/self/status, Linux only; 0 elsewhere).

use gaib_simulator::{lower, Backend, CpuBackend, RunOptions};
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: throughput PORTFOLIO PATHS [THREADS]");
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
        "paths={paths} threads={} seconds={secs:.3} deal_steps_per_s={:.4e} peak_rss_kib={} (senior price {:.6})",
        backend.threads(),
        steps / secs,
        peak_rss_kib(),
        stats.tranches.first().and_then(|t| t.first()).map_or(0.0, |t| t.pv.mean()),
    );
}
