//! `gaib deploy` deploys the MorphoOracleAdapter over the oracle it deployed; on chain the
//! adapter prices like the oracle while the report is fresh and reverts once it is stale, while
//! the oracle's own (decaying) price does not.

use crate::common::*;
use gaib_contracts::alloy::primitives::{Bytes, U256};
use gaib_contracts::alloy::providers::Provider;
use gaib_contracts::bindings::morpho_oracle_adapter::MorphoOracleAdapter::{
    self, MorphoOracleAdapterErrors,
};
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::deploy::deploy;
use gaib_contracts::{
    asset_id, decode_revert, publish, run_id_of_manifest, DeployConfig, Report, ReportSigner,
};

/// The README's configuration: anvil's dev accounts #0 and #1 sign (2 of 2), the adapter on.
const CONFIG: &str = include_str!("../../../deployments/anvil.toml");
/// anvil's public dev key #1 (the second signer of `deployments/anvil.toml`).
const DEV_KEY_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

#[tokio::test]
async fn deployed_morpho_adapter_prices_fresh_reports_and_fails_closed_when_stale() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let chain_id = p.get_chain_id().await.unwrap();
    let me = deployer();
    let config = DeployConfig::from_toml(CONFIG, "deployments/anvil.toml").unwrap();
    let d = deploy(&p, &me, &config).await.unwrap();
    let oracle_addr = d.address("ValuationOracle").unwrap();
    let adapter_addr = d.address("MorphoOracleAdapter").expect("adapter deployed");
    assert_eq!(
        d.contracts["MorphoOracleAdapter"].constructor_args["source"],
        serde_json::to_value(oracle_addr).unwrap()
    );
    let adapter = MorphoOracleAdapter::new(adapter_addr, &p);
    let oracle = ValuationOracle::new(oracle_addr, &p);
    assert_eq!(adapter.source().call().await.unwrap(), oracle_addr);
    let adapter_price = || async {
        adapter
            .price()
            .call()
            .await
            .map_err(|e| decode_revert::<MorphoOracleAdapterErrors>(e, "MorphoOracleAdapter"))
    };
    assert_revert(
        adapter_price().await,
        "OracleNotFresh",
        "before the first report",
    );

    // Round 1, valid for a day: the adapter's price is the oracle's, NAV * 10^12 (sAID in AID).
    let nav = U256::from(1_050_000_000_000_000_000u64);
    let at = now(&p).await;
    let r = Report {
        asset: asset_id("sAID"),
        nav_per_share: nav,
        deployed_value: U256::ZERO,
        haircut_bps: 1_000,
        ltv_bps: 8_000,
        observed_at: at,
        valid_until: at + 86_400,
        run_id: run_id_of_manifest(b"morpho adapter"),
        round: 1,
    };
    let second = ReportSigner::from_hex(DEV_KEY_1, "dev key 1").unwrap();
    let sigs: Vec<Bytes> = [&me, &second]
        .iter()
        .map(|k| Bytes::from(k.sign_report(&r, chain_id, oracle_addr).unwrap().to_vec()))
        .collect();
    publish(&p, oracle_addr, &r, &sigs).await.unwrap();
    assert_eq!(oracle.price().call().await.unwrap(), nav * pow10(12));
    assert_eq!(adapter_price().await.unwrap(), nav * pow10(12));

    // Past validUntil: the oracle's price only starts to decay, the adapter reverts.
    warp(&p, r.valid_until + 1 - now(&p).await).await;
    assert!(!oracle.isFresh().call().await.unwrap());
    assert!(
        oracle.price().call().await.unwrap()
            > nav * pow10(12) * U256::from(99u8) / U256::from(100u8)
    );
    assert_revert(adapter_price().await, "OracleNotFresh", "after validUntil");
}
