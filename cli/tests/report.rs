//! `report.html`: `gaib run --out DIR` writes a self-contained report (no script, no network),
//! and headless Chromium loads it and finds every figure.
//!
//! Chromium (Debian package `chromium`) is required when the environment variable `CI` is set;
//! elsewhere the browser part is skipped with a printed note if it is not installed.

mod common;

use common::{gaib, text};
use gaib_testkit::{chromium, headless_dom};
use std::path::Path;

const FIGURES: [&str; 5] = [
    "fig-loss-histogram",
    "fig-loss-histogram-log",
    "fig-nav-fan",
    "fig-tranche-loss",
    "fig-collateral",
];

fn check_static(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for f in FIGURES {
        assert!(
            html.contains(&format!("<figure id=\"{f}\">")),
            "missing {f}"
        );
    }
    // Self-contained: the only URL is the SVG namespace; no scripts, stylesheets or images.
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    for bad in [
        "http://", "https://", "<script", "<link", "<img", "src=", "url(",
    ] {
        assert!(!without_ns.contains(bad), "report.html contains {bad}");
    }
    assert!(
        !html.contains("NaN") && !html.contains("inf<"),
        "non-finite number drawn"
    );
}

/// Loads `path` in headless Chromium: every standard figure and each of `extra` (figure
/// ids) is in the DOM with its SVG drawn, and the page logs no error.
fn check_in_browser(path: &Path, extra: &[&str]) {
    let Some(chromium) = chromium("the browser check of report.html") else {
        return;
    };
    let url = format!("file://{}", path.canonicalize().unwrap().display());
    let out = headless_dom(&chromium, &url);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        text(&out.stderr)
    );
    let dom = text(&out.stdout);
    assert!(
        dom.contains("gaib risk report"),
        "page did not load: {dom:.300}"
    );
    for f in FIGURES.iter().chain(extra) {
        assert!(
            dom.contains(&format!("<figure id=\"{f}\">")),
            "{f} not in the DOM"
        );
        let svg = format!("id=\"svg-{}\"", &f[4..]);
        assert!(dom.contains(&svg), "{svg} not rendered");
    }
    assert!(dom.matches("<svg").count() >= FIGURES.len());
    let log = text(&out.stderr);
    assert!(
        !log.contains("CONSOLE") && !log.contains("Uncaught"),
        "page logged errors: {log}"
    );
}

#[test]
fn run_writes_a_report_that_chromium_renders() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = gaib(&[
        "run",
        "data/portfolios/sample.toml",
        "--paths",
        "400",
        "--seed",
        "3",
        "--out",
        d,
        "--quiet",
        "--sensitivities",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for s in [
        "yield %",
        "VaR %",
        "recommended LTV %",
        "GPU price volatility ×1.2",
    ] {
        assert!(stdout.contains(s), "summary lacks {s}");
    }
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    check_static(&html);
    assert!(html.contains("id=\"sensitivities\""));
    // results.json carries the valuation; sensitivities.json the bumps.
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    let v = &results["valuation"];
    assert_eq!(v["paths"], 400);
    assert_eq!(v["tranches"][0]["id"], "GPU-ABS-1/A");
    assert!(v["tranches"][0]["price_pct"]["std_error"].is_number());
    assert_eq!(v["as_of"], "2026-11-01");
    let sens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sensitivities.json")).unwrap())
            .unwrap();
    assert_eq!(sens.as_array().unwrap().len(), 5);
    check_in_browser(&dir.path().join("report.html"), &[]);
}

/// A structure saved into the run (`gaib structure --save`) adds its section to report.html:
/// the sized-tranche table, the subordination and achieved-vs-target charts, the
/// break-evens; Chromium renders them. A run without one has no such section.
#[test]
fn a_saved_structure_adds_its_section_that_chromium_renders() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = gaib(&[
        "run",
        "data/portfolios/sample.toml",
        "--paths",
        "200",
        "--seed",
        "5",
        "--out",
        d,
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = dir.path().join("report.html");
    assert!(!std::fs::read_to_string(&report)
        .unwrap()
        .contains("id=\"structure\""));
    let out = gaib(&["structure", d, "--target", "GPU-ABS-1/A:el=0.5", "--save"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    check_static(&html);
    for needle in [
        "<h2 id=\"structure\">",
        "id=\"structure-tranches\"",
        "<figure id=\"fig-subordination\">",
        "<figure id=\"fig-structure-target\">",
        "GPU-ABS-1/A EL target",
        "attach 95% CI",
    ] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
    check_in_browser(&report, &["fig-subordination", "fig-structure-target"]);
}
