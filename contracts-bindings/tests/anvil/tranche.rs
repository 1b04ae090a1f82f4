//! The second report type on a real chain: a Rust-signed `TranchePriceReport` is what the
//! `TrancheOracle` verifies; each tranche's price is then readable, and a move beyond the rate
//! limits, a short quorum or another pool period than the pool's is refused with the decoded
//! custom error.

use crate::common::*;
use gaib_contracts::alloy::primitives::{Address, Bytes, U256};
use gaib_contracts::alloy::providers::Provider;
use gaib_contracts::bindings::tranche_oracle::TrancheOracle;
use gaib_contracts::bindings::tranched_pool::TranchedPool;
use gaib_contracts::{asset_id, publish_tranche_prices, TrancheReport};

#[tokio::test]
async fn rust_signed_tranche_prices_are_accepted_and_held_to_the_rates() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let signers: Vec<Address> = (0..5).map(|i| signer(i).address()).collect();
    // The oracle reads its pool's period (0: not issued) and balances; the pool never touches its
    // settlement token before an issue, so any token address serves here.
    let spec = |balance: u64, coupon_ppb: u64| TranchedPool::TrancheSpec {
        balance: U256::from(balance) * pow10(18),
        couponPpb: U256::from(coupon_ppb),
        floating: false,
        spreadPpb: U256::ZERO,
    };
    let names = || vec!["S".to_string(), "M".to_string(), "E".to_string()];
    let pool = TranchedPool::deploy(
        p.clone(),
        Address::repeat_byte(0xA1),
        deployer().address(),
        servicer().address(),
        deployer().address(),
        U256::from(50u8),
        U256::ZERO,
        vec![spec(700, 60_000_000), spec(200, 100_000_000), spec(100, 0)],
        names(),
        names(),
        TranchedPool::Schedule {
            issueWindow: U256::from(86_400u32),
            periodSeconds: U256::from(86_400u32),
            legalFinalPeriod: U256::from(12u8),
        },
    )
    .await
    .unwrap();
    let oracle = TrancheOracle::deploy(
        p.clone(),
        deployer().address(),
        asset_id("pool-a"),
        *pool.address(),
        "pool-a tranches / AID".to_string(),
        signers,
        U256::from(QUORUM),
        MAX_AGE,
        500,
        vec![U256::from(3u8) * pow10(18); 3],
    )
    .await
    .unwrap();
    let at = *oracle.address();
    let chain = p.get_chain_id().await.unwrap();
    let t0 = now(&p).await;
    let e18 = pow10(18);
    let report = |round: u64, prices: Vec<U256>, observed_at: u64| TrancheReport {
        pool: asset_id("pool-a"),
        period: 0,
        prices,
        observed_at,
        valid_until: observed_at + 86_400,
        run_id: asset_id("run"),
        round,
    };
    let sign = |r: &TrancheReport, k: usize| -> Vec<Bytes> {
        (0..k)
            .map(|i| Bytes::from(r.sign(&signer(i), chain, at).unwrap().to_vec()))
            .collect()
    };
    let r1 = report(
        1,
        vec![
            e18,
            e18 * U256::from(98u8) / U256::from(100u8),
            e18 / U256::from(2u8),
        ],
        t0,
    );
    assert_revert(
        publish_tranche_prices(&p, at, &r1, &sign(&r1, 2)).await,
        "QuorumNotMet",
        "2 of quorum 3",
    );
    let other_period = TrancheReport {
        period: 1,
        ..r1.clone()
    };
    assert_revert(
        publish_tranche_prices(&p, at, &other_period, &sign(&other_period, 3)).await,
        "WrongPeriod",
        "a report for period 1 of a pool at period 0",
    );
    let done = publish_tranche_prices(&p, at, &r1, &sign(&r1, 3))
        .await
        .unwrap();
    assert_eq!(done.round, 1);
    for (j, want) in r1.prices.iter().enumerate() {
        let got = oracle.tranchePrice(U256::from(j)).call().await.unwrap();
        assert_eq!(got, *want, "tranche {j}");
    }
    // an hour later the equity marked up 1 %: beyond 20 %/year
    warp(&p, 3_600).await;
    let t1 = now(&p).await;
    let mut up = r1.prices.clone();
    up[2] = up[2] * U256::from(101u8) / U256::from(100u8);
    let r2 = report(2, up, t1);
    assert_revert(
        publish_tranche_prices(&p, at, &r2, &sign(&r2, 3)).await,
        "GrowthTooFast",
        "equity +1 % in an hour",
    );
    let r2 = report(2, r1.prices.clone(), t1);
    publish_tranche_prices(&p, at, &r2, &sign(&r2, 3))
        .await
        .unwrap();
    assert_eq!(oracle.latestTrancheRound().call().await.unwrap(), 2);
    assert!(oracle.isTranchePriceFresh().call().await.unwrap());
}
