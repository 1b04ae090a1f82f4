//! `gaib run --paths-out FILE`: the Parquet file read back with the `parquet` crate, results
//! unchanged by it, bad paths (exit 2) and Ctrl-C (nothing half-made).

mod common;

use common::{gaib_in as gaib, sample_copy, text};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use std::path::Path;
use std::process::Output;

const PATHS: usize = 300;

fn run_sample(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let paths = PATHS.to_string();
    let mut args = vec![
        "run",
        "sample.toml",
        "--paths",
        &paths,
        "--seed",
        "23",
        "--threads",
        "2",
        "--out",
        out,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    gaib(&args, dir)
}

fn results(dir: &Path, out: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(out).join("results.json")).unwrap()).unwrap()
}

fn as_f64(f: &Field) -> f64 {
    match f {
        Field::Double(x) => *x,
        other => panic!("not a double: {other:?}"),
    }
}

#[test]
fn paths_out_has_one_row_per_path_matching_results_json() {
    let dir = sample_copy();
    let out = run_sample(dir.path(), "r", &["--paths-out", "paths.parquet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = dir.path().join("paths.parquet");
    assert!(file.is_file());
    assert!(
        !dir.path().join("paths.parquet.tmp").exists(),
        "temp file left"
    );
    let res = results(dir.path(), "r");

    let reader = SerializedFileReader::try_from(file.as_path()).unwrap();
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows(), PATHS as i64);
    let kv = meta.key_value_metadata().unwrap();
    let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
    assert_eq!(get("gaib.seed").as_deref(), Some("23"));
    assert_eq!(get("gaib.paths"), Some(PATHS.to_string()));

    // Columns, named as documented.
    let names: Vec<String> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names[..3], ["path", "portfolio_loss_frac", "defaults"]);
    let tranches: Vec<&str> = res["tranches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let deals: Vec<&str> = res["deals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(tranches.iter().all(|t| t.contains('/')), "{tranches:?}");
    let mut want = vec![
        "path".to_string(),
        "portfolio_loss_frac".into(),
        "defaults".into(),
    ];
    for t in &tranches {
        want.push(format!("tranche/{t}/loss_frac"));
        want.push(format!("tranche/{t}/pv_frac"));
    }
    for d in &deals {
        want.push(format!("deal/{d}/loss_frac"));
        want.push(format!("deal/{d}/pv_frac"));
        want.push(format!("deal/{d}/default_month"));
    }
    for v in [
        "vault/nav_per_share_staking_usd",
        "vault/nav_per_share_unstaking_usd",
        "vault/max_queue_fraction",
    ] {
        want.push(v.into());
    }
    assert_eq!(names, want);

    // Rows: path indices 0..n in order; means equal results.json's to the fixed-point precision.
    let mut n = 0;
    let mut loss_sum = 0.0;
    let mut tranche_loss = vec![0.0; tranches.len()];
    let mut tranche_pv = vec![0.0; tranches.len()];
    let mut deal_defaults = vec![0u64; deals.len()];
    for (i, row) in reader.get_row_iter(None).unwrap().enumerate() {
        let row = row.unwrap();
        let cols: Vec<(&String, &Field)> = row.get_column_iter().collect();
        assert_eq!(cols[0].1, &Field::ULong(i as u64), "row {i}");
        loss_sum += as_f64(cols[1].1);
        assert!(matches!(cols[2].1, Field::UInt(_)), "{:?}", cols[2].1);
        for t in 0..tranches.len() {
            tranche_loss[t] += as_f64(cols[3 + 2 * t].1);
            tranche_pv[t] += as_f64(cols[4 + 2 * t].1);
        }
        let d0 = 3 + 2 * tranches.len();
        for d in 0..deals.len() {
            match cols[d0 + 3 * d + 2].1 {
                Field::Null => {}
                Field::UInt(m) => {
                    assert!(*m >= 1);
                    deal_defaults[d] += 1;
                }
                other => panic!("default_month {other:?}"),
            }
        }
        let nav = as_f64(cols[cols.len() - 3].1);
        assert!(nav.is_finite() && nav >= 0.0, "{nav}");
        n += 1;
    }
    assert_eq!(n, PATHS);
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        );
    };
    close(
        loss_sum / PATHS as f64,
        res["portfolio_loss_mean"].as_f64().unwrap(),
        "portfolio loss",
    );
    for (t, s) in res["tranches"].as_array().unwrap().iter().enumerate() {
        close(
            tranche_loss[t] / PATHS as f64,
            s["expected_loss"].as_f64().unwrap(),
            "tranche loss",
        );
        close(
            tranche_pv[t] / PATHS as f64,
            s["price"].as_f64().unwrap(),
            "tranche pv",
        );
    }
    for (d, s) in res["deals"].as_array().unwrap().iter().enumerate() {
        let stats_defaults = res["stats"]["deals"][d]["default_paths"].as_u64().unwrap();
        assert_eq!(deal_defaults[d], stats_defaults, "{}", s["id"]);
    }
}

#[test]
fn results_json_is_identical_with_and_without_paths_out() {
    let dir = sample_copy();
    let a = run_sample(dir.path(), "plain", &[]);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    let b = run_sample(dir.path(), "rows", &["--paths-out", "p.parquet"]);
    assert_eq!(b.status.code(), Some(0), "{}", text(&b.stderr));
    assert_eq!(
        std::fs::read(dir.path().join("plain/results.json")).unwrap(),
        std::fs::read(dir.path().join("rows/results.json")).unwrap()
    );
}

#[test]
fn bad_paths_out_exits_2_before_the_run() {
    let dir = sample_copy();
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    for bad in ["missing/p.parquet", "adir"] {
        let out = run_sample(dir.path(), "r", &["--paths-out", bad]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--paths-out"), "{bad}: {err}");
        assert!(
            !dir.path().join("r").exists(),
            "{bad}: the run must not start"
        );
    }
    assert!(!dir.path().join("missing").exists());
    assert!(!dir.path().join("adir.tmp").exists());
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_temp_file() {
    let dir = sample_copy();
    let child = common::spawn_long_run(dir.path(), &["--paths-out", "p.parquet"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        dir.path().join("p.parquet.tmp").exists(),
        "rows go to FILE.tmp while running"
    );
    let out = common::interrupt(child);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    for f in ["p.parquet", "p.parquet.tmp", "r"] {
        assert!(!dir.path().join(f).exists(), "{f} left after Ctrl-C");
    }
}
