//! Records the git commit the simulator was built from (GAIB_GIT_COMMIT), if git is available.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    println!("cargo:rerun-if-env-changed=GAIB_GIT_COMMIT");
    if std::env::var("GAIB_GIT_COMMIT").is_ok() {
        return;
    }
    if let Ok(out) = Command::new("git").args(["rev-parse", "HEAD"]).output() {
        if out.status.success() {
            let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !commit.is_empty() {
                println!("cargo:rustc-env=GAIB_GIT_COMMIT={commit}");
            }
        }
    }
}
