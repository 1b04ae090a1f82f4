//! The signed valuation report: the EIP-712 type the oracle verifies and its JSON form for the API
//! and CLI ([`Report`]). The production conversion from a run's valuation is
//! `gaib_runs::OnchainValuation` (runs/src/valuation.rs).

use crate::bindings::oracle::ValuationOracle::ValuationReport;
use crate::error::{ContractsError, Result};
use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol_types::{Eip712Domain, SolStruct};
use gaib_engine::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// EIP-712 domain name of the oracle.
pub const DOMAIN_NAME: &str = "gaib ValuationOracle";
/// EIP-712 domain version of the oracle.
pub const DOMAIN_VERSION: &str = "1";
/// The EIP-712 type string of `ValuationReport`; field names, types and order are signed.
pub const REPORT_TYPE: &str = "ValuationReport(bytes32 asset,uint256 navPerShare,uint256 deployedValue,uint16 haircutBps,uint16 ltvBps,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)";
/// Basis points in one (10 000 bps = 100 %).
pub const BPS_ONE: u16 = 10_000;

/// The EIP-712 domain of the `ValuationOracle` deployed at `oracle` on chain `chain_id`:
/// name "gaib ValuationOracle", version "1", chainId, verifyingContract.
pub fn domain(chain_id: u64, oracle: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(Cow::Borrowed(DOMAIN_NAME)),
        Some(Cow::Borrowed(DOMAIN_VERSION)),
        Some(U256::from(chain_id)),
        Some(oracle),
        None,
    )
}

/// The asset id the oracle is bound to: `keccak256(name)`, e.g. `asset_id("sAID")`.
pub fn asset_id(name: &str) -> B256 {
    keccak256(name.as_bytes())
}

/// The run id of a report: SHA-256 of the run manifest's bytes (as written, e.g. `manifest.json`).
pub fn run_id_of_manifest(manifest: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(manifest))
}

/// A valuation report in its JSON form (snake_case fields; 256-bit amounts as decimal strings of
/// wei so that no JSON parser loses precision; hex `0x…` is accepted on input too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// keccak256 of the asset id (see [`asset_id`]), 32 bytes hex.
    pub asset: B256,
    /// AID per whole share, 1e18 fixed point (wei of AID per share).
    #[serde(with = "dec_u256")]
    pub nav_per_share: U256,
    /// AID value of the asset's off-chain (deployed) holdings, in AID wei (1e18).
    #[serde(with = "dec_u256")]
    pub deployed_value: U256,
    /// Haircut for collateral use, basis points (0..=10 000).
    pub haircut_bps: u16,
    /// Loan-to-value for collateral use, basis points (0..=10 000).
    pub ltv_bps: u16,
    /// Unix seconds of the valuation.
    pub observed_at: u64,
    /// Unix seconds after which the report must not be used.
    pub valid_until: u64,
    /// SHA-256 of the run manifest that produced the report (see [`run_id_of_manifest`]).
    pub run_id: B256,
    /// Report round, strictly increasing per asset (the oracle rejects replays).
    pub round: u64,
}

/// A report with its 65-byte signatures (`r ‖ s ‖ v`, hex): what `gaib publish --report` reads.
/// A bare [`Report`] is accepted too (no signatures yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReport {
    /// The report.
    pub report: Report,
    /// Signatures of its EIP-712 digest, each 65 bytes hex.
    #[serde(default)]
    pub signatures: Vec<alloy::primitives::Bytes>,
}

impl SignedReport {
    /// Parses a JSON document that is either a [`SignedReport`] or a bare [`Report`], naming the
    /// offending field in the error.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ContractsError::invalid("report", format!("malformed JSON: {e}")))?;
        let wrapped = value.get("report").is_some();
        let parsed = if wrapped {
            serde_json::from_value::<SignedReport>(value.clone())
        } else {
            serde_json::from_value::<Report>(value.clone()).map(|report| SignedReport {
                report,
                signatures: Vec::new(),
            })
        };
        parsed.map_err(|e| {
            let located = if wrapped {
                locate_signed_error(&value)
            } else {
                locate_report_error(&value, "report")
            };
            let (field, reason) = located.unwrap_or_else(|| ("report".into(), e.to_string()));
            ContractsError::InvalidInput { field, reason }
        })
    }
}

/// Finds which field of a wrapped report document is wrong: `(field path, reason)`.
fn locate_signed_error(value: &serde_json::Value) -> Option<(String, String)> {
    let obj = value.as_object()?;
    for (k, v) in obj {
        match k.as_str() {
            "report" => {
                if let Some(found) = locate_report_error(v, "report") {
                    return Some(found);
                }
            }
            "signatures" => {
                let Some(list) = v.as_array() else {
                    return Some((
                        "signatures".into(),
                        "expected an array of hex strings".into(),
                    ));
                };
                for (i, sig) in list.iter().enumerate() {
                    if let Err(e) = serde_json::from_value::<alloy::primitives::Bytes>(sig.clone())
                    {
                        return Some((format!("signatures[{i}]"), e.to_string()));
                    }
                }
            }
            other => return Some((other.to_string(), "unknown field".into())),
        }
    }
    None
}

/// Finds which field of a report object is wrong: `(prefix.field, reason)`.
fn locate_report_error(value: &serde_json::Value, prefix: &str) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Dec(
        #[serde(with = "dec_u256")]
        #[allow(dead_code)]
        U256,
    );
    fn check<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Option<String> {
        serde_json::from_value::<T>(v.clone())
            .err()
            .map(|e| e.to_string())
    }
    let Some(obj) = value.as_object() else {
        return Some((prefix.to_string(), "expected a JSON object".into()));
    };
    for (k, v) in obj {
        let err = match k.as_str() {
            "asset" | "run_id" => check::<B256>(v),
            "nav_per_share" | "deployed_value" => check::<Dec>(v),
            "haircut_bps" | "ltv_bps" => check::<u16>(v),
            "observed_at" | "valid_until" | "round" => check::<u64>(v),
            _ => Some("unknown field".into()),
        };
        if let Some(reason) = err {
            return Some((format!("{prefix}.{k}"), reason));
        }
    }
    None
}

impl Report {
    /// Checks what the oracle checks of the report alone (not time, round or deviation, which
    /// depend on the chain): `nav_per_share > 0`, bps ≤ 10 000, `observed_at ≤ valid_until`.
    /// The error names the field.
    pub fn validate(&self) -> Result<()> {
        if self.nav_per_share.is_zero() {
            return Err(ContractsError::invalid(
                "report.nav_per_share",
                "must be > 0",
            ));
        }
        if self.haircut_bps > BPS_ONE {
            return Err(ContractsError::invalid(
                "report.haircut_bps",
                format!("{} is above 10000", self.haircut_bps),
            ));
        }
        if self.ltv_bps > BPS_ONE {
            return Err(ContractsError::invalid(
                "report.ltv_bps",
                format!("{} is above 10000", self.ltv_bps),
            ));
        }
        check_validity_and_round(self.observed_at, self.valid_until, self.round, "report.")
    }

    /// The EIP-712 struct the contract hashes.
    pub fn to_sol(&self) -> ValuationReport {
        ValuationReport {
            asset: self.asset,
            navPerShare: self.nav_per_share,
            deployedValue: self.deployed_value,
            haircutBps: self.haircut_bps,
            ltvBps: self.ltv_bps,
            observedAt: self.observed_at,
            validUntil: self.valid_until,
            runId: self.run_id,
            round: self.round,
        }
    }

    /// The EIP-712 signing hash (`keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct)`) under
    /// the oracle at `oracle` on chain `chain_id`; equals the contract's `digest(report)`.
    pub fn digest(&self, chain_id: u64, oracle: Address) -> B256 {
        self.to_sol().eip712_signing_hash(&domain(chain_id, oracle))
    }
}

impl From<ValuationReport> for Report {
    fn from(r: ValuationReport) -> Self {
        Report {
            asset: r.asset,
            nav_per_share: r.navPerShare,
            deployed_value: r.deployedValue,
            haircut_bps: r.haircutBps,
            ltv_bps: r.ltvBps,
            observed_at: r.observedAt,
            valid_until: r.validUntil,
            run_id: r.runId,
            round: r.round,
        }
    }
}

impl From<&Report> for ValuationReport {
    fn from(r: &Report) -> Self {
        r.to_sol()
    }
}

/// A non-negative decimal amount in whole units → 1e18 fixed point (wei), exact up to 18
/// decimals and truncated beyond. `field` names the input in the error.
pub fn decimal_to_wei(x: Decimal, field: &str) -> Result<U256> {
    if x.is_sign_negative() && !x.is_zero() {
        return Err(ContractsError::invalid(field, format!("{x} is negative")));
    }
    let mantissa = U256::from(x.mantissa().unsigned_abs());
    let scale = x.scale();
    let ten = U256::from(10u8);
    Ok(if scale <= 18 {
        mantissa * ten.pow(U256::from(18 - scale))
    } else {
        mantissa / ten.pow(U256::from(scale - 18))
    })
}

/// An `f64` amount (e.g. a Monte Carlo NAV in USD ≈ AID) → [`Decimal`] through its shortest
/// round-trip decimal form (so `1.02` stays `1.02`, not the binary expansion). Rejects NaN,
/// infinities and negatives, naming `field`.
pub fn f64_to_decimal(x: f64, field: &str) -> Result<Decimal> {
    if !x.is_finite() || x < 0.0 {
        return Err(ContractsError::invalid(
            field,
            format!("{x} is not a finite amount ≥ 0"),
        ));
    }
    let text = format!("{x}");
    Decimal::from_str_exact(&text)
        .or_else(|_| text.parse::<Decimal>())
        .map_err(|e| ContractsError::invalid(field, format!("{x}: {e}")))
}

/// Serde for `U256` as a decimal string (hex `0x…` and JSON integers accepted on input).
mod dec_u256 {
    use alloy::primitives::U256;
    use serde::{de, Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub(super) fn serialize<S: Serializer>(x: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&x.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Str(String),
            Num(u64),
        }
        match Repr::deserialize(d)? {
            Repr::Num(n) => Ok(U256::from(n)),
            Repr::Str(s) => U256::from_str(s.trim()).map_err(|e| {
                de::Error::custom(format!("{s:?} is not a 256-bit unsigned integer: {e}"))
            }),
        }
    }
}

/// The checks every signed report type shares (the contracts revert on the same): `valid_until`
/// not before `observed_at` (unix seconds), `round` at least 1. Field names in errors get
/// `prefix` (`"report."` for the NAV report, `""` for the tranche report's JSON fields).
pub(crate) fn check_validity_and_round(
    observed_at: u64,
    valid_until: u64,
    round: u64,
    prefix: &str,
) -> Result<()> {
    if valid_until < observed_at {
        return Err(ContractsError::invalid(
            format!("{prefix}valid_until"),
            format!("{valid_until} is before observed_at {observed_at}"),
        ));
    }
    if round == 0 {
        return Err(ContractsError::invalid(
            format!("{prefix}round"),
            "0: rounds start at 1",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn type_string_matches_the_contract() {
        assert_eq!(ValuationReport::eip712_encode_type(), REPORT_TYPE);
        assert_eq!(
            ValuationReport::eip712_type_hash(&sample().to_sol()),
            keccak256(REPORT_TYPE)
        );
    }

    fn sample() -> Report {
        Report {
            asset: asset_id("sAID"),
            nav_per_share: U256::from(10u64).pow(U256::from(18)),
            deployed_value: U256::ZERO,
            haircut_bps: 1000,
            ltv_bps: 8000,
            observed_at: 1_800_000_000,
            valid_until: 1_800_086_400,
            run_id: run_id_of_manifest(b"{}"),
            round: 1,
        }
    }

    #[test]
    fn json_round_trip_uses_decimal_strings() {
        let r = sample();
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.contains("\"nav_per_share\":\"1000000000000000000\""),
            "{text}"
        );
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        let signed = SignedReport::from_json(&text).unwrap();
        assert!(signed.signatures.is_empty());
        let hex = text.replace("\"1000000000000000000\"", "\"0xde0b6b3a7640000\"");
        assert_eq!(serde_json::from_str::<Report>(&hex).unwrap(), r);
    }

    #[test]
    fn malformed_json_names_the_field() {
        let e = SignedReport::from_json("{").unwrap_err();
        assert!(e.to_string().contains("report"), "{e}");
        let text = serde_json::to_string(&sample())
            .unwrap()
            .replace("\"ltv_bps\":8000", "\"ltv_bps\":80000");
        let e = SignedReport::from_json(&text).unwrap_err();
        assert!(e.is_input_error());
        assert!(e.to_string().starts_with("invalid report.ltv_bps:"), "{e}");
        let e = SignedReport::from_json(&text.replace("\"round\":1", "\"round\":1,\"extra\":0"))
            .unwrap_err();
        assert!(
            e.to_string().contains("report.extra") || e.to_string().contains("report.ltv_bps"),
            "{e}"
        );
        let missing = serde_json::to_string(&sample())
            .unwrap()
            .replace("\"round\":1", "\"roundd\":1");
        let e = SignedReport::from_json(&missing).unwrap_err();
        assert!(e.to_string().contains("roundd"), "{e}");
        let wrapped = format!(
            "{{\"report\":{},\"signatures\":[\"0x00\",\"zz\"]}}",
            serde_json::to_string(&sample()).unwrap()
        );
        let e = SignedReport::from_json(&wrapped).unwrap_err();
        assert!(e.to_string().starts_with("invalid signatures[1]:"), "{e}");
        let e = SignedReport::from_json(
            &wrapped.replace("\"nav_per_share\":\"1", "\"nav_per_share\":\"x1"),
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("invalid report.nav_per_share:"),
            "{e}"
        );
        let mut r = sample();
        r.ltv_bps = 10_001;
        assert!(r
            .validate()
            .unwrap_err()
            .to_string()
            .contains("report.ltv_bps"));
    }

    #[test]
    fn decimal_conversion_is_exact_and_truncates() {
        let w = |s: &str| decimal_to_wei(Decimal::from_str(s).unwrap(), "x").unwrap();
        assert_eq!(w("1"), U256::from(1_000_000_000_000_000_000u128));
        assert_eq!(w("1.0234"), U256::from(1_023_400_000_000_000_000u128));
        assert_eq!(w("0.0000000000000000019"), U256::from(1u8));
        assert_eq!(
            w("79228162514264337593543950335"),
            U256::from_str("79228162514264337593543950335000000000000000000").unwrap()
        );
        assert!(decimal_to_wei(Decimal::from_str("-1").unwrap(), "x").is_err());
    }

    #[test]
    fn f64_conversion_is_shortest_round_trip() {
        assert_eq!(
            f64_to_decimal(1.02, "x").unwrap(),
            Decimal::from_str("1.02").unwrap()
        );
        assert_eq!(
            decimal_to_wei(f64_to_decimal(1.02, "x").unwrap(), "x").unwrap(),
            U256::from(1_020_000_000_000_000_000u128)
        );
        assert_eq!(f64_to_decimal(0.0, "x").unwrap(), Decimal::ZERO);
        assert!(f64_to_decimal(f64::NAN, "nav")
            .unwrap_err()
            .to_string()
            .contains("nav"));
        assert!(f64_to_decimal(-1.0, "x").is_err());
    }
}
