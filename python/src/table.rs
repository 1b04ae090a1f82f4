//! Row-wise table building with typed Arrow columns at the end ([`Rows`]), and the flattening
//! of the run layer's JSON records (valuation instruments, tail risk, ...) into rows, so that
//! every table follows the typed results' own field names without a copy of them here:
//!
//! - a scalar field `k` is column `k` (a JSON integer → Int64/UInt64, a float → Float64, a
//!   string → Utf8, a bool → Boolean, null → null);
//! - a Monte Carlo estimate (`{value, std_error, ...}`) is `k` (the value) and `k_se`;
//! - a list of quantiles (`[{level, value}, ...]`) is one column per level, `k_q<percent>`
//!   (e.g. `loss_quantiles_pct_q99`);
//! - a list of numbers is a List(Float64) column `k`;
//! - a nested record is flattened with the prefix `k_` (e.g. `kind_type`, `kind_pool_id`).
//!
//! Columns keep the order of the typed structs' fields: records are read from the serialised
//! JSON into [`Json`], which keeps object keys in document order (`serde_json::Value` would sort
//! them).

use arrow_array::builder::{Float64Builder, ListBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{ArrowError, Field, Schema};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::sync::Arc;

/// A JSON value whose objects keep their keys in document order.
#[derive(Debug, Clone)]
pub(crate) enum Json {
    /// A scalar (null, bool, number, string).
    Scalar(Value),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The value of `key` in an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The scalar value (null for an array or object).
    fn scalar(&self) -> Value {
        match self {
            Json::Scalar(v) => v.clone(),
            _ => Value::Null,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Json::Scalar(Value::Number(_)))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Scalar(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Scalar(Value::Null))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = a.next_element()? {
                    out.push(x);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Json>()? {
                    out.push((k, v));
                }
                Ok(Json::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A serialisable result as [`Json`] (fields in declaration order).
pub(crate) fn ordered<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_string(v)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Json::Scalar(Value::Null))
}

/// Rows of named cells; columns appear in the order first seen, and a row without a column
/// holds null there.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    names: Vec<String>,
    rows: Vec<Vec<(usize, Value)>>,
}

impl Rows {
    /// Starts a new row.
    pub(crate) fn row(&mut self) -> &mut Self {
        self.rows.push(Vec::new());
        self
    }

    /// Sets `name` in the current row.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        let i = match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        };
        if self.rows.is_empty() {
            self.rows.push(Vec::new());
        }
        let row = self.rows.last_mut().expect("a row");
        let value = value.into();
        match row.iter_mut().find(|(j, _)| *j == i) {
            Some(cell) => cell.1 = value,
            None => row.push((i, value)),
        }
        self
    }

    /// Sets the flattened fields of a JSON record (see the module docs) in the current row.
    pub(crate) fn flatten(&mut self, prefix: &str, record: &Json) -> &mut Self {
        let Json::Object(fields) = record else {
            return self;
        };
        for (k, v) in fields {
            let name = format!("{prefix}{k}");
            match v {
                Json::Object(_) if is_estimate(v) => {
                    self.set(&name, v.get("value").map(Json::scalar).unwrap_or_default());
                    self.set(
                        &format!("{name}_se"),
                        v.get("std_error").map(Json::scalar).unwrap_or_default(),
                    );
                }
                Json::Object(_) => {
                    self.flatten(&format!("{name}_"), v);
                }
                Json::Array(a) if !a.is_empty() && a.iter().all(is_quantile) => {
                    for q in a {
                        let level = q.get("level").map(Json::scalar);
                        let level = level.and_then(|l| l.as_f64()).unwrap_or(f64::NAN);
                        let value = q.get("value").map(Json::scalar).unwrap_or_default();
                        self.set(&format!("{name}_q{}", percent(level)), value);
                    }
                }
                Json::Array(a) if a.iter().all(Json::is_number) => {
                    self.set(&name, Value::Array(a.iter().map(Json::scalar).collect()));
                }
                Json::Array(a) if a.iter().all(is_estimate) => {
                    for (i, x) in a.iter().enumerate() {
                        let value = x.get("value").map(Json::scalar).unwrap_or_default();
                        let se = x.get("std_error").map(Json::scalar).unwrap_or_default();
                        self.set(&format!("{name}_{}", i + 1), value);
                        self.set(&format!("{name}_{}_se", i + 1), se);
                    }
                }
                // Lists of records (a fan chart, collateral series) are tables of their own.
                Json::Array(_) => {}
                Json::Scalar(x) => {
                    self.set(&name, x.clone());
                }
            }
        }
        self
    }

    /// The rows as one record batch with `metadata` on its schema.
    pub(crate) fn finish_with(
        self,
        metadata: Vec<(&str, String)>,
    ) -> Result<RecordBatch, ArrowError> {
        let n = self.rows.len();
        let mut columns: Vec<Vec<Value>> = vec![vec![Value::Null; n]; self.names.len()];
        for (r, row) in self.rows.into_iter().enumerate() {
            for (i, v) in row {
                columns[i][r] = v;
            }
        }
        let mut fields = Vec::new();
        let mut arrays = Vec::new();
        for (name, col) in self.names.into_iter().zip(columns) {
            let nullable = col.iter().any(Value::is_null);
            let array = column(&col);
            fields.push(Field::new(name, array.data_type().clone(), nullable));
            arrays.push(array);
        }
        let meta: std::collections::HashMap<String, String> = metadata
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let schema = Arc::new(Schema::new_with_metadata(fields, meta));
        if arrays.is_empty() {
            return Ok(RecordBatch::new_empty(schema));
        }
        RecordBatch::try_new(schema, arrays)
    }

    /// The rows as one record batch.
    pub(crate) fn finish(self) -> Result<RecordBatch, ArrowError> {
        self.finish_with(Vec::new())
    }
}

fn is_estimate(v: &Json) -> bool {
    v.get("value").is_some() && v.get("std_error").is_some()
}

fn is_quantile(v: &Json) -> bool {
    matches!(v, Json::Object(o) if o.len() == 2)
        && v.get("level").is_some()
        && v.get("value").is_some()
}

/// `0.99` → `99`, `0.999` → `99.9`, `0.05` → `5`.
pub(crate) fn percent(level: f64) -> String {
    let p = (level * 100.0 * 1e6).round() / 1e6;
    format!("{p}")
}

/// One column from its cells, typed by what they hold.
fn column(col: &[Value]) -> ArrayRef {
    let present = || col.iter().filter(|v| !v.is_null());
    if present().any(Value::is_string) {
        return Arc::new(
            col.iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect::<StringArray>(),
        );
    }
    if present().any(Value::is_array) {
        let mut b = ListBuilder::new(Float64Builder::new());
        for v in col {
            match v.as_array() {
                Some(a) => {
                    for x in a {
                        b.values().append_option(x.as_f64());
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        return Arc::new(b.finish());
    }
    if present().count() > 0 && present().all(Value::is_boolean) {
        return Arc::new(col.iter().map(Value::as_bool).collect::<BooleanArray>());
    }
    let numbers = || present().filter_map(Value::as_number);
    if present().count() > 0 && numbers().all(|x| x.is_i64()) {
        return Arc::new(col.iter().map(Value::as_i64).collect::<Int64Array>());
    }
    if present().count() > 0 && numbers().all(|x| x.is_u64()) {
        return Arc::new(col.iter().map(Value::as_u64).collect::<UInt64Array>());
    }
    Arc::new(col.iter().map(Value::as_f64).collect::<Float64Array>())
}

/// A JSON value of a serialisable result (the run layer's types all serialise).
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
