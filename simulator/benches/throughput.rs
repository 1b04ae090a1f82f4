//! Criterion benchmark of the CPU backend on the sample portfolio, in deal-steps
//! (paths × deals × months) per second, at 1 thread and at all threads.
//! `cargo bench -p gaib-simulator --bench throughput`; `scripts/bench.sh` prints ratios.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gaib_simulator::{lower, Backend, CpuBackend, RunOptions, SimPlan};
use std::hint::black_box;
use std::path::Path;

fn sample_plan() -> SimPlan {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/portfolios");
    let text = std::fs::read_to_string(dir.join("sample.toml")).expect("sample portfolio");
    let loaded = gaib_engine::load_portfolio(&text, "sample.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .expect("valid sample");
    lower(&loaded.portfolio).expect("lowering")
}

fn bench(c: &mut Criterion) {
    let plan = sample_plan();
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let paths = 512u64;
    let mut g = c.benchmark_group("cpu_backend_sample");
    g.throughput(Throughput::Elements(plan.deal_steps_per_path() * paths));
    g.sample_size(10);
    for threads in [1, all] {
        let b = CpuBackend::new(Some(threads)).expect("pool");
        g.bench_function(format!("{threads}_threads_{paths}_paths"), |bn| {
            bn.iter(|| {
                black_box(
                    b.run(&plan, 0..paths, 42, &RunOptions::default())
                        .expect("run"),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
