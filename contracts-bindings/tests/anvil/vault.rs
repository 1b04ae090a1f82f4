//! Publishing moves the sAID vault's NAV and the lending market's price and borrow limit.

use crate::common::*;
use gaib_contracts::alloy::primitives::{Address, Bytes, U256};
use gaib_contracts::alloy::providers::Provider;
use gaib_contracts::bindings::aid::AID;
use gaib_contracts::bindings::aid_minter::AIDMinter;
use gaib_contracts::bindings::lending_market::LendingMarket;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::bindings::said::SAID;
use gaib_contracts::bindings::test_stablecoin::TestStablecoin;
use gaib_contracts::{asset_id, decode_revert, publish, run_id_of_manifest, Report};

#[tokio::test]
async fn publishing_moves_vault_nav_and_lending_price() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let chain_id = p.get_chain_id().await.unwrap();
    let me = deployer().address();
    let desk = Address::repeat_byte(0xde);
    let e18 = pow10(18);
    let e24 = pow10(24);

    // AID minted 1:1 against a 6-decimal test stablecoin, as in production.
    let usd = TestStablecoin::deploy(p.clone(), "Test USD".into(), "tUSD".into(), 6)
        .await
        .unwrap();
    let aid = AID::deploy(p.clone(), me).await.unwrap();
    let minter = AIDMinter::deploy(p.clone(), *aid.address(), *usd.address())
        .await
        .unwrap();
    tx!(
        p,
        aid.grantRole(aid.MINTER_ROLE().call().await.unwrap(), *minter.address())
    );
    tx!(p, usd.mint(me, U256::from(1_000_000_000u64)));
    tx!(p, usd.approve(*minter.address(), U256::MAX));
    tx!(p, minter.mint(U256::from(1_000_000_000u64), me));
    assert_eq!(
        aid.balanceOf(me).call().await.unwrap(),
        U256::from(1000u64) * e18
    );

    // Oracle (20 % deviation cap) with a first report, then the vault and the market.
    let oracle_addr = deploy_oracle(&p, 2_000).await;
    let oracle = ValuationOracle::new(oracle_addr, &p);
    // Marks up faster than the oracle's default growth cap (20 %/year) below: lift it.
    tx!(p, oracle.setRateLimits(u32::MAX, 0));
    let mut round = 0u64;
    let mut push = |nav: U256, deployed: U256, at: u64| {
        round += 1;
        let r = Report {
            asset: asset_id("sAID"),
            nav_per_share: nav,
            deployed_value: deployed,
            haircut_bps: 1_000,
            ltv_bps: 8_000,
            observed_at: at,
            valid_until: at + 86_400,
            run_id: run_id_of_manifest(&round.to_le_bytes()),
            round,
        };
        let sigs: Vec<Bytes> = (0..3)
            .map(|i| {
                Bytes::from(
                    signer(i)
                        .sign_report(&r, chain_id, oracle_addr)
                        .unwrap()
                        .to_vec(),
                )
            })
            .collect();
        (r, sigs)
    };
    let (r, s) = push(e18, U256::ZERO, now(&p).await);
    publish(&p, oracle_addr, &r, &s).await.unwrap();
    let vault = SAID::deploy(p.clone(), *aid.address(), oracle_addr, me)
        .await
        .unwrap();
    let market = LendingMarket::deploy(p.clone(), *vault.address(), *aid.address(), oracle_addr)
        .await
        .unwrap();

    // 100 AID in → 100e24 sAID at NAV 1.
    tx!(p, aid.approve(*vault.address(), U256::MAX));
    tx!(p, vault.deposit(U256::from(100u8) * e18, me));
    assert_eq!(
        vault.balanceOf(me).call().await.unwrap(),
        U256::from(100u8) * e24
    );
    assert_eq!(vault.navPerShare().call().await.unwrap(), e18);
    let collateral = U256::from(100u8) * e24;
    assert_eq!(
        market.borrowLimit(collateral).call().await.unwrap(),
        U256::from(80u8) * e18
    );

    // An hour later half goes off-chain: the raw NAV fails closed until a report observed at or
    // after that moment values it; the ERC-4626 view shows the last valuation (the deployed
    // half at zero) instead of reverting, and deposits are closed.
    warp(&p, 3_600).await;
    tx!(p, vault.deployCapital(desk, U256::from(50u8) * e18));
    let err =
        vault.rawTotalAssets().call().await.map_err(|e| {
            decode_revert::<gaib_contracts::bindings::said::SAID::SAIDErrors>(e, "SAID")
        });
    assert_revert(
        err,
        "AwaitingValuation",
        "rawTotalAssets after deployCapital",
    );
    assert_eq!(
        vault.lastValuedAssets().call().await.unwrap(),
        U256::from(50u8) * e18
    );
    // ... held up by sAID's mark-down floor (10 %/day since the deposit), never below it.
    assert_eq!(
        vault.totalAssets().call().await.unwrap(),
        vault.floorAssets().call().await.unwrap()
    );
    assert_eq!(vault.maxDeposit(me).call().await.unwrap(), U256::ZERO);

    // A loss: the deployed 50 AID are now worth 40; NAV per share 0.9. An hour after the last
    // report that is beyond the oracle's mark-down limit (10 %/day): the signers alone cannot
    // publish it ...
    let nav_down = e18 * U256::from(9u8) / U256::from(10u8);
    let (r, s) = push(nav_down, U256::from(40u8) * e18, now(&p).await);
    assert_revert(
        publish(&p, oracle_addr, &r, &s).await,
        "MarkdownTooFast",
        "-10 % an hour after the last report",
    );
    // ... a genuine loss goes through the guardian (here: the admin lifts the limit), and the
    // vault's guardian recognises it at once instead of releasing it at 10 %/day.
    tx!(p, oracle.setMaxMarkdownBpsPerDay(u32::MAX));
    publish(&p, oracle_addr, &r, &s).await.unwrap();
    assert!(vault.totalAssets().call().await.unwrap() > U256::from(99u8) * e18);
    tx!(p, vault.acceptValuation());
    let total = vault.totalAssets().call().await.unwrap();
    assert_eq!(total, U256::from(90u8) * e18);
    let supply = vault.totalSupply().call().await.unwrap();
    // navPerShare = (totalAssets + 1) * 1e24 / (totalSupply + 1e6), rounded down.
    let want = (total + U256::from(1u8)) * e24 / (supply + U256::from(1_000_000u32));
    let nav = vault.navPerShare().call().await.unwrap();
    assert_eq!(nav, want);
    assert!(
        nav < e18 && nav > nav_down - U256::from(1_000_000u32),
        "{nav}"
    );
    assert_eq!(oracle.price().call().await.unwrap(), nav_down * pow10(12));
    assert_eq!(
        market.borrowLimit(collateral).call().await.unwrap(),
        U256::from(72u8) * e18
    );

    // A gain after 36.5 days: raw assets 105 AID, but the growth cap (20 %/year) lets only ~2 %
    // through; the NAV rises to min(raw, cap).
    warp(&p, 36 * 86_400 + 43_200).await;
    let (r, s) = push(e18, U256::from(55u8) * e18, now(&p).await);
    publish(&p, oracle_addr, &r, &s).await.unwrap();
    let raw = vault.rawTotalAssets().call().await.unwrap();
    let cap = vault.capAssets().call().await.unwrap();
    assert_eq!(raw, U256::from(105u8) * e18);
    let total_up = vault.totalAssets().call().await.unwrap();
    assert_eq!(total_up, raw.min(cap));
    assert!(total_up > total, "NAV rose: {total_up} > {total}");
    let nav_up = vault.navPerShare().call().await.unwrap();
    assert!(nav_up > nav, "{nav_up} > {nav}");
    assert_eq!(
        market.borrowLimit(collateral).call().await.unwrap(),
        U256::from(80u8) * e18
    );
}
