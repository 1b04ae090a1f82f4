//! The risk numbers lenders and risk teams read (MODEL.md v2 §8), through the run layer: the
//! liquidity-aware haircut and lending horizon under a bank run, and implied spreads of market
//! prices (`RunSpec::market_prices`).

mod common;

use common::{run, sample};
use gaib_pricing::{LendingHorizonBasis, MarketPrice};
use gaib_runs::{RunControl, RunDir, RunSpec, ScenarioInput};
use gaib_testkit::sample_portfolio;

fn price(id: &str, pct: f64) -> MarketPrice {
    format!("{id}={pct}").parse().unwrap()
}

/// A bank run (every holder asks to redeem) lengthens the lender's exit past one cycle, so the
/// haircut grows and the recommended LTV falls; before MODEL.md v2 the haircut was read at one
/// withdrawal cycle under every scenario (negative on the sample, so the LTV stayed at its cap).
#[test]
fn a_bank_run_lengthens_the_lending_horizon_and_lowers_the_recommended_ltv() {
    let bank_run = ScenarioInput::locate("bank-run", Some(&sample_portfolio())).unwrap();
    let out = run(RunSpec {
        scenarios: vec![bank_run],
        ..RunSpec::new(sample(), 400, 11)
    });
    let base = out
        .valuation()
        .vault
        .as_ref()
        .expect("the sample has a vault");
    let stressed = out.legs[0].valuation.vault.as_ref().unwrap();
    for v in [base, stressed] {
        assert!(v.haircut_pct >= 0.0, "{}: haircut {}", v.id, v.haircut_pct);
        assert!(v.haircut_pct >= v.haircut_unfloored_pct);
        assert!(v.haircut_ci95_pct[0] >= 0.0);
        assert!(v.lending_horizon.days >= 30, "{:?}", v.lending_horizon);
        assert!(!v.lending_horizon.explanation.is_empty());
    }
    assert_ne!(
        stressed.lending_horizon.basis,
        LendingHorizonBasis::VaultHorizon,
        "{:?}",
        stressed.lending_horizon
    );
    assert!(
        stressed.lending_horizon.month > base.lending_horizon.month,
        "base {:?}, bank run {:?}",
        base.lending_horizon,
        stressed.lending_horizon
    );
    let stress = out.stress.as_ref().unwrap();
    let change = |key: &str| {
        stress.scenarios[0]
            .changes
            .iter()
            .find(|c| c.key == key)
            .unwrap_or_else(|| panic!("no metric {key}"))
            .change
    };
    let ltv_key = format!("{} recommended LTV", base.id);
    let ltv = change(&ltv_key);
    assert!(ltv < 0.0, "recommended LTV change under a bank run: {ltv}");
    assert!(change(&format!("{} lending horizon", base.id)) > 0.0);

    // The report: the lower LTV is coloured adverse (by the metric's direction, not its
    // sign), the base run's floored haircut is flagged at the top.
    let html = out.report_html();
    let row = html
        .split("<tr>")
        .find(|r| r.contains(&format!("<td>{ltv_key} (%)</td>")))
        .expect("the stress table has the LTV row");
    assert!(row.contains("<td class=\"adverse\">-"), "{row}");
    let flags = &html[html.find("id=\"flags\"").unwrap()..html.find("id=\"tranches\"").unwrap()];
    assert!(flags.contains("<li>"), "{flags}");
    let expected_flags = usize::from(base.haircut_unfloored_pct < 0.0);
    assert_eq!(
        flags.matches("floored at 0").count(),
        expected_flags,
        "{flags}"
    );
}

/// A favourable change is coloured so too: a higher NAV or price under a scenario is green,
/// a lower loss green, and a yield (neither) uncoloured.
#[test]
fn report_cells_are_coloured_by_the_holders_direction() {
    let sens = run(RunSpec {
        sensitivities: true,
        ..RunSpec::new(sample(), 200, 4)
    });
    let html = sens.report_html();
    let table = &html[html.find("id=\"sensitivities\"").unwrap()..];
    let cells = |class: &str| table.matches(&format!("<td class=\"{class}\">")).count();
    assert!(
        cells("adverse") > 0,
        "bumps are adverse: some cell must be red"
    );
    // Every coloured cell agrees with the metric's direction.
    for row in table.split("<tr>").skip(2) {
        let Some(key) = row.strip_prefix("<td>").and_then(|r| r.split(" (").next()) else {
            continue;
        };
        let up_is_bad = gaib_pricing::higher_is_adverse(key);
        for cell in row.split("<td class=\"").skip(1) {
            let (class, rest) = cell.split_once("\">").unwrap();
            let positive = rest.starts_with('+');
            match (class, up_is_bad) {
                ("adverse", Some(b)) => assert_eq!(positive, b, "{key}: {cell}"),
                ("favourable", Some(b)) => assert_eq!(positive, !b, "{key}: {cell}"),
                (c, d) => panic!("{key}: class {c} with direction {d:?}"),
            }
        }
    }
    // Collateral bands are quantiles: never below 0.
    for c in &sens.valuation().collateral {
        assert!(c.q05.iter().all(|q| *q >= 0.0), "{}", c.deal_id);
        assert!(
            c.q05.iter().zip(&c.q95).all(|(a, b)| a <= b),
            "{}",
            c.deal_id
        );
    }
}

/// The implied spread of the model's own price is the model's spread; a higher price implies a
/// lower spread; the prices are stored in the manifest and the run reproduces from its
/// directory.
#[test]
fn implied_spreads_invert_the_model_price_and_reproduce() {
    let plain = run(RunSpec::new(sample(), 200, 3));
    let v = plain.valuation();
    let senior = &v.tranches[0];
    let deal = &v.deals[0];
    let model = senior.price_pct.value;
    let spec = RunSpec {
        market_prices: vec![
            price(&senior.id, model),
            price(&deal.id, deal.price_pct.value + 1.0),
        ],
        ..RunSpec::new(sample(), 200, 3)
    };
    let out = run(spec.clone());
    // Market prices change no statistic and no valuation.
    assert_eq!(out.valuation(), v);
    let s = &out.results.implied_spreads;
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].id, senior.id);
    assert!(
        (s[0].implied_spread_bps - senior.discount_spread_bps).abs() < 1e-4,
        "{:?} vs model spread {}",
        s[0],
        senior.discount_spread_bps
    );
    assert!((s[0].model_price_pct - model).abs() < 1e-12);
    assert!(
        s[1].implied_spread_bps < deal.discount_spread_bps,
        "a price 1 point above the model's implies a tighter spread: {:?}",
        s[1]
    );
    assert_eq!(out.manifest.market_prices, spec.market_prices);

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    gaib_runs::OutDir::claim(&dir, false)
        .unwrap()
        .write(&out)
        .unwrap();
    let opened = RunDir::open(&dir).unwrap();
    assert_eq!(opened.results.implied_spreads, out.results.implied_spreads);
    opened.verify(Some(2), &RunControl::default()).unwrap();
}

/// Market prices that cannot be used are refused before any path is simulated, naming the id.
#[test]
fn bad_market_prices_are_refused_in_prepare() {
    let refused = |prices: Vec<MarketPrice>| {
        RunSpec {
            market_prices: prices,
            ..RunSpec::new(sample(), 10, 1)
        }
        .prepare()
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    let e = refused(vec![price("NO-SUCH", 99.0)]);
    assert!(e.contains("NO-SUCH") && e.contains("L-01"), "{e}");
    let e = refused(vec![price("L-01", 99.0), price("L-01", 98.0)]);
    assert!(e.contains("L-01") && e.contains("more than once"), "{e}");
    for bad in ["L-01=0", "L-01=-5", "L-01=nan", "L-01", "=99", "L-01=abc"] {
        assert!(bad.parse::<MarketPrice>().is_err(), "{bad} parsed");
    }
}
