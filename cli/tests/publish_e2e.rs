//! From a run to the chain, end to end: `gaib run` on the sample, contracts deployed on a real
//! anvil (oracle with the test key as its one signer, AID + minter, sAID, LendingMarket),
//! `gaib publish --from-run`, and the oracle, the vault and the lending market read back exactly
//! what the run computed; a second run (another seed, a changed vault) moves them. Skipped with a
//! note when anvil is not installed; fails under `CI`.

mod common;

use common::{gaib_in, root, text};
use gaib_contracts::alloy::primitives::U256;
use gaib_contracts::bindings::lending_market::LendingMarket;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::bindings::said::SAID;
use gaib_contracts::devnet::{deploy_dev_stack, Anvil, DevStack, DEV_KEY};
use gaib_contracts::{
    asset_id, decimal_to_wei, f64_to_decimal, run_id_of_manifest, Report, ReportSigner,
    SignedReport,
};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Oracle maxAge, seconds (2 days).
const MAX_AGE: u64 = 2 * 86_400;
/// Oracle deviation cap: 10 % (the second run moves the NAV by about 6 %).
const MAX_DEVIATION_BPS: u16 = 1_000;

fn pow10(n: u64) -> U256 {
    U256::from(10u8).pow(U256::from(n))
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `gaib run FILE --paths 2000 --seed SEED --out DIR`.
fn run(file: &Path, seed: u64, out: &Path) {
    let o = gaib_in(
        &[
            "run",
            file.to_str().unwrap(),
            "--paths",
            "2000",
            "--seed",
            &seed.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &root(),
    );
    ok(&o, "gaib run");
}

/// What the run computed, converted exactly as documented: (NAV per share in wei, haircut bps
/// rounded up, LTV bps rounded down, created_unix_s, SHA-256 of manifest.json).
fn expected(dir: &Path) -> (U256, u16, u16, u64, gaib_contracts::alloy::primitives::B256) {
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let v = &results["valuation"]["vault"];
    let nav = decimal_to_wei(
        f64_to_decimal(v["nav0_per_share_usd"].as_f64().unwrap(), "nav").unwrap(),
        "nav",
    )
    .unwrap();
    let haircut = gaib_runs::percent_to_bps(v["haircut_pct"].as_f64().unwrap(), true, "h").unwrap();
    let ltv =
        gaib_runs::percent_to_bps(v["recommended_ltv_pct"].as_f64().unwrap(), false, "l").unwrap();
    let manifest_bytes = std::fs::read(dir.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_bytes).unwrap();
    (
        nav,
        haircut,
        ltv,
        manifest["created_unix_s"].as_u64().unwrap(),
        run_id_of_manifest(&manifest_bytes),
    )
}

/// The sample's vault shares and liquidity buffer (from the portfolio file, in wei).
fn shares_and_buffer(file: &Path) -> (U256, U256) {
    let text = std::fs::read_to_string(file).unwrap();
    let dir = file.parent().unwrap().to_path_buf();
    let loaded = gaib_engine::load_portfolio(&text, "p", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap();
    let v = loaded.portfolio.vault.unwrap();
    (
        decimal_to_wei(v.shares, "shares").unwrap(),
        decimal_to_wei(v.liquidity_buffer, "buffer").unwrap(),
    )
}

/// Idle AID donated to the vault (so its raw NAV is idle + the published deployed value).
fn idle() -> U256 {
    U256::from(1_000u32) * pow10(18)
}

/// sAID collateral posted in the borrow-limit checks: 100 whole shares (24 decimals).
fn collateral() -> U256 {
    U256::from(100u8) * pow10(24)
}

/// The contracts, by the library's deployment path.
async fn deploy(anvil: &Anvil, me: &ReportSigner) -> DevStack {
    deploy_dev_stack(anvil, me, MAX_AGE, MAX_DEVIATION_BPS, idle())
        .await
        .unwrap()
}

/// Asserts that the oracle, the vault and the market show the report `r`, which must be what
/// the run in `dir` computed.
async fn check_on_chain(c: &DevStack, dir: &Path, portfolio: &Path, r: &Report) {
    let (nav, haircut, ltv, created, run_id) = expected(dir);
    assert_eq!(r.nav_per_share, nav);
    assert_eq!((r.haircut_bps, r.ltv_bps), (haircut, ltv));
    assert_eq!(r.observed_at, created);
    assert_eq!(r.valid_until, created + 86_400);
    assert_eq!(r.run_id, run_id);
    assert_eq!(r.asset, asset_id("sAID"));
    // deployed + buffer = NAV0 = NAV0/share × shares (up to the f64 NAV's 17 digits).
    let (shares, buffer) = shares_and_buffer(portfolio);
    let total = r.deployed_value + buffer;
    let implied = nav * shares / pow10(18);
    let diff = if total > implied {
        total - implied
    } else {
        implied - total
    };
    assert!(diff * pow10(12) <= total, "{total} vs {implied}");

    let o = ValuationOracle::new(c.oracle, &c.provider);
    let on_chain: Report = o.latestReport().call().await.unwrap().into();
    assert_eq!(&on_chain, r);
    let rd = o.latestRoundData().call().await.unwrap();
    assert_eq!(u64::try_from(rd._0).unwrap(), r.round);
    assert_eq!(rd._1.into_raw(), nav);
    assert_eq!(rd._2, U256::from(created));
    assert_eq!(rd._3, U256::from(created));
    assert_eq!(u64::try_from(rd._4).unwrap(), r.round);
    // Morpho price: NAV × 10^(36 + 18 − 24) / 1e18 = NAV × 1e12.
    let price = o.price().call().await.unwrap();
    assert_eq!(price, nav * pow10(12));
    assert_eq!(o.ltvBps().call().await.unwrap(), ltv);

    let vault = SAID::new(c.vault, &c.provider);
    assert_eq!(o.deployedValue().call().await.unwrap(), r.deployed_value);
    assert_eq!(
        vault.rawTotalAssets().call().await.unwrap(),
        idle() + r.deployed_value
    );

    let market = LendingMarket::new(c.market, &c.provider);
    let want = collateral() * price / pow10(36) * U256::from(ltv) / U256::from(10_000u16);
    assert_eq!(market.borrowLimit(collateral()).call().await.unwrap(), want);
}

fn publish(dir: &Path, args: &[&str], cwd: &Path) -> Output {
    let mut all = vec!["publish", "--from-run", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    gaib_in(&all, cwd)
}

/// The run directory's `created_unix_s` (seconds since the epoch).
fn manifest_created(dir: &Path) -> u64 {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    m["created_unix_s"].as_u64().unwrap()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn read_report(path: &Path) -> Report {
    SignedReport::from_json(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .report
}

#[test]
fn a_run_published_moves_the_oracle_vault_and_market() {
    let Some(anvil) = Anvil::for_tests() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sample = root().join("data/portfolios/sample.toml");
    let run1 = t.join("run1");
    run(&sample, 1, &run1);

    let me = ReportSigner::from_hex(DEV_KEY, "test").unwrap();
    let key = t.join("key");
    std::fs::write(&key, DEV_KEY).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let chain = rt.block_on(deploy(&anvil, &me));
    let url = anvil.url();
    let oracle = chain.oracle.to_string();
    let common: Vec<&str> = vec![
        "--rpc",
        &url,
        "--oracle",
        &oracle,
        "--key-file",
        key.to_str().unwrap(),
    ];

    // Round 1 from the first run; the saved report carries the key's signature.
    let saved1 = t.join("report1.json");
    let mut a = common.clone();
    a.extend(["--round", "1", "--write-report", saved1.to_str().unwrap()]);
    let out = ok(&publish(&run1, &a, t), "publish run 1");
    assert!(out.contains("published round 1"), "{out}");
    let signed = SignedReport::from_json(&std::fs::read_to_string(&saved1).unwrap()).unwrap();
    assert_eq!(signed.signatures.len(), 1);
    let r1 = signed.report;
    gaib_contracts::verify_report_signature(
        &r1,
        chain.chain_id,
        chain.oracle,
        &signed.signatures[0],
        me.address(),
    )
    .unwrap();
    rt.block_on(check_on_chain(&chain, &run1, &sample, &r1));

    // A second run: another seed, 5 % less of tranche A and a higher liquidation incentive.
    let second_dir = t.join("second");
    std::fs::create_dir(&second_dir).unwrap();
    std::fs::copy(
        root().join("data/portfolios/sample_loan_tape.csv"),
        second_dir.join("sample_loan_tape.csv"),
    )
    .unwrap();
    let sample_text = std::fs::read_to_string(&sample).unwrap();
    let changed = sample_text
        .replace(
            "tranche_id = \"A\", fraction = 0.5 }",
            "tranche_id = \"A\", fraction = 0.45 }",
        )
        .replace(
            "liquidation_incentive = 0.05",
            "liquidation_incentive = 0.08",
        );
    assert_ne!(changed, sample_text, "the sample's vault section changed");
    let second = second_dir.join("second.toml");
    std::fs::write(&second, changed).unwrap();
    // The oracle takes observation times strictly increasing, and a report is observed at its
    // run's creation second: the second run must start in a later second than the first.
    let created1 = manifest_created(&run1);
    while unix_now() <= created1 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let run2 = t.join("run2");
    run(&second, 2, &run2);

    // Dry run with --round auto: the next round and the oracle's own digest, nothing sent.
    let mut a = common.clone();
    a.extend(["--round", "auto", "--dry-run"]);
    let out = ok(&publish(&run2, &a, t), "dry run");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    let dry: Report = serde_json::from_value(shown["report"].clone()).unwrap();
    assert_eq!(dry.round, 2);
    let digest = rt.block_on(async {
        ValuationOracle::new(chain.oracle, &chain.provider)
            .digest(dry.to_sol())
            .call()
            .await
            .unwrap()
    });
    assert_eq!(shown["eip712_digest"].as_str().unwrap(), digest.to_string());
    assert_eq!(
        rt.block_on(async {
            ValuationOracle::new(chain.oracle, &chain.provider)
                .latestRound()
                .call()
                .await
                .unwrap()
        }),
        1,
        "a dry run sends nothing"
    );

    let saved2 = t.join("report2.json");
    let mut a = common.clone();
    a.extend([
        "--round",
        "auto",
        "--write-report",
        saved2.to_str().unwrap(),
    ]);
    // Run 2 marks the NAV down by about 4 % seconds after run 1: beyond the oracle's mark-down
    // limit (10 % per day of observation time), so the signers alone are refused (exit 1, the
    // decoded reason, nothing sent) ...
    let o = publish(&run2, &a, t);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("MarkdownTooFast"),
        "{}",
        text(&o.stderr)
    );
    // ... and the guardian's pre-approval of the report's digest is the fast path for a genuine
    // large mark-down. (A fresh provider: `gaib publish` sent from the same key meanwhile.)
    let guardian = gaib_contracts::provider_with_sender(url.parse().unwrap(), &me);
    rt.block_on(async {
        ValuationOracle::new(chain.oracle, &guardian)
            .approveReport(digest, true)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
    });
    let out = ok(&publish(&run2, &a, t), "publish run 2");
    assert!(out.contains("published round 2"), "{out}");
    let r2 = read_report(&saved2);
    assert_eq!(r2, dry);
    rt.block_on(check_on_chain(&chain, &run2, &second, &r2));
    assert!(r2.nav_per_share < r1.nav_per_share, "the NAV moved down");
    assert!(r2.deployed_value < r1.deployed_value);
    assert!(r2.ltv_bps < r1.ltv_bps, "{} < {}", r2.ltv_bps, r1.ltv_bps);
}

/// Bad run directories exit 2 naming the problem, before any network access.
#[test]
fn bad_run_directories_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sample = root().join("data/portfolios/sample.toml");
    let good = t.join("good");
    run(&sample, 3, &good);
    let oracle = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    let dry = ["--oracle", oracle, "--chain-id", "31337", "--dry-run"];

    // A dry run needs no node and no key.
    let mut a = dry.to_vec();
    a.extend(["--round", "7"]);
    let out = ok(&publish(&good, &a, t), "offline dry run");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["report"]["round"], 7);

    let code = |o: &Output| o.status.code();
    // results.json tampered with.
    let tampered = t.join("tampered");
    std::fs::create_dir(&tampered).unwrap();
    for f in ["manifest.json", "results.json"] {
        std::fs::copy(good.join(f), tampered.join(f)).unwrap();
    }
    std::fs::create_dir(tampered.join("inputs")).unwrap();
    for e in std::fs::read_dir(good.join("inputs")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tampered.join("inputs").join(e.file_name())).unwrap();
    }
    let mut r = std::fs::read(tampered.join("results.json")).unwrap();
    r.push(b' ');
    std::fs::write(tampered.join("results.json"), r).unwrap();
    let o = publish(&tampered, &a, t);
    assert_eq!(code(&o), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("results.json"),
        "{}",
        text(&o.stderr)
    );

    // A portfolio without a vault.
    let novault_dir = t.join("novault");
    std::fs::create_dir(&novault_dir).unwrap();
    std::fs::copy(
        root().join("data/portfolios/sample_loan_tape.csv"),
        novault_dir.join("sample_loan_tape.csv"),
    )
    .unwrap();
    let s = std::fs::read_to_string(&sample).unwrap();
    let novault = novault_dir.join("novault.toml");
    std::fs::write(&novault, &s[..s.find("[vault]").unwrap()]).unwrap();
    let run0 = t.join("run0");
    run(&novault, 1, &run0);
    let o = publish(&run0, &a, t);
    assert_eq!(code(&o), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no vault"), "{}", text(&o.stderr));

    // Missing --round; --round auto without a node; --report with --from-run; a missing dir.
    let o = publish(&good, &dry, t);
    assert_eq!(code(&o), Some(2));
    assert!(text(&o.stderr).contains("--round"), "{}", text(&o.stderr));
    let mut b = dry.to_vec();
    b.extend(["--round", "auto"]);
    let o = publish(&good, &b, t);
    assert_eq!(code(&o), Some(2));
    assert!(text(&o.stderr).contains("--rpc"), "{}", text(&o.stderr));
    let mut b = a.clone();
    b.extend(["--report", "r.json"]);
    assert_eq!(code(&publish(&good, &b, t)), Some(2));
    let o = publish(&PathBuf::from("/nonexistent/run"), &a, t);
    assert_eq!(code(&o), Some(2));
    assert!(
        text(&o.stderr).contains("/nonexistent/run: no such directory or file"),
        "{}",
        text(&o.stderr)
    );
}
