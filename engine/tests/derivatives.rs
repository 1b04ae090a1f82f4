//! MODEL.md §10: compute-price derivatives and fleet hedges in the engine — parsing and
//! validation of `[[derivatives]]`, the monthly settlement of every kind on a deterministic
//! path worked out by hand, and a hedge's settlement in its fleet's NOI before debt service.

use gaib_engine::{
    base_case, load_portfolio, mean_path, CashflowPlan, Decimal, EngineError, MarketMonth,
    MonthOutput, Portfolio, Validated,
};
use std::str::FromStr;

/// The noise-free fleet of engine/tests/model_rules.rs (100 GPUs contracted at 1 USD per
/// GPU-hour to month 24: revenue = NOI = 73,000 USD a month) with a falling H100 price:
/// drift −0.12 per year and no noise, so P(t_k) = 2·e^{−0.01·k} USD per GPU-hour.
fn portfolio(rest: &str) -> Portfolio {
    let fleet = include_str!("../../tests/fixtures/noise_free.toml")
        .replace("drift = 0.0", "drift = -0.12");
    let text = format!("{fleet}\n{rest}");
    load_portfolio(&text, "derivatives.toml", |_| Err("no tape".into()))
        .unwrap_or_else(|e| panic!("{e}"))
        .portfolio
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn price(k: u32) -> f64 {
    2.0 * (-0.01 * f64::from(k)).exp()
}

/// Cents of an f64 amount, as the engine rounds a settlement (half to even is never hit here).
fn cents(x: f64) -> Decimal {
    Decimal::from_str(&format!("{:.2}", x)).unwrap()
}

/// Every month's output of the Decimal machine on the deterministic path, no credit default.
fn run(p: &Portfolio) -> Vec<MonthOutput<Decimal>> {
    let plan = CashflowPlan::<Decimal>::new(Validated::new(p, &[]).unwrap());
    let path = mean_path(p);
    let mut s = plan.initial_state();
    let mut out = plan.new_output();
    let mut months = Vec::new();
    for k in 1..=plan.horizon_months {
        let i = (k - 1) as usize;
        let m = MarketMonth {
            price: &path.price[i],
            price_over_trend: &path.price_over_trend[i],
            utilization: &path.utilization[i],
            credit_default: &[false],
        };
        plan.step(k, &m, &mut s, &mut out);
        months.push(out.clone());
    }
    months
}

const EVERY_KIND: &str = r#"
[[derivatives]]
id = "swap"
kind = "swap"
position = "long"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 1.95
start_month = 1
end_month = 3

[[derivatives]]
id = "cap"
kind = "cap"
position = "short"
class_id = "H100"
fixing = "month_end"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 1.97
start_month = 1
end_month = 4
premium_usd = 50

[[derivatives]]
id = "floor"
kind = "floor"
position = "long"
class_id = "H100"
fixing = "month_end"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 1.97
start_month = 2
end_month = 4

[[derivatives]]
id = "fwd"
kind = "forward"
position = "long"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 1.9
start_month = 2
end_month = 4

[[derivatives]]
id = "fut"
kind = "future"
position = "short"
class_id = "H100"
fixing = "month_end"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 1.9
start_month = 5
end_month = 5

[[derivatives]]
id = "rf"
kind = "revenue_floor"
position = "long"
fleet_id = "fl"
floor_usd_per_month = 80000
start_month = 24
end_month = 25
"#;

#[test]
fn every_kind_settles_by_its_rule_on_a_known_path() {
    let p = portfolio(EVERY_KIND);
    let months = run(&p);
    let s = |k: u32, i: usize| months[(k - 1) as usize].derivatives[i];
    let avg = |k: u32| 0.5 * (price(k - 1) + price(k));
    // Swap, long, average fixing: 1000·(½(P_{k−1} + P_k) − 1.95) for k = 1..3, then nothing.
    for k in 1..=3 {
        assert_eq!(s(k, 0), cents(1000.0 * (avg(k) - 1.95)), "swap month {k}");
    }
    assert_eq!(s(4, 0), Decimal::ZERO);
    // Cap, short, month end, K = 1.97: P_1 = 1.9801 (in the money: −1000·0.0101), P_2 = 1.9604
    // and later are out of the money (0).
    assert_eq!(s(1, 1), -cents(1000.0 * (price(1) - 1.97)));
    assert!(s(1, 1) < Decimal::ZERO);
    for k in 2..=4 {
        assert_eq!(s(k, 1), Decimal::ZERO, "cap month {k}");
    }
    // Floor, long, months 2..4: 1000·(1.97 − P_k), zero in month 1 (outside the strip).
    assert_eq!(s(1, 2), Decimal::ZERO);
    for k in 2..=4 {
        assert_eq!(
            s(k, 2),
            cents(1000.0 * (1.97 - price(k))),
            "floor month {k}"
        );
    }
    // Forward, long, months 2..4 averaged: one settlement at month 4 of
    // 1000·(Σ_{k=2..4} F_k − 3·1.9).
    for k in [1, 2, 3, 5] {
        assert_eq!(s(k, 3), Decimal::ZERO, "forward month {k}");
    }
    let sum: f64 = (2..=4).map(avg).sum();
    let fwd = s(4, 3);
    assert!(
        (fwd - cents(1000.0 * (sum - 3.0 * 1.9))).abs() <= d("0.01"),
        "{fwd}"
    );
    // Future, short, one month (month 5, month end): −1000·(P_5 − 1.9).
    assert_eq!(s(5, 4), -cents(1000.0 * (price(5) - 1.9)));
    // Revenue floor: revenue is 73,000 while contracted (month 24), then 100·730·u·P_k with
    // u = ½ (month 25): max(80,000 − revenue, 0).
    let rev25 = months[24].fleets[0].revenue;
    assert_eq!(s(24, 5), d("7000.00"));
    assert_eq!(s(25, 5), (d("80000") - rev25).max(Decimal::ZERO));
    assert!(s(25, 5) > d("7000"));
    // None of them hedges: NOI is revenue − opex, as in version 3.
    for m in &months {
        assert_eq!(m.fleets[0].hedge, Decimal::ZERO);
        assert_eq!(m.fleets[0].noi, m.fleets[0].revenue - m.fleets[0].opex);
    }
    // The base case reports the same settlements.
    let bc = base_case(&p).unwrap();
    for (i, rows) in bc.derivatives.iter().enumerate() {
        for (k, c) in rows.iter().enumerate() {
            assert_eq!(*c, months[k].derivatives[i]);
        }
    }
}

/// A bullet loan of 8,000,000 at 12 %: 80,000 interest a month against an NOI of 73,000, with
/// no reserve: a payment default in month 1. A short swap on 100,000 GPU-hours at a strike of
/// 2.10 hedging the fleet pays 100,000·(2.10 − F_1) ≈ 11,000 into the NOI, so month 1 is paid.
const HEDGED_LOAN: &str = r#"
[[deals]]
id = "L"
kind = "loan"
fleet_id = "fl"
principal = 8000000
rate = 0.12
term_months = 12
amortization = "bullet"

[[derivatives]]
id = "hedge"
kind = "swap"
position = "short"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 100000
strike_per_gpu_hour = 2.10
start_month = 1
end_month = 12
hedges = "fl"
"#;

#[test]
fn a_hedge_settles_into_its_fleets_noi_before_debt_service() {
    let p = portfolio(HEDGED_LOAN);
    let months = run(&p);
    let m1 = &months[0];
    let c1 = cents(-100_000.0 * (0.5 * (price(0) + price(1)) - 2.10));
    assert_eq!(m1.derivatives[0], c1);
    assert_eq!(m1.fleets[0].hedge, c1);
    assert_eq!(m1.fleets[0].noi, d("73000.00") + c1);
    assert_eq!(m1.deals[0].default_kind, None, "hedged: month 1 is paid");
    assert_eq!(m1.deals[0].interest, d("80000.00"));

    // The same derivative priced only: the same settlement, and the loan defaults in month 1.
    let unhedged = p.without_hedges();
    assert!(p.has_hedges() && !unhedged.has_hedges());
    let months = run(&unhedged);
    assert_eq!(months[0].derivatives[0], c1);
    assert_eq!(months[0].fleets[0].hedge, Decimal::ZERO);
    assert_eq!(months[0].fleets[0].noi, d("73000.00"));
    assert!(months[0].deals[0].default_kind.is_some());
}

/// A basis factor scales the hedge's fixing: b = 0.9 on a month-end swap.
#[test]
fn a_basis_factor_scales_the_fixing_of_a_hedge() {
    let p = portfolio(
        &HEDGED_LOAN
            .replace("fixing = \"average\"", "fixing = \"month_end\"")
            .replace("hedges = \"fl\"", "hedges = \"fl\"\nbasis_factor = 0.9"),
    );
    let months = run(&p);
    assert_eq!(
        months[0].derivatives[0],
        cents(-100_000.0 * (0.9 * price(1) - 2.10))
    );
}

fn errors(rest: &str) -> Vec<(String, String)> {
    let fleet = include_str!("../../tests/fixtures/noise_free.toml");
    let text = format!("{fleet}\n{rest}");
    match load_portfolio(&text, "bad.toml", |_| Err("no tape".into())) {
        Err(EngineError::Invalid { errors }) => {
            errors.into_iter().map(|e| (e.path, e.value)).collect()
        }
        other => panic!("expected validation errors, got {other:?}"),
    }
}

#[test]
fn validation_names_each_bad_field_with_its_value() {
    let bad = r#"
[[derivatives]]
id = "ok"
kind = "swap"
position = "long"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 2.0
start_month = 1
end_month = 3

[[derivatives]]
id = "ok"
kind = "cap"
position = "long"
class_id = "B200"
fixing = "month_end"
notional_gpu_hours_per_month = -5
strike_per_gpu_hour = -1
start_month = 4
end_month = 3
floor_usd_per_month = 10
premium_usd = -3

[[derivatives]]
id = "rf"
kind = "revenue_floor"
position = "short"
fleet_id = "nowhere"
start_month = 1
end_month = 31
hedges = "also-nowhere"
basis_factor = 0.0

[[derivatives]]
id = "unhedged-basis"
kind = "floor"
position = "long"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 2.0
start_month = 0
end_month = 2
discount_spread_bps = nan
basis_factor = 1.1
"#;
    let errs = errors(bad);
    let has = |path: &str, value: &str| {
        assert!(
            errs.iter().any(|(p, v)| p == path && v == value),
            "no error at {path} = {value}: {errs:#?}"
        )
    };
    has("derivatives[1].id", "\"ok\"");
    has("derivatives[1].class_id", "\"B200\"");
    has("derivatives[1].notional_gpu_hours_per_month", "-5");
    has("derivatives[1].strike_per_gpu_hour", "-1");
    has("derivatives[1].end_month", "3");
    has("derivatives[1].floor_usd_per_month", "10");
    has("derivatives[1].premium_usd", "-3");
    has("derivatives[2].fleet_id", "\"nowhere\"");
    has("derivatives[2].floor_usd_per_month", "(missing)");
    has("derivatives[2].end_month", "31");
    has("derivatives[2].hedges", "\"also-nowhere\"");
    has("derivatives[2].basis_factor", "0");
    has("derivatives[3].start_month", "0");
    has("derivatives[3].discount_spread_bps", "NaN");
    has("derivatives[3].basis_factor", "1.1");
    assert!(
        !errs.iter().any(|(p, _)| p.starts_with("derivatives[0]")),
        "{errs:#?}"
    );
}

#[test]
fn a_revenue_floor_hedges_only_its_own_fleet_and_kinds_refuse_foreign_fields() {
    let fleet2 = r#"
[[fleets]]
id = "fl2"
operator_id = "op"
class_id = "H100"
gpus = 10
utilization0 = 0.5
utilization_mean = 0.5
utilization_kappa = 1.0
utilization_sigma = 0.0
opex_fixed_per_gpu_hour = 0.0
opex_variable_per_gpu_hour = 0.0
purchase_price_per_gpu = 10000
liquidation_haircut = 0.25

[[derivatives]]
id = "rf"
kind = "revenue_floor"
position = "long"
fleet_id = "fl"
floor_usd_per_month = 1000
strike_per_gpu_hour = 2.0
fixing = "average"
start_month = 1
end_month = 2
hedges = "fl2"
"#;
    let errs = errors(fleet2);
    for (path, value) in [
        ("derivatives[0].hedges", "\"fl2\""),
        ("derivatives[0].strike_per_gpu_hour", "2"),
        ("derivatives[0].fixing", "\"average\""),
    ] {
        assert!(
            errs.iter().any(|(p, v)| p == path && v == value),
            "no error at {path}: {errs:#?}"
        );
    }
}

#[test]
fn an_unknown_kind_or_field_is_a_parse_error() {
    for (bad, needle) in [
        ("kind = \"swaption\"", "swaption"),
        ("kind = \"swap\"\nstrike = 2.0", "strike"),
    ] {
        let text = format!(
            "{}\n[[derivatives]]\nid = \"x\"\nposition = \"long\"\nstart_month = 1\nend_month = 1\n{bad}\n",
            include_str!("../../tests/fixtures/noise_free.toml")
        );
        let e = load_portfolio(&text, "bad.toml", |_| Err("no tape".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{e}");
    }
}

#[test]
fn the_hedged_sample_parses_and_validates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/portfolios");
    let text = std::fs::read_to_string(root.join("sample_hedged.toml")).unwrap();
    let loaded = load_portfolio(&text, "sample_hedged.toml", |name| {
        std::fs::read_to_string(root.join(name)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let p = loaded.portfolio;
    assert!(p.derivatives.len() >= 5, "{}", p.derivatives.len());
    assert!(p.has_hedges());
    for kind in ["swap", "revenue_floor", "cap", "floor", "forward"] {
        assert!(
            p.derivatives.iter().any(|d| d.kind.name() == kind),
            "the hedged sample has no {kind}"
        );
    }
    // The sample itself is the hedged sample without its derivatives.
    let text = std::fs::read_to_string(root.join("sample.toml")).unwrap();
    let plain = load_portfolio(&text, "sample.toml", |name| {
        std::fs::read_to_string(root.join(name)).map_err(|e| e.to_string())
    })
    .unwrap()
    .portfolio;
    let mut stripped = p.clone();
    stripped.derivatives.clear();
    assert_eq!(stripped, plain);
}

/// Issue 23 review C, D (findings 3, 6, 7): a forward or future settles once, at end_month,
/// so it may not hedge a fleet's monthly NOI (the error says to use a swap strip); a basis
/// factor does not apply to a revenue floor (it has no index fixing to scale) and is refused
/// with its value instead of ignored; refused fields show the value given.
#[test]
fn a_forward_or_future_cannot_hedge_and_a_revenue_floor_takes_no_basis_factor() {
    for kind in ["forward", "future"] {
        let errs = errors(&format!(
            r#"
[[derivatives]]
id = "f"
kind = "{kind}"
position = "short"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 2.0
start_month = 1
end_month = 3
hedges = "fl"
"#
        ));
        assert!(
            errs.iter()
                .any(|(p, v)| p == "derivatives[0].hedges" && v == "\"fl\""),
            "{kind}: {errs:#?}"
        );
    }
    let text = format!(
        "{}\n{}",
        include_str!("../../tests/fixtures/noise_free.toml"),
        r#"
[[derivatives]]
id = "f"
kind = "future"
position = "short"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 2.0
start_month = 1
end_month = 3
hedges = "fl"
"#
    );
    let e = load_portfolio(&text, "bad.toml", |_| Err("no tape".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("swap strip"), "{e}");
    let errs = errors(
        r#"
[[derivatives]]
id = "rf"
kind = "revenue_floor"
position = "long"
fleet_id = "fl"
floor_usd_per_month = 1000
start_month = 1
end_month = 2
hedges = "fl"
basis_factor = 0.9
"#,
    );
    assert!(
        errs.iter()
            .any(|(p, v)| p == "derivatives[0].basis_factor" && v == "0.9"),
        "{errs:#?}"
    );
    // A swap strip may hedge, with a basis factor.
    let text = format!(
        "{}\n{}",
        include_str!("../../tests/fixtures/noise_free.toml"),
        r#"
[[derivatives]]
id = "sw"
kind = "swap"
position = "short"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 2.0
start_month = 1
end_month = 3
hedges = "fl"
basis_factor = 0.9
"#
    );
    load_portfolio(&text, "ok.toml", |_| Err("no tape".into())).unwrap();
}

/// Issue 23 review F (finding 10): a cross-class index hedge and a short revenue floor
/// hedging its own fleet validate, with a warning naming derivatives[i]; a same-class swap
/// hedge and a long revenue floor give none.
#[test]
fn cross_class_hedges_and_short_revenue_floors_are_warned_about() {
    let base = include_str!("../../tests/fixtures/noise_free.toml");
    let text = format!(
        r#"{base}
[[gpu_classes]]
id = "B200"
price0_per_gpu_hour = 5.0
drift = 0.0
kappa = 1.0
sigma = 0.0
jump_intensity = 0.0
jump_mean = 0.0
jump_std = 0.0
useful_life_years = 5.0
residual_floor = 0.1

[[derivatives]]
id = "same"
kind = "swap"
position = "short"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 2.0
start_month = 1
end_month = 3
hedges = "fl"

[[derivatives]]
id = "cross"
kind = "swap"
position = "short"
class_id = "B200"
fixing = "average"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = 5.0
start_month = 1
end_month = 3
hedges = "fl"

[[derivatives]]
id = "rf-long"
kind = "revenue_floor"
position = "long"
fleet_id = "fl"
floor_usd_per_month = 1000
start_month = 1
end_month = 2
hedges = "fl"

[[derivatives]]
id = "rf-short"
kind = "revenue_floor"
position = "short"
fleet_id = "fl"
floor_usd_per_month = 1000
start_month = 1
end_month = 2
hedges = "fl"
"#
    );
    let p = load_portfolio(&text, "warn.toml", |_| Err("no tape".into()))
        .unwrap_or_else(|e| panic!("{e}"))
        .portfolio;
    let w = p.derivative_warnings();
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(w[0].starts_with("derivatives[1] (\"cross\")") && w[0].contains("cross-class"));
    assert!(
        w[1].starts_with("derivatives[3] (\"rf-short\")") && w[1].contains("short revenue floor")
    );
    assert!(p.without_hedges().derivative_warnings().is_empty());
}
