//! The oracle accepts reports signed in Rust and rejects every tampered or out-of-rule one.

use crate::common::*;
use gaib_contracts::alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use gaib_contracts::alloy::providers::{DynProvider, Provider};
use gaib_contracts::alloy::sol_types::SolStruct;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::{
    asset_id, decode_oracle_error, domain, publish, run_id_of_manifest, sign_and_publish,
    ContractsError, Report, ReportSigner, SignedReport, REPORT_TYPE,
};

fn report(round: u64, nav: U256, deployed: U256, observed_at: u64) -> Report {
    Report {
        asset: asset_id("sAID"),
        nav_per_share: nav,
        deployed_value: deployed,
        haircut_bps: 1_000,
        ltv_bps: 8_000,
        observed_at,
        valid_until: observed_at + 86_400,
        run_id: run_id_of_manifest(format!("manifest {round}").as_bytes()),
        round,
    }
}

fn sign_with(r: &Report, keys: &[usize], chain_id: u64, oracle: Address) -> Vec<Bytes> {
    keys.iter()
        .map(|&i| Bytes::from(signer(i).sign_report(r, chain_id, oracle).unwrap().to_vec()))
        .collect()
}

/// `submit` as an eth_call (no state change), with reverts decoded.
async fn try_submit(
    p: &DynProvider,
    oracle: Address,
    r: &Report,
    sigs: &[Bytes],
) -> Result<(), ContractsError> {
    ValuationOracle::new(oracle, p)
        .submit(r.to_sol(), sigs.to_vec())
        .call()
        .await
        .map(|_| ())
        .map_err(decode_oracle_error)
}

#[tokio::test]
async fn rust_signed_report_is_accepted_and_every_tampering_rejected() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let chain_id = p.get_chain_id().await.unwrap();
    let oracle_addr = deploy_oracle(&p, 500).await;
    let oracle = ValuationOracle::new(oracle_addr, &p);
    let e18 = pow10(18);

    // The Rust EIP-712 type, domain and digest are the contract's.
    assert_eq!(
        oracle.REPORT_TYPEHASH().call().await.unwrap(),
        keccak256(REPORT_TYPE)
    );
    assert_eq!(
        oracle.domainSeparator().call().await.unwrap(),
        domain(chain_id, oracle_addr).separator()
    );
    let t1 = now(&p).await;
    let r1 = report(1, e18, U256::ZERO, t1);
    assert_eq!(
        oracle.digest(r1.to_sol()).call().await.unwrap(),
        r1.digest(chain_id, oracle_addr)
    );
    assert_eq!(
        oracle.structHash(r1.to_sol()).call().await.unwrap(),
        r1.to_sol().eip712_hash_struct()
    );

    // Nothing published yet: reads fail closed.
    assert_revert(
        oracle.price().call().await.map_err(decode_oracle_error),
        "NoReport",
        "price before any report",
    );

    // Quorum 3 of 5, signed in Rust, submitted through the library.
    let sigs = sign_with(&r1, &[0, 1, 2], chain_id, oracle_addr);
    let out = publish(&p, oracle_addr, &r1, &sigs)
        .await
        .expect("publish round 1");
    assert_eq!(out.round, 1);
    assert!(out.gas_used > 0);
    let rd = oracle.latestRoundData().call().await.unwrap();
    assert_eq!(
        rd._0,
        gaib_contracts::alloy::primitives::Uint::<80, 2>::from(1u8)
    );
    assert_eq!(U256::try_from(rd._1).unwrap(), e18);
    assert_eq!(rd._3, U256::from(t1));
    let scale = oracle.priceScale().call().await.unwrap();
    assert_eq!(scale, pow10(12), "10^(18 + 18 - 24)");
    assert_eq!(oracle.price().call().await.unwrap(), e18 * scale);
    assert_eq!(
        Report::from(oracle.latestReport().call().await.unwrap()),
        r1
    );

    // Round 2, 1 % up, a minute later: the untampered report passes once the growth cap allows
    // it (the default 20 %/year would allow 0.002 % in a minute: GrowthTooFast).
    warp(&p, 60).await;
    let t2 = now(&p).await;
    let fast = report(
        2,
        e18 * U256::from(101) / U256::from(100),
        U256::from(7u8) * e18,
        t2,
    );
    assert_revert(
        try_submit(
            &p,
            oracle_addr,
            &fast,
            &sign_with(&fast, &[0, 1, 2], chain_id, oracle_addr),
        )
        .await,
        "GrowthTooFast",
        "1 % in a minute at 20 %/year",
    );
    tx!(p, oracle.setRateLimits(u32::MAX, 0));
    // and the mark-down limit, which a tampered LTV (-1 bp a minute later) would hit before the
    // signatures are checked
    tx!(p, oracle.setMaxMarkdownBpsPerDay(u32::MAX));
    let good = report(
        2,
        e18 * U256::from(101) / U256::from(100),
        U256::from(7u8) * e18,
        t2,
    );
    let sigs = sign_with(&good, &[0, 1, 2], chain_id, oracle_addr);
    try_submit(&p, oracle_addr, &good, &sigs)
        .await
        .expect("untampered round 2 passes");
    // in any order and with more than the quorum
    try_submit(
        &p,
        oracle_addr,
        &good,
        &sign_with(&good, &[4, 2, 0, 3], chain_id, oracle_addr),
    )
    .await
    .expect("4 signatures in any order pass");

    // Each field changed after signing.
    type Tamper = (&'static str, fn(&mut Report), &'static str);
    let tampers: [Tamper; 9] = [
        ("asset", |r| r.asset = asset_id("other"), "WrongAsset"),
        (
            "nav_per_share",
            |r| r.nav_per_share += U256::from(1u8),
            "UnknownSigner",
        ),
        (
            "deployed_value",
            |r| r.deployed_value += U256::from(1u8),
            "UnknownSigner",
        ),
        ("haircut_bps", |r| r.haircut_bps += 1, "UnknownSigner"),
        ("ltv_bps", |r| r.ltv_bps -= 1, "UnknownSigner"),
        ("observed_at", |r| r.observed_at -= 1, "UnknownSigner"),
        ("valid_until", |r| r.valid_until += 1, "UnknownSigner"),
        (
            "run_id",
            |r| r.run_id = B256::repeat_byte(0xee),
            "UnknownSigner",
        ),
        // Rounds are strictly sequential, checked before any signature: round 3 after 1.
        ("round", |r| r.round += 1, "RoundNotSequential"),
    ];
    for (field, f, want) in tampers {
        let mut t = good.clone();
        f(&mut t);
        assert_revert(try_submit(&p, oracle_addr, &t, &sigs).await, want, field);
    }

    // Signed for another chain or another oracle address.
    let other_chain = sign_with(&good, &[0, 1, 2], chain_id + 1, oracle_addr);
    assert_revert(
        try_submit(&p, oracle_addr, &good, &other_chain).await,
        "UnknownSigner",
        "chain id",
    );
    let other_oracle = sign_with(&good, &[0, 1, 2], chain_id, Address::repeat_byte(0x42));
    assert_revert(
        try_submit(&p, oracle_addr, &good, &other_oracle).await,
        "UnknownSigner",
        "verifying contract",
    );

    // Signature set rules.
    assert_revert(
        try_submit(&p, oracle_addr, &good, &sigs[..2]).await,
        "QuorumNotMet",
        "under quorum",
    );
    let dup = vec![sigs[0].clone(), sigs[1].clone(), sigs[0].clone()];
    assert_revert(
        try_submit(&p, oracle_addr, &good, &dup).await,
        "DuplicateSigner",
        "duplicate signer",
    );
    let stranger = ReportSigner::from_hex(&format!("{:064x}", 0x99), "t").unwrap();
    let mut with_stranger = sigs[..2].to_vec();
    with_stranger.push(Bytes::from(
        stranger
            .sign_report(&good, chain_id, oracle_addr)
            .unwrap()
            .to_vec(),
    ));
    assert_revert(
        try_submit(&p, oracle_addr, &good, &with_stranger).await,
        "UnknownSigner",
        "unknown signer",
    );
    let mut high_s = sigs.clone();
    high_s[0] = malleable_twin(&sigs[0]);
    assert_revert(
        try_submit(&p, oracle_addr, &good, &high_s).await,
        "ECDSAInvalidSignatureS",
        "high s",
    );
    let mut short = sigs.clone();
    short[1] = Bytes::from(sigs[1][..64].to_vec());
    assert_revert(
        try_submit(&p, oracle_addr, &good, &short).await,
        "ECDSAInvalidSignatureLength",
        "64-byte signature",
    );

    // Replay of the accepted round, stale and future reports (all properly signed).
    let replay = sign_with(&r1, &[0, 1, 2], chain_id, oracle_addr);
    assert_revert(
        try_submit(&p, oracle_addr, &r1, &replay).await,
        "RoundNotIncreasing",
        "replayed round",
    );
    let signed = |r: &Report| sign_with(r, &[0, 1, 2], chain_id, oracle_addr);
    let mut old = good.clone();
    old.observed_at = t1 - 1;
    assert_revert(
        try_submit(&p, oracle_addr, &old, &signed(&old)).await,
        "ObservationOlderThanLast",
        "older than last",
    );
    let mut future = good.clone();
    future.observed_at = t2 + 3_600;
    future.valid_until = t2 + 7_200;
    assert_revert(
        try_submit(&p, oracle_addr, &future, &signed(&future)).await,
        "ObservationInFuture",
        "future",
    );
    let mut expired = good.clone();
    expired.valid_until = t2 - 1;
    expired.observed_at = t2 - 1;
    assert_revert(
        try_submit(&p, oracle_addr, &expired, &signed(&expired)).await,
        "ReportStale",
        "validUntil passed",
    );
    let mut jump = good.clone();
    jump.nav_per_share = e18 * U256::from(110) / U256::from(100);
    assert_revert(
        try_submit(&p, oracle_addr, &jump, &signed(&jump)).await,
        "DeviationTooLarge",
        "10 % jump",
    );

    // Through the CLI path: the key adds its own signature to two collected ones and relays.
    let relayer = signer(3);
    let _: serde_json::Value = p
        .raw_request(
            "anvil_setBalance".into(),
            (relayer.address(), U256::from(10u8) * e18),
        )
        .await
        .unwrap();
    let doc = SignedReport {
        report: good.clone(),
        signatures: sign_with(&good, &[0, 1], chain_id, oracle_addr),
    };
    let json = serde_json::to_string(&doc).unwrap();
    let parsed = SignedReport::from_json(&json).unwrap();
    let out = sign_and_publish(anvil.url().parse().unwrap(), oracle_addr, &parsed, &relayer)
        .await
        .expect("sign_and_publish");
    assert_eq!(out.round, 2);
    assert_eq!(oracle.latestRound().call().await.unwrap(), 2);
    assert_eq!(
        oracle.price().call().await.unwrap(),
        good.nav_per_share * scale
    );
    // Relaying it again is a decoded revert from the library (what the CLI prints, exit 1).
    assert_revert(
        sign_and_publish(anvil.url().parse().unwrap(), oracle_addr, &parsed, &relayer).await,
        "RoundNotIncreasing",
        "replay via sign_and_publish",
    );

    // A relayer that is not a signer only relays the three collected signatures.
    warp(&p, 60).await;
    let r3 = report(3, good.nav_per_share, good.deployed_value, now(&p).await);
    let doc = SignedReport {
        report: r3.clone(),
        signatures: sign_with(&r3, &[2, 3, 4], chain_id, oracle_addr),
    };
    let out = sign_and_publish(anvil.url().parse().unwrap(), oracle_addr, &doc, &deployer())
        .await
        .expect("relay");
    assert_eq!(out.round, 3);
    // (a minute later: a second report observed at round 3's time is SameObservationTime)
    warp(&p, 60).await;
    let two = SignedReport {
        report: report(4, good.nav_per_share, good.deployed_value, now(&p).await),
        signatures: Vec::new(),
    };
    assert_revert(
        sign_and_publish(anvil.url().parse().unwrap(), oracle_addr, &two, &deployer()).await,
        "QuorumNotMet",
        "non-signer relaying no signatures",
    );

    // Staleness is checked at read: past maxAge the valuation fails closed (deployedValue) and
    // the lenders' price decays (7 days to zero by default).
    warp(&p, MAX_AGE + 1).await;
    assert_revert(
        oracle
            .deployedValue()
            .call()
            .await
            .map_err(decode_oracle_error),
        "ReportStale",
        "deployedValue after maxAge",
    );
    assert!(!oracle.isFresh().call().await.unwrap());
    let decayed = oracle.price().call().await.unwrap();
    assert!(
        decayed < good.nav_per_share * scale && decayed > U256::ZERO,
        "{decayed}"
    );
    // Observed at the last accepted observation time (not older, so only staleness can
    // reject it), which is now more than maxAge ago.
    let late = report(4, good.nav_per_share, good.deployed_value, r3.observed_at);
    assert_revert(
        try_submit(&p, oracle_addr, &late, &signed(&late)).await,
        "ReportStale",
        "observed more than maxAge ago",
    );
}

/// The same signature with `s' = n - s` and the other `v`: valid ECDSA, but malleable.
fn malleable_twin(sig: &Bytes) -> Bytes {
    let n = U256::from_str_radix(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        16,
    )
    .unwrap();
    let s = U256::from_be_slice(&sig[32..64]);
    let mut out = sig.to_vec();
    out[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
    out[64] = if sig[64] == 27 { 28 } else { 27 };
    Bytes::from(out)
}
