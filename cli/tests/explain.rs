//! `gaib explain`: the replayed path's totals equal its `gaib run --paths-out` row bit for bit,
//! `--worst tranche` picks the row with the largest loss, the formats, and bad input (exit 2).

mod common;

use common::{gaib_in as gaib, sample_copy, text};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const START: u64 = 100;
const PATHS: u64 = 400;

/// Runs the sample (paths START..START+PATHS, seed 5) into `r/` with `--paths-out p.parquet`.
fn run_sample(dir: &Path) {
    let out = gaib(
        &[
            "run",
            "sample.toml",
            "--paths",
            &PATHS.to_string(),
            "--path-start",
            &START.to_string(),
            "--seed",
            "5",
            "--out",
            "r",
            "--quiet",
            "--paths-out",
            "p.parquet",
        ],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The Parquet rows, keyed by path index: column → value (f64; default months as f64, null NaN).
fn parquet_rows(file: &Path) -> BTreeMap<u64, BTreeMap<String, f64>> {
    let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for row in reader.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        let mut cols = BTreeMap::new();
        let mut path = 0;
        for (name, f) in row.get_column_iter() {
            let v = match f {
                Field::Double(x) => *x,
                Field::UInt(x) => f64::from(*x),
                Field::ULong(x) => {
                    path = *x;
                    *x as f64
                }
                Field::Null => f64::NAN,
                other => panic!("{name}: {other:?}"),
            };
            cols.insert(name.clone(), v);
        }
        out.insert(path, cols);
    }
    out
}

fn explain_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["explain", "r", "--format", "json"];
    all.extend_from_slice(args);
    let out = gaib(&all, dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asserts that the explanation's totals are the Parquet row, bit for bit.
fn assert_totals_equal_row(e: &Value, row: &BTreeMap<String, f64>) {
    let t = &e["totals"];
    let same = |a: f64, b: f64, what: &str| {
        assert!(
            a.to_bits() == b.to_bits(),
            "{what}: explain {a:e} vs paths-out {b:e}"
        );
    };
    same(
        t["portfolio_loss_frac"].as_f64().unwrap(),
        row["portfolio_loss_frac"],
        "portfolio",
    );
    same(t["defaults"].as_f64().unwrap(), row["defaults"], "defaults");
    for d in t["deals"].as_array().unwrap() {
        let id = d["deal"].as_str().unwrap();
        same(
            d["loss_frac"].as_f64().unwrap(),
            row[&format!("deal/{id}/loss_frac")],
            id,
        );
        same(
            d["pv_frac"].as_f64().unwrap(),
            row[&format!("deal/{id}/pv_frac")],
            id,
        );
        let m = row[&format!("deal/{id}/default_month")];
        match d["default_month"].as_u64() {
            Some(x) => assert_eq!(x as f64, m, "{id}"),
            None => assert!(m.is_nan() || m == 0.0, "{id}: {m}"),
        }
    }
    for tr in t["tranches"].as_array().unwrap() {
        let id = tr["tranche"].as_str().unwrap();
        same(
            tr["loss_frac"].as_f64().unwrap(),
            row[&format!("tranche/{id}/loss_frac")],
            id,
        );
        same(
            tr["pv_frac"].as_f64().unwrap(),
            row[&format!("tranche/{id}/pv_frac")],
            id,
        );
    }
}

#[test]
fn explained_totals_equal_the_paths_out_row_and_worst_picks_the_largest_loss() {
    let dir = sample_copy();
    run_sample(dir.path());
    let rows = parquet_rows(&dir.path().join("p.parquet"));
    assert_eq!(rows.len() as u64, PATHS);
    for path in [START, START + 137, START + PATHS - 1] {
        let e = explain_json(dir.path(), &["--path", &path.to_string()]);
        assert_eq!(e["path"].as_u64(), Some(path));
        assert!(!e["deals"].as_array().unwrap().is_empty());
        assert!(!e["tranches"].as_array().unwrap().is_empty());
        assert_totals_equal_row(&e, &rows[&path]);
    }
    // --worst tranche: the row with the largest loss of the tranche (lowest path on ties).
    let col = "tranche/GPU-ABS-1/E/loss_frac";
    let max = rows.values().map(|r| r[col]).fold(f64::MIN, f64::max);
    let want = rows
        .iter()
        .find(|(_, r)| r[col] == max)
        .map(|(p, _)| *p)
        .unwrap();
    let e = explain_json(dir.path(), &["--worst", "tranche", "GPU-ABS-1/E"]);
    assert_eq!(e["path"].as_u64(), Some(want));
    assert_totals_equal_row(&e, &rows[&want]);
    // The monthly rows add up to the totals: Σ write-downs of a tranche, Σ losses of a deal.
    let t = &e["totals"]["tranches"][2];
    let wd: f64 = e["tranches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["tranche"] == "E")
        .map(|r| r["writedown_usd"].as_f64().unwrap())
        .sum();
    assert!((wd - t["writedown_usd"].as_f64().unwrap()).abs() < 1e-6);
    // The OC cure column: 0 in a month the test passed; otherwise interest proceeds diverted
    // to debt principal, so at most the interest proceeds and the debt's principal paid.
    let mut cured = 0;
    for r in e["pools"].as_array().unwrap() {
        let cure = r["oc_cure_usd"].as_f64().unwrap();
        if r["oc_breached"] == false {
            assert_eq!(cure, 0.0, "{r}");
            continue;
        }
        cured += usize::from(cure > 0.0);
        let debt_principal: f64 = e["tranches"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["month"] == r["month"] && t["tranche"] != "E")
            .map(|t| t["principal_usd"].as_f64().unwrap())
            .sum();
        assert!(cure >= 0.0 && cure <= r["interest_proceeds_usd"].as_f64().unwrap() + 1e-9);
        assert!(cure <= debt_principal + 1e-6, "{r}: {debt_principal}");
    }
    assert!(cured > 0, "the worst equity path never cured the OC test");
}

#[test]
fn focus_formats_and_bad_input() {
    let dir = sample_copy();
    run_sample(dir.path());
    let p = dir.path();
    let e = explain_json(p, &["--path", "120", "--pool", "GPU-ABS-1"]);
    assert!(e["pools"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["pool"] == "GPU-ABS-1"));
    assert!(e["vault"].as_array().unwrap().is_empty());
    let e = explain_json(p, &["--path", "120", "--deal", "L-01"]);
    let deals = e["deals"].as_array().unwrap();
    assert!(!deals.is_empty() && deals.iter().all(|r| r["deal"] == "L-01"));
    assert!(e["pools"].as_array().unwrap().is_empty());
    assert_eq!(e["fleets"].as_array().unwrap().len(), deals.len());

    let csv = gaib(&["explain", "r", "--path", "120", "--format", "csv"], p);
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("table,month,entity,field,value\n"));
    assert!(
        csv.contains("\ntranches,1,GPU-ABS-1/A,interest_usd,"),
        "{}",
        &csv[..400]
    );
    let one = gaib(
        &[
            "explain", "r", "--path", "120", "--format", "csv", "--table", "deals",
        ],
        p,
    );
    assert!(text(&one.stdout).starts_with("month,deal,interest_usd,"));
    let table = gaib(&["explain", "r", "--path", "120", "--deal", "L-01"], p);
    assert!(table.status.success());
    assert!(text(&table.stdout).contains("dsra_balance_usd"));

    for (args, needle) in [
        (vec!["--path", "99"], "path"),
        (vec!["--path", "500"], "path"),
        (vec!["--path", "120", "--deal", "NOPE"], "NOPE"),
        (vec!["--path", "120", "--pool", "NOPE"], "NOPE"),
        (vec!["--worst", "tranche", "GPU-ABS-1/Z"], "GPU-ABS-1/Z"),
        (vec!["--worst", "deal", "L-01"], "worst"),
        (vec!["--path", "120", "--table", "nope"], "nope"),
    ] {
        let mut all = vec!["explain", "r"];
        all.extend_from_slice(&args);
        let out = gaib(&all, p);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = gaib(&["explain", "nowhere", "--path", "1"], p);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nowhere"),
        "{}",
        text(&out.stderr)
    );
}
