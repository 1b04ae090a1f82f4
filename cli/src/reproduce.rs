//! `gaib reproduce DIR/manifest.json [--threads T]`: re-runs a run from its manifest and checks
//! the results bit for bit. Exit 0 on a match, 3 on a mismatch (naming the differing fields),
//! 2 if an input file is missing or changed.

use crate::exit::{CliError, ExitKind};
use crate::run::{backend, input_files, simulate, BackendArg};
use anyhow::Context;
use gaib_simulator::{json_diff, lower, sha256_hex, RunManifest, SimError};
use std::path::{Path, PathBuf};

/// Arguments of `gaib reproduce`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The run's manifest.json.
    manifest: PathBuf,
    /// Worker threads (default: all CPUs). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Do not draw the progress bar.
    #[arg(long)]
    quiet: bool,
}

fn mismatch(message: String) -> anyhow::Error {
    anyhow::Error::new(CliError {
        kind: ExitKind::Mismatch,
        message,
    })
}

/// Finds an input: as recorded, else relative to the manifest's directory.
fn locate(recorded: &str, manifest_dir: &Path) -> Option<PathBuf> {
    let p = PathBuf::from(recorded);
    if p.exists() {
        return Some(p);
    }
    let q = manifest_dir.join(recorded);
    q.exists().then_some(q)
}

/// Re-runs and compares.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.manifest)
        .map_err(|e| CliError::invalid(format!("{}: cannot read: {e}", a.manifest.display())))?;
    let m = RunManifest::from_json(&text, &a.manifest.display().to_string())
        .map_err(|e| CliError::invalid(e.to_string()))?;
    let dir = a
        .manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let first = m
        .inputs
        .first()
        .ok_or_else(|| CliError::invalid("manifest lists no input files"))?;
    let portfolio = locate(&first.path, &dir)
        .ok_or_else(|| CliError::invalid(format!("input {} not found", first.path)))?;
    let loaded = crate::input::load(&portfolio)?;
    let now = input_files(&portfolio, &loaded)?;
    let mut changed = Vec::new();
    for (i, want) in m.inputs.iter().enumerate() {
        match now.get(i) {
            Some(got) if got.sha256 == want.sha256 => {}
            Some(got) => changed.push(format!(
                "{}: sha256 {} != recorded {}",
                got.path, got.sha256, want.sha256
            )),
            None => changed.push(format!("{}: no longer referenced", want.path)),
        }
    }
    if !changed.is_empty() {
        return Err(CliError::invalid(format!(
            "inputs changed since the run:\n  {}",
            changed.join("\n  ")
        )));
    }
    if m.model_version != gaib_simulator::MODEL_VERSION {
        eprintln!(
            "note: manifest model version {} differs from this binary's {}",
            m.model_version,
            gaib_simulator::MODEL_VERSION
        );
    }
    let choice = match m.backend.as_str() {
        "cpu" => BackendArg::Cpu,
        "cuda" => BackendArg::Cuda,
        other => {
            return Err(CliError::invalid(format!(
                "unknown backend '{other}' in manifest"
            )))
        }
    };
    let b = backend(choice, a.threads.or(Some(m.threads.max(1))))?;
    let plan = lower(&loaded.portfolio).map_err(|e| match e {
        SimError::Engine(e) => anyhow::Error::new(e),
        other => CliError::invalid(other.to_string()),
    })?;
    let out = simulate(
        &loaded.portfolio,
        &plan,
        b.as_ref(),
        m.paths,
        m.seed,
        !a.quiet,
    )?;
    let got = sha256_hex(&out.results);
    if got == m.results_sha256 {
        println!(
            "match: {} paths, seed {}, backend {} — results sha256 {}",
            m.paths, m.seed, m.backend, got
        );
        return Ok(());
    }
    let mut msg = format!(
        "mismatch: results sha256 {got} != recorded {}",
        m.results_sha256
    );
    let original = dir.join("results.json");
    match std::fs::read(&original) {
        Ok(bytes) => {
            let recorded_hash = sha256_hex(&bytes);
            if recorded_hash != m.results_sha256 {
                msg.push_str(&format!(
                    "\n  note: {} itself no longer matches the manifest (sha256 {recorded_hash})",
                    original.display()
                ));
            }
            let a_json: serde_json::Value = serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not JSON", original.display()))?;
            let b_json: serde_json::Value = serde_json::from_slice(&out.results)?;
            let diffs = json_diff(&a_json, &b_json, 20);
            msg.push_str("\n  differing fields (original != re-run):");
            for d in diffs {
                msg.push_str("\n    ");
                msg.push_str(&d);
            }
        }
        Err(_) => msg.push_str(&format!(
            "\n  ({} not found: cannot name the differing fields)",
            original.display()
        )),
    }
    Err(mismatch(msg))
}
