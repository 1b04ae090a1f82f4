//! Arrow tables handed to Python through the Arrow PyCapsule interface: an [`ArrowTable`]
//! has `__arrow_c_stream__`, which exports its record batches as an `ArrowArrayStream`
//! (the C stream interface) in a capsule named `arrow_array_stream`. polars
//! (`pl.DataFrame(table)`, `pl.from_arrow(table)`), pyarrow and others import it without
//! copying row by row.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// An Arrow table (a schema and record batches) exported through `__arrow_c_stream__`.
#[pyclass(module = "gaib._native", frozen)]
pub(crate) struct ArrowTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl ArrowTable {
    /// A table of `batches`, all of `schema`.
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self { schema, batches }
    }

    /// A table of one batch.
    pub(crate) fn of(batch: RecordBatch) -> Self {
        Self::new(batch.schema(), vec![batch])
    }
}

#[pymethods]
impl ArrowTable {
    /// Exports the table as an Arrow C stream (PyCapsule `arrow_array_stream`). The schema is
    /// fixed: `requested_schema` is accepted and ignored, as the protocol allows.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let reader = RecordBatchIterator::new(
            self.batches.clone().into_iter().map(Ok),
            self.schema.clone(),
        );
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// Schema metadata (e.g. `gaib.seed` of per-path rows).
    #[getter]
    fn metadata(&self) -> std::collections::HashMap<String, String> {
        self.schema.metadata().clone().into()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "ArrowTable({} rows × {} columns)",
            self.num_rows(),
            self.schema.fields().len()
        )
    }
}
