//! `gaib reproduce DIR [--threads T]` (DIR or DIR/manifest.json): re-runs a run — plain, with
//! sensitivities, or stress — from its directory alone (the stored copies of its inputs) and
//! checks every output file bit for bit against the re-run and against the manifest's hashes
//! (a structure saved by `gaib structure --save` is re-computed from its recorded request and
//! checked as `structure.json` and the report's structure section).
//! Exit 0 on a match, 3 on a mismatch (naming the differing files and fields), 2 if the
//! directory is malformed or a stored input is missing or changed.

use crate::progress::{cancel_on_ctrl_c, progress_bar};
use gaib_runs::{RunControl, RunDir};
use std::path::PathBuf;

/// Arguments of `gaib reproduce`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The run directory (or its manifest.json).
    run: PathBuf,
    /// Worker threads (default: as recorded). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Do not draw the progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Re-runs and compares.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let dir = RunDir::open(&a.run)?;
    let m = &dir.manifest;
    if m.model_version != gaib_simulator::MODEL_VERSION {
        eprintln!(
            "note: manifest model version {} differs from this binary's {}",
            m.model_version,
            gaib_simulator::MODEL_VERSION
        );
    }
    if m.git_dirty == Some(true) {
        eprintln!(
            "note: the run was made by a build from a modified working tree (commit {})",
            m.git_commit.as_deref().unwrap_or("unknown")
        );
    }
    let bar = progress_bar(m.paths * dir.spec.leg_count() as u64, !a.quiet);
    let control = RunControl {
        cancel: cancel_on_ctrl_c(),
        progress: Some(bar.callback()),
    };
    let verified = dir.verify(a.threads, &control);
    bar.finish();
    verified?;
    println!(
        "match: {:?} run, {} paths from {}, seed {}, backend {} — {} output files bit for bit \
         (results sha256 {}){}",
        m.kind,
        m.paths,
        m.path_start,
        m.seed,
        m.backend,
        m.outputs.len(),
        m.results_sha256,
        if m.structure.is_some() {
            format!(", including the saved {} re-computed", gaib_runs::STRUCTURE)
        } else {
            String::new()
        }
    );
    Ok(())
}
