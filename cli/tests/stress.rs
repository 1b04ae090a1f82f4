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

#[test]
fn a_stress_directory_reproduces_bit_for_bit_from_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("stress-run");
    let sample = common::root().join(SAMPLE);
    // A bare scenario name, from a directory that has no data/scenarios: found next to the
    // portfolio (data/portfolios/../scenarios).
    let out = common::gaib_in(
        &[
            "stress",
            sample.to_str().unwrap(),
            "--scenario",
            "gpu-glut",
            "bank-run",
            "--paths",
            "120",
            "--seed",
            "9",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["kind"], "stress");
    let roles: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["portfolio", "loan_tape", "scenario", "scenario"]);
    for f in ["results.json", "stress.json", "report.html"] {
        assert!(
            m["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["path"] == f),
            "{f} not in the manifest"
        );
    }
    let rep = common::gaib_in(&["reproduce", "stress-run", "--quiet"], dir.path());
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep.stderr));

    // A changed stress figure is named.
    let path = run.join("stress.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["scenarios"][1]["changes"][0]["change"] = serde_json::json!(-99.0);
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let rep = common::gaib_in(&["reproduce", "stress-run", "--quiet"], dir.path());
    let err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(3), "{err}");
    assert!(
        err.contains("stress.json") && err.contains("$.scenarios[1].changes[0].change: -99.0"),
        "{err}"
    );
}

#[test]
fn an_unknown_bare_name_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let sample = common::root().join(SAMPLE);
    let out = common::gaib_in(
        &[
            "stress",
            sample.to_str().unwrap(),
            "--scenario",
            "no-such",
            "--paths",
            "10",
        ],
        dir.path(),
    );
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("looked at") && e.contains("no-such.toml") && e.contains("gpu-glut"),
        "{e}"
    );
}
