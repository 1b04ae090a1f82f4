//! Per-derivative statistics (MODEL.md §10.5): [`DerivativeStats`], merged exactly like the
//! instruments' ([`crate::InstrumentStats`]): fixed-point sums and integer counts, so a run's
//! derivative figures do not depend on threads, chunking or merge order.

use crate::stats::{ExactSum, Moments};
use serde::{Deserialize, Serialize};

/// One derivative over the paths. PV and settlements are fractions of `reference_usd`
/// (multiply by it for USD), to the holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivativeStats {
    /// Derivative id.
    pub id: String,
    /// Reference amount, USD: N·m·max(P_c(0), K) for index kinds, R·m for a revenue floor.
    pub reference_usd: f64,
    /// s·premium, USD: the holder's premium at t = 0 (+ paid by a long, − received by a
    /// short). Deterministic, so kept out of `pv` (0 in statistics written before it).
    #[serde(default)]
    pub signed_premium_usd: f64,
    /// Valuation spread over the discount curve, bps.
    pub discount_spread_bps: f64,
    /// The fleet it hedges, if it is a hedge (its settlements are in that fleet's NOI).
    pub hedges: Option<String>,
    /// Discounted settlements to the holder / reference, Σ_k C_k·DF(t_k) / reference, per
    /// path (the premium is not in it: E\[PV\] = mean·reference − s·premium).
    pub pv: Moments,
    /// Per month k (index k−1): Σ over paths of C_k / reference (divide by paths for the
    /// expected settlement).
    pub settlement: Vec<ExactSum>,
    /// Paths on which some month's settlement to the holder is positive (an option's exercise).
    pub paid_paths: u64,
}

impl DerivativeStats {
    /// Empty statistics of derivative `id` over `months` months.
    pub fn new(
        id: String,
        reference_usd: f64,
        signed_premium_usd: f64,
        discount_spread_bps: f64,
        hedges: Option<String>,
        months: usize,
    ) -> Self {
        DerivativeStats {
            id,
            reference_usd,
            signed_premium_usd,
            discount_spread_bps,
            hedges,
            pv: Moments::default(),
            settlement: vec![ExactSum::default(); months],
            paid_paths: 0,
        }
    }

    /// Exact merge of `o` (the same derivative) into `self`.
    pub fn merge(&mut self, o: &DerivativeStats) {
        self.pv.merge(&o.pv);
        for (a, b) in self.settlement.iter_mut().zip(&o.settlement) {
            a.merge(b);
        }
        self.paid_paths += o.paid_paths;
    }

    /// E\[PV\] to the holder, USD: the mean discounted settlement less s·premium.
    pub fn expected_pv_usd(&self) -> f64 {
        self.pv.mean() * self.reference_usd - self.signed_premium_usd
    }

    /// Standard error of E\[PV\], USD (the premium is deterministic: it adds none).
    pub fn pv_std_error_usd(&self) -> f64 {
        self.pv.std_error() * self.reference_usd
    }

    /// Expected settlement to the holder per month k (index k−1), USD.
    pub fn expected_settlement_usd(&self) -> Vec<f64> {
        let n = self.pv.n;
        self.settlement
            .iter()
            .map(|s| {
                if n == 0 {
                    0.0
                } else {
                    s.value() / n as f64 * self.reference_usd
                }
            })
            .collect()
    }

    /// Probability that some month's settlement to the holder is positive.
    pub fn paid_probability(&self) -> f64 {
        if self.pv.n == 0 {
            0.0
        } else {
            self.paid_paths as f64 / self.pv.n as f64
        }
    }
}
