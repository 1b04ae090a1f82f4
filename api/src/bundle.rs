//! A run directory as one tar archive (`GET /v1/simulations/{id}/bundle`): every file of the
//! directory under a single top-level folder, so that `tar -xf` then `gaib reproduce FOLDER`
//! re-runs it.

use std::path::Path;

/// The tar archive of `dir`, its files under `name/`, in sorted order.
pub fn tar_dir(dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    b.mode(tar::HeaderMode::Deterministic);
    b.follow_symlinks(false);
    b.append_dir_all(name, dir)?;
    b.into_inner()
}
