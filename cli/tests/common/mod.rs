//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

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
