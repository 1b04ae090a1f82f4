//! Per-path rows as Arrow: the schema and one record batch per chunk, with the column layout
//! of the Parquet writer of `gaib run --paths-out` ([`PathRows::columns`],
//! [`PathRows::column_data`], [`ColumnKind`]). Shared by the service's Arrow IPC stream and
//! the Python bindings.

use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use gaib_simulator::{ColumnData, ColumnKind, PathRows, SimPlan, SinkError};
use std::sync::Arc;

/// The Arrow schema of a plan's per-path rows; `seed`, `path_start` and `paths` are schema
/// metadata.
pub fn schema(plan: &SimPlan, seed: u64, path_start: u64, paths: u64) -> SchemaRef {
    let fields: Vec<Field> = PathRows::columns(plan)
        .into_iter()
        .map(|(name, kind)| match kind {
            ColumnKind::U64 => Field::new(name, DataType::UInt64, false),
            ColumnKind::U32 => Field::new(name, DataType::UInt32, false),
            ColumnKind::MonthOrNull => Field::new(name, DataType::UInt32, true),
            ColumnKind::F64 => Field::new(name, DataType::Float64, false),
        })
        .collect();
    let meta: std::collections::HashMap<String, String> = [
        ("gaib.seed".to_string(), seed.to_string()),
        ("gaib.path_start".to_string(), path_start.to_string()),
        ("gaib.paths".to_string(), paths.to_string()),
    ]
    .into_iter()
    .collect();
    Arc::new(Schema::new_with_metadata(fields, meta))
}

/// A chunk of rows as a record batch of `schema`.
pub fn batch(schema: &SchemaRef, rows: &PathRows) -> Result<RecordBatch, SinkError> {
    let arrays: Vec<ArrayRef> = rows
        .column_data()
        .into_iter()
        .map(|c| -> ArrayRef {
            match c {
                ColumnData::U64(v) => Arc::new(UInt64Array::from(v.to_vec())),
                ColumnData::U32(v) => Arc::new(UInt32Array::from(v.to_vec())),
                ColumnData::MonthOrNull(v) => Arc::new(
                    v.iter()
                        .map(|&m| (m != 0).then_some(m))
                        .collect::<UInt32Array>(),
                ),
                ColumnData::F64(v) => Arc::new(Float64Array::from(v.to_vec())),
            }
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), arrays)?)
}
