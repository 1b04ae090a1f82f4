//! The typed, versioned results a run writes: `results.json` ([`Results`]),
//! `sensitivities.json` (a list of [`gaib_pricing::Sensitivity`]) and `stress.json`
//! ([`StressResults`]). Every type here deserialises, so fronts and `gaib reproduce` read them
//! typed; `schema_version` is [`crate::SCHEMA_VERSION`].

use gaib_engine::{CashflowPlan, Decimal, Portfolio, Validated, VaultParams};
use gaib_pricing::{ImpliedSpread, Metric, MetricChange, Valuation};
use gaib_simulator::{InstrumentStats, PathStats, MODEL_VERSION};
use serde::{Deserialize, Serialize};

use crate::derivatives::{DerivativeResult, HedgeComparison};

/// Summary of one instrument in `results.json`. Fractions of notional (0.97 = 97 % of par);
/// `_se` = the Monte Carlo standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentSummary {
    /// Instrument id (`POOL/TRANCHE` for a tranche, the deal id for a deal).
    pub id: String,
    /// Original balance, USD.
    pub notional_usd: f64,
    /// E\[PV\] / notional.
    pub price: f64,
    /// Standard error of `price`.
    pub price_se: f64,
    /// Expected loss / notional.
    pub expected_loss: f64,
    /// Standard error of `expected_loss`.
    pub expected_loss_se: f64,
    /// PD: probability of a default event by the horizon (fraction).
    pub pd: f64,
    /// 1-year PD: a first default event in months 1–12 (fraction).
    pub pd_1y: f64,
    /// 1-year EL / notional: the loss of the paths defaulting in months 1–12.
    pub expected_loss_1y: f64,
    /// Probability of a loss, P\[loss > 0\] (fraction).
    pub loss_probability: f64,
    /// 99 % quantile of the loss / notional.
    pub loss_q99: f64,
}

impl InstrumentSummary {
    fn of(s: &InstrumentStats) -> Self {
        Self {
            id: s.id.clone(),
            notional_usd: s.notional_usd,
            price: s.pv.mean(),
            price_se: s.pv.std_error(),
            expected_loss: s.loss.mean(),
            expected_loss_se: s.loss.std_error(),
            pd: s.pd(),
            pd_1y: s.pd_1y(),
            expected_loss_1y: s.loss_1y.mean(),
            loss_probability: s.loss_probability(),
            loss_q99: s.loss_hist.quantile(0.99),
        }
    }
}

/// `results.json`: a readable summary, the valuation, and the full mergeable statistics of the
/// base portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`crate::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The portfolio's id.
    pub portfolio_id: String,
    /// Model version (docs/MODEL.md).
    pub model_version: String,
    /// The seed.
    pub seed: u64,
    /// First path index.
    pub path_start: u64,
    /// Number of paths.
    pub paths: u64,
    /// Every tranche, pool by pool in waterfall order.
    pub tranches: Vec<InstrumentSummary>,
    /// Every deal, in portfolio order.
    pub deals: Vec<InstrumentSummary>,
    /// Mean portfolio loss (Σ deal losses / Σ funded).
    pub portfolio_loss_mean: f64,
    /// 99 % quantile of the portfolio loss (fraction).
    pub portfolio_loss_q99: f64,
    /// The pricing of the run (gaib-pricing `Valuation`).
    pub valuation: Valuation,
    /// The discount spread each given market price implies (`gaib run --price ID=PCT`), in
    /// the order given; empty when none was given.
    #[serde(default)]
    pub implied_spreads: Vec<ImpliedSpread>,
    /// The vault's book at t = 0 (shares, NAV and liquidity buffer, exact decimals), or null
    /// when the portfolio has no vault (schema version 3).
    pub vault_book: Option<VaultBook>,
    /// Every derivative of the portfolio (MODEL.md §10), in portfolio order: E\[PV\] ± se,
    /// the closed-form reference, delta and vega when the run has sensitivities; empty
    /// without derivatives (schema version 4).
    pub derivatives: Vec<DerivativeResult>,
    /// The hedged deals, every tranche and the vault with and without the hedges (same
    /// seed and paths), or null when no derivative hedges a fleet (schema version 4).
    pub hedges: Option<HedgeComparison>,
    /// The exact, mergeable statistics the valuation was computed from.
    pub stats: PathStats,
}

/// The vault's book at t = 0, exact in decimals (the engine's `Decimal` cash-flow plan): what
/// a valuation report needs besides the simulated figures, so that nothing rebuilds the plan
/// from the stored portfolio to publish a run. Serialised as decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultBook {
    /// The vault id (e.g. `sAID`).
    pub id: String,
    /// sAID shares outstanding at t = 0.
    pub shares: Decimal,
    /// NAV at t = 0, USD (= AID): liquidity buffer + funded amounts of the deals held whole +
    /// tranche holdings at their marks at issue.
    pub nav_usd: Decimal,
    /// Liquidity buffer at t = 0, USD (= AID).
    pub buffer_usd: Decimal,
}

impl VaultBook {
    /// The book of `p`'s vault, or None when it has none. `p` is validated again (the plan is
    /// built from validated portfolios only); an invalid portfolio is the engine's error.
    pub fn of(p: &Portfolio) -> crate::Result<Option<Self>> {
        let plan = CashflowPlan::<Decimal>::new(Validated::new(p, &[])?);
        Ok(VaultParams::new(p, &plan).map(|v| VaultBook {
            nav_usd: v.nav0(&plan),
            id: v.id,
            shares: v.shares0,
            buffer_usd: v.buffer0,
        }))
    }

    /// The value of the vault's off-chain holdings at t = 0, USD: NAV − liquidity buffer,
    /// floored at 0 (the report's `deployed_value`; on chain, sAID adds its idle AID to it).
    pub fn deployed_value_usd(&self) -> Decimal {
        (self.nav_usd - self.buffer_usd).max(Decimal::ZERO)
    }
}

impl Results {
    /// The results of statistics `stats` over paths `path_start ..` and their valuation.
    pub fn new(
        portfolio_id: &str,
        seed: u64,
        path_start: u64,
        stats: PathStats,
        valuation: Valuation,
    ) -> Self {
        Self {
            schema_version: crate::SCHEMA_VERSION,
            portfolio_id: portfolio_id.to_string(),
            model_version: MODEL_VERSION.to_string(),
            seed,
            path_start,
            paths: stats.paths,
            tranches: stats
                .tranches
                .iter()
                .flatten()
                .map(InstrumentSummary::of)
                .collect(),
            deals: stats.deals.iter().map(InstrumentSummary::of).collect(),
            portfolio_loss_mean: stats.portfolio.loss.mean(),
            portfolio_loss_q99: stats.portfolio.loss_hist.quantile(0.99),
            valuation,
            implied_spreads: Vec::new(),
            vault_book: None,
            derivatives: Vec::new(),
            hedges: None,
            stats,
        }
    }
}

/// One scenario of a stress run in `stress.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The stored copy of its file, relative to the run directory.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Change of every metric (scenario − base).
    pub changes: Vec<MetricChange>,
    /// Each derivative's E\[PV\] under the scenario and its change, in portfolio order
    /// (empty without derivatives; schema version 4).
    pub derivatives: Vec<DerivativeChange>,
}

/// A derivative's E\[PV\] under a stress scenario against the base run (same paths).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivativeChange {
    /// The derivative's id.
    pub id: String,
    /// E\[PV\] of the base run, USD.
    pub base_usd: f64,
    /// E\[PV\] under the scenario, USD.
    pub value_usd: f64,
    /// value − base, USD.
    pub change_usd: f64,
}

/// `stress.json`: the base metrics and each scenario's changes, all with the same seed and
/// paths (common random numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StressResults {
    /// [`crate::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The portfolio's id.
    pub portfolio_id: String,
    /// The seed of every run.
    pub seed: u64,
    /// First path index of every run.
    pub path_start: u64,
    /// Paths of every run.
    pub paths: u64,
    /// Every metric of the base run.
    pub base: Vec<Metric>,
    /// Each scenario's changes, in the order given.
    pub scenarios: Vec<ScenarioResult>,
}

/// Pretty JSON with a final newline: the bytes written to a results file (and hashed).
pub(crate) fn to_json_bytes<T: Serialize>(value: &T, what: &str) -> crate::Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(value).map_err(|e| crate::RunError::Json {
        path: what.to_string(),
        message: e.to_string(),
    })?;
    v.push(b'\n');
    Ok(v)
}
