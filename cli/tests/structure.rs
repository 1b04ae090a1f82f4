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

/// `--save-to` writes a copy of the run with structure.json, a structure section in
/// report.html and the manifest listing both (the run itself untouched); `gaib reproduce`
/// re-computes it and passes, and fails naming structure.json once it is edited; `--save`
/// amends the run in place.
#[test]
fn a_saved_structure_is_reproduced_and_an_edit_is_named() {
    let dir = sample_copy();
    let p = dir.path();
    let o = gaib(
        &[
            "run",
            "sample.toml",
            "--paths",
            "200",
            "--seed",
            "5",
            "--out",
            "r",
            "--quiet",
        ],
        p,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let manifest_before = std::fs::read(p.join("r/manifest.json")).unwrap();
    let save = |extra: &[&str]| {
        let mut args = vec!["structure", "r", "--target", "GPU-ABS-1/A:el=0.5"];
        args.extend_from_slice(extra);
        let o = gaib(&args, p);
        assert!(o.status.success(), "{}", text(&o.stderr));
    };
    save(&["--save-to", "s"]);
    assert_eq!(
        std::fs::read(p.join("r/manifest.json")).unwrap(),
        manifest_before
    );
    assert!(!p.join("r/structure.json").exists());
    let m: Value =
        serde_json::from_slice(&std::fs::read(p.join("s/manifest.json")).unwrap()).unwrap();
    let outputs: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert!(outputs.contains(&"structure.json"), "{outputs:?}");
    assert_eq!(m["structure"]["targets"][0]["tranche"], "GPU-ABS-1/A");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(p.join("s/structure.json")).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["run"]["seed"], 5);
    assert_eq!(doc["run"]["results_sha256"], m["results_sha256"]);
    let html = std::fs::read_to_string(p.join("s/report.html")).unwrap();
    assert!(html.contains("<h2 id=\"structure\">") && html.contains("fig-structure-target"));
    assert!(!std::fs::read_to_string(p.join("r/report.html"))
        .unwrap()
        .contains("id=\"structure\""));
    let ok = gaib(&["reproduce", "s", "--quiet"], p);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("structure.json"),
        "{}",
        text(&ok.stdout)
    );
    // An edited number is named with its file and field.
    let edited = std::fs::read_to_string(p.join("s/structure.json"))
        .unwrap()
        .replacen("\"seed\": 5", "\"seed\": 6", 1);
    std::fs::write(p.join("s/structure.json"), edited).unwrap();
    let bad = gaib(&["reproduce", "s", "--quiet"], p);
    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad.stderr));
    let err = text(&bad.stderr);
    assert!(
        err.contains("structure.json: sha256") && err.contains("$.run.seed: 6 != 5"),
        "{err}"
    );
    // In place: the run's own manifest now lists it.
    save(&["--save"]);
    let m = std::fs::read_to_string(p.join("r/manifest.json")).unwrap();
    assert!(m.contains("\"structure.json\"") && m.as_bytes() != manifest_before);
}
