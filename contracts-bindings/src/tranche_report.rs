//! The signed per-tranche price report (`TranchePriceReport`, the second report type, verified
//! by `TrancheOracle`): its JSON form, its EIP-712 digest, the prices from a run's tranche
//! valuations, and publishing it.

use crate::bindings::tranche_oracle::TrancheOracle::{self, TrancheOracleErrors};
use crate::error::{ContractsError, Result};
use crate::publish::{
    collect_signatures, decode_revert, provider_with_sender, Published, RECEIPT_TIMEOUT,
};
use crate::report::{check_validity_and_round, decimal_to_wei, domain};
use crate::signer::ReportSigner;
use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolStruct;
use alloy::transports::http::reqwest::Url;
use gaib_engine::Decimal;
use serde::{Deserialize, Serialize};

/// The EIP-712 type string of `TranchePriceReport`; field names, types and order are signed.
pub const TRANCHE_REPORT_TYPE: &str = "TranchePriceReport(bytes32 pool,uint64 period,uint256[] prices,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)";
/// Most tranches a report may price (`TrancheOracle.MAX_TRANCHES`).
pub const MAX_TRANCHES: usize = 8;

/// A tranche price report in its JSON form (prices as decimal strings of 1e18 fixed point).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheReport {
    /// keccak256 of the pool id (see [`crate::asset_id`]): the `TrancheOracle`'s asset.
    pub pool: B256,
    /// The pool period the prices are for: the `TranchedPool`'s `period()` (periods closed so
    /// far) when it was valued. The oracle accepts the report, and serves its prices, only while
    /// the pool is at this period (review finding M1).
    pub period: u64,
    /// Per tranche, senior first: AID per whole tranche token, 1e18 fixed point (1e18 = par).
    #[serde(with = "dec_u256_vec")]
    pub prices: Vec<U256>,
    /// Unix seconds of the valuation.
    pub observed_at: u64,
    /// Unix seconds after which the report must not be used.
    pub valid_until: u64,
    /// SHA-256 of the run manifest that produced the prices.
    pub run_id: B256,
    /// Round: the oracle's `latestTrancheRound + 1`.
    pub round: u64,
}

impl TrancheReport {
    /// Checks what the contract checks statically: 1..=8 prices, each at most 2^128 − 1,
    /// `observed_at <= valid_until`, `round >= 1`; errors name the field.
    pub fn validate(&self) -> Result<()> {
        if self.prices.is_empty() || self.prices.len() > MAX_TRANCHES {
            return Err(ContractsError::invalid(
                "prices",
                format!(
                    "{} prices; a pool has 1..={MAX_TRANCHES} tranches",
                    self.prices.len()
                ),
            ));
        }
        let max = U256::from(u128::MAX);
        if let Some((j, p)) = self.prices.iter().enumerate().find(|(_, p)| **p > max) {
            return Err(ContractsError::invalid(
                format!("prices[{j}]"),
                format!("{p} is above 2^128 - 1"),
            ));
        }
        check_validity_and_round(self.observed_at, self.valid_until, self.round, "")
    }

    /// The report as the contract's struct.
    pub fn to_sol(&self) -> TrancheOracle::TranchePriceReport {
        TrancheOracle::TranchePriceReport {
            pool: self.pool,
            period: self.period,
            prices: self.prices.clone(),
            observedAt: self.observed_at,
            validUntil: self.valid_until,
            runId: self.run_id,
            round: self.round,
        }
    }

    /// The EIP-712 digest the signers sign for the `TrancheOracle` at `oracle` on `chain_id`
    /// (= the contract's `trancheDigest`).
    pub fn digest(&self, chain_id: u64, oracle: Address) -> B256 {
        self.to_sol().eip712_signing_hash(&domain(chain_id, oracle))
    }

    /// `signer`'s 65-byte signature of [`Self::digest`].
    pub fn sign(&self, signer: &ReportSigner, chain_id: u64, oracle: Address) -> Result<[u8; 65]> {
        signer.sign_digest(self.digest(chain_id, oracle))
    }
}

/// A tranche price report with the 65-byte signatures collected so far (`r ‖ s ‖ v`, hex): what
/// `gaib publish --tranches --write-report` saves and `--report` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTrancheReport {
    /// The report.
    pub tranche_report: TrancheReport,
    /// Signatures of its EIP-712 digest.
    #[serde(default)]
    pub signatures: Vec<Bytes>,
}

impl SignedTrancheReport {
    /// Parses the JSON form and checks the report; errors name `tranche_report` (or the field).
    pub fn from_json(text: &str) -> Result<Self> {
        let s: SignedTrancheReport = serde_json::from_str(text)
            .map_err(|e| ContractsError::invalid("tranche_report", e.to_string()))?;
        s.tranche_report.validate()?;
        Ok(s)
    }
}

/// What `gaib publish --tranches` does on chain: reads the chain id, checks every collected
/// signature locally (errors name `signatures[i]`), adds `key`'s own signature when `key` is one
/// of the oracle's signers and has not signed yet, then submits from `key`'s address.
pub async fn sign_and_publish_tranches(
    rpc: Url,
    oracle: Address,
    signed: &SignedTrancheReport,
    key: &ReportSigner,
) -> Result<Published> {
    signed.tranche_report.validate()?;
    let provider = provider_with_sender(rpc, key);
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| ContractsError::Rpc(format!("eth_chainId: {e}")))?;
    let digest = signed.tranche_report.digest(chain_id, oracle);
    let signatures = collect_signatures(digest, &signed.signatures, key, || async {
        TrancheOracle::new(oracle, &provider)
            .isSigner(key.address())
            .call()
            .await
            .map_err(|e| decode_revert::<TrancheOracleErrors>(e, "TrancheOracle"))
    })
    .await?;
    publish_tranche_prices(&provider, oracle, &signed.tranche_report, &signatures).await
}

/// Per-tranche prices (1e18 fixed point, AID per whole token, rounded down) from each tranche's
/// present value and original balance in USD (one token per USD of original balance). Errors
/// name `tranches[j]`: a balance that is not positive, a negative value.
pub fn prices_from_values(values_usd: &[Decimal], balances_usd: &[Decimal]) -> Result<Vec<U256>> {
    if values_usd.len() != balances_usd.len() {
        return Err(ContractsError::invalid(
            "tranches",
            format!(
                "{} values for {} balances",
                values_usd.len(),
                balances_usd.len()
            ),
        ));
    }
    values_usd
        .iter()
        .zip(balances_usd)
        .enumerate()
        .map(|(j, (v, b))| {
            if *b <= Decimal::ZERO {
                return Err(ContractsError::invalid(
                    format!("tranches[{j}].balance"),
                    format!("{b} is not positive"),
                ));
            }
            let value = decimal_to_wei(*v, &format!("tranches[{j}].value"))?;
            let balance = decimal_to_wei(*b, &format!("tranches[{j}].balance"))?;
            Ok(value * U256::from(10u64.pow(18)) / balance)
        })
        .collect()
}

/// Submits a signed tranche price report to the `TrancheOracle` at `oracle` from `provider`'s
/// wallet, simulating first (a refusal costs no transaction), and waits for the receipt.
/// Reverts come back as [`ContractsError::Reverted`] with the decoded custom error.
pub async fn publish_tranche_prices(
    provider: &DynProvider,
    oracle: Address,
    report: &TrancheReport,
    signatures: &[Bytes],
) -> Result<Published> {
    report.validate()?;
    let contract = TrancheOracle::new(oracle, provider);
    let call = contract.submitTranchePrices(report.to_sol(), signatures.to_vec());
    let err = |e| decode_revert::<TrancheOracleErrors>(e, "TrancheOracle");
    call.call().block(BlockId::pending()).await.map_err(err)?;
    let pending = call.send().await.map_err(err)?;
    let tx_hash = *pending.tx_hash();
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|e| ContractsError::Rpc(format!("waiting for receipt of {tx_hash}: {e}")))?;
    if !receipt.status() {
        return Err(ContractsError::TxFailed { tx_hash });
    }
    Ok(Published {
        tx_hash,
        block_number: receipt.block_number,
        gas_used: receipt.gas_used,
        round: report.round,
    })
}

/// Serde for `Vec<U256>` as decimal strings.
mod dec_u256_vec {
    use alloy::primitives::U256;
    use serde::{de, Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub(super) fn serialize<S: Serializer>(x: &[U256], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(x.iter().map(|v| v.to_string()))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<U256>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| U256::from_str(s).map_err(de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolStruct;
    use std::str::FromStr;

    fn vectors() -> serde_json::Value {
        let text = include_str!("../artifacts/eip712-tranche-vectors.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn type_string_matches_the_contract() {
        assert_eq!(
            TrancheOracle::TranchePriceReport::eip712_encode_type(),
            TRANCHE_REPORT_TYPE
        );
    }

    /// The Rust digest and signature equal the cast-made vector byte for byte.
    #[test]
    fn digest_and_signature_match_the_checked_in_vectors() {
        let v = vectors();
        let s = |k: &str| v.pointer(k).unwrap().as_str().unwrap().to_string();
        let r = TrancheReport {
            pool: B256::from_str(&s("/report/pool")).unwrap(),
            period: v["report"]["period"].as_u64().unwrap(),
            prices: v["report"]["prices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| U256::from_str(p.as_str().unwrap()).unwrap())
                .collect(),
            observed_at: v["report"]["observedAt"].as_u64().unwrap(),
            valid_until: v["report"]["validUntil"].as_u64().unwrap(),
            run_id: B256::from_str(&s("/report/runId")).unwrap(),
            round: v["report"]["round"].as_u64().unwrap(),
        };
        r.validate().unwrap();
        let oracle = Address::from_str(&s("/domain/verifyingContract")).unwrap();
        let chain = v["domain"]["chainId"].as_u64().unwrap();
        assert_eq!(
            r.to_sol().eip712_hash_struct(),
            B256::from_str(&s("/structHash")).unwrap()
        );
        let d = r.digest(chain, oracle);
        assert_eq!(d, B256::from_str(&s("/digest")).unwrap());
        let key = ReportSigner::from_hex(&s("/signerKey"), "vector").unwrap();
        let sig = r.sign(&key, chain, oracle).unwrap();
        assert_eq!(format!("0x{}", alloy::hex::encode(sig)), s("/signature"));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<TrancheReport>(&json).unwrap(), r);
    }

    #[test]
    fn prices_are_value_over_balance_rounded_down_and_checked() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        let p = prices_from_values(
            &[d("700"), d("190.5"), d("0")],
            &[d("700"), d("200"), d("100")],
        )
        .unwrap();
        let e18 = U256::from(10u64.pow(18));
        assert_eq!(
            p,
            vec![e18, U256::from(952_500_000_000_000_000u64), U256::ZERO]
        );
        let p = prices_from_values(&[d("1")], &[d("3")]).unwrap();
        assert_eq!(p[0], U256::from(333_333_333_333_333_333u64));
        let e = prices_from_values(&[d("1")], &[d("0")]).unwrap_err();
        assert!(e.to_string().contains("tranches[0].balance"), "{e}");
        let bad = TrancheReport {
            pool: B256::ZERO,
            period: 0,
            prices: vec![],
            observed_at: 1,
            valid_until: 2,
            run_id: B256::ZERO,
            round: 1,
        };
        assert!(bad.validate().unwrap_err().to_string().contains("prices"));
        let good = TrancheReport {
            prices: vec![U256::ZERO],
            ..bad
        };
        good.validate().unwrap();
        let e = TrancheReport {
            round: 0,
            ..good.clone()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("round") && e.contains("rounds start at 1"),
            "{e}"
        );
        let e = TrancheReport {
            valid_until: 0,
            ..good
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("valid_until") && e.contains("before observed_at 1"),
            "{e}"
        );
    }
}
