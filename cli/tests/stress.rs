//! `gaib stress`: common random numbers, the side-by-side table, JSON, the report, and exit 2
//! on an unknown scenario file or a bad override.

mod common;

use common::{gaib, text};

const SAMPLE: &str = "data/portfolios/sample.toml";

#[test]
fn scenarios_print_side_by_side_with_changes() {
    let out = gaib(&[
        "stress",
        SAMPLE,
        "--scenario",
        "gpu-glut",
        "data/scenarios/bank-run.toml",
        "--paths",
        "300",
        "--seed",
        "2",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for want in [
        "GPU glut (Δ)",
        "Bank run on the vault (Δ)",
        "GPU-ABS-1/E price",
        "portfolio VaR 99%",
        "sAID P[queue > 1 cycle]",
        "common random numbers",
    ] {
        assert!(s.contains(want), "missing {want} in\n{s}");
    }
}

#[test]
fn an_empty_scenario_changes_nothing_because_draws_are_common() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("identity.toml");
    std::fs::write(&f, "id = \"identity\"\n").unwrap();
    let out = gaib(&[
        "stress",
        SAMPLE,
        "--scenario",
        f.to_str().unwrap(),
        "rate-shock",
        "--paths",
        "200",
        "--seed",
        "9",
        "--format",
        "json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let identity = j["scenarios"][0]["changes"].as_array().unwrap();
    assert!(identity.len() > 50);
    for c in identity {
        assert_eq!(c["change"].as_f64().unwrap(), 0.0, "{c}");
    }
    let rates = j["scenarios"][1]["changes"].as_array().unwrap();
    let senior = rates
        .iter()
        .find(|c| c["key"] == "GPU-ABS-1/A price")
        .unwrap();
    assert!(senior["change"].as_f64().unwrap() < -1.0, "{senior}");
}

#[test]
fn out_writes_stress_json_and_a_report_with_the_stress_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = gaib(&[
        "stress",
        SAMPLE,
        "--scenario",
        "correlation-spike",
        "--paths",
        "200",
        "--out",
        d,
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("id=\"stress\"") && html.contains("Correlation spike (Δ)"));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stress.json")).unwrap()).unwrap();
    assert_eq!(j["scenarios"][0]["id"], "correlation-spike");
}

#[test]
fn unknown_scenarios_and_bad_overrides_exit_2() {
    let out = gaib(&[
        "stress",
        SAMPLE,
        "--scenario",
        "no-such-scenario",
        "--paths",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = text(&out.stderr);
    assert!(
        e.contains("no-such-scenario") && e.contains("gpu-glut"),
        "{e}"
    );

    // Writes `body` as a scenario file and runs `gaib stress` with it.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let stress_with = |body: &str| {
        std::fs::write(&bad, body).unwrap();
        gaib(&[
            "stress",
            SAMPLE,
            "--scenario",
            bad.to_str().unwrap(),
            "--paths",
            "10",
        ])
    };

    let out = stress_with(
        "id = \"bad\"\n[[price_shocks]]\nclasses = [\"Z100\"]\nmonth = 1\nchange_pct = -10\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("price_shocks[0].classes[0]"));

    let out = stress_with("id = \"bad\"\n[credit]\nrho = 0.9\n");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = stress_with("id = \"bad\"\n[credit]\nasset_correlation = 1.5\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("asset_correlation"));
}
