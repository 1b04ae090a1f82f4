//! Publishing a signed report to a `ValuationOracle` over JSON-RPC (HTTP), and decoding reverts.

use crate::bindings::oracle::ValuationOracle::{self, ValuationOracleErrors};
use crate::error::{ContractsError, Result};
use crate::report::{Report, SignedReport};
use crate::signer::{recover_signer, ReportSigner};
use alloy::eips::BlockId;
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::sol_types::SolInterface;
use alloy::transports::http::reqwest::Url;
use std::str::FromStr;
use std::time::Duration;

/// How long [`publish`] waits for the receipt of its transaction.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Parses a JSON-RPC endpoint URL; the error names the field `rpc`. `http://` always works;
/// `https://` needs the crate feature `tls` (e.g. `cargo build -p gaib-cli --features
/// gaib-contracts/tls`) and is rejected with that hint otherwise.
pub fn parse_rpc_url(url: &str) -> Result<Url> {
    let u = Url::parse(url).map_err(|e| ContractsError::invalid("rpc", format!("{url:?}: {e}")))?;
    match u.scheme() {
        "http" => Ok(u),
        "https" if cfg!(feature = "tls") => Ok(u),
        "https" => Err(ContractsError::invalid(
            "rpc",
            format!("{url:?}: https needs a build with the `tls` feature (--features gaib-contracts/tls); this build speaks plain http"),
        )),
        _ => Err(ContractsError::invalid(
            "rpc",
            format!("{url:?}: scheme must be http or https"),
        )),
    }
}

/// Parses a 20-byte hex address (EIP-55 checksum enforced when mixed case); the error names
/// `field`.
pub fn parse_address(s: &str, field: &str) -> Result<Address> {
    let s = s.trim();
    let a = Address::from_str(s)
        .map_err(|e| ContractsError::invalid(field, format!("{s:?} is not an address: {e}")))?;
    let hex = s.trim_start_matches("0x");
    let mixed =
        hex.chars().any(|c| c.is_ascii_uppercase()) && hex.chars().any(|c| c.is_ascii_lowercase());
    if mixed && Address::parse_checksummed(s, None).is_err() {
        return Err(ContractsError::invalid(
            field,
            format!("{s:?}: bad EIP-55 checksum"),
        ));
    }
    Ok(a)
}

/// A provider over HTTP that signs and sends transactions from `sender` (nonce, gas and chain id
/// filled from the node).
pub fn provider_with_sender(rpc: Url, sender: &ReportSigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(sender.alloy_signer().clone()))
        .connect_http(rpc)
        .erased()
}

/// The outcome of an accepted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Hash of the `submit` transaction.
    pub tx_hash: B256,
    /// Block that included it.
    pub block_number: Option<u64>,
    /// Gas used by the transaction (gas units).
    pub gas_used: u64,
    /// The report's round, now the oracle's `latestRound`.
    pub round: u64,
}

/// Translates an alloy contract error into [`ContractsError`], decoding the `ValuationOracle`'s
/// custom errors (and `Error(string)` / `Panic(uint256)`) from the revert data.
pub fn decode_oracle_error(e: alloy::contract::Error) -> ContractsError {
    decode_revert::<ValuationOracleErrors>(e, "ValuationOracle")
}

/// Translates an alloy contract error, decoding custom errors of the interface `I`.
pub fn decode_revert<I: SolInterface + std::fmt::Debug>(
    e: alloy::contract::Error,
    contract: &'static str,
) -> ContractsError {
    if let Some(data) = e.as_revert_data() {
        let reason = match I::abi_decode(&data) {
            Ok(decoded) => tidy_debug(&format!("{decoded:?}")),
            Err(_) => alloy::sol_types::decode_revert_reason(&data)
                .unwrap_or_else(|| format!("unknown revert data {data}")),
        };
        return ContractsError::Reverted {
            contract,
            reason,
            data: Some(data),
        };
    }
    let msg = e.to_string();
    if msg.contains("revert") {
        return ContractsError::Reverted {
            contract,
            reason: msg,
            data: None,
        };
    }
    ContractsError::Rpc(msg)
}

/// `Name(Name { a: 1 })` → `Name { a: 1 }` (the Debug form of a decoded error enum variant).
fn tidy_debug(s: &str) -> String {
    if let Some((name, rest)) = s.split_once('(') {
        if let Some(inner) = rest.strip_suffix(')') {
            if inner.starts_with(name) {
                return inner.to_string();
            }
        }
    }
    s.to_string()
}

/// Submits `report` with `signatures` (65-byte each) to the oracle at `oracle`, sending the
/// transaction from `provider`'s wallet, and waits for its receipt. Reverts (in a simulation
/// before sending, at gas estimation or on chain) come back as [`ContractsError::Reverted`] with
/// the decoded custom error; a simulated revert sends nothing.
pub async fn publish(
    provider: &DynProvider,
    oracle: Address,
    report: &Report,
    signatures: &[Bytes],
) -> Result<Published> {
    report.validate()?;
    let contract = ValuationOracle::new(oracle, provider);
    let call = contract.submit(report.to_sol(), signatures.to_vec());
    // Simulate first, so that a refusal (a rate limit, a stale report, ...) costs no nonce:
    // alloy's cached nonce filler takes one even when gas estimation fails, which would leave a
    // gap that stalls the next transaction from a provider that is used again. On the pending
    // block, as the transaction will run: the latest block's timestamp can be older than a report
    // observed just now (`ObservationInFuture`).
    call.call()
        .block(BlockId::pending())
        .await
        .map_err(decode_oracle_error)?;
    let pending = call.send().await.map_err(decode_oracle_error)?;
    let tx_hash = *pending.tx_hash();
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|e| ContractsError::Rpc(format!("waiting for receipt of {tx_hash}: {e}")))?;
    if !receipt.status() {
        // Replay the call at the parent block to recover the reason.
        if let Some(block) = receipt.block_number {
            let replay = contract
                .submit(report.to_sol(), signatures.to_vec())
                .from(receipt.from)
                .block(block.saturating_sub(1).into())
                .call()
                .await;
            if let Err(e) = replay {
                if let err @ ContractsError::Reverted { .. } = decode_oracle_error(e) {
                    return Err(err);
                }
            }
        }
        return Err(ContractsError::TxFailed { tx_hash });
    }
    Ok(Published {
        tx_hash,
        block_number: receipt.block_number,
        gas_used: receipt.gas_used,
        round: report.round,
    })
}

/// The signatures to submit for `digest`: every collected one, checked locally (a signature
/// that does not recover is an error naming `signatures[i]`), then `key`'s own when it has not
/// signed yet and `is_signer` (asked of the oracle only then) says it is an authorised signer.
pub(crate) async fn collect_signatures<F, Fut>(
    digest: B256,
    collected: &[Bytes],
    key: &ReportSigner,
    is_signer: F,
) -> Result<Vec<Bytes>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let mut signatures = Vec::with_capacity(collected.len() + 1);
    let mut signed_by_key = false;
    for (i, sig) in collected.iter().enumerate() {
        let who = recover_signer(digest, sig)
            .map_err(|e| ContractsError::invalid(format!("signatures[{i}]"), e.to_string()))?;
        signed_by_key |= who == key.address();
        signatures.push(sig.clone());
    }
    if !signed_by_key && is_signer().await? {
        signatures.push(Bytes::from(key.sign_digest(digest)?.to_vec()));
    }
    Ok(signatures)
}

/// What `gaib publish` does: reads the chain id, checks every collected signature locally, adds
/// `key`'s own signature when `key` is one of the oracle's authorised signers and has not signed
/// yet (otherwise `key` only relays), then submits the report with all signatures, sending the
/// transaction (and paying its gas) from `key`'s address.
pub async fn sign_and_publish(
    rpc: Url,
    oracle: Address,
    signed: &SignedReport,
    key: &ReportSigner,
) -> Result<Published> {
    signed.report.validate()?;
    let provider = provider_with_sender(rpc, key);
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| ContractsError::Rpc(format!("eth_chainId: {e}")))?;
    let digest = signed.report.digest(chain_id, oracle);
    // Sign too when the key is an authorised signer; otherwise it only relays.
    let signatures = collect_signatures(digest, &signed.signatures, key, || async {
        ValuationOracle::new(oracle, &provider)
            .isSigner(key.address())
            .call()
            .await
            .map_err(decode_oracle_error)
    })
    .await?;
    publish(&provider, oracle, &signed.report, &signatures).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_parsing_names_fields() {
        assert!(parse_rpc_url("http://127.0.0.1:8545").is_ok());
        let e = parse_rpc_url("127.0.0.1:8545").unwrap_err();
        assert!(e.is_input_error() && e.to_string().contains("rpc"), "{e}");
        assert!(parse_rpc_url("ftp://x").is_err());
        assert_eq!(
            parse_rpc_url("https://rpc.example").is_ok(),
            cfg!(feature = "tls")
        );
        let e = parse_address("0x1234", "oracle").unwrap_err();
        assert!(e.to_string().starts_with("invalid oracle"), "{e}");
        assert!(parse_address("0x5FbDB2315678afecb367f032d93F642f64180aa3", "oracle").is_ok());
        assert!(parse_address("0x5fbdb2315678afecb367f032d93f642f64180aa3", "oracle").is_ok());
        assert!(parse_address("0x5FbDB2315678afecb367f032d93F642f64180aA3", "oracle").is_err());
    }

    #[test]
    fn tidy_debug_strips_the_wrapper() {
        assert_eq!(
            tidy_debug("RoundNotIncreasing(RoundNotIncreasing { last: 1, round: 1 })"),
            "RoundNotIncreasing { last: 1, round: 1 }"
        );
        assert_eq!(tidy_debug("NoReport(NoReport)"), "NoReport");
    }
}
