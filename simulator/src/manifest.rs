//! [`RunManifest`]: what a run was made of, so that `gaib reproduce` can re-run it and check the
//! results bit for bit (ARCHITECTURE.md).

use crate::error::{Result, SimError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One input file of a run and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Path as given on the command line (or referenced by the portfolio).
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The manifest written next to every run's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Version of gaib-simulator that ran.
    pub gaib_version: String,
    /// Git commit the binary was built from, if known.
    pub git_commit: Option<String>,
    /// Model version (MODEL.md), "1".
    pub model_version: String,
    /// Backend name ("cpu", "cuda").
    pub backend: String,
    /// Threads used (results do not depend on it).
    pub threads: usize,
    /// The 64-bit seed.
    pub seed: u64,
    /// Number of paths (path indices 0..paths).
    pub paths: u64,
    /// Input files: the portfolio first, then referenced files (loan tape).
    pub inputs: Vec<InputFile>,
    /// SHA-256 of the canonical results JSON (`results.json`'s bytes).
    pub results_sha256: String,
    /// Wall-clock seconds the simulation took (informational).
    pub elapsed_s: f64,
    /// Unix time the run finished, seconds (informational).
    pub created_unix_s: u64,
}

/// The git commit recorded at build time, if any.
pub fn build_git_commit() -> Option<String> {
    option_env!("GAIB_GIT_COMMIT").map(str::to_string)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl RunManifest {
    /// Pretty JSON of the manifest.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a manifest; `path` names it in errors.
    pub fn from_json(text: &str, path: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| SimError::Json {
            path: path.to_string(),
            message: e.to_string(),
        })
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io = |e| SimError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
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
    fn manifest_round_trips() {
        let m = RunManifest {
            gaib_version: "0.1.0".into(),
            git_commit: None,
            model_version: "1".into(),
            backend: "cpu".into(),
            threads: 2,
            seed: u64::MAX,
            paths: 10,
            inputs: vec![InputFile {
                path: "p.toml".into(),
                sha256: sha256_hex(b""),
            }],
            results_sha256: sha256_hex(b"{}"),
            elapsed_s: 0.5,
            created_unix_s: 1,
        };
        assert_eq!(RunManifest::from_json(&m.to_json(), "m").unwrap(), m);
    }
}
