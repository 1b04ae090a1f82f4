//! Report signing with a local secp256k1 key, and local verification.
//!
//! The key is loaded from a file or an environment variable and is never printed: the
//! [`ReportSigner`]'s `Debug` shows only the address, and load errors never echo key material.

use crate::error::{ContractsError, Result};
use crate::report::Report;
use alloy::primitives::{Address, Signature, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A signing key for valuation reports (and the sender of `publish` transactions).
#[derive(Clone)]
pub struct ReportSigner {
    inner: PrivateKeySigner,
}

impl fmt::Debug for ReportSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportSigner")
            .field("address", &self.inner.address())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ReportSigner {
    /// Parses a 32-byte secp256k1 key in hex (with or without `0x`, surrounding whitespace
    /// ignored). `source_name` says where it came from, for the error message.
    pub fn from_hex(hex: &str, source_name: &str) -> Result<Self> {
        let inner = PrivateKeySigner::from_str(hex.trim()).map_err(|_| ContractsError::Key {
            source_name: source_name.to_string(),
            reason: "not a 32-byte hex secp256k1 private key".into(),
        })?;
        Ok(Self { inner })
    }

    /// Loads the key from a file holding its hex (one line).
    pub fn from_file(path: &Path) -> Result<Self> {
        let source_name = format!("file {}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| ContractsError::Key {
            source_name: source_name.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        Self::from_hex(&text, &source_name)
    }

    /// Loads the key from the environment variable `var` holding its hex.
    pub fn from_env(var: &str) -> Result<Self> {
        let source_name = format!("env {var}");
        let text = std::env::var(var).map_err(|e| ContractsError::Key {
            source_name: source_name.clone(),
            reason: match e {
                std::env::VarError::NotPresent => "not set".into(),
                std::env::VarError::NotUnicode(_) => "not valid UTF-8".into(),
            },
        })?;
        Self::from_hex(&text, &source_name)
    }

    /// The signer's address.
    pub fn address(&self) -> Address {
        self.inner.address()
    }

    /// The underlying alloy signer (to build a wallet for sending transactions).
    pub fn alloy_signer(&self) -> &PrivateKeySigner {
        &self.inner
    }

    /// Signs a 32-byte prehash: a 65-byte `r ‖ s ‖ v` signature with low `s` and `v` ∈ {27, 28},
    /// as OpenZeppelin's `ECDSA.recover` accepts.
    pub fn sign_digest(&self, digest: B256) -> Result<[u8; 65]> {
        let sig = self
            .inner
            .sign_hash_sync(&digest)
            .map_err(|e| ContractsError::Signature(e.to_string()))?;
        // k256 signs with low s already; normalise defensively (the oracle rejects high s).
        let sig = sig.normalize_s().unwrap_or(sig);
        Ok(sig.as_bytes())
    }

    /// Signs `report` for the oracle at `oracle` on chain `chain_id` (EIP-712).
    pub fn sign_report(&self, report: &Report, chain_id: u64, oracle: Address) -> Result<[u8; 65]> {
        self.sign_digest(report.digest(chain_id, oracle))
    }
}

/// Half the secp256k1 group order: signatures with `s` above it are malleable and rejected.
const SECP256K1_HALF_N: alloy::primitives::U256 = alloy::primitives::uint!(
    0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0_U256
);

/// Recovers the signer of a 65-byte `r ‖ s ‖ v` signature of `digest` with the oracle's rules:
/// exactly 65 bytes, `v` ∈ {27, 28}, low `s`.
pub fn recover_signer(digest: B256, signature: &[u8]) -> Result<Address> {
    if signature.len() != 65 {
        return Err(ContractsError::Signature(format!(
            "length {} (expected 65)",
            signature.len()
        )));
    }
    let v = signature[64];
    if v != 27 && v != 28 {
        return Err(ContractsError::Signature(format!(
            "v = {v} (expected 27 or 28)"
        )));
    }
    let sig =
        Signature::try_from(signature).map_err(|e| ContractsError::Signature(e.to_string()))?;
    if sig.s() > SECP256K1_HALF_N {
        return Err(ContractsError::Signature("high s (malleable)".into()));
    }
    sig.recover_address_from_prehash(&digest)
        .map_err(|e| ContractsError::Signature(e.to_string()))
}

/// Checks that `signature` is a valid oracle signature of `report` (chain `chain_id`, oracle
/// `oracle`) by `expected`.
pub fn verify_report_signature(
    report: &Report,
    chain_id: u64,
    oracle: Address,
    signature: &[u8],
    expected: Address,
) -> Result<()> {
    let got = recover_signer(report.digest(chain_id, oracle), signature)?;
    if got != expected {
        return Err(ContractsError::Signature(format!(
            "recovered {got}, expected {expected}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{keccak256, U256};

    const KEY: &str = "0x0000000000000000000000000000000000000000000000000000000000000051";

    #[test]
    fn debug_redacts_the_key() {
        let s = ReportSigner::from_hex(KEY, "test").unwrap();
        let dbg = format!("{s:?}");
        assert!(
            dbg.contains("redacted") && !dbg.contains("0051") && !dbg.contains("51,"),
            "{dbg}"
        );
        let e = ReportSigner::from_hex("0xnot-a-key-secret", "env X").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn signatures_are_low_s_and_recover() {
        let s = ReportSigner::from_hex(KEY, "test").unwrap();
        for i in 0..64u32 {
            let d = keccak256(i.to_be_bytes());
            let sig = s.sign_digest(d).unwrap();
            assert!(sig[64] == 27 || sig[64] == 28);
            assert!(U256::from_be_slice(&sig[32..64]) <= SECP256K1_HALF_N);
            assert_eq!(recover_signer(d, &sig).unwrap(), s.address());
            // the malleable twin (n - s, flipped v) is rejected
            let n = U256::from_be_bytes(SECP256K1_HALF_N.to_be_bytes::<32>()) * U256::from(2)
                + U256::from(1);
            let mut twin = sig;
            twin[32..64]
                .copy_from_slice(&(n - U256::from_be_slice(&sig[32..64])).to_be_bytes::<32>());
            twin[64] = if sig[64] == 27 { 28 } else { 27 };
            assert!(recover_signer(d, &twin).is_err());
        }
        assert!(recover_signer(B256::ZERO, &[0u8; 64]).is_err());
    }

    #[test]
    fn key_from_env_and_file() {
        let dir = std::env::temp_dir().join(format!("gaib-contracts-key-{}", std::process::id()));
        std::fs::write(&dir, format!("{KEY}\n")).unwrap();
        let a = ReportSigner::from_file(&dir).unwrap().address();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(a, ReportSigner::from_hex(KEY, "t").unwrap().address());
        let e = ReportSigner::from_env("GAIB_CONTRACTS_TEST_UNSET_VAR").unwrap_err();
        assert!(e.is_input_error() && e.to_string().contains("not set"));
    }
}
