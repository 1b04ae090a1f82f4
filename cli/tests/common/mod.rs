//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root; a temp dir holding a copy of the sample portfolio and its loan tape.
#[allow(unused_imports)] // each test binary uses some of them
pub(crate) use gaib_testkit::{root, sample_copy};

/// Runs `gaib` with `args` in `dir`.
pub(crate) fn gaib_in(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gaib"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run gaib")
}

/// Runs `gaib` with `args` in the repository root.
pub(crate) fn gaib(args: &[&str]) -> Output {
    gaib_in(args, &root())
}

/// Lossy UTF-8 of a process's output.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The arguments of a 1e8-path `gaib run` of the sample (seed 1) writing to `out`: minutes of
/// work, for tests that must stop or refuse it first.
pub(crate) fn long_run_args(out: &str) -> [&str; 9] {
    [
        "run",
        "sample.toml",
        "--paths",
        "100000000",
        "--seed",
        "1",
        "--out",
        out,
        "--quiet",
    ]
}

/// Starts a 1e8-path `gaib run` of the sample in `dir` (writing to `r/`) with `extra`
/// arguments; the caller interrupts it with [`interrupt`].
#[cfg(unix)]
pub(crate) fn spawn_long_run(dir: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_gaib"))
        .args(long_run_args("r"))
        .args(extra)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends SIGINT (Ctrl-C) to `child` and waits for it.
#[cfg(unix)]
pub(crate) fn interrupt(child: std::process::Child) -> Output {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait_with_output().unwrap()
}

/// The folder of anvil (cast lies next to it) for a README block, or `None` with a note when
/// anvil is not installed (under `CI`: a failure).
pub(crate) fn readme_chain_tools() -> Option<PathBuf> {
    let anvil = gaib_testkit::needed(
        gaib_contracts::devnet::Anvil::binary(),
        "anvil not found (bash contracts-bindings/scripts/install-tools.sh)",
        "note: anvil not found; skipping",
    )?;
    Some(anvil.parent().unwrap().to_path_buf())
}

/// The first `sh` block of the README section headed `### {heading}`.
pub(crate) fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme
        .find(&format!("### {heading}\n"))
        .expect("README has the section")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let len = section[start..].find("\n```").expect("closed block");
    section[start..start + len].to_string()
}

/// Runs the README section `heading`'s shell block verbatim, then `tail`, under bash with
/// `timeout timeout_s`, in a fresh folder holding the sample portfolio (`data/portfolios/`) and
/// the repository's `deployments/{deployment}`, with this build's `gaib` and `tools` (anvil,
/// cast) first on PATH. Asserts anvil's default port is free before and that the block
/// succeeded; returns the folder and the output.
#[cfg(unix)]
pub(crate) fn run_readme_block(
    heading: &str,
    deployment: &str,
    tools: PathBuf,
    tail: &str,
    timeout_s: u32,
) -> (tempfile::TempDir, Output) {
    assert!(
        std::net::TcpListener::bind("127.0.0.1:8545").is_ok(),
        "the README's block uses anvil's default port 8545, which is in use"
    );
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::create_dir_all(t.join("data/portfolios")).unwrap();
    for f in ["sample.toml", "sample_loan_tape.csv"] {
        std::fs::copy(
            root().join("data/portfolios").join(f),
            t.join("data/portfolios").join(f),
        )
        .unwrap();
    }
    std::fs::create_dir_all(t.join("deployments")).unwrap();
    std::fs::copy(
        root().join("deployments").join(deployment),
        t.join("deployments").join(deployment),
    )
    .unwrap();
    // PATH: this build's gaib, then anvil and cast from the project's tools.
    let bin = t.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gaib"), bin.join("gaib")).unwrap();
    let path = std::env::join_paths([bin, tools].into_iter().chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let script = format!(
        "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM\n{}\n{tail}",
        readme_block(heading)
    );
    let out = Command::new("timeout")
        .args([&timeout_s.to_string(), "bash", "-c", &script])
        .current_dir(t)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "README block failed: {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    (tmp, out)
}
