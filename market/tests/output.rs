//! The calibration as portfolio input: the updated sample keeps its comments and other
//! fields, loads with the engine, merges the correlation of classes the history lacks, and a
//! history class the portfolio lacks is refused.

mod common;

use chrono::NaiveDate;
use common::sim::{simulate_csv, TrueClass};
use gaib_market::output::{toml_block, update_portfolio};
use gaib_market::{calibrate, parse_history, Calibration, Options, StdErrorMethod};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn class(id: &'static str, price0: f64) -> TrueClass {
    TrueClass {
        id,
        price0,
        drift: -0.2,
        kappa: 5.0,
        sigma: 0.3,
        jump_intensity: 4.0,
        jump_mean: -0.12,
        jump_std: 0.04,
    }
}

/// One year of H100 and A100 only (the sample also has H200 and B200).
fn two_class_calibration() -> Calibration {
    let csv = simulate_csv(
        &[class("H100", 2.5), class("A100", 1.2)],
        &[vec![1.0, 0.5], vec![0.5, 1.0]],
        400,
        NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
        3,
        "",
    );
    let h = parse_history(&csv, "two.csv").unwrap();
    let options = Options {
        std_errors: StdErrorMethod::Observed,
        ..Options::default()
    };
    calibrate(&h, None, &options).unwrap()
}

fn load(text: &str) -> gaib_engine::Portfolio {
    gaib_engine::load_portfolio(text, "updated.toml", |tape| {
        std::fs::read_to_string(root().join("data/portfolios").join(tape))
            .map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("does not load: {e}"))
    .portfolio
}

#[test]
fn the_updated_sample_loads_and_keeps_what_was_not_calibrated() {
    let cal = two_class_calibration();
    let sample = std::fs::read_to_string(root().join("data/portfolios/sample.toml")).unwrap();
    let (text, warnings) =
        update_portfolio(&sample, "sample.toml", &cal, &|t| t.to_string()).expect("updates");
    assert!(text.contains("# gaib sample portfolio"), "comments kept");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("H200") && warnings[1].contains("B200"));
    let p = load(&text);
    let orig = load(&sample);
    let by_id = |p: &gaib_engine::Portfolio, id: &str| {
        p.gpu_classes.iter().find(|g| g.id == id).unwrap().clone()
    };
    // Calibrated classes take the estimates (4 decimals); the others are unchanged.
    let h = by_id(&p, "H100");
    let est = &cal.classes[0];
    assert!((h.sigma - est.sigma.value).abs() < 5e-5);
    assert!((h.price0_per_gpu_hour - est.price0_per_gpu_hour).abs() < 5e-5);
    assert_eq!(h.useful_life_years, by_id(&orig, "H100").useful_life_years);
    assert_eq!(by_id(&p, "B200"), by_id(&orig, "B200"));
    // Correlation: the estimated H100–A100 entry, the file's own entries elsewhere.
    let rho = p.market.correlation.as_ref().unwrap();
    let r_est = cal.correlation.as_ref().unwrap().matrix[0][1];
    assert!((rho[0][3] - r_est).abs() < 2e-3, "{} vs {r_est}", rho[0][3]);
    assert!((rho[1][2] - 0.70).abs() < 2e-3, "{}", rho[1][2]);
    // The block alone parses as TOML with the two classes.
    let block = toml_block(&cal, 5.0, 0.1);
    let doc: toml_edit::DocumentMut = block.parse().unwrap();
    assert_eq!(doc["gpu_classes"].as_array_of_tables().unwrap().len(), 2);
}

#[test]
fn a_history_class_the_portfolio_lacks_is_refused() {
    let mut cal = two_class_calibration();
    cal.classes[1].class = "MI300".into();
    let sample = std::fs::read_to_string(root().join("data/portfolios/sample.toml")).unwrap();
    let e = update_portfolio(&sample, "sample.toml", &cal, &|t| t.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("two.csv") && e.contains("MI300") && e.contains("H100, H200"),
        "{e}"
    );
    let e = update_portfolio("not = [toml", "bad.toml", &cal, &|t| t.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.toml") && e.contains("not valid TOML"),
        "{e}"
    );
}
