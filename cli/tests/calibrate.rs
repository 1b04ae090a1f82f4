//! `gaib calibrate` end to end: the synthetic sample in, an updated portfolio (which the
//! engine loads), JSON and HTML out; bad input exits 2 naming file, line, field and value,
//! and writes nothing.

mod common;

use common::{gaib_in, root, text};
use std::path::Path;

fn market(f: &str) -> String {
    root().join("data/market").join(f).display().to_string()
}

/// Day `d` after 2025-01-01 as YYYY-MM-DD (days of 2025, then 2026; d < 730).
fn chrono_free_date(d: u32) -> String {
    let months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut year, mut day) = (2025, d);
    if day >= 365 {
        year += 1;
        day -= 365;
    }
    let mut m = 0;
    while day >= months[m] {
        day -= months[m];
        m += 1;
    }
    format!("{year}-{:02}-{:02}", m + 1, day + 1)
}

fn sample_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["sample.toml", "sample_loan_tape.csv"] {
        std::fs::copy(root().join("data/portfolios").join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn load(dir: &Path, text: &str, name: &str) -> gaib_engine::Loaded {
    gaib_engine::load_portfolio(text, name, |tape| {
        std::fs::read_to_string(dir.join(tape)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("{name} does not load: {e}\n{text}"))
}

#[test]
fn calibrate_updates_the_sample_and_writes_json_and_html() {
    let dir = sample_dir();
    let d = dir.path();
    let before = std::fs::read_to_string(d.join("sample.toml")).unwrap();
    let out = gaib_in(
        &[
            "calibrate",
            &market("synthetic-gpu-index.csv"),
            "--forwards",
            &market("synthetic-forward-curve.csv"),
            "--update",
            "sample.toml",
            "--out",
            "calibrated.toml",
            "--json-out",
            "calibration.json",
            "--html-out",
            "calibration.html",
            "--se",
            "observed",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("H100"), "{stdout}");
    // The forward fit per tenor: every class's nine tenors and its RMSE.
    assert!(
        stdout.contains("forward fit (one drift per class"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("fitted to 9 tenors").count(), 4, "{stdout}");
    assert!(
        stdout.contains("model E[P(t)]") && stdout.contains("error %"),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("short history"));
    assert_eq!(
        std::fs::read_to_string(d.join("sample.toml")).unwrap(),
        before,
        "the input is untouched"
    );
    let new = std::fs::read_to_string(d.join("calibrated.toml")).unwrap();
    let p = load(d, &new, "calibrated.toml").portfolio;
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("calibration.json")).unwrap())
            .unwrap();
    let classes = json["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 4);
    for c in classes {
        let id = c["class"].as_str().unwrap();
        let g = p.gpu_classes.iter().find(|g| g.id == id).unwrap();
        let sigma = c["sigma"]["value"].as_f64().unwrap();
        assert!(
            (g.sigma - sigma).abs() < 1e-4,
            "{id}: {} vs {sigma}",
            g.sigma
        );
        assert_eq!(c["drift_source"], "forward curve");
        assert!(c["forward_fit"]["tenors"].as_array().unwrap().len() == 9);
        let cover = c["coverage"]["band90"].as_f64().unwrap();
        assert!((0.7..=1.0).contains(&cover), "{id}: {cover}");
    }
    // Comments and the untouched classes' other fields survive; the correlation is new.
    assert!(new.contains("# gaib sample portfolio"));
    assert!(new.contains("useful_life_years = 6.0"));
    let rho = p.market.correlation.as_ref().unwrap();
    assert_ne!(rho[0][1], 0.80);
    let html = std::fs::read_to_string(d.join("calibration.html")).unwrap();
    for id in ["price-H100", "bands-H200", "qq-A100", "forward-B200"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!html.contains("NaN"));
}

#[test]
fn the_printed_block_replaces_the_sample_classes_and_loads() {
    let dir = sample_dir();
    let d = dir.path();
    let out = gaib_in(
        &[
            "calibrate",
            &market("synthetic-gpu-index.csv"),
            "--se",
            "observed",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let block = text(&out.stdout);
    assert_eq!(block.matches("[[gpu_classes]]").count(), 4, "{block}");
    let sample = std::fs::read_to_string(d.join("sample.toml")).unwrap();
    let (a, b) = (
        sample.find("[[gpu_classes]]").unwrap(),
        sample.find("[[operators]]").unwrap(),
    );
    let spliced = format!("{}{}\n{}", &sample[..a], block, &sample[b..]);
    let p = load(d, &spliced, "spliced.toml").portfolio;
    assert_eq!(p.gpu_classes.len(), 4);
    assert!(p.gpu_classes.iter().all(|g| g.drift < 0.0));
}

#[test]
fn bad_input_exits_2_naming_the_problem_and_writes_nothing() {
    let dir = sample_dir();
    let d = dir.path();
    let good = std::fs::read_to_string(root().join("data/market/synthetic-gpu-index.csv")).unwrap();
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "negative.csv",
            "date,class,price\n2025-01-01,H100,2.0\n2025-01-02,H100,-2.0\n".into(),
            vec![],
            "negative.csv:3: field `price` = \"-2.0\"",
        ),
        (
            "impossible.csv",
            "date,class,price\n2025-02-30,H100,2.0\n".into(),
            vec![],
            "impossible.csv:2: field `date` = \"2025-02-30\"",
        ),
        (
            "unsorted.csv",
            "date,class,price\n2025-01-02,H100,2.0\n2025-01-01,H100,2.0\n".into(),
            vec![],
            "must increase",
        ),
        (
            "short.csv",
            "date,class,price\n2025-01-01,H100,2.0\n2025-01-02,H100,2.1\n".into(),
            vec![],
            "class `H100` has 2 observations",
        ),
        (
            "constant.csv",
            (0..130).fold("date,class,price\n".to_string(), |acc, d| {
                format!("{acc}{},H100,2.0\n", chrono_free_date(d))
            }),
            vec![],
            "never changes",
        ),
        (
            "renamed.csv",
            good.replace(",A100,", ",MI300,"),
            vec!["--update", "sample.toml", "--out", "new.toml"],
            "unknown class `MI300`",
        ),
        (
            "same.csv",
            good.clone(),
            vec!["--update", "sample.toml", "--out", "sample.toml"],
            "is the --update input",
        ),
        (
            "exists.csv",
            good.clone(),
            vec!["--json-out", "c.json", "--html-out", "sample_loan_tape.csv"],
            "sample_loan_tape.csv exists (use --force",
        ),
        (
            "history.csv",
            good.clone(),
            vec![
                "--json-out",
                "c.json",
                "--html-out",
                "history.csv",
                "--force",
            ],
            "history.csv is an input",
        ),
    ];
    for (name, body, extra, expect) in cases {
        std::fs::write(d.join(name), body).unwrap();
        let mut args = vec!["calibrate", name, "--se", "observed"];
        args.extend(extra);
        let out = gaib_in(&args, d);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(expect), "{name}: `{expect}` not in\n{err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
        for f in ["new.toml", "c.json", "c.json.tmp"] {
            assert!(!d.join(f).exists(), "{name}: wrote {f}");
        }
    }
    // An unknown class in the forward curve.
    std::fs::write(
        d.join("fwd.csv"),
        "as_of,class,tenor_months,forward\n2026-10-31,MI300,3,2.0\n",
    )
    .unwrap();
    std::fs::write(d.join("good.csv"), &good).unwrap();
    let out = gaib_in(
        &["calibrate", "good.csv", "--forwards", "fwd.csv", "--quiet"],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("fwd.csv: unknown class `MI300`"));
    // A curve dated before the history.
    std::fs::write(
        d.join("early.csv"),
        "as_of,class,tenor_months,forward\n2020-01-01,H100,3,2.0\n",
    )
    .unwrap();
    let out = gaib_in(
        &[
            "calibrate",
            "good.csv",
            "--forwards",
            "early.csv",
            "--quiet",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("early.csv:2: field `as_of` = \"2020-01-01\"")
            && err.contains("before the first observation"),
        "{err}"
    );
}

#[test]
fn bootstrap_standard_errors_are_labelled_reproducible_and_refuse_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The first 250 days of the sample's H100: one class, cheap to bootstrap.
    let good = std::fs::read_to_string(root().join("data/market/synthetic-gpu-index.csv")).unwrap();
    let h100: Vec<&str> = good
        .lines()
        .filter(|l| l.contains(",H100,"))
        .take(250)
        .collect();
    std::fs::write(
        d.join("h.csv"),
        format!("date,class,price\n{}\n", h100.join("\n")),
    )
    .unwrap();
    let run = |extra: &[&str], json: &str| {
        let mut args = vec!["calibrate", "h.csv", "--json-out", json];
        args.extend(extra);
        let out = gaib_in(&args, d);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let err = text(&out.stderr);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(json)).unwrap()).unwrap();
        (json, stdout + &err)
    };
    let (a, said) = run(&["--bootstrap", "10"], "a.json");
    assert!(
        said.contains(
            "parametric bootstrap of the whole estimator, 10 replicates per class, seed 20240901"
        ),
        "{said}"
    );
    assert!(said.contains("10 bootstrap replicates: the standard errors are themselves uncertain"));
    assert_eq!(a["schema_version"], 2);
    assert_eq!(
        a["std_error_method"],
        serde_json::json!({"method": "bootstrap", "replicates": 10, "seed": 20240901})
    );
    let c = &a["classes"][0];
    assert_eq!(c["std_errors"]["method"], "bootstrap");
    assert_eq!(c["std_errors"]["replicates_used"], 10);
    // Reproducible: the same seed gives the same file (on any thread count); another seed
    // other errors.
    let (b, _) = run(&["--bootstrap", "10", "--threads", "1"], "b.json");
    assert_eq!(a, b);
    let (other, _) = run(&["--bootstrap", "10", "--bootstrap-seed", "7"], "c.json");
    assert_ne!(
        c["kappa"]["std_error"],
        other["classes"][0]["kappa"]["std_error"]
    );
    assert_eq!(c["kappa"]["value"], other["classes"][0]["kappa"]["value"]);
    // The observed information: labelled, kept for comparison in the bootstrap's output.
    let (o, said) = run(&["--se", "observed"], "o.json");
    assert!(said.contains("inverse observed information"), "{said}");
    let oc = &o["classes"][0];
    assert_eq!(o["std_error_method"]["method"], "observed");
    assert_eq!(oc["std_errors"]["replicates_used"], serde_json::Value::Null);
    assert_eq!(
        oc["sigma"]["std_error"], c["std_errors"]["observed"]["sigma"],
        "the bootstrap's JSON keeps the observed-information errors"
    );
    assert_ne!(oc["drift"]["std_error"], c["drift"]["std_error"]);
    // Bad options exit 2 and write nothing.
    for (extra, expect) in [
        (
            vec!["--bootstrap", "5"],
            "option `bootstrap` = 5: at least 10 bootstrap replicates",
        ),
        (
            vec!["--se", "observed", "--bootstrap", "50"],
            "--bootstrap and --bootstrap-seed apply to --se bootstrap",
        ),
        (vec!["--se", "sandwich"], "invalid value 'sandwich'"),
    ] {
        let mut args = vec!["calibrate", "h.csv", "--json-out", "bad.json"];
        args.extend(&extra);
        let out = gaib_in(&args, d);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(expect), "{extra:?}: `{expect}` not in\n{err}");
        assert!(!d.join("bad.json").exists());
    }
}
