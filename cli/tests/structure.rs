//! `gaib structure`: the sized tranche meets its target, the balances add up to the pool, the
//! JSON file, and bad input — an infeasible target, the equity, an unknown tranche, a malformed
//! target — exits 2 naming it.

mod common;

use common::{gaib_in as gaib, sample_copy, text};
use serde_json::Value;
use std::path::Path;

fn run(dir: &Path, file: &str, out: &str) {
    let o = gaib(
        &[
            "run", file, "--paths", "1000", "--seed", "3", "--out", out, "--quiet",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[test]
fn sized_tranches_meet_their_targets_and_add_up_to_the_pool() {
    let dir = sample_copy();
    let p = dir.path();
    run(p, "sample.toml", "r");
    let o = gaib(
        &[
            "structure",
            "r",
            "--target",
            "GPU-ABS-1/A:pd=0.5",
            "--target",
            "B:el=1",
            "--format",
            "json",
            "--out",
            "s.json",
            "--report",
            "s.html",
        ],
        p,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    let file: Value = serde_json::from_slice(&std::fs::read(p.join("s.json")).unwrap()).unwrap();
    assert_eq!(all, file);
    let html = std::fs::read_to_string(p.join("s.html")).unwrap();
    assert!(html.contains("fig-subordination") && html.contains("GPU-ABS-1/B sized"));
    assert!(all["break_evens"].is_null());
    let s = &all["structure"];
    let tr = s["tranches"].as_array().unwrap();
    let total: f64 = tr.iter().map(|t| t["balance_usd"].as_f64().unwrap()).sum();
    assert!((total - s["total_balance_usd"].as_f64().unwrap()).abs() < 1e-3);
    assert!(tr[0]["pd_pct"].as_f64().unwrap() <= 0.5);
    assert!(tr[1]["el_pct"].as_f64().unwrap() <= 1.0);
    assert_eq!(tr[0]["meets_target"], true);
    assert_eq!(tr[1]["meets_target"], true);
    assert!(tr[2]["target"].is_null());
    // Attachments stack: A's attachment is B's detachment.
    assert_eq!(tr[0]["attachment_pct"], tr[1]["detachment_pct"]);
    let o = gaib(
        &[
            "structure",
            "r",
            "--breakeven",
            "GPU-ABS-1",
            "--format",
            "json",
        ],
        p,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let b: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(b["structure"].is_null());
    let b = &b["break_evens"];
    assert_eq!(b["tranches"].as_array().unwrap().len(), 3);
    assert_eq!(b["deals"].as_array().unwrap().len(), 24);
    let table = gaib(&["structure", "r", "--target", "GPU-ABS-1/A:pd=0.5"], p);
    assert!(table.status.success());
    assert!(text(&table.stdout).contains("attach 95% CI"));
}

#[test]
fn bad_targets_exit_2_naming_them() {
    let dir = sample_copy();
    let p = dir.path();
    // Every operator likely to default, and a thick senior over thin B and E: a B right below
    // the senior is hit on most paths, so no B meets a 0.01 % PD.
    let toml = std::fs::read_to_string(p.join("sample.toml")).unwrap();
    let toml = toml
        .lines()
        .map(|l| match l.split_once('=') {
            Some((k, _)) if k.trim() == "hazard" => "hazard = 3.0".to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("balance = 150359000", "balance = 229322000")
        .replace("balance = 34698000", "balance = 1000000")
        .replace("balance = 46265000", "balance = 1000000");
    std::fs::write(p.join("distressed.toml"), toml).unwrap();
    run(p, "distressed.toml", "d");
    for (args, needle) in [
        (vec!["d", "--target", "GPU-ABS-1/B:pd=0.01"], "infeasible"),
        (vec!["d", "--target", "GPU-ABS-1/E:pd=1"], "equity"),
        (vec!["d", "--target", "GPU-ABS-1/Z:pd=1"], "GPU-ABS-1/Z"),
        (vec!["d", "--target", "GPU-ABS-1/A:xx=1"], "pd or el"),
        (
            vec!["d", "--target", "GPU-ABS-1/A:pd=150"],
            "between 0 and 100",
        ),
        (vec!["nowhere", "--target", "GPU-ABS-1/A:pd=1"], "nowhere"),
        (vec!["d"], "--breakeven"),
        (vec!["d", "--breakeven", "NOPE"], "NOPE"),
        (
            vec!["d", "--breakeven", "GPU-ABS-1", "--el-level", "0"],
            "el-level",
        ),
    ] {
        let mut all = vec!["structure"];
        all.extend_from_slice(&args);
        let o = gaib(&all, p);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(needle),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
}
