//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::path::Path;
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
