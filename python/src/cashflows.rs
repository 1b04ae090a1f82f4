//! `gaib.cashflows`: the deterministic base case of the engine (no run, nothing random) as
//! Arrow tables of `gaib_runs::tables` (the columns of `gaib cashflows`), amounts in USD as
//! floats of the engine's cent-exact decimals.
//!
//! - `deal=ID`: that deal's monthly schedule;
//! - `pool=ID`: that pool's monthly waterfall, four columns per tranche;
//! - neither: every deal's monthly schedule, one table with the deal id first.

use crate::arrow::ArrowTable;
use crate::errors::engine_to_py;
use crate::portfolio::Portfolio;
use crate::table::Rows;
use gaib_engine::{base_case, EngineError};
use gaib_runs::tables::{deal_schedule, deal_schedules, pool_waterfall, CashflowTable, Cell};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

/// A typed cell as an Arrow value: amounts and numbers as floats, months as integers, flags
/// as booleans, text as strings, an empty cell as null.
fn value(c: &Cell) -> Value {
    match c {
        Cell::Empty => Value::Null,
        Cell::Int(i) => (*i).into(),
        Cell::Bool(b) => (*b).into(),
        Cell::Text(s) => s.as_str().into(),
        Cell::Usd(_) | Cell::Number { .. } => c.as_f64().into(),
    }
}

/// The rows of a cash-flow table of `gaib-runs`, column by column.
fn rows_of(t: &CashflowTable) -> Rows {
    let mut rows = Rows::default();
    for r in &t.rows {
        rows.row();
        for (name, c) in t.columns.iter().zip(r) {
            rows.set(name, value(c));
        }
    }
    rows
}

/// The base case of `portfolio` as a table (see the module docs).
#[pyfunction]
#[pyo3(signature = (portfolio, deal = None, pool = None))]
pub(crate) fn cashflows(
    py: Python<'_>,
    portfolio: &Portfolio,
    deal: Option<&str>,
    pool: Option<&str>,
) -> PyResult<ArrowTable> {
    let p = portfolio.input.portfolio();
    let unknown = |kind: &'static str, id: &str| {
        engine_to_py(
            py,
            EngineError::UnknownId {
                kind,
                id: id.to_string(),
            },
        )
    };
    let deal_index = deal
        .map(|id| p.deal_index(id).ok_or_else(|| unknown("deal", id)))
        .transpose()?;
    let pool_index = pool
        .map(|id| p.pool_index(id).ok_or_else(|| unknown("pool", id)))
        .transpose()?;
    if deal_index.is_some() && pool_index.is_some() {
        return Err(PyValueError::new_err(
            "cashflows: give deal= or pool=, not both",
        ));
    }
    let bc = py
        .detach(|| base_case(p))
        .map_err(|e| engine_to_py(py, e))?;
    let table = match (deal_index, pool_index) {
        (Some(d), _) => deal_schedule(p, &bc, d),
        (_, Some(q)) => pool_waterfall(p, &bc, q),
        _ => deal_schedules(p, &bc),
    };
    let batch = rows_of(&table)
        .finish()
        .map_err(|e| crate::errors::internal(py, e.to_string()))?;
    Ok(ArrowTable::of(batch))
}
