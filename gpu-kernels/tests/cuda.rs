//! The CUDA backend on whatever machine runs the tests: without a driver, device or NVRTC it
//! must say why (and refuse to run); with one, it must match the CPU backend.

mod common;

use gaib_gpu_kernels::{CudaBackend, FlatPlan};
use gaib_simulator::{
    lower, Availability, Backend, CpuBackend, PathRows, RunOptions, SimError, Simulation,
};

#[test]
fn reports_why_it_is_unavailable_or_matches_the_cpu() {
    let b = CudaBackend::new();
    assert_eq!(b.name(), "cuda");
    let plan = lower(&common::sample()).unwrap();
    match b.availability() {
        Availability::Unavailable(reason) => {
            assert!(!reason.is_empty());
            println!("cuda unavailable: {reason}");
            let err = b.run(&plan, 0..10, 1, &RunOptions::default()).unwrap_err();
            assert!(
                matches!(&err, SimError::Unavailable { backend, reason: r } if backend == "cuda" && r == &reason),
                "{err}"
            );
        }
        Availability::Available => {
            // On a GPU machine: device statistics within MODEL.md §9 of the CPU backend.
            let flat = FlatPlan::new(&plan).unwrap();
            let gpu = b
                .run_flat(&flat, 0..2_000, 7, false, &RunOptions::default())
                .unwrap()
                .stats;
            let cpu = CpuBackend::new(None)
                .unwrap()
                .run(&plan, 0..2_000, 7, &RunOptions::default())
                .unwrap();
            for (g, c) in gpu.deals.iter().zip(&cpu.deals) {
                let (a, e) = (g.pv.mean(), c.pv.mean());
                assert!(
                    (a - e).abs() <= 1e-9 * e.abs().max(1.0),
                    "{}: {a} vs {e}",
                    g.id
                );
            }
            // Through the trait with a sink and progress: the same statistics as the plain
            // launch, every path's row once in path order, every path reported once.
            let mut rows = PathRows::new(&plan);
            let mut reported = 0;
            let mut progress = |n: u64| reported += n;
            let opts = RunOptions::default();
            let sim = Simulation::new(0..2_000, 7, &opts)
                .with_sink(&mut rows)
                .with_progress(&mut progress);
            let observed = b.simulate(&plan, sim).unwrap();
            assert_eq!(observed, gpu);
            assert_eq!(reported, 2_000);
            assert_eq!(rows.path, (0..2_000).collect::<Vec<u64>>());
        }
    }
}
