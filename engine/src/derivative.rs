//! Compute-price derivatives and fleet hedges (MODEL.md §10): the `[[derivatives]]` schema and
//! the monthly settlement rule, generic over [`Amount`] like the rest of the cash flows.
//!
//! A [`Derivative`] is one flat record (every field of every kind optional where it does not
//! apply to all kinds); [`crate::validate`] checks which fields a kind needs and refuses the
//! others, naming them as `derivatives[i].field`. [`DerivativeParams`] is a validated
//! derivative lowered into `A` for [`crate::CashflowPlan`], which settles it every month.

use crate::amount::Amount;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a derivative is (MODEL.md §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DerivativeKind {
    /// Cash-settled forward on the average of a strip's monthly fixings, paid at `end_month`.
    Forward,
    /// Exchange-cleared future: settled exactly as a forward (margin timing not modelled).
    Future,
    /// Fixed-for-floating swap strip: N·(F_k − K) each month.
    Swap,
    /// Strip of monthly caplets: N·max(F_k − K, 0) each month.
    Cap,
    /// Strip of monthly floorlets: N·max(K − F_k, 0) each month.
    Floor,
    /// Floor on a fleet's gross revenue: max(R − Revenue_k, 0) each month.
    RevenueFloor,
}

impl DerivativeKind {
    /// Whether the kind settles on a class index (all but the revenue floor).
    pub fn is_index(self) -> bool {
        !matches!(self, DerivativeKind::RevenueFloor)
    }

    /// The kind as written in the `kind` field.
    pub fn name(self) -> &'static str {
        match self {
            DerivativeKind::Forward => "forward",
            DerivativeKind::Future => "future",
            DerivativeKind::Swap => "swap",
            DerivativeKind::Cap => "cap",
            DerivativeKind::Floor => "floor",
            DerivativeKind::RevenueFloor => "revenue_floor",
        }
    }
}

/// Side of a derivative (MODEL.md §10.3): the long receives the payoff (pays the fixed leg of a
/// swap or forward), the short pays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Receives the payoff; pays the premium.
    Long,
    /// Pays the payoff; receives the premium.
    Short,
}

impl Position {
    /// +1 for long, −1 for short.
    pub fn sign(self) -> f64 {
        match self {
            Position::Long => 1.0,
            Position::Short => -1.0,
        }
    }
}

/// How a month's index fixing is read from the monthly grid (MODEL.md §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fixing {
    /// Monthly average: ½·(P_c(t_{k−1}) + P_c(t_k)), the trapezoid rule over the month.
    Average,
    /// Month-end print P_c(t_k).
    MonthEnd,
}

/// One `[[derivatives]]` entry (MODEL.md §10.1). Fields that apply only to some kinds are
/// optional here; validation requires and refuses them per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Derivative {
    /// Identifier, unique among derivatives.
    pub id: String,
    /// Kind: forward, future, swap, cap, floor or revenue_floor.
    pub kind: DerivativeKind,
    /// Long or short.
    pub position: Position,
    /// Index kinds: the GPU class whose rental price is the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    /// Index kinds: monthly-average or month-end fixing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixing: Option<Fixing>,
    /// Index kinds: notional N, GPU-hours per month (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notional_gpu_hours_per_month: Option<Decimal>,
    /// Index kinds: strike K, USD per GPU-hour (≥ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strike_per_gpu_hour: Option<Decimal>,
    /// Revenue floor: the fleet whose gross revenue is floored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet_id: Option<String>,
    /// Revenue floor: floor R, USD per month (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_usd_per_month: Option<Decimal>,
    /// First month k (1-based, inclusive) of the strip.
    pub start_month: u32,
    /// Last month k (inclusive) of the strip; at most the horizon K.
    pub end_month: u32,
    /// Upfront premium paid by the long to the short at t = 0, USD (default 0).
    #[serde(default)]
    pub premium_usd: Decimal,
    /// Valuation spread over the discount curve, basis points (default 0).
    #[serde(default)]
    pub discount_spread_bps: f64,
    /// The fleet this derivative hedges: its settlement enters that fleet's NOI (§10.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedges: Option<String>,
    /// With `hedges`: fleet price = index × basis factor (> 0, default 1); scales the fixing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis_factor: Option<f64>,
}

impl Derivative {
    /// m: number of months of the strip, end − start + 1 (0 if end < start).
    pub fn months(&self) -> u32 {
        (self.end_month + 1).saturating_sub(self.start_month)
    }

    /// +1 for long, −1 for short.
    pub fn sign(&self) -> f64 {
        self.position.sign()
    }

    /// The basis factor b (1 unless given).
    pub fn basis(&self) -> f64 {
        self.basis_factor.unwrap_or(1.0)
    }

    /// The reference amount the statistics normalise PV and settlements by, USD (MODEL.md
    /// §10.5): N·m·max(P_c(0), K) for index kinds (`price0` = the class's
    /// `price0_per_gpu_hour`), R·m for a revenue floor — the scale of the strip's settlements,
    /// so that a path's PV over it stays far inside the statistics' ±1e5 range. Positive for a
    /// validated derivative.
    pub fn reference_usd(&self, price0: f64) -> f64 {
        let m = f64::from(self.months());
        let dec = <f64 as Amount>::from_decimal;
        if self.kind.is_index() {
            let strike = dec(self.strike_per_gpu_hour.unwrap_or_default());
            dec(self.notional_gpu_hours_per_month.unwrap_or_default()) * m * price0.max(strike)
        } else {
            dec(self.floor_usd_per_month.unwrap_or_default()) * m
        }
    }
}

impl crate::portfolio::Portfolio {
    /// Hedges that validate but deserve a second look (MODEL.md §10.4), one sentence each,
    /// naming `derivatives[i]`: an index hedge on another class than its fleet's (the fleet's
    /// revenue moves with its own class, the settlement with the index: basis risk beyond
    /// `basis_factor`), and a short revenue floor hedging its own fleet (it pays exactly when
    /// that fleet's revenue falls short, adding to the operator's risk instead of hedging it).
    pub fn derivative_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, d) in self.derivatives.iter().enumerate() {
            let Some(h) = d.hedges.as_deref() else {
                continue;
            };
            let Some(fleet) = self.fleets.iter().find(|f| f.id == h) else {
                continue;
            };
            if let Some(class) = d.class_id.as_deref().filter(|&c| c != fleet.class_id) {
                out.push(format!(
                    "derivatives[{i}] ({:?}) hedges fleet {h:?} of class {:?} with the {class:?} \
                     index: a cross-class hedge (the basis between the classes is not modelled)",
                    d.id, fleet.class_id
                ));
            }
            if d.kind == DerivativeKind::RevenueFloor && d.position == Position::Short {
                out.push(format!(
                    "derivatives[{i}] ({:?}) is a short revenue floor hedging its own fleet {h:?}: \
                     it pays when that fleet's revenue falls, adding to the operator's risk",
                    d.id
                ));
            }
        }
        out
    }
}

/// What a lowered derivative settles on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Underlying {
    /// A class index: class index in `Portfolio::gpu_classes`, and the fixing rule.
    Index {
        /// Class index.
        class: usize,
        /// Fixing rule.
        fixing: Fixing,
    },
    /// A fleet's gross revenue: fleet index in `Portfolio::fleets`.
    FleetRevenue {
        /// Fleet index.
        fleet: usize,
    },
}

/// A validated derivative's terms in `A`, as [`crate::CashflowPlan`] settles it.
#[derive(Debug, Clone)]
pub struct DerivativeParams<A> {
    /// Kind.
    pub kind: DerivativeKind,
    /// What it settles on.
    pub underlying: Underlying,
    /// s: +1 long, −1 short (applied last, to the rounded payoff).
    pub sign: A,
    /// N, GPU-hours per month (index kinds; 0 for a revenue floor).
    pub notional: A,
    /// K, USD per GPU-hour (index kinds; 0 for a revenue floor).
    pub strike: A,
    /// m·K: the fixed leg of a forward per GPU-hour of monthly notional, USD.
    pub strike_times_months: A,
    /// R, USD per month (revenue floor; 0 otherwise).
    pub floor: A,
    /// b: the basis factor (1 unless given).
    pub basis: f64,
    /// First month of the strip.
    pub start_month: u32,
    /// Last month of the strip.
    pub end_month: u32,
    /// Fleet index whose NOI receives the settlement, if it is a hedge.
    pub hedges: Option<usize>,
}

impl<A: Amount> DerivativeParams<A> {
    /// Whether month `k` lies in the strip.
    #[inline]
    pub fn active(&self, k: u32) -> bool {
        self.start_month <= k && k <= self.end_month
    }

    /// The fixing F_k of an index derivative (MODEL.md §10.2), USD per GPU-hour: from the
    /// class's price at t_{k−1} (`prev`) and t_k (`price`), times the basis factor.
    #[inline]
    pub fn fixing(&self, fixing: Fixing, prev: f64, price: f64) -> f64 {
        match fixing {
            Fixing::MonthEnd => self.basis * price,
            Fixing::Average => self.basis * (0.5 * (prev + price)),
        }
    }

    /// The month-`k` settlement to the holder, USD (MODEL.md §10.3), given the month's fixing
    /// `fix` (index kinds) or the fleet's gross revenue `revenue` (revenue floor), and for a
    /// forward the sum of the strip's fixings through month k (`fix_sum`). Zero outside the
    /// strip (and for a forward before its end month).
    pub fn settlement(&self, k: u32, fix: A, fix_sum: A, revenue: A) -> A {
        if !self.active(k) {
            return A::ZERO;
        }
        let payoff = match self.kind {
            DerivativeKind::Swap => (self.notional * (fix - self.strike)).cents(),
            DerivativeKind::Cap => (self.notional * (fix - self.strike).pos()).cents(),
            DerivativeKind::Floor => (self.notional * (self.strike - fix).pos()).cents(),
            DerivativeKind::RevenueFloor => (self.floor - revenue).pos().cents(),
            DerivativeKind::Forward | DerivativeKind::Future => {
                if k == self.end_month {
                    (self.notional * (fix_sum - self.strike_times_months)).cents()
                } else {
                    return A::ZERO;
                }
            }
        };
        self.sign * payoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params<A: Amount>(kind: DerivativeKind, sign: f64) -> DerivativeParams<A> {
        let dec = |s: &str| A::from_decimal(s.parse().unwrap());
        DerivativeParams {
            kind,
            underlying: Underlying::Index {
                class: 0,
                fixing: Fixing::Average,
            },
            sign: A::from_f64(sign),
            notional: dec("12345"),
            strike: dec("1.87"),
            strike_times_months: dec("5.61"),
            floor: dec("250000"),
            basis: 1.0,
            start_month: 2,
            end_month: 4,
            hedges: None,
        }
    }

    /// The f64 settlement (the simulator's) and the Decimal one (the base case's) agree to the
    /// cent on every kind, sign and month, and a forward pays only in its end month.
    #[test]
    fn f64_and_decimal_settlements_agree_to_the_cent() {
        let kinds = [
            DerivativeKind::Forward,
            DerivativeKind::Swap,
            DerivativeKind::Cap,
            DerivativeKind::Floor,
            DerivativeKind::RevenueFloor,
        ];
        for kind in kinds {
            for sign in [1.0, -1.0] {
                let pf = params::<f64>(kind, sign);
                let pd = params::<Decimal>(kind, sign);
                for (i, fix) in [1.2345678, 1.87, 2.0123456, 2.9].into_iter().enumerate() {
                    for k in 1..=5 {
                        let sum = fix * 3.0 + 0.01 * i as f64;
                        let rev = 240_000.0 + 5_000.3 * i as f64;
                        let f = pf.settlement(k, fix, sum, rev);
                        let d = pd.settlement(
                            k,
                            Decimal::from_f64(fix),
                            Decimal::from_f64(sum),
                            Decimal::from_f64(rev),
                        );
                        assert!(
                            (f - d.to_f64()).abs() < 1e-6,
                            "{kind:?} {sign} month {k} fix {fix}: f64 {f} vs decimal {d}"
                        );
                        if !pf.active(k) || (kind == DerivativeKind::Forward && k != 4) {
                            assert_eq!(f, 0.0, "{kind:?} month {k}");
                        }
                    }
                }
            }
        }
        // Signs: a long cap in the money receives, the short pays the same.
        let long = params::<f64>(DerivativeKind::Cap, 1.0).settlement(3, 2.0, 0.0, 0.0);
        let short = params::<f64>(DerivativeKind::Cap, -1.0).settlement(3, 2.0, 0.0, 0.0);
        assert_eq!(long, ((12345.0 * (2.0 - 1.87)) * 100.0_f64).round() / 100.0);
        assert_eq!(short, -long);
    }
}
