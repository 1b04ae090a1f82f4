//! Inputs of a run as parsed values together with the exact bytes they came from: a portfolio
//! (from a file, a JSON body or a JSON value such as a Python dict) with its loan tape, and
//! stress scenarios. The bytes are what a run directory stores and what the manifest hashes,
//! so a run can be reproduced after the original files are moved or deleted.

use crate::error::{Result, RunError};
use crate::manifest::{sha256_hex, InputRole};
use gaib_engine::{load_portfolio, EngineError, Loaded, Portfolio, Scenario};
use std::path::{Path, PathBuf};

/// What [`InputBytes::source`] says of an input that came without a file.
pub const NO_FILE: &str = "(request body)";

/// The bytes of one input file and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputBytes {
    /// What the file is.
    pub role: InputRole,
    /// File name it is stored under in a run directory (relative to `inputs/`), e.g.
    /// `sample.toml`, `sample_loan_tape.csv`, `scenarios/gpu-glut.toml`.
    pub stored_name: String,
    /// Where it came from: the path as given, or [`NO_FILE`].
    pub source: String,
    /// For a loan tape: the reference as written in the portfolio.
    pub reference: Option<String>,
    /// The exact bytes (the canonical form whose SHA-256 identifies the input).
    pub bytes: Vec<u8>,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl InputBytes {
    fn new(role: InputRole, stored_name: String, source: String, bytes: Vec<u8>) -> Self {
        let sha256 = sha256_hex(&bytes);
        Self {
            role,
            stored_name,
            source,
            reference: None,
            bytes,
            sha256,
        }
    }
}

/// A parsed and validated portfolio with the bytes of its file and of every file it
/// references (the loan tape).
#[derive(Debug, Clone)]
pub struct PortfolioInput {
    /// The validated portfolio (loan-tape deals appended).
    pub loaded: Loaded,
    /// The portfolio file's bytes.
    pub file: InputBytes,
    /// The referenced files' bytes (the loan tape, if any).
    pub referenced: Vec<InputBytes>,
}

fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        RunError::Engine(EngineError::Parse {
            file: name.to_string(),
            message: format!("not UTF-8 text: {e}"),
        })
    })
}

/// A safe relative name to store a referenced file under: the reference itself when it is a
/// plain relative path (no `..`, not absolute), else its file name.
fn stored_reference_name(reference: &str) -> String {
    let p = Path::new(reference);
    let plain = p.is_relative()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if plain {
        reference.to_string()
    } else {
        p.file_name()
            .map_or_else(|| "referenced".into(), |n| n.to_string_lossy().into_owned())
    }
}

impl PortfolioInput {
    /// Parses and validates a portfolio from its bytes. `name` is the file name used in errors
    /// and to pick the format (`.toml` or `.json`); `source` says where the bytes came from;
    /// `read_referenced` returns the bytes of a file the portfolio references (its loan tape)
    /// and where they came from, or an error message.
    pub fn from_bytes<F>(
        bytes: Vec<u8>,
        name: &str,
        source: &str,
        mut read_referenced: F,
    ) -> Result<Self>
    where
        F: FnMut(&str) -> std::result::Result<(Vec<u8>, String), String>,
    {
        let text = utf8(&bytes, name)?;
        let mut referenced = Vec::new();
        let loaded = load_portfolio(text, name, |reference| {
            let (b, from) = read_referenced(reference)?;
            let t = std::str::from_utf8(&b)
                .map_err(|e| format!("{from}: not UTF-8 text: {e}"))?
                .to_string();
            let mut input = InputBytes::new(
                InputRole::LoanTape,
                stored_reference_name(reference),
                from,
                b,
            );
            input.reference = Some(reference.to_string());
            referenced.push(input);
            Ok(t)
        })?;
        let stored_name = Path::new(name).file_name().map_or_else(
            || "portfolio.toml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Self {
            loaded,
            file: InputBytes::new(InputRole::Portfolio, stored_name, source.to_string(), bytes),
            referenced,
        })
    }

    /// Reads a portfolio file (TOML or JSON) and its loan tape, resolved relative to the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| {
            RunError::Engine(EngineError::Parse {
                file: path.display().to_string(),
                message: format!("cannot read: {e}"),
            })
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = path.display().to_string();
        Self::from_bytes(bytes, &name, &name, |reference| {
            let p = dir.join(reference);
            std::fs::read(&p)
                .map(|b| (b, p.display().to_string()))
                .map_err(|e| format!("{}: {e}", p.display()))
        })
    }

    /// A portfolio sent as a JSON document without a file (an HTTP body). It may not reference
    /// a loan tape (there is nothing to resolve it against): put the deals inline.
    pub fn from_json_body(body: &[u8]) -> Result<Self> {
        Self::from_bytes(body.to_vec(), "portfolio.json", NO_FILE, |reference| {
            Err(format!(
                "a portfolio sent without a file cannot reference the loan tape '{reference}': \
                 put its deals inline"
            ))
        })
    }

    /// A portfolio given as a JSON value (a Python dict). Its canonical bytes are the value's
    /// pretty JSON with object keys in sorted order, so the same dict always has the same hash.
    pub fn from_json_value(value: &serde_json::Value) -> Result<Self> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| RunError::Json {
            path: NO_FILE.into(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        Self::from_json_body(&bytes)
    }

    /// The validated portfolio.
    pub fn portfolio(&self) -> &Portfolio {
        &self.loaded.portfolio
    }

    /// The portfolio's SHA-256 (of the portfolio file's bytes).
    pub fn sha256(&self) -> &str {
        &self.file.sha256
    }

    /// Every input file: the portfolio, then the referenced files.
    pub fn files(&self) -> impl Iterator<Item = &InputBytes> {
        std::iter::once(&self.file).chain(&self.referenced)
    }
}

/// A parsed stress scenario with the bytes of its file.
#[derive(Debug, Clone)]
pub struct ScenarioInput {
    /// The scenario.
    pub scenario: Scenario,
    /// Its file's bytes.
    pub file: InputBytes,
}

impl ScenarioInput {
    /// Parses a scenario (TOML) from its bytes; `name` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &str, source: &str) -> Result<Self> {
        let text = utf8(&bytes, name)?;
        let scenario = Scenario::from_toml(text, name)?;
        let file_name = Path::new(name).file_name().map_or_else(
            || "scenario.toml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Self {
            scenario,
            file: InputBytes::new(
                InputRole::Scenario,
                format!("scenarios/{file_name}"),
                source.to_string(),
                bytes,
            ),
        })
    }

    /// Reads a scenario file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            RunError::Engine(EngineError::Parse {
                file: name.clone(),
                message: format!("cannot read: {e}"),
            })
        })?;
        Self::from_bytes(bytes, &name, &name)
    }

    /// Finds a scenario by path or bare name (see [`scenario_search_dirs`]) and reads it.
    pub fn locate(name_or_path: &str, portfolio_file: Option<&Path>) -> Result<Self> {
        let path = locate_scenario(name_or_path, portfolio_file)?;
        Self::from_file(&path)
    }
}

/// The environment variable naming an extra directory of scenario files, searched first.
pub const SCENARIOS_ENV: &str = "GAIB_SCENARIOS";

/// Where a bare scenario name (`gpu-glut`) is looked up, in order:
/// 1. `$GAIB_SCENARIOS`;
/// 2. `scenarios/` next to the portfolio file, then `../scenarios/` from it (the shipped
///    layout `data/portfolios/` + `data/scenarios/`);
/// 3. `data/scenarios/` in the current directory;
/// 4. `data/scenarios/` of the source tree the binary was built in (found from the binary's
///    location `target/<profile>/gaib`), and `../share/gaib/scenarios` next to an installed
///    binary's directory.
pub fn scenario_search_dirs(portfolio_file: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os(SCENARIOS_ENV) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(dir) = portfolio_file.and_then(Path::parent) {
        dirs.push(dir.join("scenarios"));
        dirs.push(dir.join("..").join("scenarios"));
    }
    dirs.push(PathBuf::from("data/scenarios"));
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        for up in [2, 3] {
            let mut d = exe_dir.clone();
            for _ in 0..up {
                d.push("..");
            }
            dirs.push(d.join("data").join("scenarios"));
        }
        dirs.push(exe_dir.join("..").join("share/gaib/scenarios"));
    }
    dirs
}

/// Resolves a scenario argument: an existing file path as given, else `<name>.toml` (or
/// `<name>` if it already ends in `.toml`) in each of [`scenario_search_dirs`]. The error says
/// every place it looked and the scenarios known in the first directory that exists.
pub fn locate_scenario(name_or_path: &str, portfolio_file: Option<&Path>) -> Result<PathBuf> {
    let p = PathBuf::from(name_or_path);
    if p.is_file() {
        return Ok(p);
    }
    let file = if name_or_path.ends_with(".toml") {
        name_or_path.to_string()
    } else {
        format!("{name_or_path}.toml")
    };
    let dirs = scenario_search_dirs(portfolio_file);
    for d in &dirs {
        let c = d.join(&file);
        if c.is_file() {
            return Ok(c);
        }
    }
    let known = dirs.iter().find_map(|d| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let p = e.path();
                (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect();
        names.sort();
        (!names.is_empty()).then(|| format!(" (known in {}: {})", d.display(), names.join(", ")))
    });
    let looked: Vec<String> = std::iter::once(p.display().to_string())
        .chain(dirs.iter().map(|d| d.join(&file).display().to_string()))
        .collect();
    Err(RunError::argument(
        "scenario",
        name_or_path,
        format!(
            "no such file; looked at {}{}",
            looked.join(", "),
            known.unwrap_or_default()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_never_escape_the_inputs_directory() {
        assert_eq!(stored_reference_name("tape.csv"), "tape.csv");
        assert_eq!(stored_reference_name("tapes/t.csv"), "tapes/t.csv");
        assert_eq!(stored_reference_name("../t.csv"), "t.csv");
        assert_eq!(stored_reference_name("/abs/t.csv"), "t.csv");
    }

    #[test]
    fn a_dict_portfolio_has_a_stable_hash_whatever_its_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": [1, 2]}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a": [1, 2], "b": 1}"#).unwrap();
        assert_eq!(
            serde_json::to_vec_pretty(&a).unwrap(),
            serde_json::to_vec_pretty(&b).unwrap()
        );
    }
}
