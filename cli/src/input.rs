//! Reading portfolio files from disk through the run layer (the engine itself does no I/O).

use gaib_engine::Loaded;
use std::path::Path;

/// Reads and validates a portfolio file, resolving its loan tape relative to the file.
pub(crate) fn load(path: &Path) -> anyhow::Result<Loaded> {
    Ok(gaib_runs::PortfolioInput::from_file(path)?.loaded)
}
