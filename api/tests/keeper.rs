//! The chain side of the service: signed reports at `/v1/reports/{asset}/latest` and the
//! keeper. End to end on a real anvil (skipped with a note when anvil is not installed; fails
//! under `CI`): serve → POST the sample → simulate → report → the keeper publishes → the
//! oracle's price, sAID's NAV and the lending market's borrow limit follow. And without a chain:
//! a keeper whose node is down records the failure, retries with backoff, and shows it in
//! /metrics and on the dashboard. And the keeper's tranche prices: a tranched pool deployed by
//! `deploy_with_pool`, its prices published from the run for the pool's period, recorded and
//! served at `/v1/tranche-publications/{pool}`.

mod common;

use common::{problem, root, Fixture};
use gaib_api::config::ChainConfig;
use gaib_contracts::alloy::primitives::{Address, Bytes, U256};
use gaib_contracts::alloy::providers::Provider;
use gaib_contracts::bindings::aid::AID;
use gaib_contracts::bindings::aid_minter::AIDMinter;
use gaib_contracts::bindings::lending_market::LendingMarket;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::bindings::said::SAID;
use gaib_contracts::bindings::test_stablecoin::TestStablecoin;
use gaib_contracts::bindings::tranche_oracle::TrancheOracle;
use gaib_contracts::bindings::tranched_pool::TranchedPool;
use gaib_contracts::deploy::{deploy_with_pool, DeployConfig};
use gaib_contracts::devnet::{deploy_dev_stack, Anvil, DevStack, DEV_KEY};
use gaib_contracts::{provider_with_sender, Report, ReportSigner};
use serde_json::json;
use std::time::{Duration, Instant};

fn pow10(n: u64) -> U256 {
    U256::from(10u8).pow(U256::from(n))
}

/// The sample portfolio with its loan tape's deals inline, as JSON (a body cannot reference
/// a file).
fn sample_json() -> Vec<u8> {
    let dir = root().join("data/portfolios");
    let text = std::fs::read_to_string(dir.join("sample.toml")).unwrap();
    let loaded = gaib_engine::load_portfolio(&text, "sample.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap();
    serde_json::to_vec_pretty(&loaded.portfolio).unwrap()
}

/// Waits for a sent transaction's receipt and asserts it succeeded.
async fn mined(
    r: gaib_contracts::alloy::providers::PendingTransactionBuilder<
        gaib_contracts::alloy::network::Ethereum,
    >,
) {
    assert!(r.get_receipt().await.unwrap().status());
}

fn idle() -> U256 {
    U256::from(1_000u32) * pow10(18)
}

fn collateral() -> U256 {
    U256::from(100u8) * pow10(24)
}

/// The contracts, by the library's deployment path.
async fn deploy(anvil: &Anvil, me: &ReportSigner) -> DevStack {
    deploy_dev_stack(anvil, me, 2 * 86_400, 1_000, idle())
        .await
        .unwrap()
}

fn chain_config(rpc: &str, oracle: &str, key_file: std::path::PathBuf) -> ChainConfig {
    ChainConfig {
        rpc: Some(rpc.into()),
        chain_id: None,
        oracle: oracle.into(),
        key_file: Some(key_file),
        key_env: None,
        publish: true,
        poll_s: 1,
        max_backoff_s: 2,
        tranche_oracles: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_publishes_the_sample_and_the_oracle_vault_and_market_follow() {
    let Some(anvil) = tokio::task::spawn_blocking(Anvil::for_tests).await.unwrap() else {
        return;
    };
    let me = ReportSigner::from_hex(DEV_KEY, "test").unwrap();
    let c = deploy(&anvil, &me).await;
    let keydir = tempfile::tempdir().unwrap();
    let key_file = keydir.path().join("key");
    std::fs::write(&key_file, DEV_KEY).unwrap();
    let market = LendingMarket::new(c.market, &c.provider);
    let before = market
        .borrowLimit(collateral())
        .call()
        .await
        .unwrap_or(U256::ZERO);

    let url = anvil.url();
    let oracle = c.oracle.to_string();
    let f =
        Fixture::start_with(|cfg| cfg.chain = Some(chain_config(&url, &oracle, key_file))).await;
    let r = f.post("/v1/portfolios", sample_json()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let pid: serde_json::Value = r.json().await.unwrap();
    let id = f
        .submit(json!({"portfolio_id": pid["id"], "paths": 2000, "seed": 1}))
        .await;
    assert_eq!(f.wait_done(&id).await["state"], "succeeded");

    // The keeper publishes within a few polls.
    let t = Instant::now();
    let answer = loop {
        let a: serde_json::Value = f.get_json("/v1/reports/sAID/latest").await;
        if a["publication"]["status"] == "published" {
            break a;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "not published: {a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let report: Report = serde_json::from_value(answer["report"].clone()).unwrap();
    assert_eq!(report.round, 1);
    assert_eq!(answer["job_id"], id.as_str());
    assert_eq!(answer["signer"], me.address().to_string());
    let chain_id = answer["chain_id"].as_u64().unwrap();
    let sig: Bytes = answer["signatures"][0].as_str().unwrap().parse().unwrap();
    gaib_contracts::verify_report_signature(&report, chain_id, c.oracle, &sig, me.address())
        .unwrap();
    assert_eq!(
        answer["eip712_digest"],
        report.digest(chain_id, c.oracle).to_string()
    );
    let v: serde_json::Value = f.get_json("/v1/valuations/sAID").await;
    assert_eq!(
        format!("{:x}", report.run_id),
        v["run_id"].as_str().unwrap()
    );
    assert!(!answer.to_string().contains(&DEV_KEY[2..]), "the key leaks");

    // On chain: the oracle holds the report; sAID's assets and the borrow limit follow.
    let o = ValuationOracle::new(c.oracle, &c.provider);
    let on_chain: Report = o.latestReport().call().await.unwrap().into();
    assert_eq!(on_chain, report);
    let price = o.price().call().await.unwrap();
    assert_eq!(price, report.nav_per_share * pow10(12));
    let vault = SAID::new(c.vault, &c.provider);
    assert_eq!(
        vault.rawTotalAssets().call().await.unwrap(),
        idle() + report.deployed_value
    );
    let after = market.borrowLimit(collateral()).call().await.unwrap();
    let want =
        collateral() * price / pow10(36) * U256::from(report.ltv_bps) / U256::from(10_000u16);
    assert_eq!(after, want);
    assert_ne!(after, before, "the borrow limit moves");

    let m = f.get("/metrics").await.text().await.unwrap();
    assert!(m.contains("gaib_publish_total{outcome=\"ok\"} 1"), "{m}");
    let tx = answer["publication"]["tx_hash"].as_str().unwrap();
    let receipt = c
        .provider
        .get_transaction_receipt(tx.parse().unwrap())
        .await
        .unwrap()
        .expect("the recorded transaction exists");
    assert!(receipt.status());
    let page = f.get("/").await.text().await.unwrap();
    assert!(page.contains(&format!("round 1 · tx {tx}")), "dashboard");
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_publication_is_retried_with_backoff_and_visible() {
    let keydir = tempfile::tempdir().unwrap();
    let key_file = keydir.path().join("key");
    std::fs::write(&key_file, DEV_KEY).unwrap();
    // A closed port: every attempt fails.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rpc = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut chain = chain_config(&rpc, &format!("{:?}", Address::repeat_byte(7)), key_file);
    chain.chain_id = Some(31_337);
    let f = Fixture::start_with(|cfg| cfg.chain = Some(chain)).await;
    let pid = f.post_small().await;
    let id = f
        .submit(json!({"portfolio_id": pid, "paths": 200, "seed": 1}))
        .await;
    assert_eq!(f.wait_done(&id).await["state"], "succeeded");
    let t = Instant::now();
    let p = loop {
        let a: serde_json::Value = f.get_json("/v1/reports/sAID/latest").await;
        if a["publication"]["attempts"].as_i64().unwrap_or(0) >= 2 {
            break a["publication"].clone();
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no retry: {a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(p["status"], "failed");
    assert!(!p["error"].as_str().unwrap().is_empty());
    assert!(p["tx_hash"].is_null());
    let m = f.get("/metrics").await.text().await.unwrap();
    let failed: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("gaib_publish_total{outcome=\"failed\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(failed >= 2, "{m}");
    let page = f.get("/").await.text().await.unwrap();
    assert!(
        page.contains("failed ") && page.contains("times (retry"),
        "dashboard"
    );
    // Without a [chain] section there are no reports.
    let plain = Fixture::start().await;
    problem(plain.get("/v1/reports/sAID/latest").await, 404).await;
    plain.service.shutdown().await;
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_publishes_a_tranched_pools_prices_for_the_pools_period() {
    let Some(anvil) = tokio::task::spawn_blocking(Anvil::for_tests).await.unwrap() else {
        return;
    };
    let me = ReportSigner::from_hex(DEV_KEY, "test").unwrap();
    let p = provider_with_sender(anvil.url().parse().unwrap(), &me);
    // Pool P1 of the small portfolio as a TranchedPool with its TrancheOracle (quorum 1: the
    // service's key); the pool is not issued, so it is at period 0.
    let dir = root().join("tests/fixtures/valid");
    let text = std::fs::read_to_string(dir.join("small.toml")).unwrap();
    let loaded = gaib_engine::load_portfolio(&text, "small.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap();
    let pool = loaded
        .portfolio
        .pools
        .iter()
        .find(|p| p.id == "P1")
        .unwrap();
    let config = DeployConfig::from_toml(
        &format!(
            r#"
[aid.test_stablecoin]
name = "Test USD"
symbol = "tUSD"
decimals = 6
[oracle]
signers = ["{}"]
quorum = 1
max_age_s = 172800
max_deviation_bps = 500
[tranched_pool]
portfolio = "tests/fixtures/valid/small.toml"
pool = "P1"
legal_final_period = 12
servicer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
"#,
            me.address()
        ),
        "test",
    )
    .unwrap();
    let d = deploy_with_pool(&p, &me, &config, Some(pool))
        .await
        .unwrap();
    let toracle = d.address("TrancheOracle").unwrap();
    let keydir = tempfile::tempdir().unwrap();
    let key_file = keydir.path().join("key");
    std::fs::write(&key_file, DEV_KEY).unwrap();
    let mut chain = chain_config(
        &anvil.url(),
        &d.address("ValuationOracle").unwrap().to_string(),
        key_file,
    );
    chain.tranche_oracles = vec![toracle.to_string()];
    let f = Fixture::start_with(|cfg| cfg.chain = Some(chain)).await;
    problem(f.get("/v1/tranche-publications/P1").await, 404).await;
    let pid = f.post_small().await;
    let id = f
        .submit(json!({"portfolio_id": pid, "paths": 200, "seed": 1}))
        .await;
    assert_eq!(f.wait_done(&id).await["state"], "succeeded");

    let t = Instant::now();
    let record = loop {
        let r = f.get("/v1/tranche-publications/P1").await;
        if r.status() == 200 {
            let a: serde_json::Value = r.json().await.unwrap();
            if a["publications"][0]["status"] == "published" {
                break a["publications"][0].clone();
            }
            assert!(t.elapsed() < Duration::from_secs(60), "not published: {a}");
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no record");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(record["job_id"], id.as_str());
    assert_eq!(record["pool"], "P1");
    assert_eq!(record["period"], 0);
    assert_eq!(record["round"], 1);
    assert_eq!(record["oracle"], toracle.to_string());
    let prices: Vec<U256> = record["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(prices.len(), pool.tranches.len());
    // On chain: the oracle holds exactly the recorded prices, for period 0, from this run.
    let o = TrancheOracle::new(toracle, &p);
    let on_chain = o.latestTranchePrices().call().await.unwrap();
    assert_eq!(on_chain.prices, prices);
    assert_eq!(on_chain.period, 0);
    assert_eq!(on_chain.round, 1);
    assert_eq!(
        format!("{:x}", on_chain.runId),
        record["run_id"].as_str().unwrap()
    );
    assert_eq!(o.tranchePrice(U256::ZERO).call().await.unwrap(), prices[0]);
    let tx = record["tx_hash"].as_str().unwrap();
    let receipt = p
        .get_transaction_receipt(tx.parse().unwrap())
        .await
        .unwrap()
        .expect("the recorded transaction exists");
    assert!(receipt.status());
    // Published once per (run, pool, period): later polls add nothing.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let a: serde_json::Value = f.get_json("/v1/tranche-publications/P1").await;
    assert_eq!(a["publications"].as_array().unwrap().len(), 1, "{a}");
    assert_eq!(o.latestTrancheRound().call().await.unwrap(), 1);
    problem(f.get("/v1/tranche-publications/NOPE").await, 404).await;

    // The pool issues (5.5 M test USD minted into AID, every tranche bought at par) and, 30 days
    // on, its servicer (anvil account #1) closes period 1. The run was observed before that
    // close, so it cannot price period 1: the keeper records it `stale` and publishes nothing
    // (the forge tests hold the oracle's own refusal of period-0 prices, WrongPeriod).
    let usd = U256::from(5_500_000u64);
    // a fresh provider: the keeper sent from the same account, so `p`'s cached nonce is behind
    let p = provider_with_sender(anvil.url().parse().unwrap(), &me);
    let stable = TestStablecoin::new(d.address("TestStablecoin").unwrap(), &p);
    let minter = d.address("AIDMinter").unwrap();
    let aid = AID::new(d.address("AID").unwrap(), &p);
    let tp = TranchedPool::new(d.address("TranchedPool").unwrap(), &p);
    let wait = mined;
    wait(
        stable
            .mint(me.address(), usd * pow10(6))
            .send()
            .await
            .unwrap(),
    )
    .await;
    wait(stable.approve(minter, U256::MAX).send().await.unwrap()).await;
    wait(
        AIDMinter::new(minter, &p)
            .mint(usd * pow10(6), me.address())
            .send()
            .await
            .unwrap(),
    )
    .await;
    wait(aid.approve(*tp.address(), U256::MAX).send().await.unwrap()).await;
    for (j, t) in pool.tranches.iter().enumerate() {
        let wei = U256::from(t.balance.to_string().parse::<u64>().unwrap()) * pow10(18);
        wait(
            tp.subscribe(U256::from(j), wei, me.address())
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
    wait(tp.closeIssue(me.address()).send().await.unwrap()).await;
    let _: serde_json::Value = p
        .raw_request("evm_increaseTime".into(), (30 * 86_400 + 1,))
        .await
        .unwrap();
    let servicer = ReportSigner::from_hex(
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "test",
    )
    .unwrap();
    let sp = provider_with_sender(anvil.url().parse().unwrap(), &servicer);
    let close = TranchedPool::new(*tp.address(), &sp)
        .closePeriod(U256::ZERO, U256::ZERO, U256::ZERO)
        .send()
        .await
        .unwrap();
    wait(close).await;
    let t = Instant::now();
    let stale = loop {
        let a: serde_json::Value = f.get_json("/v1/tranche-publications/P1").await;
        if a["publications"][0]["period"] == 1 {
            break a["publications"][0].clone();
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no period-1 record: {a}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(stale["status"], "stale", "{stale}");
    assert_eq!(stale["job_id"], id.as_str());
    assert!(stale["tx_hash"].is_null());
    assert!(
        stale["error"]
            .as_str()
            .unwrap()
            .contains("a newer run is needed"),
        "{stale}"
    );
    assert_eq!(o.latestTrancheRound().call().await.unwrap(), 1);
    assert!(!o.isTranchePriceFresh().call().await.unwrap());
    f.service.shutdown().await;
}
