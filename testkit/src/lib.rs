//! # gaib-testkit
//!
//! Helpers shared by the integration tests of the workspace's crates, used only as a
//! dev-dependency (never published, never a normal dependency):
//!
//! - paths: [`root`], [`sample_portfolio`], [`small_portfolio`], [`sample_copy`];
//! - inline portfolios: [`small_json`] (the small test portfolio as JSON, the body the service
//!   stores), [`small_body`];
//! - tools a test needs: [`needed`] (fail under `CI`, skip with a note elsewhere),
//!   [`chromium`] and [`headless_dom`] (headless Chromium's DOM of a page);
//! - with the `engine` feature, module `engine`: the sample portfolio and the scenario files as
//!   `gaib-engine` types.
//!
//! It depends on no gaib crate except, optionally, `gaib-engine`, so any crate above the engine
//! can take it as a dev-dependency without a cycle.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the workspace folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `data/portfolios/sample.toml`: the sample portfolio (its loan tape lies next to it).
pub fn sample_portfolio() -> PathBuf {
    root().join("data/portfolios/sample.toml")
}

/// `tests/fixtures/valid/small.toml`: the small test portfolio (no loan tape).
pub fn small_portfolio() -> PathBuf {
    root().join("tests/fixtures/valid/small.toml")
}

/// The small test portfolio as a JSON value (its TOML converted field by field).
pub fn small_json() -> serde_json::Value {
    let text = std::fs::read_to_string(small_portfolio()).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    serde_json::to_value(v).unwrap()
}

/// The small portfolio's JSON body (pretty, as a client would send it).
pub fn small_body() -> Vec<u8> {
    serde_json::to_vec_pretty(&small_json()).unwrap()
}

/// A temp dir holding a copy of the sample portfolio and its loan tape.
pub fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["sample.toml", "sample_loan_tape.csv"] {
        std::fs::copy(root().join("data/portfolios").join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// A tool a test needs: `found`, or `None` after printing `note` when it is missing; when the
/// environment variable `CI` is set a missing tool fails the test with `missing`.
pub fn needed(found: Option<PathBuf>, missing: &str, note: &str) -> Option<PathBuf> {
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{missing}");
        eprintln!("{note}");
    }
    found
}

/// The chromium binary (Debian package `chromium`), or `None` with the note "chromium not
/// installed; skipping {skipping}" (under `CI`: a failure).
pub fn chromium(skipping: &str) -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    needed(
        found,
        "CI is set but chromium is not installed (apt-get install -y chromium)",
        &format!("note: chromium not installed; skipping {skipping}"),
    )
}

/// Runs headless `chromium` on `url` with a fresh profile and `--dump-dom`: stdout is the
/// rendered DOM, stderr the browser's log. Blocks until the browser exits.
pub fn headless_dom(chromium: &Path, url: &str) -> Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("run chromium")
}

/// The sample portfolio and the scenario files as `gaib-engine` types (feature `engine`).
#[cfg(feature = "engine")]
pub mod engine {
    use super::root;
    use gaib_engine::{load_portfolio, Portfolio, Scenario};

    /// `data/portfolios/sample.toml` with its loan tape, parsed and validated.
    pub fn sample() -> Portfolio {
        let dir = root().join("data/portfolios");
        let text = std::fs::read_to_string(dir.join("sample.toml")).unwrap();
        load_portfolio(&text, "sample.toml", |rel| {
            std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
        })
        .unwrap()
        .portfolio
    }

    /// `data/portfolios/sample_hedged.toml`: the sample with compute-price derivatives and
    /// hedges (MODEL.md §10), parsed and validated.
    pub fn sample_hedged() -> Portfolio {
        let dir = root().join("data/portfolios");
        let text = std::fs::read_to_string(dir.join("sample_hedged.toml")).unwrap();
        load_portfolio(&text, "sample_hedged.toml", |rel| {
            std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
        })
        .unwrap()
        .portfolio
    }

    /// The scenario `data/scenarios/<name>.toml`.
    pub fn scenario(name: &str) -> Scenario {
        let path = root().join("data/scenarios").join(format!("{name}.toml"));
        Scenario::from_toml(&std::fs::read_to_string(&path).unwrap(), name).unwrap()
    }

    /// The sample under the scenario `data/scenarios/<name>.toml`.
    pub fn stressed(name: &str) -> Portfolio {
        scenario(name).apply(&sample(), name).unwrap()
    }
}
