//! The calibration as portfolio input: a `[[gpu_classes]]` block, or a portfolio file with
//! its classes' market parameters and `market.correlation` replaced (comments kept).

use crate::calibrate::{Calibration, ClassCalibration};
use crate::error::{MarketError, Result};
use toml_edit::{Array, DocumentMut, Item, Value};

/// Rounds to 4 decimals (the precision written to portfolio files).
fn r4(x: f64) -> f64 {
    let v = (x * 1e4).round() / 1e4;
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

/// The fields `gaib calibrate` sets on a class: (name, value).
fn fields(c: &ClassCalibration) -> [(&'static str, f64); 7] {
    [
        ("price0_per_gpu_hour", r4(c.price0_per_gpu_hour)),
        ("drift", r4(c.drift.value)),
        ("kappa", r4(c.kappa.value)),
        ("sigma", r4(c.sigma.value)),
        ("jump_intensity", r4(c.jump_intensity.value)),
        ("jump_mean", r4(c.jump_mean.value)),
        ("jump_std", r4(c.jump_std.value)),
    ]
}

fn fmt_f(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// The `[[gpu_classes]]` TOML block of every calibrated class, with `useful_life_years` and
/// `residual_floor` (hardware terms no price history can estimate) set to the given values,
/// and the correlation as a commented `[market]` line to paste into the portfolio's table.
pub fn toml_block(cal: &Calibration, useful_life_years: f64, residual_floor: f64) -> String {
    let mut s = format!(
        "# gaib calibrate: market parameters from {}{}\n# (estimates ± standard errors in the JSON output; docs/MARKET.md)\n",
        cal.history_file,
        cal.forwards_file
            .as_ref()
            .map_or(String::new(), |f| format!(" and the forward curve {f}"))
    );
    if let Some(c) = &cal.correlation {
        s.push_str(&format!(
            "# [market] correlation, classes in the order {}:\n# correlation = [\n",
            c.classes.join(", ")
        ));
        for row in &c.matrix {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:.4}")).collect();
            s.push_str(&format!("#   [{}],\n", cells.join(", ")));
        }
        s.push_str("# ]\n");
    }
    for c in &cal.classes {
        s.push_str(&format!("\n[[gpu_classes]]\nid = \"{}\"\n", c.class));
        for (k, v) in fields(c) {
            s.push_str(&format!("{k} = {}\n", fmt_f(v)));
        }
        s.push_str(&format!(
            "useful_life_years = {}  # not estimated from prices\nresidual_floor = {}  # not estimated from prices\n",
            fmt_f(useful_life_years),
            fmt_f(residual_floor)
        ));
    }
    s
}

/// `text` (a TOML portfolio named `file`) with every calibrated class's
/// `price0_per_gpu_hour`, `drift`, `kappa`, `sigma` and jump parameters replaced, and
/// `market.correlation` set in the portfolio's class order: estimated entries between
/// calibrated classes, the file's own (or 0) elsewhere, then made positive definite. Comments
/// and every other field are kept. `relocate_loan_tape` rewrites a `loan_tape` reference
/// (for a file written to another directory). Returns the new text and warnings (portfolio
/// classes the history lacks keep their parameters). A history class the portfolio lacks is
/// an error.
pub fn update_portfolio(
    text: &str,
    file: &str,
    cal: &Calibration,
    relocate_loan_tape: &dyn Fn(&str) -> String,
) -> Result<(String, Vec<String>)> {
    let perr = |reason: String| MarketError::Portfolio {
        file: file.to_string(),
        reason,
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| perr(format!("not valid TOML: {e}")))?;
    let mut ids: Vec<String> = Vec::new();
    {
        let classes = doc
            .get_mut("gpu_classes")
            .and_then(Item::as_array_of_tables_mut)
            .ok_or_else(|| perr("no [[gpu_classes]] array of tables".into()))?;
        for (i, t) in classes.iter_mut().enumerate() {
            let id = t
                .get("id")
                .and_then(Item::as_str)
                .ok_or_else(|| perr(format!("gpu_classes[{i}] has no string `id`")))?
                .to_string();
            if let Some(c) = cal.classes.iter().find(|c| c.class == id) {
                for (k, v) in fields(c) {
                    let keep = t.get(k).and_then(Item::as_value).map(|v| v.decor().clone());
                    t[k] = toml_edit::value(v);
                    if let (Some(d), Some(val)) = (keep, t[k].as_value_mut()) {
                        *val.decor_mut() = d;
                    }
                }
            }
            ids.push(id);
        }
    }
    for c in &cal.classes {
        if !ids.contains(&c.class) {
            return Err(MarketError::UnknownClass {
                file: cal.history_file.clone(),
                class: c.class.clone(),
                reason: format!("the portfolio {file} has gpu_classes {}", ids.join(", ")),
            });
        }
    }
    let mut warnings = Vec::new();
    for id in &ids {
        if !cal.classes.iter().any(|c| &c.class == id) {
            warnings.push(format!(
                "class {id} of {file} is not in the history: its parameters are kept"
            ));
        }
    }
    if let Some(est) = &cal.correlation {
        let k = ids.len();
        let old: Option<Vec<Vec<f64>>> = doc
            .get("market")
            .and_then(|m| m.get("correlation"))
            .and_then(Item::as_array)
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        r.as_array()
                            .map(|a| a.iter().map(|v| v.as_float().unwrap_or(0.0)).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            });
        let pos = |id: &String| est.classes.iter().position(|c| c == id);
        let m: Vec<Vec<f64>> = (0..k)
            .map(|i| {
                (0..k)
                    .map(|j| {
                        if i == j {
                            return 1.0;
                        }
                        match (pos(&ids[i]), pos(&ids[j])) {
                            (Some(a), Some(b)) => est.matrix[a][b],
                            _ => old
                                .as_ref()
                                .and_then(|o| o.get(i).and_then(|r| r.get(j)).copied())
                                .unwrap_or(0.0),
                        }
                    })
                    .collect()
            })
            .collect();
        let (m, _, adjusted) = crate::correlation::nearest_positive_definite(&m);
        if adjusted {
            warnings.push(
                "the merged correlation (estimated and kept entries) was repaired to be positive definite"
                    .into(),
            );
        }
        let mut rows = Array::new();
        for row in &m {
            let mut a = Array::new();
            for v in row {
                a.push(*v);
            }
            let mut v = Value::Array(a);
            v.decor_mut().set_prefix("\n  ");
            rows.push_formatted(v);
        }
        rows.set_trailing(",\n");
        let market = doc
            .get_mut("market")
            .and_then(Item::as_table_mut)
            .ok_or_else(|| perr("no [market] table".into()))?;
        let decor = market
            .get("correlation")
            .and_then(Item::as_value)
            .map(|v| v.decor().clone());
        market["correlation"] = toml_edit::value(rows);
        if let (Some(d), Some(val)) = (decor, market["correlation"].as_value_mut()) {
            *val.decor_mut() = d;
        }
    }
    if let Some(tape) = doc
        .get("loan_tape")
        .and_then(Item::as_str)
        .map(str::to_string)
    {
        let new = relocate_loan_tape(&tape);
        if new != tape {
            let decor = doc["loan_tape"].as_value().map(|v| v.decor().clone());
            doc["loan_tape"] = toml_edit::value(new);
            if let (Some(d), Some(val)) = (decor, doc["loan_tape"].as_value_mut()) {
                *val.decor_mut() = d;
            }
        }
    }
    Ok((doc.to_string(), warnings))
}
