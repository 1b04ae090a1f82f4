//! # gaib-contracts
//!
//! Rust side of gaib's on-chain contracts (`contracts-bindings/solidity/`, see
//! `shared/design/ONCHAIN.md`):
//!
//! - [`bindings`]: alloy `sol!` bindings of every contract, generated at compile time from the
//!   checked-in forge artifacts (`artifacts/*.json`), so building needs no forge and no network;
//! - [`Report`]: the EIP-712 `ValuationReport` the `ValuationOracle` verifies, with its JSON form
//!   (a run's valuation becomes one through `gaib_runs::OnchainValuation`);
//! - [`ReportSigner`]: a local secp256k1 key from a file or an env var (never logged) that
//!   produces the 65-byte low-s signatures the oracle accepts; [`recover_signer`] checks them;
//! - [`publish`] / [`sign_and_publish`]: submit a signed report over JSON-RPC and wait for the
//!   receipt, with reverts decoded into the contract's custom errors;
//! - [`TrancheReport`]: the second report type, per-tranche prices of a `TranchedPool` for its
//!   `TrancheOracle` ([`publish_tranche_prices`], [`prices_from_values`]);
//! - [`Wei`]: alloy's `U256` as a [`gaib_engine::WeiInt`], so the engine's one
//!   `revenue_split` is the function the differential test runs against `RevenueRouter.split`;
//! - [`deploy`]: deploy every contract from the artifacts per a `deploy.toml`
//!   ([`DeployConfig`]) and record it ([`Deployment`], `deployments/<chain-id>.json`);
//! - [`devnet::Anvil`]: a local anvil for tests and demos, killed on drop.
//!
//! Units: token amounts in wei (AID has 18 decimals; NAV per share is 1e18 fixed point), times in
//! unix seconds, ratios in basis points (10 000 = 100 %).
//!
//! **Architecture invariant:** this is the only crate that knows about chains; `gaib-engine`
//! does not depend on alloy.

pub mod bindings;
pub mod deploy;
pub mod devnet;
mod error;
mod publish;
mod report;
mod signer;
mod tranche_report;
mod wei;

pub use deploy::{DeployConfig, Deployment};
pub use error::{ContractsError, Result};
pub use publish::{
    decode_oracle_error, decode_revert, parse_address, parse_rpc_url, provider_with_sender,
    publish, sign_and_publish, Published, RECEIPT_TIMEOUT,
};
pub use report::{
    asset_id, decimal_to_wei, domain, f64_to_decimal, run_id_of_manifest, Report, SignedReport,
    BPS_ONE, DOMAIN_NAME, DOMAIN_VERSION, REPORT_TYPE,
};
pub use signer::{recover_signer, verify_report_signature, ReportSigner};
pub use tranche_report::{
    prices_from_values, publish_tranche_prices, sign_and_publish_tranches, SignedTrancheReport,
    TrancheReport, MAX_TRANCHES, TRANCHE_REPORT_TYPE,
};
pub use wei::{revenue_split_u256, Wei};

/// Re-export of the alloy crate this crate is built against (same features), for callers that
/// need its types (`Address`, `U256`, providers).
pub use alloy;
