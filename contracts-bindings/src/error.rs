//! The one error type of the crate.

use alloy::primitives::{Bytes, B256};

/// Errors of `gaib-contracts`. Input errors ([`ContractsError::InvalidInput`],
/// [`ContractsError::Key`]) are the caller's fault (the CLI exits 2); the others come from the
/// chain or the transport (exit 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractsError {
    /// A field of the input (a report field, an address, a URL, a JSON document) is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field, e.g. `oracle`, `report.nav_per_share`, `rpc`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signing key could not be loaded. The message never contains key material.
    #[error("signing key ({source_name}): {reason}")]
    Key {
        /// Where the key was looked for: `file <path>` or `env <VAR>`.
        source_name: String,
        /// What went wrong (missing, unreadable, not a 32-byte hex secp256k1 key).
        reason: String,
    },
    /// A signature is malformed, high-s (malleable), or does not recover to the expected signer.
    #[error("signature: {0}")]
    Signature(String),
    /// The contract reverted; `reason` is the custom error decoded from the ABI when known.
    #[error("{contract} reverted: {reason}")]
    Reverted {
        /// The contract that reverted, e.g. `ValuationOracle`.
        contract: &'static str,
        /// The decoded revert reason, e.g. `RoundNotIncreasing { last: 3, round: 3 }`.
        reason: String,
        /// The raw revert data, if the node returned any.
        data: Option<Bytes>,
    },
    /// A transaction was mined but failed (status 0).
    #[error("transaction {tx_hash} was mined but failed (status 0)")]
    TxFailed {
        /// The transaction hash.
        tx_hash: B256,
    },
    /// The JSON-RPC transport or node failed (connection refused, timeout, bad response).
    #[error("JSON-RPC: {0}")]
    Rpc(String),
}

impl ContractsError {
    /// Builds an [`ContractsError::InvalidInput`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Whether the error is bad input (file, field, argument or key) rather than a chain error.
    pub fn is_input_error(&self) -> bool {
        matches!(self, Self::InvalidInput { .. } | Self::Key { .. })
    }
}

/// `Result` with [`ContractsError`].
pub type Result<T, E = ContractsError> = std::result::Result<T, E>;
