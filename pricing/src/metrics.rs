//! A valuation flattened into named scalar metrics, and the change of each metric between two
//! valuations (stress scenarios, sensitivities).
//!
//! With common random numbers (same seed and paths for both runs) the change of a metric is
//! far less noisy than either value; its own standard error would need per-path pairs, which
//! the mergeable statistics do not keep, so only each value's standard error is reported.

use crate::valuation::Valuation;
use serde::{Deserialize, Serialize};

/// One scalar result of a valuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Stable key, e.g. `GPU-ABS-1/A price` or `portfolio VaR 99%`.
    pub key: String,
    /// Unit: `% par`, `%`, `% shares`, `USD`.
    pub unit: String,
    /// The value.
    pub value: f64,
    /// Standard error, where the value is a Monte Carlo mean.
    pub std_error: Option<f64>,
}

/// A metric in a base run and in a changed run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricChange {
    /// Metric key.
    pub key: String,
    /// Unit of `base`, `value` and `change`.
    pub unit: String,
    /// Value in the base run.
    pub base: f64,
    /// Value in the changed run.
    pub value: f64,
    /// value − base.
    pub change: f64,
}

fn push(out: &mut Vec<Metric>, key: String, unit: &str, value: f64, se: Option<f64>) {
    out.push(Metric {
        key,
        unit: unit.to_string(),
        value,
        std_error: se,
    });
}

/// The metrics of a valuation, in a fixed order: tranches (price, EL, PD, yield), the portfolio
/// (EL, VaR/ES), the vault (NAV, haircut, LTV, largest queue, queue probabilities), then deals
/// (price, EL).
pub fn metrics(v: &Valuation) -> Vec<Metric> {
    let mut out = Vec::new();
    for t in &v.tranches {
        push(
            &mut out,
            format!("{} price", t.id),
            "% par",
            t.price_pct.value,
            Some(t.price_pct.std_error),
        );
        push(
            &mut out,
            format!("{} EL", t.id),
            "%",
            t.expected_loss_pct.value,
            Some(t.expected_loss_pct.std_error),
        );
        push(
            &mut out,
            format!("{} PD", t.id),
            "%",
            t.pd_pct.value,
            Some(t.pd_pct.std_error),
        );
        push(
            &mut out,
            format!("{} PD 1y", t.id),
            "%",
            t.pd_1y_pct.value,
            Some(t.pd_1y_pct.std_error),
        );
        push(
            &mut out,
            format!("{} EL 1y", t.id),
            "%",
            t.expected_loss_1y_pct.value,
            Some(t.expected_loss_1y_pct.std_error),
        );
        if let Some(y) = t.yield_pct {
            push(&mut out, format!("{} yield", t.id), "%", y, None);
        }
    }
    let p = &v.portfolio;
    push(
        &mut out,
        "portfolio EL".into(),
        "%",
        p.expected_loss_pct.value,
        Some(p.expected_loss_pct.std_error),
    );
    for t in &p.tail {
        let c = 100.0 * t.confidence;
        push(
            &mut out,
            format!("portfolio VaR {c}%"),
            "%",
            t.var_pct,
            None,
        );
        push(&mut out, format!("portfolio ES {c}%"), "%", t.es_pct, None);
    }
    if let Some(vr) = &v.vault {
        push(
            &mut out,
            format!("{} NAV/share", vr.id),
            "USD",
            vr.nav_per_share_usd.value,
            Some(vr.nav_per_share_usd.std_error),
        );
        push(
            &mut out,
            format!("{} lending horizon", vr.id),
            "days",
            f64::from(vr.lending_horizon.days),
            None,
        );
        push(
            &mut out,
            format!("{} haircut", vr.id),
            "%",
            vr.haircut_pct,
            None,
        );
        push(
            &mut out,
            format!("{} recommended LTV", vr.id),
            "%",
            vr.recommended_ltv_pct,
            None,
        );
        push(
            &mut out,
            format!("{} max queue", vr.id),
            "% shares",
            vr.max_queue_pct.value,
            Some(vr.max_queue_pct.std_error),
        );
        for (i, e) in vr.p_queue_not_cleared_pct.iter().enumerate() {
            push(
                &mut out,
                format!(
                    "{} P[queue > {} cycle{}]",
                    vr.id,
                    i + 1,
                    if i == 0 { "" } else { "s" }
                ),
                "%",
                e.value,
                Some(e.std_error),
            );
        }
    }
    for d in &v.deals {
        push(
            &mut out,
            format!("{} price", d.id),
            "% par",
            d.price_pct.value,
            Some(d.price_pct.std_error),
        );
        push(
            &mut out,
            format!("{} EL", d.id),
            "%",
            d.expected_loss_pct.value,
            Some(d.expected_loss_pct.std_error),
        );
    }
    out
}

/// The change of every metric of `base` in `other` (metrics missing from `other` are skipped).
pub fn compare(base: &Valuation, other: &Valuation) -> Vec<MetricChange> {
    let theirs = metrics(other);
    metrics(base)
        .into_iter()
        .filter_map(|m| {
            let o = theirs.iter().find(|o| o.key == m.key)?;
            Some(MetricChange {
                change: o.value - m.value,
                key: m.key,
                unit: m.unit,
                base: m.value,
                value: o.value,
            })
        })
        .collect()
}

/// Whether a rise of the metric `key` (one of [`metrics`]' keys) is adverse to the holder of
/// the instrument or to a lender against sAID: `Some(true)` for losses, default
/// probabilities, VaR/ES, haircuts, queues and the lending horizon; `Some(false)` for prices,
/// NAV and the recommended LTV; `None` where a change is neither good nor bad in itself
/// (yields: a higher yield at a lower price). Reports colour changes by it, not by sign.
pub fn higher_is_adverse(key: &str) -> Option<bool> {
    const WORSE_WHEN_HIGHER: [&str; 9] = [
        " EL",
        " EL 1y",
        " PD",
        " PD 1y",
        " haircut",
        " max queue",
        " lending horizon",
        " cycle]",
        " cycles]",
    ];
    const WORSE_WHEN_LOWER: [&str; 3] = [" price", " NAV/share", " recommended LTV"];
    if key.starts_with("portfolio VaR") || key.starts_with("portfolio ES") {
        return Some(true);
    }
    if WORSE_WHEN_HIGHER.iter().any(|s| key.ends_with(s)) {
        return Some(true);
    }
    if WORSE_WHEN_LOWER.iter().any(|s| key.ends_with(s)) {
        return Some(false);
    }
    None
}

#[cfg(test)]
mod direction_tests {
    use super::higher_is_adverse;

    #[test]
    fn every_kind_of_metric_has_the_holders_direction() {
        for k in [
            "GPU-ABS-1/A EL",
            "L-01 EL",
            "GPU-ABS-1/B PD 1y",
            "portfolio EL",
            "portfolio VaR 99%",
            "portfolio ES 95%",
            "sAID haircut",
            "sAID lending horizon",
            "sAID max queue",
            "sAID P[queue > 1 cycle]",
            "sAID P[queue > 3 cycles]",
        ] {
            assert_eq!(higher_is_adverse(k), Some(true), "{k}");
        }
        for k in [
            "GPU-ABS-1/A price",
            "sAID NAV/share",
            "sAID recommended LTV",
        ] {
            assert_eq!(higher_is_adverse(k), Some(false), "{k}");
        }
        assert_eq!(higher_is_adverse("GPU-ABS-1/A yield"), None);
    }
}
