//! `gaib deploy` on a real anvil, and the README's "From a run to the chain" block run verbatim
//! (parsed out of README.md, so the README cannot drift from what works). Skipped with a note
//! when anvil is not installed (the README block also uses cast, installed next to it); fails
//! under `CI`.

mod common;

use common::{gaib_in, readme_chain_tools, root, run_readme_block, text};
use gaib_contracts::alloy::primitives::{Address, U256};
use gaib_contracts::alloy::providers::{DynProvider, Provider};
use gaib_contracts::bindings::aid::AID;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::bindings::said::SAID;
use gaib_contracts::devnet::{Anvil, DEV_KEY};
use gaib_contracts::{provider_with_sender, Deployment, ReportSigner, SignedReport};
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Anvil's dev account #1 (the second signer of deployments/anvil.toml).
const DEV_KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// `gaib deploy --rpc RPC --key-file KEY --config CONFIG --out-dir OUT_DIR`, run in `cwd`.
fn deploy(rpc: &str, key: &Path, config: &Path, out_dir: &str, cwd: &Path) -> Output {
    gaib_in(
        &[
            "deploy",
            "--rpc",
            rpc,
            "--key-file",
            key.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--out-dir",
            out_dir,
        ],
        cwd,
    )
}

fn key_file(dir: &Path, name: &str, key: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, key).unwrap();
    p
}

fn copy_config(to: &Path) -> PathBuf {
    let p = to.join("anvil.toml");
    std::fs::copy(root().join("deployments/anvil.toml"), &p).unwrap();
    p
}

#[test]
fn readme_chain_section_runs_verbatim() {
    let Some(tools) = readme_chain_tools() else {
        return;
    };
    let (tmp, out) = run_readme_block(
        "From a run to the chain",
        "anvil.toml",
        tools,
        "echo \"@@round $(cast call $ORACLE 'latestRound()(uint64)')\"\n",
        600,
    );
    let t = tmp.path();
    let stdout = text(&out.stdout);

    // The record: every contract, its constructor arguments, the setup calls.
    let d: Deployment =
        serde_json::from_str(&std::fs::read_to_string(t.join("deployments/31337.json")).unwrap())
            .unwrap();
    assert_eq!(d.chain_id, 31337);
    let me = ReportSigner::from_hex(DEV_KEY, "t").unwrap().address();
    assert_eq!(d.deployer, me);
    for c in [
        "TestStablecoin",
        "AID",
        "AIDMinter",
        "ValuationOracle",
        "SAID",
        "LendingMarket",
        "RevenueRouter",
    ] {
        assert!(
            d.contracts.contains_key(c),
            "{c} in {:?}",
            d.contracts.keys()
        );
    }
    let args = &d.contracts["ValuationOracle"].constructor_args;
    assert_eq!(args["quorum"], 2);
    assert_eq!(args["signers"].as_array().unwrap().len(), 2);
    assert!(d
        .setup
        .iter()
        .any(|s| s.call == "ValuationOracle.setRateLimits(2000, 3600)"));
    for call in [
        "ValuationOracle.setMaxMarkdownBpsPerDay(1000)",
        "SAID.setMaxNavDropBpsPerDay(1000)",
    ] {
        assert!(d.setup.iter().any(|s| s.call == call), "{call} not run");
    }

    // Signer 1's saved report carries one signature; the chain holds round 1 at its NAV.
    let saved =
        SignedReport::from_json(&std::fs::read_to_string(t.join("out/q4/report.json")).unwrap())
            .unwrap();
    assert_eq!(saved.signatures.len(), 1);
    assert_eq!(saved.report.round, 1);
    assert!(
        stdout.contains("eip712_digest"),
        "the dry run printed the report"
    );
    assert!(stdout.contains("published round 1"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let round_line = lines.iter().position(|l| l.starts_with("@@round")).unwrap();
    assert_eq!(lines[round_line].trim(), "@@round 1");
    let price: U256 = lines[round_line - 1]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        price,
        saved.report.nav_per_share * U256::from(1_000_000_000_000u64)
    );
}

/// A deployment on a fresh anvil (random port) sets every configured parameter on chain.
#[test]
fn deploy_sets_every_parameter_on_chain() {
    let Some(anvil) = Anvil::for_tests() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let key = key_file(t, "k", DEV_KEY);
    let config = copy_config(t);
    let text_cfg = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "# guardian = \"0x…\"",
            "guardian = \"0x00000000000000000000000000000000000000aa\"",
        )
        .replace("[revenue_router]\n", "");
    std::fs::write(&config, text_cfg).unwrap();
    let url = anvil.url();
    let o = deploy(&url, &key, &config, "rec", t);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("ValuationOracle"));
    let d: Deployment =
        serde_json::from_str(&std::fs::read_to_string(t.join("rec/31337.json")).unwrap()).unwrap();
    assert!(!d.contracts.contains_key("RevenueRouter"), "disabled");

    let me = ReportSigner::from_hex(DEV_KEY, "t").unwrap();
    let p = provider_with_sender(url.parse().unwrap(), &me);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let oracle = ValuationOracle::new(d.address("ValuationOracle").unwrap(), &p);
        assert_eq!(oracle.quorum().call().await.unwrap(), U256::from(2u8));
        assert_eq!(oracle.maxAge().call().await.unwrap(), 172_800);
        assert_eq!(oracle.maxDeviationBps().call().await.unwrap(), 500);
        assert_eq!(oracle.maxGrowthBpsPerYear().call().await.unwrap(), 2_000);
        assert_eq!(oracle.minReportInterval().call().await.unwrap(), 3_600);
        assert_eq!(oracle.stalePriceDecay().call().await.unwrap(), 604_800);
        let signer2 = ReportSigner::from_hex(DEV_KEY_1, "t").unwrap().address();
        assert!(oracle.isSigner(me.address()).call().await.unwrap());
        assert!(oracle.isSigner(signer2).call().await.unwrap());
        let guardian_role = oracle.GUARDIAN_ROLE().call().await.unwrap();
        assert!(oracle
            .hasRole(guardian_role, Address::with_last_byte(0xaa))
            .call()
            .await
            .unwrap());
        let aid = AID::new(d.address("AID").unwrap(), &p);
        let minter_role = aid.MINTER_ROLE().call().await.unwrap();
        assert!(aid
            .hasRole(minter_role, d.address("AIDMinter").unwrap())
            .call()
            .await
            .unwrap());
        let vault = SAID::new(d.address("SAID").unwrap(), &p);
        assert_eq!(vault.oracle().call().await.unwrap(), *oracle.address());
        assert_eq!(
            vault.cycleLength().call().await.unwrap(),
            U256::from(2_592_000u32)
        );
    });

    // The record exists: a second deployment to the same directory needs --force.
    let again = deploy(&url, &key, &config, "rec", t);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("--force"));

    // An out-dir that cannot be created is refused before anything is sent.
    let nonce = |p: &DynProvider| {
        rt.block_on(p.get_transaction_count(me.address()).into_future())
            .unwrap()
    };
    let before = nonce(&p);
    let blocked = deploy(&url, &key, &config, "k/rec", t);
    assert_eq!(blocked.status.code(), Some(2), "{}", text(&blocked.stderr));
    assert!(
        text(&blocked.stderr).contains("out-dir"),
        "{}",
        text(&blocked.stderr)
    );
    assert_eq!(nonce(&p), before, "no transaction sent");
}

/// Bad input exits 2 naming the field, an unreachable node exits 1; nothing is written.
#[test]
fn bad_input_exits_naming_it_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let key = key_file(t, "k", DEV_KEY);
    let bad_key = key_file(t, "bad", "0x1234");
    let config = copy_config(t);
    let bad_config = t.join("bad.toml");
    std::fs::write(
        &bad_config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("quorum = 2", "quorum = 3"),
    )
    .unwrap();
    let typo = t.join("typo.toml");
    std::fs::write(
        &typo,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("max_age_s", "max_age"),
    )
    .unwrap();
    let run = |rpc: &str, key: &Path, cfg: &Path| deploy(rpc, key, cfg, "rec", t);
    let good_rpc = "http://127.0.0.1:9"; // nothing listens on the discard port
    let cases: [(&str, &Path, &Path, &str); 6] = [
        ("127.0.0.1:8545", &key, &config, "rpc"),
        (good_rpc, &t.join("missing.key"), &config, "missing.key"),
        (good_rpc, &bad_key, &config, "signing key"),
        (good_rpc, &key, &t.join("missing.toml"), "missing.toml"),
        (good_rpc, &key, &bad_config, "oracle.quorum"),
        (good_rpc, &key, &typo, "max_age"),
    ];
    for (rpc, k, c, field) in cases {
        let o = run(rpc, k, c);
        assert_eq!(o.status.code(), Some(2), "{field}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(field),
            "{field}: {}",
            text(&o.stderr)
        );
    }
    let o = run(good_rpc, &key, &config);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("eth_chainId"),
        "{}",
        text(&o.stderr)
    );
    assert!(!t.join("rec").exists(), "nothing written");
}
