//! `gaib stress --format csv`: one long-form row per metric and run (the base and each
//! scenario), the same numbers as `--format json` for the same seed and paths, derivatives
//! included, and a scenario name with a comma and quotes quoted (RFC 4180).

mod common;

use common::{gaib, root, text};
use serde_json::Value;

/// Runs `gaib stress PORTFOLIO --scenario SCENARIOS... --paths 200 --seed 4 --format FORMAT`.
fn stress(portfolio: &str, scenarios: &[&str], format: &str) -> Vec<u8> {
    let mut args = vec!["stress", portfolio, "--scenario"];
    args.extend_from_slice(scenarios);
    args.extend_from_slice(&[
        "--paths", "200", "--seed", "4", "--format", format, "--quiet",
    ]);
    let out = gaib(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

/// A number of the CSV: None for an empty cell.
fn number(cell: &str) -> Option<f64> {
    (!cell.is_empty()).then(|| cell.parse().expect("a number"))
}

/// Checks the CSV of a stress run against its JSON: header, one row per metric × (1 +
/// scenarios) in order, values and changes equal; returns the rows.
fn csv_matches_json(portfolio: &str, scenarios: &[&str]) -> Vec<csv::StringRecord> {
    let csv_out = stress(portfolio, scenarios, "csv");
    let j: Value = serde_json::from_slice(&stress(portfolio, scenarios, "json")).unwrap();
    let mut r = csv::Reader::from_reader(csv_out.as_slice());
    assert_eq!(
        r.headers().unwrap(),
        vec!["metric", "unit", "scenario", "value", "change"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let sc = j["scenarios"].as_array().unwrap();
    assert_eq!(sc.len(), scenarios.len());
    let base = j["base"].as_array().unwrap();
    let derivatives = sc[0]["derivatives"].as_array().unwrap();
    let runs = 1 + sc.len();
    assert_eq!(rows.len(), (base.len() + derivatives.len()) * runs);

    let mut it = rows.iter();
    for m in base {
        let b = it.next().unwrap();
        assert_eq!(&b[0], m["key"].as_str().unwrap());
        assert_eq!(&b[1], m["unit"].as_str().unwrap());
        assert_eq!(&b[2], "base");
        assert_eq!(number(&b[3]), m["value"].as_f64(), "{b:?}");
        assert_eq!(&b[4], "");
        for s in sc {
            let row = it.next().unwrap();
            let c = s["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["key"] == m["key"])
                .unwrap();
            assert_eq!((&row[0], &row[1]), (&b[0], &b[1]));
            assert_eq!(&row[2], s["name"].as_str().unwrap());
            assert_eq!(number(&row[3]), c["value"].as_f64(), "{row:?}");
            assert_eq!(number(&row[4]), c["change"].as_f64(), "{row:?}");
        }
    }
    for (i, d) in derivatives.iter().enumerate() {
        let b = it.next().unwrap();
        assert_eq!(&b[0], format!("{} E[PV]", d["id"].as_str().unwrap()));
        assert_eq!((&b[1], &b[2]), ("USD", "base"));
        assert_eq!(number(&b[3]), d["base_usd"].as_f64());
        for s in sc {
            let row = it.next().unwrap();
            let x = &s["derivatives"][i];
            assert_eq!((&row[0], &row[2]), (&b[0], s["name"].as_str().unwrap()));
            assert_eq!(number(&row[3]), x["value_usd"].as_f64(), "{row:?}");
            assert_eq!(number(&row[4]), x["change_usd"].as_f64(), "{row:?}");
        }
    }
    rows
}

#[test]
fn csv_has_a_row_per_metric_and_run_equal_to_the_json_and_quotes_names() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mild.toml");
    std::fs::write(&f, "id = \"mild\"\nname = \"Glut, \\\"mild\\\"\"\n").unwrap();
    let sample = root().join("data/portfolios/sample.toml");
    let rows = csv_matches_json(sample.to_str().unwrap(), &["gpu-glut", f.to_str().unwrap()]);
    assert!(rows.iter().any(|r| &r[2] == "Glut, \"mild\""));
    // Full precision: not the table's 3 decimals.
    assert!(rows
        .iter()
        .any(|r| r[3].split('.').nth(1).is_some_and(|d| d.len() > 3)));

    // The raw line quotes the name (RFC 4180: doubled quotes inside a quoted field).
    let raw = text(&stress(
        sample.to_str().unwrap(),
        &[f.to_str().unwrap()],
        "csv",
    ));
    assert!(
        raw.starts_with("metric,unit,scenario,value,change\n"),
        "{raw}"
    );
    assert!(raw.contains(",\"Glut, \"\"mild\"\"\","), "{raw}");
}

#[test]
fn csv_includes_each_derivatives_pv_under_each_scenario() {
    let fixture = root().join("tests/fixtures/derivatives/small_hedged.toml");
    let rows = csv_matches_json(fixture.to_str().unwrap(), &["gpu-glut"]);
    assert!(rows
        .iter()
        .any(|r| r[0].ends_with(" E[PV]") && &r[2] == "GPU glut"));
}
