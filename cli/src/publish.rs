//! `gaib publish`: sign a valuation report with a local key and submit it to a
//! `ValuationOracle` over JSON-RPC.
//!
//! Bad input (URL, address, report JSON, key) exits 2 naming the field; chain errors (the node
//! unreachable, a revert decoded from the oracle's ABI) exit 1.

use anyhow::Context;
use gaib_contracts::{parse_address, parse_rpc_url, ContractsError, ReportSigner, SignedReport};
use std::path::PathBuf;

/// Arguments of `gaib publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// JSON-RPC endpoint (http:// or https://), e.g. http://127.0.0.1:8545.
    #[arg(long)]
    rpc: String,
    /// Address of the ValuationOracle contract (0x…, 20 bytes).
    #[arg(long)]
    oracle: String,
    /// Report JSON: a report, or {"report": …, "signatures": ["0x…", …]} with signatures already
    /// collected from other signers.
    #[arg(long)]
    report: PathBuf,
    /// File holding the hex secp256k1 key that signs the report and pays for the transaction.
    #[arg(long, conflicts_with = "key_env")]
    key_file: Option<PathBuf>,
    /// Environment variable holding that key instead (never printed).
    #[arg(long)]
    key_env: Option<String>,
}

/// Maps a library error to the CLI's classes: input errors exit 2, the rest 1.
fn classify(e: ContractsError) -> anyhow::Error {
    if e.is_input_error() {
        crate::CliError::invalid(e.to_string())
    } else {
        anyhow::Error::new(e)
    }
}

/// Validates the inputs, then signs, submits and waits for the receipt.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let rpc = parse_rpc_url(&a.rpc).map_err(classify)?;
    let oracle = parse_address(&a.oracle, "oracle").map_err(classify)?;
    let text = std::fs::read_to_string(&a.report).map_err(|e| {
        crate::CliError::invalid(format!(
            "invalid report: cannot read {}: {e}",
            a.report.display()
        ))
    })?;
    let signed = SignedReport::from_json(&text).map_err(classify)?;
    signed.report.validate().map_err(classify)?;
    let key = match (&a.key_file, &a.key_env) {
        (Some(f), _) => ReportSigner::from_file(f),
        (None, Some(v)) => ReportSigner::from_env(v),
        (None, None) => {
            return Err(crate::CliError::invalid(
                "invalid key: give --key-file FILE or --key-env VAR",
            ))
        }
    }
    .map_err(classify)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let out = runtime
        .block_on(gaib_contracts::sign_and_publish(rpc, oracle, &signed, &key))
        .map_err(classify)?;
    println!(
        "published round {} to {oracle}: tx {} in block {}, gas {}",
        out.round,
        out.tx_hash,
        out.block_number
            .map_or_else(|| "?".to_string(), |b| b.to_string()),
        out.gas_used
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(rpc: &str, oracle: &str, report: PathBuf, key_env: Option<&str>) -> Args {
        Args {
            rpc: rpc.into(),
            oracle: oracle.into(),
            report,
            key_file: None,
            key_env: key_env.map(str::to_string),
        }
    }

    /// The message of the `CliError` (exit 2) in the chain, if any.
    fn invalid_message(e: &anyhow::Error) -> Option<String> {
        e.chain()
            .find_map(|c| c.downcast_ref::<crate::CliError>())
            .filter(|c| c.kind == crate::exit::ExitKind::Invalid)
            .map(|c| c.message.clone())
    }

    #[test]
    fn bad_input_exits_2_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("report.json");
        std::fs::write(
            &good,
            r#"{"asset":"0x0000000000000000000000000000000000000000000000000000000000000001",
               "nav_per_share":"1000000000000000000","deployed_value":"0","haircut_bps":0,
               "ltv_bps":8000,"observed_at":1,"valid_until":2,
               "run_id":"0x0000000000000000000000000000000000000000000000000000000000000002","round":1}"#,
        )
        .unwrap();
        let bad_json = dir.path().join("bad.json");
        std::fs::write(&bad_json, "{ not json").unwrap();
        let oracle = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        let cases = [
            (
                args("localhost:8545", oracle, good.clone(), Some("X")),
                "rpc",
            ),
            (
                args("http://127.0.0.1:1", "0x12", good.clone(), Some("X")),
                "oracle",
            ),
            (
                args("http://127.0.0.1:1", oracle, bad_json, Some("X")),
                "report",
            ),
            (
                args(
                    "http://127.0.0.1:1",
                    oracle,
                    dir.path().join("missing.json"),
                    Some("X"),
                ),
                "report",
            ),
            (
                args("http://127.0.0.1:1", oracle, good.clone(), None),
                "key",
            ),
            (
                args(
                    "http://127.0.0.1:1",
                    oracle,
                    good,
                    Some("GAIB_PUBLISH_TEST_UNSET_KEY"),
                ),
                "GAIB_PUBLISH_TEST_UNSET_KEY",
            ),
        ];
        for (a, field) in cases {
            let e = run(a).unwrap_err();
            let msg = invalid_message(&e).unwrap_or_else(|| panic!("not exit 2: {e:#}"));
            assert!(msg.contains(field), "{field}: {msg}");
        }
    }

    /// End to end on a real anvil: `run` publishes (exit 0); a replay is a chain error (exit 1,
    /// not 2) that names the decoded custom error.
    #[test]
    fn publishes_to_anvil_and_a_replay_is_a_decoded_chain_error() {
        use gaib_contracts::alloy::primitives::U256;
        use gaib_contracts::alloy::providers::Provider;
        use gaib_contracts::bindings::oracle::ValuationOracle;
        use gaib_contracts::devnet::{Anvil, DEV_KEY};

        let Some(anvil) = Anvil::for_tests() else {
            return;
        };
        let key = ReportSigner::from_hex(DEV_KEY, "test").unwrap();
        let p = gaib_contracts::provider_with_sender(anvil.url().parse().unwrap(), &key);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (oracle, now) = rt.block_on(async {
            let o = ValuationOracle::deploy(
                p.clone(),
                key.address(),
                gaib_contracts::asset_id("sAID"),
                "sAID / AID NAV".to_string(),
                18,
                24,
                vec![key.address()],
                U256::from(1u8),
                86_400,
                500,
            )
            .await
            .unwrap();
            let now = p
                .get_block_by_number(gaib_contracts::alloy::eips::BlockNumberOrTag::Latest)
                .await
                .unwrap()
                .unwrap()
                .header
                .timestamp;
            (*o.address(), now)
        });
        let dir = tempfile::tempdir().unwrap();
        let report = gaib_contracts::Report {
            asset: gaib_contracts::asset_id("sAID"),
            nav_per_share: U256::from(1_020_000_000_000_000_000u128),
            deployed_value: U256::ZERO,
            haircut_bps: 1_000,
            ltv_bps: 8_000,
            observed_at: now,
            valid_until: now + 3_600,
            run_id: gaib_contracts::run_id_of_manifest(b"manifest"),
            round: 1,
        };
        let report_path = dir.path().join("report.json");
        std::fs::write(&report_path, serde_json::to_string(&report).unwrap()).unwrap();
        let key_path = dir.path().join("key");
        std::fs::write(&key_path, DEV_KEY).unwrap();
        let a = || Args {
            rpc: anvil.url(),
            oracle: oracle.to_string(),
            report: report_path.clone(),
            key_file: Some(key_path.clone()),
            key_env: None,
        };
        run(a()).expect("publish");
        let price = rt.block_on(async {
            ValuationOracle::new(oracle, &p)
                .price()
                .call()
                .await
                .unwrap()
        });
        assert_eq!(
            price,
            report.nav_per_share * U256::from(1_000_000_000_000u64)
        );
        let e = run(a()).unwrap_err();
        assert!(
            invalid_message(&e).is_none(),
            "a revert is not bad input: {e:#}"
        );
        assert!(format!("{e:#}").contains("RoundNotIncreasing"), "{e:#}");
    }
}
