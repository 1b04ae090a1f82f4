//! `gaib run --paths-out FILE`: one row per path in a Parquet file, written chunk by chunk.
//!
//! The simulator hands over [`PathRows`] in path order ([`gaib_simulator::PathSink`]); this
//! writer buffers about [`ROW_GROUP_BYTES`] of values (at most [`ROW_GROUP_ROWS`] rows),
//! writes them as one row group and drops them, so memory does not grow with the number of
//! paths.
//!
//! **Why here, and why the bare `parquet` crate.** The writer lives in the CLI because the
//! simulator knows nothing of files (its architecture invariant); a cargo feature of the
//! simulator would only move the same dependency. It uses the low-level column writers of
//! the `parquet` crate without its `arrow` feature and with only the `snap` codec: on the
//! 2-core CI machine that adds about 25 s of compilation to a clean build (18 s of it the
//! `parquet` crate; 9 new crates in all), where polars would add about 15 min. The schema is built with the type builders rather than parsed from a message
//! string, so instrument ids need no escaping.
//!
//! Atomicity: rows go to `FILE.tmp` (same directory), which is renamed to FILE by
//! [`PathsOut::finish`] after the footer is written and synced; if the run stops before that
//! (Ctrl-C, an error), dropping the [`PathsOut`] removes the temp file.
//!
//! Columns (in this order; fractions are of the instrument's notional: funded amount for a
//! deal, original balance for a tranche):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `path` | UInt64 | path index |
//! | `portfolio_loss_frac` | Float64 | Σ deal losses / Σ funded |
//! | `defaults` | UInt32 | number of deals that defaulted |
//! | `tranche/<pool>/<tranche>/loss_frac` | Float64 | tranche loss fraction |
//! | `tranche/<pool>/<tranche>/pv_frac` | Float64 | PV of cash received / original balance |
//! | `deal/<deal>/loss_frac` | Float64 | deal loss fraction |
//! | `deal/<deal>/pv_frac` | Float64 | PV of cash received / funded |
//! | `deal/<deal>/default_month` | UInt32, null if none | month of the deal's first default |
//! | `vault/nav_per_share_staking_usd` | Float64 | staking NAV per share at the horizon, USD |
//! | `vault/nav_per_share_unstaking_usd` | Float64 | unstaking NAV per share at the horizon, USD |
//! | `vault/max_queue_fraction` | Float64 | largest queued shares / initial shares |
//!
//! The vault columns exist only when the portfolio has a vault. The file's key-value
//! metadata carries `gaib.version`, `gaib.model_version`, `gaib.portfolio_id`, `gaib.seed`,
//! `gaib.paths` and (with a vault) `gaib.vault_horizon_month`.

use crate::exit::CliError;
use gaib_simulator::{ColumnData, ColumnKind, PathRows, PathSink, SimPlan, SinkError};
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{DoubleType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most rows per row group.
pub(crate) const ROW_GROUP_ROWS: usize = 32_768;
/// Target size of one row group's buffered values, bytes (8 per value): wide portfolios get
/// fewer rows per group, so the buffer stays near this whatever the number of instruments.
pub(crate) const ROW_GROUP_BYTES: usize = 16 << 20;

/// Rows per row group for `n_columns` columns: [`ROW_GROUP_BYTES`] of values, rounded down
/// to a multiple of [`ROW_GROUP_QUANTUM`] rows, within [quantum, [`ROW_GROUP_ROWS`]]. 20 480
/// (20 default chunks of the CPU backend) for the sample portfolio's 102 columns.
fn row_group_rows(n_columns: usize) -> usize {
    let q = ROW_GROUP_QUANTUM;
    let rows = ROW_GROUP_BYTES / (8 * n_columns.max(1));
    (rows / q * q).clamp(q, ROW_GROUP_ROWS)
}

/// Row groups hold a multiple of this many rows (a quarter of the CPU backend's default chunk,
/// so a very wide portfolio's group stays small; the writer starts a new group before a chunk
/// would overflow it, whatever the chunking).
const ROW_GROUP_QUANTUM: usize = 256;

fn schema(plan: &SimPlan) -> parquet::errors::Result<TypePtr> {
    let fields = PathRows::columns(plan)
        .into_iter()
        .map(|(name, kind)| {
            let (phys, rep, logical) = match kind {
                ColumnKind::U64 => (
                    PhysicalType::INT64,
                    Repetition::REQUIRED,
                    Some(LogicalType::integer(64, false)),
                ),
                ColumnKind::U32 => (
                    PhysicalType::INT32,
                    Repetition::REQUIRED,
                    Some(LogicalType::integer(32, false)),
                ),
                ColumnKind::MonthOrNull => (
                    PhysicalType::INT32,
                    Repetition::OPTIONAL,
                    Some(LogicalType::integer(32, false)),
                ),
                ColumnKind::F64 => (PhysicalType::DOUBLE, Repetition::REQUIRED, None),
            };
            Type::primitive_type_builder(&name, phys)
                .with_repetition(rep)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    Ok(Arc::new(
        Type::group_type_builder("gaib_paths")
            .with_fields(fields)
            .build()?,
    ))
}

/// The `--paths-out` writer: a [`PathSink`] that writes `FILE.tmp`, renamed on
/// [`PathsOut::finish`], removed if dropped before.
pub(crate) struct PathsOut {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<SerializedFileWriter<BufWriter<File>>>,
    buf: PathRows,
    /// Rows per row group (the buffer is written out once it holds at least this many).
    row_group_rows: usize,
    /// Rows handed to the writer so far (for the consistency check in `finish`).
    rows: u64,
    /// Rows the run will produce.
    expected: u64,
}

impl PathsOut {
    /// Checks `path` and creates `path.tmp` with the schema of `plan`. A missing directory,
    /// a directory given as FILE or an unwritable location is bad input (exit 2) naming
    /// `--paths-out`.
    pub(crate) fn create(
        path: &Path,
        plan: &SimPlan,
        seed: u64,
        path_start: u64,
        paths: u64,
    ) -> anyhow::Result<Self> {
        let bad = |why: String| CliError::invalid(format!("--paths-out {}: {why}", path.display()));
        let Some(name) = path.file_name() else {
            return Err(bad("not a file name".into()));
        };
        if path.is_dir() {
            return Err(bad("is a directory".into()));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(bad(format!("directory {} does not exist", dir.display())));
        }
        let mut tmp_name = name.to_os_string();
        tmp_name.push(".tmp");
        let tmp = dir.join(tmp_name);
        let file =
            File::create(&tmp).map_err(|e| bad(format!("cannot create {}: {e}", tmp.display())))?;
        let group_rows = row_group_rows(PathRows::columns(plan).len());
        // From here on, dropping `out` removes the temp file.
        let mut out = PathsOut {
            path: path.to_path_buf(),
            tmp,
            writer: None,
            buf: PathRows::with_capacity(plan, (paths as usize).min(group_rows)),
            row_group_rows: group_rows,
            rows: 0,
            expected: paths,
        };
        let mut kv = vec![
            KeyValue::new("gaib.version".into(), gaib_simulator::VERSION.to_string()),
            KeyValue::new(
                "gaib.model_version".into(),
                gaib_simulator::MODEL_VERSION.to_string(),
            ),
            KeyValue::new("gaib.portfolio_id".into(), plan.portfolio_id.clone()),
            KeyValue::new("gaib.seed".into(), seed.to_string()),
            KeyValue::new("gaib.path_start".into(), path_start.to_string()),
            KeyValue::new("gaib.paths".into(), paths.to_string()),
        ];
        if let Some(v) = &plan.vault {
            kv.push(KeyValue::new(
                "gaib.vault_horizon_month".into(),
                v.horizon_month.to_string(),
            ));
        }
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("gaib {}", gaib_simulator::VERSION))
            .set_key_value_metadata(Some(kv))
            .build();
        let schema = schema(plan).map_err(|e| bad(format!("schema: {e}")))?;
        out.writer = Some(
            SerializedFileWriter::new(BufWriter::new(file), schema, Arc::new(props))
                .map_err(|e| bad(format!("{}: {e}", out.tmp.display())))?,
        );
        Ok(out)
    }

    /// Writes the buffered rows as one row group.
    fn flush_row_group(&mut self) -> parquet::errors::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(w) = self.writer.as_mut() else {
            return Err(parquet::errors::ParquetError::General(
                "writer already closed".into(),
            ));
        };
        let mut rg = w.next_row_group()?;
        let mut i64s: Vec<i64> = Vec::new();
        let mut i32s: Vec<i32> = Vec::new();
        let mut defs: Vec<i16> = Vec::new();
        for d in self.buf.column_data() {
            let Some(mut col) = rg.next_column()? else {
                return Err(parquet::errors::ParquetError::General(
                    "more data than schema columns".into(),
                ));
            };
            match d {
                ColumnData::U64(v) => {
                    i64s.clear();
                    // Path indices are < 2^32; the unsigned logical type reinterprets bits.
                    i64s.extend(v.iter().map(|&x| x as i64));
                    col.typed::<Int64Type>().write_batch(&i64s, None, None)?;
                }
                ColumnData::U32(v) => {
                    i32s.clear();
                    i32s.extend(v.iter().map(|&x| x as i32));
                    col.typed::<Int32Type>().write_batch(&i32s, None, None)?;
                }
                ColumnData::MonthOrNull(v) => {
                    i32s.clear();
                    defs.clear();
                    for &m in v {
                        defs.push(i16::from(m != 0));
                        if m != 0 {
                            i32s.push(m as i32);
                        }
                    }
                    col.typed::<Int32Type>()
                        .write_batch(&i32s, Some(&defs), None)?;
                }
                ColumnData::F64(v) => {
                    col.typed::<DoubleType>().write_batch(v, None, None)?;
                }
            }
            col.close()?;
        }
        if rg.next_column()?.is_some() {
            return Err(parquet::errors::ParquetError::General(
                "fewer data than schema columns".into(),
            ));
        }
        rg.close()?;
        self.rows += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes the last row group and the footer, syncs, and renames `FILE.tmp` to FILE.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        let tmp = self.tmp.clone();
        let ctx = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", tmp.display());
        self.flush_row_group().map_err(|e| ctx(&e))?;
        if self.rows != self.expected {
            return Err(ctx(&format!(
                "{} rows written, {} expected",
                self.rows, self.expected
            )));
        }
        let w = self
            .writer
            .take()
            .ok_or_else(|| ctx(&"writer already closed"))?;
        // `into_inner` writes the footer.
        let file = w
            .into_inner()
            .map_err(|e| ctx(&e))?
            .into_inner()
            .map_err(|e| ctx(&e.into_error()))?;
        file.sync_all().map_err(|e| ctx(&e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| {
            anyhow::anyhow!("{} → {}: {e}", self.tmp.display(), self.path.display())
        })?;
        // Renamed: nothing left for Drop to remove.
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl PathSink for PathsOut {
    /// Buffers `rows`; a row group is written before the buffer would exceed
    /// `row_group_rows` (so it never reallocates) and as soon as it is full.
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        let err = |e: parquet::errors::ParquetError, tmp: &Path| format!("{}: {e}", tmp.display());
        if !self.buf.is_empty() && self.buf.len() + rows.len() > self.row_group_rows {
            self.flush_row_group().map_err(|e| err(e, &self.tmp))?;
        }
        self.buf.append(rows);
        if self.buf.len() >= self.row_group_rows {
            self.flush_row_group().map_err(|e| err(e, &self.tmp))?;
        }
        Ok(())
    }
}

impl gaib_runs::RowsFile for PathsOut {
    fn finish(self: Box<Self>) -> Result<(), SinkError> {
        PathsOut::finish(*self).map_err(Into::into)
    }

    /// Dropping removes `FILE.tmp`.
    fn discard(self: Box<Self>) {}
}

impl Drop for PathsOut {
    fn drop(&mut self) {
        // Close the file first (an unfinished writer writes nothing more), then remove it.
        drop(self.writer.take());
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaib_simulator::{lower, Backend, CpuBackend, RunOptions, Simulation};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;

    fn plan() -> SimPlan {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/valid/small.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let p = gaib_engine::load_portfolio(&text, path, |_| Err("no tape".into()))
            .unwrap()
            .portfolio;
        lower(&p).unwrap()
    }

    #[test]
    fn row_groups_are_sized_by_bytes() {
        assert_eq!(row_group_rows(102), 20_480);
        assert_eq!(row_group_rows(3), ROW_GROUP_ROWS);
        assert_eq!(row_group_rows(100_000), 256);
    }

    #[test]
    fn rows_arrive_in_path_order_across_several_row_groups() {
        let plan = plan();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.parquet");
        let mut out = PathsOut::create(&file, &plan, 5, 0, 250).unwrap();
        out.row_group_rows = 64;
        let opts = RunOptions {
            chunk_paths: 10,
            ..RunOptions::default()
        };
        let stats = CpuBackend::new(Some(2))
            .unwrap()
            .simulate(&plan, Simulation::new(0..250, 5, &opts).with_sink(&mut out))
            .unwrap();
        out.finish().unwrap();
        assert!(!dir.path().join("p.parquet.tmp").exists());
        let r = SerializedFileReader::try_from(file.as_path()).unwrap();
        let groups: Vec<i64> = r
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(
            groups,
            [60, 60, 60, 60, 10],
            "chunks of 10, at most 64 rows a group"
        );
        let mut sum = 0.0;
        for (i, row) in r.get_row_iter(None).unwrap().enumerate() {
            let row = row.unwrap();
            assert_eq!(row.get_ulong(0).unwrap(), i as u64);
            sum += row.get_double(1).unwrap();
        }
        let mean = stats.portfolio.loss.mean();
        assert!((sum / 250.0 - mean).abs() <= 1e-12 * mean.abs().max(1.0));
    }

    #[test]
    fn dropping_before_finish_leaves_nothing() {
        let plan = plan();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.parquet");
        let mut out = PathsOut::create(&file, &plan, 5, 0, 100).unwrap();
        assert!(dir.path().join("p.parquet.tmp").exists());
        CpuBackend::new(Some(1))
            .unwrap()
            .simulate(
                &plan,
                Simulation::new(0..50, 5, &RunOptions::default()).with_sink(&mut out),
            )
            .unwrap();
        drop(out);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_short_run_is_an_error_not_a_file() {
        let plan = plan();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.parquet");
        let mut out = PathsOut::create(&file, &plan, 5, 0, 100).unwrap();
        CpuBackend::new(Some(1))
            .unwrap()
            .simulate(
                &plan,
                Simulation::new(0..50, 5, &RunOptions::default()).with_sink(&mut out),
            )
            .unwrap();
        let e = out.finish().unwrap_err();
        assert!(
            e.to_string().contains("50 rows written, 100 expected"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
