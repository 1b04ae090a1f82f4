//! Test portfolios built from TOML text.
#![allow(dead_code, unreachable_pub, missing_docs)]

use gaib_engine::{load_portfolio, Portfolio};

/// Knobs of the test portfolio.
#[derive(Clone, Copy)]
pub struct Knobs {
    pub sigma: f64,
    pub kappa: f64,
    pub jump_intensity: f64,
    pub hazard: f64,
    pub rho: f64,
    pub util_sigma: f64,
    pub redemption: f64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            sigma: 0.35,
            kappa: 1.5,
            jump_intensity: 0.5,
            hazard: 0.05,
            rho: 0.3,
            util_sigma: 0.6,
            redemption: 0.05,
        }
    }
}

impl Knobs {
    /// Every stochastic term off.
    pub fn deterministic() -> Self {
        Knobs {
            sigma: 0.0,
            jump_intensity: 0.0,
            hazard: 0.0,
            util_sigma: 0.0,
            ..Knobs::default()
        }
    }
}

pub fn toml(k: Knobs) -> String {
    format!(
        r#"
[portfolio]
id = "test"
as_of = "2026-01-01"

[market]
discount_curve = [{{ tenor_years = 1.0, rate = 0.04 }}, {{ tenor_years = 5.0, rate = 0.045 }}]
asset_correlation = {rho}
correlation = [[1.0, 0.6], [0.6, 1.0]]

[[gpu_classes]]
id = "H100"
price0_per_gpu_hour = 2.2
drift = -0.15
kappa = {kappa}
sigma = {sigma}
jump_intensity = {ji}
jump_mean = -0.1
jump_std = 0.1
useful_life_years = 6.0
residual_floor = 0.1
shocks = [{{ month = 18, log_size = -0.1 }}]

[[gpu_classes]]
id = "A100"
price0_per_gpu_hour = 1.1
drift = -0.2
kappa = {kappa}
sigma = {sigma}
useful_life_years = 5.0
residual_floor = 0.05

[[operators]]
id = "op-a"
hazard = {h}

[[operators]]
id = "op-b"
hazard = {h}

[[fleets]]
id = "f1"
operator_id = "op-a"
class_id = "H100"
gpus = 512
utilization0 = 0.8
utilization_mean = 0.75
utilization_kappa = 2.0
utilization_sigma = {us}
utilization_price_loading = 0.5
contracted_share = 0.5
contract_rate_per_gpu_hour = 2.0
contract_end_month = 24
opex_fixed_per_gpu_hour = 0.35
opex_variable_per_gpu_hour = 0.10
purchase_price_per_gpu = 30000
age0_months = 3
liquidation_haircut = 0.3
liquidation_cost = 50000

[[fleets]]
id = "f2"
operator_id = "op-b"
class_id = "A100"
gpus = 256
utilization0 = 0.7
utilization_mean = 0.7
utilization_kappa = 1.0
utilization_sigma = {us}
opex_fixed_per_gpu_hour = 0.2
opex_variable_per_gpu_hour = 0.05
purchase_price_per_gpu = 12000
liquidation_haircut = 0.4

[[deals]]
id = "L1"
kind = "loan"
fleet_id = "f1"
principal = 8000000
rate = 0.11
term_months = 36
amortization = "annuity"
dsra_months = 3
cash_sweep = 0.25
recovery_lag_months = 6
discount_spread_bps = 300

[[deals]]
id = "R1"
kind = "revenue_share"
fleet_id = "f2"
advance = 1500000
share = 0.2
cap_multiple = 1.5
term_months = 36
lien = "junior"

[[deals]]
id = "H1"
kind = "hybrid"
fleet_id = "f2"
principal = 1000000
floating = {{ spread_bps = 600 }}
term_months = 24
amortization = "linear"
kicker_share = 0.02
lien = "senior"

[[deals]]
id = "D1"
kind = "loan"
fleet_id = "f1"
principal = 500000
rate = 0.09
term_months = 12
amortization = "bullet"
lien = "junior"

[[pools]]
id = "P1"
deal_ids = ["L1", "R1", "H1"]
senior_fee_bps = 50
oc_trigger = 1.15

[[pools.tranches]]
id = "A"
balance = 7000000
coupon = 0.065
discount_spread_bps = 150

[[pools.tranches]]
id = "B"
balance = 2000000
coupon = 0.10
discount_spread_bps = 400

[[pools.tranches]]
id = "E"
balance = 1500000
equity = true
discount_spread_bps = 1200

[vault]
id = "sAID"
shares = 5000000
liquidity_buffer = 1500000
tbill_rate = 0.043
deal_ids = ["D1"]
holdings = [{{ pool_id = "P1", tranche_id = "A", fraction = 0.5 }}]
management_fee_bps = 50
performance_fee = 0.1
redemption_requests = {red}
horizon_days = 90
"#,
        rho = k.rho,
        kappa = k.kappa,
        sigma = k.sigma,
        ji = k.jump_intensity,
        h = k.hazard,
        us = k.util_sigma,
        red = k.redemption,
    )
}

pub fn portfolio(k: Knobs) -> Portfolio {
    load(&toml(k))
}

pub fn load(text: &str) -> Portfolio {
    match load_portfolio(text, "test.toml", |_| Err("no tape".into())) {
        Ok(l) => l.portfolio,
        Err(e) => panic!("{e}"),
    }
}
