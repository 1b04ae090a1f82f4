//! Integration tests of the deterministic base case on the bundled sample and test fixtures.

use gaib_engine::{base_case, load_portfolio, Amount, Decimal, Loaded, Portfolio};
use std::path::Path;

fn load(path: &str) -> Loaded {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = root.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let dir = file.parent().unwrap().to_path_buf();
    load_portfolio(&text, path, |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check_conservation(p: &Portfolio) {
    let bc = base_case(p).unwrap();
    for (q, pool) in p.pools.iter().enumerate() {
        for row in &bc.pools[q] {
            // Collections of the pool = Σ of its deals' proceeds that month.
            let from_deals: Decimal = pool
                .deal_ids
                .iter()
                .map(|id| {
                    let d = p.deal_index(id).unwrap();
                    bc.deals[d][(row.month - 1) as usize].flows.total_received()
                })
                .sum();
            let collected = row.collections.interest_proceeds + row.collections.principal_proceeds;
            assert_eq!(
                collected, from_deals,
                "pool {} month {}",
                pool.id, row.month
            );
            // Cash in = fees + tranche receipts, exactly (Decimal).
            let paid: Decimal = row.result.fees_paid
                + row
                    .tranches
                    .iter()
                    .map(|t| t.interest + t.principal)
                    .sum::<Decimal>();
            assert_eq!(collected, paid, "pool {} month {}", pool.id, row.month);
            for t in &row.tranches {
                assert!(
                    t.balance_end >= Decimal::ZERO
                        && t.interest >= Decimal::ZERO
                        && t.principal >= Decimal::ZERO
                );
            }
        }
        // At the legal final month, debt is repaid or written off.
        let last = bc.pools[q].last().unwrap();
        for (j, t) in last.tranches.iter().enumerate() {
            if !pool.tranches[j].equity {
                assert_eq!(t.balance_end, Decimal::ZERO);
            }
        }
    }
    for (d, rows) in bc.deals.iter().enumerate() {
        let deal = &p.deals[d];
        let mut principal = Decimal::ZERO;
        let mut loss = Decimal::ZERO;
        for r in rows {
            assert!(
                r.flows.balance_end >= Decimal::ZERO,
                "deal {} month {}",
                deal.id,
                r.month
            );
            assert!(
                r.dsra_end >= Decimal::ZERO,
                "deal {} month {}",
                deal.id,
                r.month
            );
            principal += r.flows.principal_proceeds();
            loss += r.loss - r.flows.default_unpaid_interest;
        }
        // Every funded dollar comes back as principal/recovery or is booked as a loss.
        let diff = (principal + loss - deal.funded_amount()).abs();
        assert!(
            diff < Decimal::new(1, 6),
            "deal {}: principal {} + loss {} != {}",
            deal.id,
            principal,
            loss,
            deal.funded_amount()
        );
    }
}

#[test]
fn sample_portfolio_conserves_cash_every_month() {
    let l = load("data/portfolios/sample.toml");
    assert_eq!(l.portfolio.deals.len(), 30);
    assert!(l.portfolio.gpu_classes.len() >= 3 && l.portfolio.fleets.len() >= 12);
    assert_eq!(
        l.deal_sources
            .iter()
            .filter(|s| s.ends_with(".csv"))
            .count(),
        27
    );
    check_conservation(&l.portfolio);
}

#[test]
fn small_fixture_conserves_cash_every_month() {
    check_conservation(&load("tests/fixtures/valid/small.toml").portfolio);
}

#[test]
fn sample_base_case_repays_the_senior_tranche() {
    let l = load("data/portfolios/sample.toml");
    let bc = base_case(&l.portfolio).unwrap();
    let senior: Decimal = bc.pools[0].iter().map(|r| r.tranches[0].principal).sum();
    assert_eq!(senior, l.portfolio.pools[0].tranches[0].balance);
    let writedowns: Decimal = bc.pools[0]
        .iter()
        .flat_map(|r| r.tranches.iter())
        .map(|t| t.writedown)
        .sum();
    assert_eq!(writedowns, Decimal::ZERO);
}

#[test]
fn json_and_toml_give_the_same_portfolio() {
    let l = load("tests/fixtures/valid/small.toml");
    let json = serde_json::to_string(&l.portfolio).unwrap();
    let again = load_portfolio(&json, "small.json", |_| Err("no tape".into())).unwrap();
    assert_eq!(again.portfolio, l.portfolio);
    let a = base_case(&l.portfolio).unwrap();
    let b = base_case(&again.portfolio).unwrap();
    assert_eq!(a.deals[0], b.deals[0]);
}

#[test]
fn zero_rate_loans_return_exactly_their_principal() {
    let mut l = load("tests/fixtures/valid/small.toml").portfolio;
    for d in &mut l.deals {
        if let gaib_engine::DealTerms::Loan(t) = &mut d.terms {
            t.rate = Some(Decimal::ZERO);
            t.cash_sweep = Decimal::ZERO;
        }
    }
    let bc = base_case(&l).unwrap();
    let d = l.deal_index("L-1").unwrap();
    let total: Decimal = bc.deals[d].iter().map(|r| r.flows.total_received()).sum();
    assert_eq!(total, l.deals[d].funded_amount());
    let _ = Amount::to_f64(total);
}
