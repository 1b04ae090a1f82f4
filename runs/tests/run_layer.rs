//! The run layer through its public API: path ranges merge exactly (byte for byte), runs are
//! cancelled per token and report progress, inputs without a file are stored like files, and
//! run directories round-trip and verify.

mod common;

use common::{run, sample};
use gaib_runs::{
    merge, CancelToken, OutDir, PortfolioInput, RunControl, RunError, RunKind, RunOutput, RunSpec,
    ScenarioInput,
};
use gaib_testkit::{sample_portfolio, small_portfolio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

fn shard(base: &RunSpec, start: u64, paths: u64) -> RunOutput {
    run(RunSpec {
        path_start: start,
        paths,
        ..base.clone()
    })
}

/// The output files with the manifest's informational fields (timing) left out.
fn outputs(o: &RunOutput) -> Vec<(&'static str, Vec<u8>)> {
    o.outputs
        .iter()
        .map(|f| (f.path, f.bytes.clone()))
        .collect()
}

#[test]
fn a_run_of_0_to_n_equals_the_merge_of_disjoint_ranges_byte_for_byte() {
    let base = RunSpec {
        threads: Some(2),
        ..RunSpec::new(sample(), 300, 11)
    };
    let whole = run(base.clone());
    let a = shard(&base, 0, 120);
    let b = shard(&base, 120, 100);
    let c = shard(&base, 220, 80);
    // In any order and grouping.
    let left = merge(&merge(&a, &b).unwrap(), &c).unwrap();
    let right = merge(&c, &merge(&b, &a).unwrap()).unwrap();
    for m in [&left, &right] {
        assert_eq!(m.results, whole.results);
        assert_eq!(
            serde_json::to_vec(m.valuation()).unwrap(),
            serde_json::to_vec(whole.valuation()).unwrap(),
            "valuation of the merged statistics"
        );
        assert_eq!(outputs(m), outputs(&whole));
        assert_eq!(m.manifest.results_sha256, whole.manifest.results_sha256);
        assert_eq!(m.manifest.inputs, whole.manifest.inputs);
        assert_eq!((m.manifest.path_start, m.manifest.paths), (0, 300));
    }
    // Sanity: the shards themselves differ from the whole.
    assert_ne!(a.results.stats, whole.results.stats);
}

#[test]
fn stress_and_sensitivity_runs_merge_exactly_too() {
    let glut = ScenarioInput::locate("gpu-glut", Some(&sample_portfolio())).unwrap();
    let stress = RunSpec {
        scenarios: vec![glut],
        ..RunSpec::new(sample(), 160, 5)
    };
    let whole = run(stress.clone());
    let merged = merge(&shard(&stress, 0, 70), &shard(&stress, 70, 90)).unwrap();
    assert_eq!(outputs(&merged), outputs(&whole));
    assert_eq!(whole.manifest.kind, RunKind::Stress);

    let sens = RunSpec {
        sensitivities: true,
        ..RunSpec::new(sample(), 100, 5)
    };
    let whole = run(sens.clone());
    let merged = merge(&shard(&sens, 50, 50), &shard(&sens, 0, 50)).unwrap();
    assert_eq!(outputs(&merged), outputs(&whole));
    assert_eq!(whole.sensitivities.as_ref().unwrap().len(), 5);
}

#[test]
fn merging_refuses_overlapping_ranges_other_seeds_and_other_inputs() {
    let base = RunSpec::new(sample(), 50, 1);
    let a = shard(&base, 0, 50);
    let overlap = shard(&base, 25, 50);
    let gap = shard(&base, 60, 10);
    let other_seed = run(RunSpec {
        seed: 2,
        path_start: 50,
        ..base.clone()
    });
    let small = PortfolioInput::from_file(&small_portfolio()).unwrap();
    let other_portfolio = run(RunSpec {
        path_start: 50,
        ..RunSpec::new(small, 50, 1)
    });
    for (b, want) in [
        (&overlap, "not adjacent"),
        (&gap, "not adjacent"),
        (&other_seed, "different seed"),
        (&other_portfolio, "different portfolio"),
    ] {
        let e = merge(&a, b).unwrap_err();
        assert!(matches!(e, RunError::NotMergeable(_)), "{e}");
        assert!(e.to_string().contains(want), "{e}");
    }
}

#[test]
fn a_cancelled_token_stops_the_run_and_progress_is_reported_between_chunks() {
    let spec = RunSpec {
        threads: Some(1),
        ..RunSpec::new(sample(), 5_000, 3)
    };
    // Progress: monotone, ending at the total.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let control = RunControl {
        cancel: CancelToken::new(),
        progress: Some(Box::new(move |p| {
            s.lock().unwrap().push((p.paths_done, p.paths_total))
        })),
    };
    spec.clone()
        .prepare()
        .unwrap()
        .execute(&control, None)
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    assert_eq!(*seen.last().unwrap(), (5_000, 5_000));

    // Cancel from the progress callback after the first chunk: one job of many stops, the
    // others are unaffected.
    let token = CancelToken::new();
    let t = token.clone();
    let calls = Arc::new(AtomicU64::new(0));
    let c = calls.clone();
    let control = RunControl {
        cancel: token.clone(),
        progress: Some(Box::new(move |p| {
            c.fetch_add(1, Ordering::SeqCst);
            if p.paths_done > 0 {
                t.cancel();
            }
        })),
    };
    let other = CancelToken::new();
    let e = spec
        .clone()
        .prepare()
        .unwrap()
        .execute(&control, None)
        .unwrap_err();
    assert!(matches!(e, RunError::Cancelled), "{e}");
    assert_eq!(e.class(), gaib_runs::ErrorClass::Cancelled);
    assert!(token.is_cancelled() && !other.is_cancelled());
    assert!(spec
        .prepare()
        .unwrap()
        .execute(&RunControl::with_cancel(other), None)
        .is_ok());
}

#[test]
fn a_json_body_and_a_dict_are_stored_and_reproduced_like_files() {
    let text = std::fs::read_to_string(small_portfolio()).unwrap();
    let value: serde_json::Value = toml::from_str(&text).unwrap();
    let from_dict = PortfolioInput::from_json_value(&value).unwrap();
    let body = serde_json::to_vec(&value).unwrap();
    let from_body = PortfolioInput::from_json_body(&body).unwrap();
    assert_eq!(from_dict.portfolio(), from_body.portfolio());
    assert_eq!(
        from_body.file.bytes, body,
        "the body's own bytes are its canonical form"
    );
    assert_eq!(from_dict.file.source, gaib_runs::NO_FILE);

    let out = run(RunSpec::new(from_dict, 200, 8));
    let tmp = tempfile::tempdir().unwrap();
    let dir = OutDir::claim(&tmp.path().join("r"), false)
        .unwrap()
        .write(&out)
        .unwrap();
    assert!(tmp.path().join("r/inputs/portfolio.json").is_file());
    assert_eq!(dir.manifest, out.manifest);
    assert_eq!(dir.results, out.results);
    let again = dir.verify(Some(1), &RunControl::default()).unwrap();
    assert_eq!(outputs(&again), outputs(&out));
    assert_eq!(
        dir.report_html().as_bytes(),
        out.output("report.html").unwrap()
    );

    // A body cannot reference a loan tape.
    let mut with_tape = value.clone();
    with_tape["loan_tape"] = serde_json::json!("tape.csv");
    let e = PortfolioInput::from_json_value(&with_tape).unwrap_err();
    assert!(e.to_string().contains("put its deals inline"), "{e}");
    assert_eq!(e.class(), gaib_runs::ErrorClass::Input);
    // Malformed bodies are input errors naming the problem.
    let e = PortfolioInput::from_json_body(b"{not json").unwrap_err();
    assert_eq!(e.class(), gaib_runs::ErrorClass::Input, "{e}");
}

#[test]
fn bad_specs_fail_in_prepare_before_any_path_is_simulated() {
    let cases: Vec<(RunSpec, &str)> = vec![
        (RunSpec::new(sample(), 0, 1), "paths = 0"),
        (
            RunSpec {
                path_start: u64::from(u32::MAX),
                ..RunSpec::new(sample(), 10, 1)
            },
            "2^32",
        ),
        (
            RunSpec {
                threads: Some(0),
                ..RunSpec::new(sample(), 10, 1)
            },
            "threads = 0",
        ),
        (
            RunSpec {
                backend: gaib_runs::BackendSelection::Cuda,
                ..RunSpec::new(sample(), 10, 1)
            },
            "cuda",
        ),
    ];
    for (spec, want) in cases {
        let e = spec.prepare().unwrap_err();
        assert_eq!(e.class(), gaib_runs::ErrorClass::Input, "{e}");
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
}

#[test]
fn shards_cross_the_network_as_json_and_merge_into_the_whole_run() {
    let base = RunSpec::new(sample(), 200, 21);
    let whole = run(base.clone());
    let shipped: Vec<Vec<u8>> = [(0, 80), (80, 120)]
        .iter()
        .map(|&(start, n)| serde_json::to_vec(&shard(&base, start, n).to_shard()).unwrap())
        .collect();
    let parts: Vec<RunOutput> = shipped
        .iter()
        .map(|b| RunOutput::from_shard(&base, serde_json::from_slice(b).unwrap()).unwrap())
        .collect();
    let merged = merge(&parts[0], &parts[1]).unwrap();
    assert_eq!(outputs(&merged), outputs(&whole));
    // A shard of other inputs is refused.
    let small = PortfolioInput::from_file(&small_portfolio()).unwrap();
    let other = RunSpec::new(small, 200, 21);
    let e =
        RunOutput::from_shard(&other, serde_json::from_slice(&shipped[0]).unwrap()).unwrap_err();
    assert!(e.to_string().contains("other inputs"), "{e}");
    // A shard of the same inputs simulated by a gaib of another model version is refused.
    let mut v: serde_json::Value = serde_json::from_slice(&shipped[0]).unwrap();
    for leg in v["stats"].as_array_mut().unwrap() {
        leg["model_version"] = "4".into();
    }
    let e = RunOutput::from_shard(&base, serde_json::from_value(v).unwrap()).unwrap_err();
    assert!(e.to_string().contains("model version 4"), "{e}");
}
