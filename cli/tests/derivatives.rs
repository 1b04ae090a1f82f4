//! Derivatives through the CLI (MODEL.md §10): the README's "Compute-price derivatives and
//! hedges" block run verbatim (calibrate the sample from data/market/, price its swap strip
//! and cap, a hedged operator's PD falls), `gaib run --format json|csv`, `gaib stress`'s
//! derivative table, and `gaib reproduce` of a run with an `unhedged` leg.

mod common;

use common::{gaib, readme_block, text};
use gaib_testkit::root;
use std::process::Command;

#[cfg(unix)]
#[test]
fn readme_derivatives_block_runs_verbatim() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for (dir, files) in [
        (
            "data/portfolios",
            &["sample_hedged.toml", "sample_loan_tape.csv"][..],
        ),
        (
            "data/market",
            &["synthetic-gpu-index.csv", "synthetic-forward-curve.csv"][..],
        ),
    ] {
        std::fs::create_dir_all(t.join(dir)).unwrap();
        for f in files {
            std::fs::copy(root().join(dir).join(f), t.join(dir).join(f)).unwrap();
        }
    }
    let bin = t.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gaib"), bin.join("gaib")).unwrap();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let script = format!(
        "set -euo pipefail\n{}",
        readme_block("Compute-price derivatives and hedges")
    );
    let out = Command::new("timeout")
        .args(["300", "bash", "-c", &script])
        .current_dir(t)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    // After calibrate's estimates, the CSV tables: the derivatives, a blank line, the hedge
    // comparison.
    assert!(stdout.contains("\nderivative,kind,position,"), "{stdout}");
    assert!(
        stdout.contains("\n\ninstrument,hedged_by,metric,"),
        "{stdout}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("run-hedged/results.json")).unwrap())
            .unwrap();
    let d = |id: &str| {
        r["derivatives"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("no derivative {id}"))
            .clone()
    };
    // The swap strip is priced, and agrees with its closed form.
    let swap = d("SW-H100-LATTICE");
    assert_eq!(swap["kind"], "swap");
    assert!(
        swap["closed_form_z"].as_f64().unwrap().abs() < 4.0,
        "{swap}"
    );
    assert!(swap["fair_strike_per_gpu_hour"].as_f64().unwrap() > 0.0);
    // The caps are priced (the calibrated classes have jumps: no closed form, said so). The
    // sample's B200 cap is far out of the money; the README's one-year H100 cap pays on most
    // paths.
    let cap = d("CAP-B200");
    assert_eq!(cap["kind"], "cap");
    assert_eq!(cap["closed_form_note"], "jumps");
    let atm = d("CAP-H100-1Y");
    assert_eq!(atm["closed_form_note"], "jumps");
    assert!(atm["pv_usd"]["value"].as_f64().unwrap() > 0.0, "{atm}");
    assert!(atm["p_receives_pct"].as_f64().unwrap() > 10.0, "{atm}");
    // L-13 (Lattice, hedged by the swap strip): its PD falls by far more than the noise.
    let l13 = r["hedges"]["deals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "L-13")
        .unwrap();
    let (h, u) = (&l13["pd_pct"]["hedged"], &l13["pd_pct"]["unhedged"]);
    let (hv, uv) = (h["value"].as_f64().unwrap(), u["value"].as_f64().unwrap());
    let se = h["std_error"].as_f64().unwrap() + u["std_error"].as_f64().unwrap();
    assert!(hv + 4.0 * se < uv, "L-13 PD hedged {hv} vs unhedged {uv}");
    assert!(t.join("run-hedged/report.html").is_file());
}

fn hedged_fixture() -> String {
    root()
        .join("tests/fixtures/derivatives/small_hedged.toml")
        .display()
        .to_string()
}

#[test]
fn run_prints_the_derivative_tables_as_json_and_a_hedged_run_reproduces() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let dir_s = dir.display().to_string();
    let fixture = hedged_fixture();
    let out = gaib(&[
        "run", &fixture, "--paths", "300", "--seed", "5", "--out", &dir_s, "--quiet", "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["derivatives"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["derivative"], "SW-H100");
    assert_eq!(rows[0]["hedges"], "fl-a");
    assert!(rows[0]["pv_usd"].as_f64().is_some());
    assert!(v["hedges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["instrument"] == "L-1"));
    // The run directory re-runs bit for bit, the unhedged leg included.
    let rep = gaib(&["reproduce", &dir_s]);
    assert!(
        rep.status.success(),
        "{}{}",
        text(&rep.stdout),
        text(&rep.stderr)
    );
    // A portfolio without derivatives prints an empty object.
    let plain = gaib(&[
        "run",
        &root()
            .join("tests/fixtures/valid/small.toml")
            .display()
            .to_string(),
        "--paths",
        "50",
        "--seed",
        "5",
        "--out",
        &tmp.path().join("plain").display().to_string(),
        "--quiet",
        "--format",
        "json",
    ]);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    assert_eq!(text(&plain.stdout).trim(), "{}");
}

#[test]
fn stress_prints_each_derivatives_change_and_the_hedges() {
    let out = gaib(&[
        "stress",
        &hedged_fixture(),
        "--scenario",
        "gpu-glut",
        "--paths",
        "200",
        "--seed",
        "3",
        "--quiet",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("Derivatives under each scenario"),
        "{stdout}"
    );
    assert!(stdout.contains("gpu-glut_change_usd"), "{stdout}");
    assert!(stdout.contains("With and without hedges"), "{stdout}");
}
