//! The derivatives section of `report.html` (present only when the portfolio has
//! `[[derivatives]]`, MODEL.md §10): each derivative's E\[PV\] ± se against its closed form,
//! and — when some derivative hedges a fleet — the hedged deals, every tranche, the
//! portfolio EL and the vault's haircut and LTV with and without the hedges on the same
//! paths, with a chart of the hedged deals' PDs side by side.

use super::charts::{esc, hbars};
use super::{html_table, num, opt, signed};
use crate::derivatives::{DerivativeResult, HedgeComparison, WithWithout};
use std::fmt::Write;

/// The section ("" without derivatives).
pub(crate) fn section(
    derivatives: &[DerivativeResult],
    hedges: Option<&HedgeComparison>,
) -> String {
    if derivatives.is_empty() {
        return String::new();
    }
    let mut s = String::from("<h2 id=\"derivatives\">Derivatives</h2>");
    s += "<p class=\"note\">Compute-price derivatives settled monthly in cash on the simulated \
          prices (MODEL.md §10), valued to their holder: E[PV] net of the premium, USD, with its \
          standard error. The closed form (swaps and forwards from E[P(t)]; month-end caps and \
          floors without jumps by Black's formula on the OU variance) is the check: z = (E[PV] − \
          closed form) / se within ±4. Delta and vega are the changes per +1 % of the index level \
          and of the price volatility under the sensitivity bumps (a run with sensitivities).</p>";
    let header: Vec<String> = [
        "derivative",
        "kind",
        "underlying",
        "hedges",
        "months",
        "E[PV] USD (± se)",
        "closed form USD",
        "z",
        "fair fixed USD/GPU-h",
        "P[receives] %",
        "delta USD/1 %",
        "vega USD/1 %",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = derivatives
        .iter()
        .map(|d| {
            vec![
                format!(
                    "{} ({})",
                    d.id,
                    match d.position {
                        gaib_engine::Position::Long => "long",
                        gaib_engine::Position::Short => "short",
                    }
                ),
                d.kind.name().to_string(),
                d.underlying.clone(),
                d.hedges.clone().unwrap_or_else(|| "–".into()),
                format!("{}–{}", d.start_month, d.end_month),
                format!(
                    "{} ± {}",
                    num(d.pv_usd.value, 0),
                    num(d.pv_usd.std_error, 0)
                ),
                match (&d.closed_form_pv_usd, &d.closed_form_note) {
                    (Some(v), _) => num(*v, 0),
                    (None, Some(why)) => format!("none ({why})"),
                    (None, None) => "–".into(),
                },
                opt(d.closed_form_z, 2),
                opt(d.fair_strike_per_gpu_hour, 4),
                num(d.p_receives_pct, 1),
                opt(d.delta_usd_per_index_pct, 0),
                opt(d.vega_usd_per_sigma_pct, 0),
            ]
        })
        .collect();
    s += &html_table(&header, &rows);
    if let Some(h) = hedges {
        s += &hedges_part(h);
    }
    s
}

/// `hedged ± se`, `unhedged ± se` and the change, with `d` decimals.
fn cells(w: &WithWithout, d: usize) -> [String; 3] {
    [
        format!(
            "{} ± {}",
            num(w.hedged.value, d),
            num(w.hedged.std_error, d)
        ),
        format!(
            "{} ± {}",
            num(w.unhedged.value, d),
            num(w.unhedged.std_error, d)
        ),
        signed(w.hedged.value - w.unhedged.value, d),
    ]
}

fn hedges_part(h: &HedgeComparison) -> String {
    let mut s = String::from("<h3 id=\"hedges\">With and without hedges</h3>");
    s += "<p class=\"note\">The same portfolio with every <code>hedges</code> removed, simulated \
          on the same seed and paths (common random numbers): a change is the hedges' effect, \
          not noise in the paths. A hedge's settlement enters its fleet's NOI before debt \
          service. Its premium (column <i>premium USD</i>: + paid by the holder, − received) \
          is paid at t = 0 outside the fleet's cash, so the hedged PD and EL do not include \
          it.</p>";
    let header: Vec<String> = [
        "deal",
        "hedged by",
        "premium USD",
        "PD % hedged",
        "PD % unhedged",
        "Δ PD",
        "EL % hedged",
        "EL % unhedged",
        "Δ EL",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = h
        .deals
        .iter()
        .map(|d| {
            let premium = d
                .hedged_by
                .iter()
                .zip(&d.hedge_premium_usd)
                .map(|(id, p)| format!("{id}: {}", signed(*p, 2)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut r = vec![d.id.clone(), d.hedged_by.join(", "), premium];
            r.extend(cells(&d.pd_pct, 2));
            r.extend(cells(&d.expected_loss_pct, 3));
            r
        })
        .collect();
    s += &html_table(&header, &rows);
    let mut bars = Vec::new();
    for d in &h.deals {
        bars.push((
            format!("{} hedged", d.id),
            d.pd_pct.hedged.value,
            d.pd_pct.hedged.std_error,
        ));
        bars.push((
            format!("{} unhedged", d.id),
            d.pd_pct.unhedged.value,
            d.pd_pct.unhedged.std_error,
        ));
    }
    if !bars.is_empty() {
        s += &format!(
            "<figure id=\"hedge-pd\">{}<figcaption>{}</figcaption></figure>",
            hbars(
                "hedge-pd-chart",
                "PD of the hedged deals, with and without hedges",
                "PD %",
                &bars
            ),
            esc("Each hedged deal's PD with its hedges and without them, same paths; whiskers ±1.96 se.")
        );
    }
    let header: Vec<String> = [
        "tranche",
        "EL % hedged",
        "EL % unhedged",
        "Δ EL",
        "PD % hedged",
        "PD % unhedged",
        "Δ PD",
    ]
    .map(String::from)
    .to_vec();
    let mut rows: Vec<Vec<String>> = h
        .tranches
        .iter()
        .map(|t| {
            let mut r = vec![t.id.clone()];
            r.extend(cells(&t.expected_loss_pct, 3));
            r.extend(cells(&t.pd_pct, 2));
            r
        })
        .collect();
    let mut portfolio = vec!["portfolio (EL % of funded)".to_string()];
    portfolio.extend(cells(&h.portfolio_expected_loss_pct, 3));
    portfolio.extend(["–".to_string(), "–".to_string(), "–".to_string()]);
    rows.push(portfolio);
    s += &html_table(&header, &rows);
    if let Some(v) = &h.vault {
        let _ = write!(
            s,
            "<p>Vault <b>{}</b>: haircut {} % with hedges, {} % without ({}); recommended LTV \
             {} % with hedges, {} % without ({}).</p>",
            esc(&v.id),
            num(v.haircut_pct, 3),
            num(v.haircut_unhedged_pct, 3),
            signed(v.haircut_pct - v.haircut_unhedged_pct, 3),
            num(v.recommended_ltv_pct, 2),
            num(v.recommended_ltv_unhedged_pct, 2),
            signed(v.recommended_ltv_pct - v.recommended_ltv_unhedged_pct, 2),
        );
    }
    s
}
