//! End-to-end tests of `gaib run` and `gaib reproduce`: outputs, manifests, exit codes.

mod common;

use common::{gaib_in as gaib, sample_copy, text};
use std::path::Path;
use std::process::Output;

fn run_sample(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "sample.toml",
        "--paths",
        "96",
        "--seed",
        "17",
        "--out",
        out,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    gaib(&args, dir)
}

#[test]
fn run_writes_results_and_manifest_then_reproduce_matches() {
    let dir = sample_copy();
    let out = run_sample(dir.path(), "r1", &["--threads", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("price % par") && stdout.contains("vault"),
        "{stdout}"
    );
    let r1 = dir.path().join("r1");
    let names: Vec<String> = std::fs::read_dir(&r1)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for want in ["manifest.json", "results.json"] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with('.')),
        "temp files left: {names:?}"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r1.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 17);
    assert_eq!(m["paths"], 96);
    assert_eq!(m["model_version"], "1");
    assert_eq!(m["backend"], "cpu");
    assert_eq!(
        m["inputs"].as_array().unwrap().len(),
        2,
        "portfolio and loan tape"
    );

    // Reproduce, with another thread count: bit-identical.
    let rep = gaib(
        &["reproduce", "r1/manifest.json", "--threads", "1", "--quiet"],
        dir.path(),
    );
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep.stderr));
    assert!(
        text(&rep.stdout).starts_with("match"),
        "{}",
        text(&rep.stdout)
    );

    // Same seed, different thread count, different directory: identical results bytes.
    let out2 = run_sample(dir.path(), "r2", &["--threads", "1"]);
    assert_eq!(out2.status.code(), Some(0));
    assert_eq!(
        std::fs::read(r1.join("results.json")).unwrap(),
        std::fs::read(dir.path().join("r2/results.json")).unwrap()
    );
}

#[test]
fn reproduce_reports_differing_fields_and_exits_3() {
    let dir = sample_copy();
    assert_eq!(run_sample(dir.path(), "r", &[]).status.code(), Some(0));
    let r = dir.path().join("r");
    // Forge a different recorded result (as if the run had produced it).
    let results = std::fs::read_to_string(r.join("results.json")).unwrap();
    let forged = results.replacen("\"seed\": 17", "\"seed\": 18", 1);
    assert_ne!(forged, results);
    std::fs::write(r.join("results.json"), &forged).unwrap();
    let manifest = std::fs::read_to_string(r.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let old = m["results_sha256"].as_str().unwrap().to_string();
    let new = gaib_simulator::sha256_hex(forged.as_bytes());
    std::fs::write(r.join("manifest.json"), manifest.replace(&old, &new)).unwrap();
    let rep = gaib(&["reproduce", "r/manifest.json", "--quiet"], dir.path());
    let err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(3), "{err}");
    assert!(
        err.contains("mismatch") && err.contains("$.seed: 18 != 17"),
        "{err}"
    );
}

#[test]
fn reproduce_refuses_changed_inputs() {
    let dir = sample_copy();
    assert_eq!(run_sample(dir.path(), "r", &[]).status.code(), Some(0));
    let tape = dir.path().join("sample_loan_tape.csv");
    let mut t = std::fs::read_to_string(&tape).unwrap();
    t.push('\n');
    std::fs::write(&tape, t).unwrap();
    let rep = gaib(&["reproduce", "r/manifest.json", "--quiet"], dir.path());
    let err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(2), "{err}");
    assert!(
        err.contains("inputs changed") && err.contains("sample_loan_tape.csv"),
        "{err}"
    );
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    let dir = sample_copy();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--paths", "0", "--seed", "1"],
            "--paths must be at least 1",
        ),
        (&["--paths", "20000000000", "--seed", "1"], "absurd"),
        (&["--paths", "5000000000", "--seed", "1"], "2^32"),
        (&["--paths", "10", "--seed", "-1"], "--seed"),
        (&["--paths", "10", "--seed", "abc"], "--seed"),
        (
            &["--paths", "10", "--seed", "18446744073709551616"],
            "--seed",
        ),
        (
            &["--paths", "10", "--seed", "1", "--threads", "0"],
            "--threads",
        ),
        (
            &["--paths", "10", "--seed", "1", "--backend", "cuda"],
            "cuda",
        ),
    ];
    for (extra, expect) in cases {
        let mut args = vec!["run", "sample.toml", "--quiet"];
        args.extend_from_slice(extra);
        let out = gaib(&args, dir.path());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(expect),
            "{extra:?}: stderr lacks `{expect}`:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // An invalid portfolio is the engine's exit 2.
    std::fs::write(dir.path().join("bad.toml"), "[portfolio]\nid = \"x\"\n").unwrap();
    let out = gaib(
        &["run", "bad.toml", "--paths", "10", "--seed", "1"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        !dir.path().join("runs").exists(),
        "nothing written on failure"
    );
}

#[test]
fn auto_backend_falls_back_to_cpu_with_the_reason() {
    let dir = sample_copy();
    let out = run_sample(dir.path(), "r", &["--backend", "auto"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("cuda") && err.contains("falling back to cpu"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_between_chunks_writes_nothing_and_exits_130() {
    let dir = sample_copy();
    let child = common::spawn_long_run(dir.path(), &[]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let out = common::interrupt(child);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("interrupted"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !dir.path().join("r").exists(),
        "nothing half-made is written"
    );
}
