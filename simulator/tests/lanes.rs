//! Paths stepped in lanes (groups of 4 or 8 paths in lockstep, chosen by the CPU backend on a
//! CPU with AVX2 or AVX-512) record exactly what the same paths one at a time record: the
//! whole `PathStats` (every exact sum, count, histogram and running min/max) and every
//! per-path row, bit for bit, on the bundled portfolios (vault, hedges and derivatives, many
//! deals per fleet, defaults and recoveries), with path ranges that are not whole groups.

use gaib_engine::load_portfolio;
use gaib_simulator::{
    lower, Backend, CpuBackend, PathRows, PathStats, RunOptions, SimPlan, Simulation, Worker,
};
use std::path::Path;

fn plan(path: &str) -> SimPlan {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = root.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let dir = file.parent().unwrap().to_path_buf();
    let l = load_portfolio(&text, path, |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap();
    lower(&l.portfolio).unwrap()
}

/// One path at a time, the scalar reference.
fn one_by_one(plan: &SimPlan, paths: std::ops::Range<u64>, seed: u64) -> (PathStats, PathRows) {
    let mut stats = PathStats::new(plan);
    let mut rows = PathRows::with_capacity(plan, (paths.end - paths.start) as usize);
    let mut w = Worker::new(plan);
    for i in paths {
        w.run_path_with_row(seed, i as u32, &mut stats, &mut rows);
    }
    (stats, rows)
}

/// The CPU backend (lanes where the CPU has them), one thread, with rows.
fn backend(plan: &SimPlan, paths: std::ops::Range<u64>, seed: u64) -> (PathStats, PathRows) {
    let mut rows = PathRows::with_capacity(plan, 0);
    let opts = RunOptions {
        chunk_paths: 37,
        ..RunOptions::default()
    };
    let stats = CpuBackend::new(Some(1))
        .unwrap()
        .simulate(
            plan,
            Simulation {
                paths,
                seed,
                opts: &opts,
                sink: Some(&mut rows),
                progress: None,
            },
        )
        .unwrap();
    (stats, rows)
}

#[test]
fn lanes_record_what_one_path_at_a_time_records() {
    for p in [
        "data/portfolios/sample.toml",
        "data/portfolios/sample_hedged.toml",
        "data/portfolios/bench12.toml",
        "tests/fixtures/valid/small.toml",
    ] {
        let plan = plan(p);
        // 3..400: chunks of 37 paths, so groups and single paths alternate within chunks.
        let (want, want_rows) = one_by_one(&plan, 3..400, 11);
        let (got, got_rows) = backend(&plan, 3..400, 11);
        assert_eq!(
            got.canonical_json(),
            want.canonical_json(),
            "{p}: statistics"
        );
        assert_eq!(got, want, "{p}");
        assert_eq!(
            format!("{got_rows:?}"),
            format!("{want_rows:?}"),
            "{p}: rows"
        );
        let defaults: u64 = want.deals.iter().map(|d| d.default_paths).sum();
        assert!(defaults > 0, "{p}: no default in 397 paths");
    }
}
