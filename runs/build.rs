//! Records the git commit the run layer was built from (GAIB_GIT_COMMIT) and whether the
//! working tree had uncommitted changes then (GAIB_GIT_DIRTY = "true"/"false"), if git is
//! available. Both can be set from outside (e.g. by a packager building from a tarball).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    println!("cargo:rerun-if-changed=../.git/index");
    // The sources whose edits make a build "dirty" (cargo scans directories recursively).
    for dir in [
        "engine",
        "simulator",
        "pricing",
        "runs",
        "cli",
        "contracts-bindings/src",
    ] {
        println!("cargo:rerun-if-changed=../{dir}");
    }
    println!("cargo:rerun-if-env-changed=GAIB_GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=GAIB_GIT_DIRTY");
    if std::env::var("GAIB_GIT_COMMIT").is_err() {
        if let Some(commit) = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty()) {
            println!("cargo:rustc-env=GAIB_GIT_COMMIT={commit}");
        }
    }
    if std::env::var("GAIB_GIT_DIRTY").is_err() {
        if let Some(status) = git(&["status", "--porcelain", "--untracked-files=no"]) {
            println!("cargo:rustc-env=GAIB_GIT_DIRTY={}", !status.is_empty());
        }
    }
}
