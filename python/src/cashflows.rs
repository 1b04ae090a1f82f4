//! `gaib.cashflows`: the deterministic base case of the engine (no run, nothing random) as
//! Arrow tables, amounts in USD as floats of the engine's cent-exact decimals.
//!
//! - `deal=ID`: that deal's monthly schedule;
//! - `pool=ID`: that pool's monthly waterfall, three columns per tranche;
//! - neither: every deal's monthly schedule, one table with the deal id first.

use crate::arrow::ArrowTable;
use crate::errors::engine_to_py;
use crate::portfolio::Portfolio;
use crate::table::Rows;
use gaib_engine::{base_case, Amount, BaseCase, Decimal, DefaultKind, EngineError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn usd(x: Decimal) -> f64 {
    Amount::to_f64(x.round_dp(2))
}

fn default_name(k: DefaultKind) -> &'static str {
    match k {
        DefaultKind::Payment => "payment",
        DefaultKind::Refinancing => "refinancing",
        DefaultKind::Credit => "credit",
    }
}

fn deal_rows(rows: &mut Rows, p: &gaib_engine::Portfolio, bc: &BaseCase, d: usize, with_id: bool) {
    for r in &bc.deals[d] {
        let f = &r.flows;
        rows.row();
        if with_id {
            rows.set("deal", p.deals[d].id.as_str());
        }
        rows.set("month", r.month)
            .set("revenue_usd", usd(r.fleet.revenue))
            .set("noi_usd", usd(r.fleet.noi))
            .set("interest_usd", usd(f.interest))
            .set("scheduled_principal_usd", usd(f.scheduled_principal))
            .set("prepayment_usd", usd(f.prepayment))
            .set("refinanced_usd", usd(f.refinanced))
            .set("rev_share_capital_usd", usd(f.rev_share_capital))
            .set("rev_share_income_usd", usd(f.rev_share_income))
            .set("kicker_usd", usd(f.kicker))
            .set("recovery_usd", usd(f.recovery))
            .set("dsra_draw_usd", usd(f.dsra_draw))
            .set("dsra_refill_usd", usd(f.dsra_refill))
            .set("dsra_release_usd", usd(f.dsra_release))
            .set("dsra_end_usd", usd(r.dsra_end))
            .set("balance_end_usd", usd(f.balance_end))
            .set("loss_usd", usd(r.loss))
            .set(
                "event",
                f.default_kind
                    .map_or(serde_json::Value::Null, |k| default_name(k).into()),
            );
    }
}

fn pool_rows(rows: &mut Rows, p: &gaib_engine::Portfolio, bc: &BaseCase, q: usize) {
    let pool = &p.pools[q];
    for r in &bc.pools[q] {
        rows.row()
            .set("month", r.month)
            .set(
                "interest_proceeds_usd",
                usd(r.collections.interest_proceeds),
            )
            .set(
                "principal_proceeds_usd",
                usd(r.collections.principal_proceeds),
            )
            .set(
                "performing_balance_usd",
                usd(r.collections.performing_balance),
            )
            .set("fees_usd", usd(r.result.fees_paid))
            .set("oc_breached", r.result.oc_breached);
        for (j, t) in r.tranches.iter().enumerate() {
            let id = &pool.tranches[j].id;
            let balance = if pool.tranches[j].equity {
                Decimal::ZERO
            } else {
                t.balance_end
            };
            rows.set(&format!("{id}_interest_usd"), usd(t.interest))
                .set(&format!("{id}_principal_usd"), usd(t.principal))
                .set(&format!("{id}_writedown_usd"), usd(t.writedown))
                .set(&format!("{id}_balance_usd"), usd(balance));
        }
    }
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
    let mut rows = Rows::default();
    match (deal_index, pool_index) {
        (Some(d), _) => deal_rows(&mut rows, p, &bc, d, false),
        (_, Some(q)) => pool_rows(&mut rows, p, &bc, q),
        _ => {
            for d in 0..p.deals.len() {
                deal_rows(&mut rows, p, &bc, d, true);
            }
        }
    }
    let batch = rows
        .finish()
        .map_err(|e| crate::errors::internal(py, e.to_string()))?;
    Ok(ArrowTable::of(batch))
}
