//! Per-path rows of a job as an Arrow IPC stream (`application/vnd.apache.arrow.stream`): a
//! [`PathSink`] that writes one record batch per chunk the simulator hands it, with the column
//! layout the Parquet writer of `gaib run --paths-out` uses ([`PathRows::columns`],
//! [`PathRows::column_data`], [`gaib_simulator::ColumnKind`]). Written to `FILE.tmp` during the run and renamed
//! into place when the run succeeds.

use arrow_ipc::writer::StreamWriter;
use arrow_schema::SchemaRef;
use gaib_simulator::{PathRows, PathSink, SimPlan, SinkError};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// The media type of an Arrow IPC stream.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

pub use gaib_runs::arrow_rows::{batch, schema};

/// Writes per-path rows to `FILE.tmp` as an Arrow IPC stream.
pub struct ArrowSink {
    schema: SchemaRef,
    writer: StreamWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl std::fmt::Debug for ArrowSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowSink")
            .field("path", &self.path)
            .finish()
    }
}

impl ArrowSink {
    /// Creates `path.tmp` for the rows of `plan`.
    pub fn create(
        path: &Path,
        plan: &SimPlan,
        seed: u64,
        path_start: u64,
        paths: u64,
    ) -> Result<Self, SinkError> {
        let tmp = path.with_extension("arrows.tmp");
        let schema = schema(plan, seed, path_start, paths);
        let file = File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let writer = StreamWriter::try_new(BufWriter::new(file), &schema)?;
        Ok(Self {
            schema,
            writer,
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Ends the stream and renames the file into place.
    pub fn finish(mut self) -> Result<(), SinkError> {
        self.writer.finish()?;
        let inner = self.writer.into_inner()?;
        inner
            .into_inner()
            .map_err(|e| format!("{}: {e}", self.tmp.display()))?
            .sync_all()?;
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        Ok(())
    }

    /// Removes the partial file (a failed or cancelled run).
    pub fn discard(self) {
        let tmp = self.tmp.clone();
        drop(self);
        let _ = std::fs::remove_file(tmp);
    }
}

impl gaib_runs::RowsFile for ArrowSink {
    fn finish(self: Box<Self>) -> Result<(), SinkError> {
        ArrowSink::finish(*self)
    }

    fn discard(self: Box<Self>) {
        ArrowSink::discard(*self)
    }
}

impl PathSink for ArrowSink {
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        let b = batch(&self.schema, rows)?;
        self.writer.write(&b)?;
        Ok(())
    }
}
