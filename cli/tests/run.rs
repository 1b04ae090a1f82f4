//! End-to-end tests of `gaib run` and `gaib reproduce`: outputs, manifests, exit codes.

mod common;

use common::{gaib_in as gaib, long_run_args, sample_copy, text};
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

/// A copy of the sample with a successful run of it (`extra` arguments added) in `r/`.
fn sample_run(extra: &[&str]) -> tempfile::TempDir {
    let dir = sample_copy();
    assert_eq!(run_sample(dir.path(), "r", extra).status.code(), Some(0));
    dir
}

/// `gaib reproduce TARGET --quiet` in `dir`, asserting exit code `code`; returns its stderr.
fn reproduce_exits(dir: &Path, target: &str, code: i32) -> String {
    let rep = gaib(&["reproduce", target, "--quiet"], dir);
    let err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(code), "{err}");
    err
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
    assert_eq!(m["model_version"], "6");
    assert_eq!(m["schema_version"], 4);
    assert_eq!(m["kind"], "plain");
    assert!(m["git_dirty"].is_boolean() || m["git_dirty"].is_null());
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
    let dir = sample_run(&[]);
    let r = dir.path().join("r");
    // Forge a different recorded result (as if the run had produced it).
    let results = std::fs::read_to_string(r.join("results.json")).unwrap();
    let forged = results.replacen("\"seed\": 17", "\"seed\": 18", 1);
    assert_ne!(forged, results);
    std::fs::write(r.join("results.json"), &forged).unwrap();
    let manifest = std::fs::read_to_string(r.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let old = m["results_sha256"].as_str().unwrap().to_string();
    let new = gaib_runs::sha256_hex(forged.as_bytes());
    std::fs::write(r.join("manifest.json"), manifest.replace(&old, &new)).unwrap();
    let err = reproduce_exits(dir.path(), "r/manifest.json", 3);
    assert!(
        err.contains("mismatch") && err.contains("$.seed: 18 != 17"),
        "{err}"
    );
}

#[test]
fn reproduce_refuses_changed_stored_inputs() {
    let dir = sample_run(&[]);
    let tape = dir.path().join("r/inputs/sample_loan_tape.csv");
    let mut t = std::fs::read_to_string(&tape).unwrap();
    t.push('\n');
    std::fs::write(&tape, t).unwrap();
    let err = reproduce_exits(dir.path(), "r/manifest.json", 2);
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
            "invalid paths = 0: must be at least 1",
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
            "invalid threads = 0",
        ),
        (
            &["--paths", "10", "--seed", "1", "--backend", "cuda"],
            "cuda",
        ),
        (
            &["--paths", "10", "--seed", "1", "--price", "L-01=abc"],
            "\"abc\" is not a number",
        ),
        (
            &["--paths", "10", "--seed", "1", "--price", "L-01=-3"],
            "positive",
        ),
        (
            &["--paths", "10", "--seed", "1", "--price", "NOPE=99"],
            "no tranche or deal \"NOPE\"",
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
        !dir.path().join("out").exists(),
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

#[test]
fn reproduce_works_from_the_directory_alone_after_the_inputs_are_gone() {
    let dir = sample_run(&[]);
    for f in ["sample.toml", "sample_loan_tape.csv"] {
        assert!(
            dir.path().join("r/inputs").join(f).is_file(),
            "{f} not stored"
        );
    }
    // Move the run elsewhere, delete the originals, reproduce from a third directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("moved-run");
    std::fs::rename(dir.path().join("r"), &moved).unwrap();
    std::fs::remove_file(dir.path().join("sample.toml")).unwrap();
    std::fs::remove_file(dir.path().join("sample_loan_tape.csv")).unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let rep = gaib(
        &["reproduce", moved.to_str().unwrap(), "--quiet"],
        cwd.path(),
    );
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep.stderr));
    assert!(text(&rep.stdout).starts_with("match"));
}

#[test]
fn reproduce_checks_results_json_against_the_manifest_hash() {
    let dir = sample_run(&[]);
    // A price edited by hand, the manifest left alone.
    let path = dir.path().join("r/results.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["valuation"]["tranches"][0]["price_pct"]["value"] = serde_json::json!(50.0);
    let mut bytes = serde_json::to_vec_pretty(&v).unwrap();
    bytes.push(b'\n');
    std::fs::write(&path, bytes).unwrap();
    let err = reproduce_exits(dir.path(), "r", 3);
    assert!(
        err.contains("results.json: sha256") && err.contains("price_pct.value: 50.0 != "),
        "{err}"
    );
}

#[test]
fn out_refuses_a_non_empty_directory_unless_forced_and_never_mixes_runs() {
    let dir = sample_run(&["--sensitivities"]);
    assert!(dir.path().join("r/sensitivities.json").is_file());
    let again = run_sample(dir.path(), "r", &[]);
    let err = text(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    let forced = run_sample(dir.path(), "r", &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert!(
        !dir.path().join("r/sensitivities.json").exists(),
        "a file of the earlier run survived"
    );
    reproduce_exits(dir.path(), "r", 0);
    // --force does not replace a directory that is not a run.
    std::fs::create_dir(dir.path().join("notes")).unwrap();
    std::fs::write(dir.path().join("notes/todo.txt"), "keep me").unwrap();
    let o = run_sample(dir.path(), "notes", &["--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not a run directory"));
    assert!(dir.path().join("notes/todo.txt").is_file());
}

#[cfg(unix)]
#[test]
fn an_unwritable_out_exits_2_before_simulating() {
    use std::os::unix::fs::PermissionsExt;
    let dir = sample_copy();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), "x").is_ok() {
        return; // running as a user that ignores permissions: nothing to test
    }
    // 1e8 paths would take minutes: the refusal must come first.
    let start = std::time::Instant::now();
    let out = gaib(&long_run_args("locked/r"), dir.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("locked/r") && err.contains("cannot"), "{err}");
    assert!(
        start.elapsed().as_secs() < 60,
        "refused only after simulating"
    );
}

#[test]
fn sensitivity_runs_reproduce_and_a_changed_number_names_the_metric() {
    let dir = sample_run(&["--sensitivities"]);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["kind"], "sensitivities");
    reproduce_exits(dir.path(), "r", 0);
    let path = dir.path().join("r/sensitivities.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v[0]["changes"][0]["change"] = serde_json::json!(1234.5);
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let err = reproduce_exits(dir.path(), "r", 3);
    assert!(
        err.contains("sensitivities.json") && err.contains("$[0].changes[0].change: 1234.5"),
        "{err}"
    );
}

#[test]
fn path_start_runs_a_shard_of_the_seed() {
    let dir = sample_copy();
    let o = run_sample(dir.path(), "shard", &["--path-start", "4294967290"]);
    assert_eq!(o.status.code(), Some(2), "beyond 2^32: {}", text(&o.stderr));
    let o = run_sample(dir.path(), "shard", &["--path-start", "96"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("shard/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["path_start"], 96);
    reproduce_exits(dir.path(), "shard", 0);
}

#[test]
fn market_prices_give_implied_spreads_in_the_table_and_results_json() {
    let dir = sample_copy();
    let out = run_sample(
        dir.path(),
        "r",
        &["--price", "GPU-ABS-1/A=99.5", "--price", "L-01=101"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("implied spread (bps)"), "{stdout}");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/results.json")).unwrap()).unwrap();
    let s = r["implied_spreads"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0]["id"], "GPU-ABS-1/A");
    assert_eq!(s[0]["market_price_pct"], 99.5);
    assert!(s[1]["implied_spread_bps"].as_f64().unwrap().is_finite());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["market_prices"][1]["id"], "L-01");
    let re = gaib(&["reproduce", "r"], dir.path());
    assert_eq!(re.status.code(), Some(0), "{}", text(&re.stderr));
}
