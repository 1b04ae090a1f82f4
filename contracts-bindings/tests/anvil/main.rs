//! Integration tests against a real anvil: the Rust-signed report is what the `ValuationOracle`
//! verifies, tampering is rejected, the vault and lending market follow published NAVs, and the
//! engine's revenue split equals `RevenueRouter`'s to the wei. Each test starts its own anvil
//! (skipped with a note when anvil is not installed, failing under `CI`).

#[macro_use]
mod common;
mod morpho;
mod oracle;
mod pool;
mod router;
mod tranche;
mod vault;
mod waterfall;
