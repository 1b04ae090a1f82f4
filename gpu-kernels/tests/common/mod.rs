//! Shared helpers of the integration tests: the sample portfolio and the scenario files.

#![allow(dead_code)]

use gaib_engine::{load_portfolio, Portfolio, Scenario};
use std::path::{Path, PathBuf};

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// data/portfolios/sample.toml with its loan tape.
pub(crate) fn sample() -> Portfolio {
    let dir = root().join("data/portfolios");
    let text = std::fs::read_to_string(dir.join("sample.toml")).unwrap();
    load_portfolio(&text, "sample.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap()
    .portfolio
}

/// The sample under data/scenarios/<name>.toml.
pub(crate) fn stressed(name: &str) -> Portfolio {
    let path = root().join("data/scenarios").join(format!("{name}.toml"));
    let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap(), name).unwrap();
    s.apply(&sample(), name).unwrap()
}
