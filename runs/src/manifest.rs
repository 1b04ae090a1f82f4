//! [`Manifest`]: what a run was made of and what it produced, so that `gaib reproduce` (or
//! [`crate::RunDir::verify`]) can re-run it from its directory alone and check every recorded
//! number bit for bit (ARCHITECTURE.md).

use crate::error::{Result, RunError};
use gaib_pricing::MarketPrice;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Version of the manifest and results schema this crate writes and reads. A change of any
/// field's meaning or a removal bumps it; readers refuse other versions with a clear error.
/// Version 3 added `results.json`'s `vault_book` (the vault's shares, NAV and buffer at t = 0);
/// version 4 (MODEL.md version 4) its `derivatives` and `hedges`, the statistics'
/// `derivatives`, and each stress scenario's `derivatives`.
pub const SCHEMA_VERSION: u32 = 4;

/// What kind of run a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// One portfolio, no bumps or scenarios.
    Plain,
    /// The portfolio plus bump-and-revalue sensitivities (`sensitivities.json`).
    Sensitivities,
    /// The portfolio plus stress scenarios with common random numbers (`stress.json`).
    Stress,
}

/// The role of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputRole {
    /// The portfolio file (always the first input).
    Portfolio,
    /// A file the portfolio references (its loan tape).
    LoanTape,
    /// A stress scenario file.
    Scenario,
}

/// One input of a run, stored in the run directory, and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// What the file is.
    pub role: InputRole,
    /// Path of the stored copy, relative to the run directory (e.g. `inputs/sample.toml`).
    pub path: String,
    /// How the run named it: the path given on the command line, the path written in the
    /// portfolio (loan tape), or `(request body)` for an input that came without a file.
    /// Informational: reproduction reads the stored copy.
    pub source: String,
    /// For a loan tape: the reference as written in the portfolio (`loan_tape = "..."`), which
    /// reproduction resolves to the stored copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// One output file of a run and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Path relative to the run directory (`results.json`, `stress.json`, ...).
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The manifest written next to every run's results (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`SCHEMA_VERSION`] of this manifest and the run's results.
    pub schema_version: u32,
    /// What kind of run.
    pub kind: RunKind,
    /// Version of gaib that ran.
    pub gaib_version: String,
    /// Git commit the binary was built from, if known.
    pub git_commit: Option<String>,
    /// Whether the working tree had uncommitted changes when the binary was built (None: not
    /// known). A dirty build's results may not be reproducible from `git_commit` alone.
    pub git_dirty: Option<bool>,
    /// Model version (docs/MODEL.md).
    pub model_version: String,
    /// Backend name ("cpu", "cuda").
    pub backend: String,
    /// Threads used (results do not depend on it).
    pub threads: usize,
    /// The 64-bit seed.
    pub seed: u64,
    /// First path index of the run.
    pub path_start: u64,
    /// Number of paths (path indices `path_start .. path_start + paths`).
    pub paths: u64,
    /// Whether bump-and-revalue sensitivities were computed.
    pub sensitivities: bool,
    /// Market prices whose implied spreads results.json reports (empty: none given).
    #[serde(default)]
    pub market_prices: Vec<MarketPrice>,
    /// Input files, stored in the directory: the portfolio first, then its loan tape, then
    /// each scenario in the order of the comparison.
    pub inputs: Vec<InputFile>,
    /// Output files and their SHA-256 (results.json first).
    pub outputs: Vec<OutputFile>,
    /// SHA-256 of `results.json`'s bytes (the same as `outputs[0]`; what a published
    /// valuation report's run id ultimately commits to).
    pub results_sha256: String,
    /// Wall-clock seconds the simulation took (informational).
    pub elapsed_s: f64,
    /// Unix time the run finished, seconds (informational; the observation time of a
    /// published valuation).
    pub created_unix_s: u64,
    /// The structure analysis saved into the run (`gaib structure --save`): its request,
    /// which `gaib reproduce` re-computes into `structure.json` (listed in `outputs`).
    /// Absent when none was saved (and from runs written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structure: Option<crate::StructureRequest>,
}

/// The git commit recorded at build time, if any.
pub fn build_git_commit() -> Option<String> {
    option_env!("GAIB_GIT_COMMIT").map(str::to_string)
}

/// Whether the build's working tree was dirty, if known.
pub fn build_git_dirty() -> Option<bool> {
    option_env!("GAIB_GIT_DIRTY").map(|v| v == "true")
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// Pretty JSON of the manifest, with a final newline (the bytes written to manifest.json).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses a manifest; `path` names it in errors. A manifest of another schema version is
    /// refused with the version it has.
    pub fn from_json(text: &str, path: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| RunError::Json {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        match value.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(RunError::Json {
                    path: path.to_string(),
                    message: format!(
                        "schema_version {v} is not supported (this gaib reads {SCHEMA_VERSION})"
                    ),
                })
            }
            None => {
                return Err(RunError::Json {
                    path: path.to_string(),
                    message: format!(
                        "no schema_version: written by a gaib older than schema {SCHEMA_VERSION}; re-run it"
                    ),
                })
            }
        }
        serde_json::from_value(value).map_err(|e| RunError::Json {
            path: path.to_string(),
            message: e.to_string(),
        })
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io = |e| RunError::io(path, e);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}

/// Differences between two JSON values, as `path: a != b` lines (at most `limit`).
pub fn json_diff(a: &serde_json::Value, b: &serde_json::Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    diff_rec("$", a, b, limit, &mut out);
    out
}

fn diff_rec(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    limit: usize,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    if out.len() >= limit || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => diff_rec(&format!("{path}.{k}"), va, vb, limit, out),
                    None => out.push(format!("{path}.{k}: missing in the re-run")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: missing in the original"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff_rec(&format!("{path}[{i}]"), va, vb, limit, out);
            }
        }
        _ => {
            let short = |v: &Value| {
                let s = v.to_string();
                if s.len() > 80 {
                    format!("{}…", &s[..80])
                } else {
                    s
                }
            };
            out.push(format!("{path}: {} != {}", short(a), short(b)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn json_diff_names_differing_fields() {
        let a = serde_json::json!({"x": 1, "y": [1, 2], "z": {"w": "a"}});
        let b = serde_json::json!({"x": 1, "y": [1, 3], "z": {"w": "b"}});
        let d = json_diff(&a, &b, 10);
        assert_eq!(d, vec!["$.y[1]: 2 != 3", "$.z.w: \"a\" != \"b\""]);
    }

    #[test]
    fn manifest_round_trips_and_other_schema_versions_are_refused() {
        let m = Manifest {
            schema_version: SCHEMA_VERSION,
            kind: RunKind::Stress,
            gaib_version: "0.1.0".into(),
            git_commit: None,
            git_dirty: Some(true),
            model_version: "1".into(),
            backend: "cpu".into(),
            threads: 2,
            seed: u64::MAX,
            path_start: 0,
            paths: 10,
            sensitivities: false,
            market_prices: vec!["T-A=99.5".parse().unwrap()],
            inputs: vec![InputFile {
                role: InputRole::Portfolio,
                path: "inputs/p.toml".into(),
                source: "p.toml".into(),
                reference: None,
                sha256: sha256_hex(b""),
            }],
            outputs: vec![OutputFile {
                path: "results.json".into(),
                sha256: sha256_hex(b"{}"),
            }],
            results_sha256: sha256_hex(b"{}"),
            elapsed_s: 0.5,
            created_unix_s: 1,
            structure: None,
        };
        assert_eq!(Manifest::from_json(&m.to_json(), "m").unwrap(), m);
        let current = format!("\"schema_version\": {SCHEMA_VERSION}");
        let old = m.to_json().replace(&current, "\"schema_version\": 99");
        let e = Manifest::from_json(&old, "m").unwrap_err().to_string();
        assert!(e.contains("schema_version 99 is not supported"), "{e}");
        let none = m.to_json().replace(&format!("{current},"), "");
        let e = Manifest::from_json(&none, "m").unwrap_err().to_string();
        assert!(e.contains("no schema_version"), "{e}");
    }
}
