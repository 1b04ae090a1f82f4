//! The structure section of `report.html` (present when the run has a saved structure,
//! `gaib structure --save`) and the body of `gaib structure --report`'s page: the sized
//! tranches with PD/EL/price ± se and each attachment's 95 % interval, the subordination
//! chart (each targeted tranche's attachment sized to its target, with its interval, against
//! the portfolio's original structure), the achieved-vs-target chart, and the break-evens.

use super::charts::{esc, hbars};
use super::{num, opt};
use crate::{BreakEvens, Structure, StructureFile, TargetMetric};
use std::fmt::Write;

/// z of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The section of `report.html` for a saved structure ("" without one).
pub(crate) fn section(doc: Option<&StructureFile>) -> String {
    let Some(doc) = doc else {
        return String::new();
    };
    let mut s = String::from("<h2 id=\"structure\">Structure</h2>");
    let _ = write!(
        s,
        "<p class=\"note\">Saved with <code>gaib structure --save</code> on this run's paths \
         {}..{} (seed {}); <code>gaib reproduce</code> re-computes it into structure.json. \
         Each trial re-runs only the pool waterfall on the stored collections (common random \
         numbers).</p>",
        doc.run.path_start,
        doc.run.path_start + doc.run.paths,
        doc.run.seed
    );
    s + &body(doc.structure.as_ref(), doc.break_evens.as_ref())
}

fn metric_name(m: TargetMetric) -> &'static str {
    match m {
        TargetMetric::Pd => "PD",
        TargetMetric::El => "EL",
    }
}

/// The tables and charts of a structure and/or break-evens.
pub(crate) fn body(s: Option<&Structure>, b: Option<&BreakEvens>) -> String {
    let mut h = String::new();
    if let Some(s) = s {
        h += &sized_table(s);
        h += &charts(s);
    }
    if let Some(b) = b {
        h += &break_even_table(b);
    }
    h
}

fn sized_table(s: &Structure) -> String {
    let mut h = format!(
        "<p>Pool <b>{}</b> · total {} USD · seed {} · paths {}..{}.</p><table id=\"structure-tranches\">\
         <tr><th>tranche</th><th>target</th><th>met</th><th>balance USD</th><th>was USD</th>\
         <th>attach %</th><th>attach 95% CI</th><th>detach %</th><th>PD % (± se)</th>\
         <th>EL % (± se)</th><th>price % (± se)</th><th>yield %</th></tr>",
        esc(&s.pool),
        num(s.total_balance_usd, 0),
        s.seed,
        s.path_start,
        s.path_start + s.paths
    );
    for x in &s.tranches {
        let target = x.target.as_ref().map_or_else(String::new, |t| {
            format!("{} ≤ {} %", metric_name(t.metric), t.max_pct)
        });
        let ci = x.attachment_ci95_pct.map_or_else(String::new, |[lo, hi]| {
            format!("{} – {}", num(lo, 3), num(hi, 3))
        });
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{} ± {}</td><td>{} ± {}</td><td>{} ± {}</td><td>{}</td></tr>",
            esc(&x.tranche),
            esc(&target),
            x.meets_target.map_or("", |m| if m { "yes" } else { "NO" }),
            num(x.balance_usd, 0),
            num(x.original_balance_usd, 0),
            num(x.attachment_pct, 3),
            ci,
            num(x.detachment_pct, 3),
            num(x.pd_pct, 3),
            num(x.pd_se_pct, 3),
            num(x.el_pct, 4),
            num(x.el_se_pct, 4),
            num(x.price_pct, 3),
            num(x.price_se_pct, 3),
            opt(x.yield_pct, 3)
        );
    }
    h + "</table>"
}

/// The subordination chart and the achieved-vs-target chart ("" without a target).
fn charts(s: &Structure) -> String {
    let mut sub = Vec::new();
    let mut met = Vec::new();
    let mut original_below = s.total_balance_usd;
    for x in &s.tranches {
        original_below -= x.original_balance_usd;
        let Some(t) = &x.target else { continue };
        let err = x
            .attachment_ci95_pct
            .map_or(0.0, |[lo, hi]| (hi - lo) / (2.0 * Z95));
        sub.push((format!("{} sized", x.tranche), x.attachment_pct, err));
        let orig = 100.0 * original_below / s.total_balance_usd;
        sub.push((format!("{} original", x.tranche), orig, 0.0));
        let (v, se) = match t.metric {
            TargetMetric::Pd => (x.pd_pct, x.pd_se_pct),
            TargetMetric::El => (x.el_pct, x.el_se_pct),
        };
        let m = metric_name(t.metric);
        met.push((format!("{} {m} achieved", x.tranche), v, se));
        met.push((format!("{} {m} target", x.tranche), t.max_pct, 0.0));
    }
    if sub.is_empty() {
        return String::new();
    }
    format!(
        "<figure id=\"fig-subordination\">{}<figcaption>Subordination below each targeted \
         tranche: sized to its target (whisker: the 95 % interval of the attachment, drawn \
         symmetric) against the portfolio's original structure.</figcaption></figure>\
         <figure id=\"fig-structure-target\">{}<figcaption>Each targeted tranche's PD or EL \
         in the sized structure (whisker: 95 % Monte Carlo interval) against its target; \
         the achieved value should not exceed the target.</figcaption></figure>",
        hbars(
            "svg-subordination",
            "Subordination: sized to target vs original",
            "attachment (% of the pool)",
            &sub
        ),
        hbars(
            "svg-structure-target",
            "Achieved PD / EL vs target",
            "% (PD: probability; EL: % of the tranche's balance)",
            &met
        )
    )
}

fn break_even_table(b: &BreakEvens) -> String {
    let o =
        |x: Option<f64>, u: &str| x.map_or_else(|| "none".into(), |v| format!("{}{u}", num(v, 2)));
    let mut h = String::new();
    let _ = write!(
        h,
        "<h3 id=\"break-evens\">Break-even stresses of {}</h3><p class=\"note\">Price shocks \
         multiply every GPU class's price level from month 1; the base-case column is the \
         expected path, the EL columns use {} of the run's paths; none = not within −99.9 % \
         / 1000×.</p><table><tr><th>instrument</th><th>price shock: base-case \
         loss/default</th><th>price shock: EL &gt; {l} %</th><th>hazard ×: EL &gt; {l} \
         %</th></tr>",
        esc(&b.pool),
        b.paths,
        l = b.el_level_pct
    );
    for x in &b.tranches {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&x.tranche),
            o(x.price_shock_first_loss_pct, " %"),
            o(x.price_shock_el_pct, " %"),
            o(x.hazard_multiplier_el, "×")
        );
    }
    for x in &b.deals {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td></td><td></td></tr>",
            esc(&x.deal),
            o(x.price_shock_default_pct, " %")
        );
    }
    h + "</table>"
}
