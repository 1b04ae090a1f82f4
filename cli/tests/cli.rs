//! End-to-end tests of the `gaib` binary: exit codes, messages and output formats.

mod common;

use common::{gaib, root, text};

#[test]
fn every_invalid_fixture_exits_2_naming_the_field() {
    let dir = root().join("tests/fixtures/invalid");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let body = std::fs::read_to_string(&path).unwrap();
        let expect = body
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no '# expect:' line", path.display()));
        let rel = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let out = gaib(&["validate", &rel]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{rel}: {err}");
        assert!(
            err.contains(expect),
            "{rel}: stderr does not name `{expect}`:\n{err}"
        );
        assert!(!err.contains("panicked"), "{rel} panicked:\n{err}");
        assert!(out.stdout.is_empty(), "{rel}: nothing on stdout on failure");
        n += 1;
    }
    assert!(n >= 10, "expected at least 10 invalid fixtures, found {n}");
}

#[test]
fn validate_accepts_the_sample() {
    let out = gaib(&["validate", "data/portfolios/sample.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("30 deals") && s.contains("12 fleets"), "{s}");
}

#[test]
fn cashflows_prints_the_tranche_summary() {
    let out = gaib(&["cashflows", "data/portfolios/sample.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for needle in [
        "Pool GPU-ABS-1",
        "E (equity)",
        "senior fees",
        "Deals — base case",
        "RS-05",
    ] {
        assert!(s.contains(needle), "missing {needle}:\n{s}");
    }
}

#[test]
fn cashflows_json_is_parseable_and_ordered() {
    let out = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--pool",
        "GPU-ABS-1",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 48);
    assert_eq!(rows[0]["month"], 1);
    assert_eq!(rows[0]["oc_breached"], false);
    let first_key = text(&out.stdout).lines().nth(2).unwrap().trim().to_string();
    assert!(first_key.starts_with("\"month\""), "{first_key}");
}

#[test]
fn cashflows_csv_of_one_deal_has_a_row_per_month() {
    let out = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--deal",
        "L-01",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("month,revenue_usd,noi_usd,interest_usd"));
    assert_eq!(lines.len(), 1 + 48);
}

#[test]
fn cashflows_without_a_deal_or_pool_prints_one_document() {
    let json = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON document");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["deals", "tranches-GPU-ABS-1"]); // serde_json::Value sorts keys
    assert!(v["deals"].as_array().unwrap().len() > 3);

    // CSV: one section at a time, or one file per section.
    let csv = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.status.code(), Some(2));
    let e = text(&csv.stderr);
    assert!(
        e.contains("--section") && e.contains("tranches-GPU-ABS-1, deals"),
        "{e}"
    );
    let one = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--format",
        "csv",
        "--section",
        "deals",
    ]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    let s = text(&one.stdout);
    assert!(s.starts_with("deal,kind,fleet"), "{s}");
    assert_eq!(s.lines().filter(|l| l.starts_with("deal,")).count(), 1);
    let dir = tempfile::tempdir().unwrap();
    let out = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--format",
        "csv",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for f in ["tranches-GPU-ABS-1.csv", "deals.csv"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let bad = gaib(&[
        "cashflows",
        "data/portfolios/sample.toml",
        "--section",
        "nope",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("unknown section 'nope'"));
}

#[test]
fn top_level_help_lists_every_subcommand() {
    let out = gaib(&["--help"]);
    let s = text(&out.stdout);
    for c in [
        "validate",
        "calibrate",
        "cashflows",
        "run",
        "stress",
        "reproduce",
        "explain",
        "structure",
        "publish",
        "deploy",
        "serve",
        "keys",
    ] {
        assert!(
            s.lines().any(|l| l.trim_start().starts_with(c)),
            "--help lacks {c}:\n{s}"
        );
    }
}

#[test]
fn unknown_ids_and_missing_files_exit_2() {
    let out = gaib(&["cashflows", "data/portfolios/sample.toml", "--deal", "NOPE"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown deal id 'NOPE'"));
    let out = gaib(&["validate", "does/not/exist.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does/not/exist.toml"));
}
