//! Golden cash-flow tables: the bundled sample's (`data/portfolios/sample.toml`) base-case
//! schedules of one loan, one revenue share, one hybrid and the pool, compared exactly with the
//! CSV files checked in under `engine/tests/golden/`.
//!
//! Any change of a booked amount fails this test — also one that still conserves cash, such
//! as paying two tranches in another order. When a change of the model is intended, re-bless
//! the files and review their diff in the commit:
//!
//! ```text
//! GAIB_BLESS=1 cargo test -p gaib-engine --test golden
//! git diff engine/tests/golden/
//! ```
//!
//! Every value is written exactly: booked amounts as the Decimal the engine computed (cents),
//! the market quantities that are not booked (hardware value, base rate) rounded once here,
//! to cents and to 1e-10, so that the last bits of a platform's `exp` cannot move them.

use gaib_engine::{base_case, load_portfolio, DealMonth, Decimal, Loaded, PoolMonth};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const SAMPLE: &str = "data/portfolios/sample.toml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sample() -> Loaded {
    let file = root().join(SAMPLE);
    let text = std::fs::read_to_string(&file).unwrap();
    let dir = file.parent().unwrap().to_path_buf();
    load_portfolio(&text, SAMPLE, |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("{SAMPLE}: {e}"))
}

/// An exact decimal without trailing zeros.
fn x(v: Decimal) -> String {
    v.normalize().to_string()
}

fn deal_csv(rows: &[DealMonth]) -> String {
    let mut s = String::from(
        "month,revenue_usd,opex_usd,noi_usd,hardware_value_usd,interest_usd,\
         scheduled_principal_usd,prepayment_usd,refinanced_usd,rev_share_capital_usd,\
         rev_share_income_usd,kicker_usd,recovery_usd,dsra_draw_usd,dsra_refill_usd,\
         dsra_release_usd,default_kind,default_ead_usd,default_unpaid_interest_usd,\
         shortfall_usd,cash_left_usd,balance_end_usd,dsra_end_usd,loss_usd\n",
    );
    for r in rows {
        let f = &r.flows;
        let kind = f.default_kind.map(|k| format!("{k:?}")).unwrap_or_default();
        let cols = [
            r.month.to_string(),
            x(r.fleet.revenue),
            x(r.fleet.opex),
            x(r.fleet.noi),
            x(r.fleet.hardware_value.round_dp(2)),
            x(f.interest),
            x(f.scheduled_principal),
            x(f.prepayment),
            x(f.refinanced),
            x(f.rev_share_capital),
            x(f.rev_share_income),
            x(f.kicker),
            x(f.recovery),
            x(f.dsra_draw),
            x(f.dsra_refill),
            x(f.dsra_release),
            kind,
            x(f.default_ead),
            x(f.default_unpaid_interest),
            x(f.shortfall),
            x(f.cash_left),
            x(f.balance_end),
            x(r.dsra_end),
            x(r.loss),
        ];
        writeln!(s, "{}", cols.join(",")).unwrap();
    }
    s
}

fn pool_csv(tranche_ids: &[&str], rows: &[PoolMonth]) -> String {
    let mut s = String::from(
        "month,interest_proceeds_usd,principal_proceeds_usd,performing_balance_usd,\
         base_rate,fees_paid_usd,oc_breached,senior_interest_default",
    );
    for id in tranche_ids {
        for c in [
            "interest_usd",
            "principal_usd",
            "interest_shortfall_usd",
            "writedown_usd",
            "balance_end_usd",
        ] {
            write!(s, ",{id}_{c}").unwrap();
        }
    }
    s.push('\n');
    for r in rows {
        let c = &r.collections;
        let mut cols = vec![
            r.month.to_string(),
            x(c.interest_proceeds),
            x(c.principal_proceeds),
            x(c.performing_balance),
            x(c.base_rate.round_dp(10)),
            x(r.result.fees_paid),
            r.result.oc_breached.to_string(),
            r.result.senior_interest_default.to_string(),
        ];
        for t in &r.tranches {
            cols.extend([
                x(t.interest),
                x(t.principal),
                x(t.interest_shortfall),
                x(t.writedown),
                x(t.balance_end),
            ]);
        }
        writeln!(s, "{}", cols.join(",")).unwrap();
    }
    s
}

/// The tables: (file name, CSV text).
fn tables() -> Vec<(String, String)> {
    let l = sample();
    let p = &l.portfolio;
    let bc = base_case(p).unwrap();
    let mut out = Vec::new();
    for (id, kind) in [
        ("L-01", "loan"),
        ("RS-01", "revenue_share"),
        ("H-01", "hybrid"),
    ] {
        let d = p.deal_index(id).unwrap();
        out.push((format!("deal_{id}.csv"), deal_csv(&bc.deals[d])));
        assert_eq!(p.deals[d].kind_name(), kind, "{id}");
    }
    let pool = &p.pools[0];
    let ids: Vec<&str> = pool.tranches.iter().map(|t| t.id.as_str()).collect();
    out.push((
        format!("pool_{}.csv", pool.id),
        pool_csv(&ids, &bc.pools[0]),
    ));
    out
}

#[test]
fn sample_base_case_matches_the_golden_tables() {
    let dir = root().join("engine/tests/golden");
    let bless = std::env::var_os("GAIB_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for (name, text) in tables() {
        let path = dir.join(&name);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let Ok(golden) = std::fs::read_to_string(&path) else {
            failures.push(format!("{name}: missing"));
            continue;
        };
        if golden != text {
            let (i, (want, got)) = golden
                .lines()
                .zip(text.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((
                    golden.lines().count().min(text.lines().count()),
                    ("<end of file>", "<end of file>"),
                ));
            failures.push(format!(
                "{name} line {}:\n  golden: {want}\n  now:    {got}",
                i + 1
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "base-case cash flows differ from engine/tests/golden (if the change is intended, \
         re-bless with GAIB_BLESS=1 cargo test -p gaib-engine --test golden and review the \
         diff):\n{}",
        failures.join("\n")
    );
}

/// The comparison is not vacuous: a waterfall that pays the same cash to other tranches
/// (cash still conserved) gives other tables.
#[test]
fn a_reordered_waterfall_changes_the_pool_table() {
    let l = sample();
    let p = &l.portfolio;
    let bc = base_case(p).unwrap();
    let ids: Vec<&str> = p.pools[0].tranches.iter().map(|t| t.id.as_str()).collect();
    let text = pool_csv(&ids, &bc.pools[0]);
    let mut swapped = bc.pools[0].clone();
    let row = swapped
        .iter_mut()
        .find(|r| r.tranches[0].principal > Decimal::ZERO)
        .unwrap();
    // Move one cent of principal from the senior to the next tranche: cash is conserved.
    row.tranches[0].principal -= Decimal::new(1, 2);
    row.tranches[1].principal += Decimal::new(1, 2);
    assert_ne!(pool_csv(&ids, &swapped), text);
}
