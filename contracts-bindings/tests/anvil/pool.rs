//! A pool on chain from end to end, as the README's "A pool on chain" walks it: `deploy_with_pool`
//! deploys the pool's tranche tokens from its portfolio terms; investors subscribe with AID; an
//! operator's revenue goes through the RevenueRouter (the pool is the deal's lender) into the
//! pool; the servicer closes the period; holders claim exactly what the engine's integer
//! waterfall gives their tranche, pro rata (to the wei, less the documented rounding down).

use crate::common::*;
use gaib_contracts::alloy::primitives::{Address, U256};
use gaib_contracts::bindings::aid::AID;
use gaib_contracts::bindings::revenue_router::RevenueRouter;
use gaib_contracts::bindings::tranche_token::TrancheToken;
use gaib_contracts::bindings::tranched_pool::TranchedPool;
use gaib_contracts::deploy::{deploy_with_pool, DeployConfig};
use gaib_contracts::Wei;
use gaib_engine::pool_wei::{step, WeiCollections, WeiState, WeiTerms};
use gaib_engine::{Decimal, Pool, Tranche};

fn tranche(id: &str, balance: i64, coupon: Option<Decimal>) -> Tranche {
    let text = format!("id = {id:?}\nbalance = {balance}\n");
    let mut t: Tranche = toml::from_str(&text).unwrap();
    t.coupon = coupon;
    t
}

#[tokio::test]
async fn a_pool_from_deploy_through_revenue_and_waterfall_to_claims() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let me = deployer().address();
    let pool = Pool {
        id: "POOL-A".into(),
        deal_ids: vec![],
        senior_fee_bps: Decimal::from(25),
        oc_trigger: Decimal::new(125, 2),
        require_full_capital_structure: false,
        tranches: vec![
            tranche("A", 700, Some(Decimal::new(65, 3))),
            tranche("B", 200, Some(Decimal::new(95, 3))),
            tranche("E", 100, None),
        ],
    };
    let config = DeployConfig::from_toml(
        &format!(
            r#"
[aid.test_stablecoin]
name = "Test USD"
symbol = "tUSD"
decimals = 6
[oracle]
signers = ["{me}"]
quorum = 1
max_age_s = 172800
max_deviation_bps = 500
[revenue_router]
[tranched_pool]
portfolio = "in memory"
pool = "POOL-A"
legal_final_period = 12
servicer = "{}"
"#,
            servicer().address()
        ),
        "test",
    )
    .unwrap();
    let d = deploy_with_pool(&p, &deployer(), &config, Some(&pool))
        .await
        .unwrap();
    for name in [
        "TranchedPool",
        "TrancheOracle",
        "TrancheToken:A",
        "TrancheToken:B",
        "TrancheToken:E",
    ] {
        assert!(d.address(name).is_some(), "{name} recorded");
    }
    let aid = AID::new(d.address("AID").unwrap(), &p);
    let tp = TranchedPool::new(d.address("TranchedPool").unwrap(), &p);
    let router = RevenueRouter::new(d.address("RevenueRouter").unwrap(), &p);
    let tokens: Vec<_> = ["A", "B", "E"]
        .iter()
        .map(|t| TrancheToken::new(d.address(&format!("TrancheToken:{t}")).unwrap(), &p))
        .collect();
    assert_eq!(tokens[0].symbol().call().await.unwrap(), "POOL-A-A");

    // Issue: the deployer buys everything (an investor would subscribe likewise), then the AID
    // raised goes to the operator's funding address.
    let e18 = pow10(18);
    tx!(
        p,
        aid.grantRole(aid.MINTER_ROLE().call().await.unwrap(), me)
    );
    tx!(p, aid.mint(me, U256::from(10_000u32) * e18));
    tx!(p, aid.approve(*tp.address(), U256::MAX));
    let bob = Address::repeat_byte(0xB0);
    for (j, usd) in [700u32, 200, 100].into_iter().enumerate() {
        tx!(p, tp.subscribe(U256::from(j), U256::from(usd) * e18, me));
    }
    // a quarter of the senior changes hands before any revenue
    tx!(p, tokens[0].transfer(bob, U256::from(175u32) * e18));
    let operator = Address::repeat_byte(0x0B);
    tx!(p, tp.closeIssue(operator));

    // Revenue in: a deal whose lender is the pool; 30 USD of debt service due this month.
    tx!(
        p,
        router.registerDeal(
            me,
            *tp.address(),
            me,
            operator,
            0,
            U256::from(30u32) * e18,
            U256::ZERO
        )
    );
    tx!(p, aid.approve(*router.address(), U256::MAX));
    tx!(p, router.pay(U256::from(1u8), U256::from(50u32) * e18));
    assert_eq!(
        tp.collected().call().await.unwrap(),
        U256::from(30u32) * e18
    );

    // Waterfall: 12 USD of it principal, the performing balance 1 000 USD.
    let (principal, perf) = (U256::from(12u32) * e18, U256::from(1_000u32) * e18);
    warp(&p, 30 * 86_400).await;
    let sp = servicer_provider(&anvil);
    tx!(
        sp,
        TranchedPool::new(*tp.address(), &sp).closePeriod(principal, perf, U256::ZERO)
    );
    let (terms, balances) = WeiTerms::from_pool(&pool, "pool").unwrap();
    let terms = WeiTerms {
        senior_fee_bps: terms.senior_fee_bps,
        oc_trigger_ppb: Wei(U256::from(terms.oc_trigger_ppb)),
        coupon_ppb: terms
            .coupon_ppb
            .iter()
            .map(|c| Wei(U256::from(*c)))
            .collect(),
        floating: terms.floating,
        spread_ppb: terms
            .spread_ppb
            .iter()
            .map(|c| Wei(U256::from(*c)))
            .collect(),
    };
    let mut state = WeiState::new(balances.iter().map(|b| Wei(U256::from(*b))).collect());
    let f = step(
        &terms,
        &mut state,
        &WeiCollections {
            interest_proceeds: Wei(U256::from(18u32) * e18),
            principal_proceeds: Wei(principal),
            performing_balance: Wei(perf),
            base_rate_ppb: Wei(U256::ZERO),
            legal_final: false,
        },
    );
    // senior 700 x 6.5 % / 12 = 3.79 (3.7916..), mezz 200 x 9.5 % / 12 = 1.58, fee 0.21
    assert_eq!(f.interest[0].0, U256::from(379u32) * pow10(16));
    assert_eq!(f.fees_paid.0, U256::from(21u32) * pow10(16));

    // Claims: bob holds 25 % of the senior, the deployer the rest and the whole of B and E.
    let senior = f.interest[0].0 + f.principal[0].0;
    let bob_share = tokens[0].claimable(bob).call().await.unwrap();
    assert!(
        senior / U256::from(4u8) - bob_share <= U256::from(1u8),
        "bob {bob_share} of {senior}"
    );
    for (j, t) in tokens.iter().enumerate() {
        let before = aid.balanceOf(me).call().await.unwrap();
        tx!(p, t.claim(me));
        let got = aid.balanceOf(me).call().await.unwrap() - before;
        // the exact pro-rata share (the senior's 15.79 splits exactly 25 / 75)
        let whole = f.interest[j].0 + f.principal[j].0;
        let want = if j == 0 {
            whole - whole / U256::from(4u8)
        } else {
            whole
        };
        assert!(
            want - got <= U256::from(1u8),
            "tranche {j}: claimed {got}, engine {want}"
        );
    }
    assert_eq!(tp.collected().call().await.unwrap(), U256::ZERO);
}
