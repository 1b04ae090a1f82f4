//! Reading portfolio files from disk (the engine itself does no I/O).

use crate::CliError;
use gaib_engine::{load_portfolio, Loaded};
use std::path::Path;

/// Reads and validates a portfolio file, resolving its loan tape relative to the file.
pub(crate) fn load(path: &Path) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::invalid(format!("{}: cannot read: {e}", path.display())))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path.display().to_string();
    let loaded = load_portfolio(&text, &name, |rel| {
        let p = dir.join(rel);
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    })?;
    Ok(loaded)
}
