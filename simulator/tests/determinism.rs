//! Determinism: the same seed gives bit-identical PathStats for any thread count and chunking,
//! and a run over 0..N equals the merge of runs over 0..k and k..N.
mod common;
use gaib_simulator::{lower, run_serial, Backend, CpuBackend, PathStats, RunOptions, Worker};

fn run(threads: usize, chunk: u64, paths: std::ops::Range<u64>, seed: u64) -> PathStats {
    let plan = lower(&common::portfolio(common::Knobs::default())).unwrap();
    let opts = RunOptions {
        chunk_paths: chunk,
        ..RunOptions::default()
    };
    CpuBackend::new(Some(threads))
        .unwrap()
        .run(&plan, paths, seed, &opts)
        .unwrap()
}

#[test]
fn same_seed_is_bit_identical_for_1_2_and_8_threads() {
    let one = run(1, 16, 0..300, 7);
    let two = run(2, 16, 0..300, 7);
    let eight = run(8, 16, 0..300, 7);
    assert_eq!(one, two);
    assert_eq!(one, eight);
    assert_eq!(one.canonical_json(), eight.canonical_json());
    // Chunking does not matter either, nor does the serial reference.
    assert_eq!(one, run(3, 7, 0..300, 7));
    let plan = lower(&common::portfolio(common::Knobs::default())).unwrap();
    assert_eq!(one, run_serial(&plan, 0..300, 7).unwrap());
}

/// A worker's batch ([`Worker::batch`]: flat per-(deal, month) accumulators merged once)
/// records exactly what recording path by path ([`Worker::run_path`]) does, the collateral
/// ratios' histograms and their min/max included.
#[test]
fn a_batch_records_what_path_by_path_recording_does() {
    let plan = lower(&common::portfolio(common::Knobs::default())).unwrap();
    let mut w = Worker::new(&plan);
    let mut one_by_one = PathStats::new(&plan);
    for i in 0..120 {
        w.run_path(5, i, &mut one_by_one);
    }
    let mut batched = PathStats::new(&plan);
    let mut batch = w.batch(&mut batched);
    for i in 0..120 {
        batch.run_path(5, i);
    }
    drop(batch);
    assert!(one_by_one
        .collateral_ratio
        .iter()
        .flatten()
        .any(|m| m.n > 0));
    assert_eq!(one_by_one, batched);
    assert_eq!(one_by_one.canonical_json(), batched.canonical_json());
    assert_eq!(one_by_one, run(2, 16, 0..120, 5));
}

#[test]
fn run_equals_merge_of_disjoint_ranges() {
    let whole = run(2, 32, 0..250, 99);
    for k in [1, 97, 128, 249] {
        let mut a = run(2, 32, 0..k, 99);
        let b = run(1, 5, k..250, 99);
        a.merge(&b);
        assert_eq!(whole, a, "split at {k}");
        // Merge is commutative too.
        let mut b2 = run(1, 5, k..250, 99);
        b2.merge(&run(2, 32, 0..k, 99));
        assert_eq!(whole, b2, "reversed split at {k}");
    }
}

#[test]
fn different_seeds_differ() {
    assert_ne!(run(2, 64, 0..100, 1), run(2, 64, 0..100, 2));
}

#[test]
fn cancellation_stops_between_chunks() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let plan = lower(&common::portfolio(common::Knobs::default())).unwrap();
    let opts = RunOptions {
        chunk_paths: 8,
        cancel: Some(Arc::new(AtomicBool::new(true))),
    };
    let r = CpuBackend::new(Some(2))
        .unwrap()
        .run(&plan, 0..100, 1, &opts);
    assert!(matches!(r, Err(gaib_simulator::SimError::Cancelled)));
}

#[test]
fn bad_arguments_are_rejected() {
    assert!(CpuBackend::new(Some(0)).is_err());
    let plan = lower(&common::portfolio(common::Knobs::default())).unwrap();
    let b = CpuBackend::new(Some(1)).unwrap();
    assert!(b
        .run(&plan, 0..(1u64 << 32) + 1, 1, &RunOptions::default())
        .is_err());
}

#[test]
fn auto_selection_falls_back_to_cpu_with_a_reason() {
    use gaib_simulator::{select_backend, Availability, BackendChoice, SimError};
    struct NoGpu;
    impl Backend for NoGpu {
        fn name(&self) -> &'static str {
            "cuda"
        }
        fn availability(&self) -> Availability {
            Availability::Unavailable("not compiled with CUDA support".into())
        }
        fn threads(&self) -> usize {
            0
        }
        fn simulate(
            &self,
            _: &gaib_simulator::SimPlan,
            _: gaib_simulator::Simulation<'_>,
        ) -> gaib_simulator::Result<PathStats> {
            Err(SimError::Cancelled)
        }
    }
    let list = || -> Vec<Box<dyn Backend>> {
        vec![Box::new(NoGpu), Box::new(CpuBackend::new(Some(1)).unwrap())]
    };
    let (b, notes) = select_backend(list(), BackendChoice::Auto).unwrap();
    assert_eq!(b.name(), "cpu");
    assert_eq!(
        notes,
        vec!["cuda: not compiled with CUDA support".to_string()]
    );
    assert!(select_backend(list(), BackendChoice::Named("cuda")).is_err());
    assert!(select_backend(list(), BackendChoice::Named("cpu")).is_ok());
}

#[test]
fn lookups_by_id() {
    let s = run(1, 64, 0..10, 3);
    assert_eq!(s.tranche("P1", "B").unwrap().id, "P1/B");
    assert!(s.tranche("P1", "Z").is_none());
    assert_eq!(s.deal("R1").unwrap().notional_usd, 1_500_000.0);
}

#[test]
fn path_stats_json_round_trips() {
    let s = run(2, 16, 0..40, 5);
    let j = s.canonical_json();
    let back: PathStats = serde_json::from_slice(&j).unwrap();
    let (a, b) = (
        String::from_utf8(j).unwrap(),
        String::from_utf8(back.canonical_json()).unwrap(),
    );
    if let Some(i) = a.bytes().zip(b.bytes()).position(|(x, y)| x != y) {
        panic!(
            "differs at {i}: {:?} vs {:?}",
            &a[i.saturating_sub(80)..i + 40],
            &b[i.saturating_sub(80)..i + 40]
        );
    }
    assert_eq!(a.len(), b.len());
    // Merging a deserialised copy is still exact.
    let mut twice = back.clone();
    twice.merge(&s);
    assert_eq!(twice.paths, 80);
}

#[test]
fn progress_reports_every_path_once_and_changes_nothing() {
    let plan = lower(&common::portfolio(common::Knobs::default())).unwrap();
    let opts = RunOptions {
        chunk_paths: 16,
        ..RunOptions::default()
    };
    let cpu = CpuBackend::new(Some(2)).unwrap();
    let mut reports = Vec::new();
    let observed = cpu
        .simulate(
            &plan,
            gaib_simulator::Simulation::new(5..305, 7, &opts)
                .with_progress(&mut |n| reports.push(n)),
        )
        .unwrap();
    assert_eq!(observed, run(2, 16, 5..305, 7));
    // One report per batch of 2 threads x 4 chunks x 16 paths, the last one short.
    assert_eq!(reports, vec![128, 128, 44]);
}
