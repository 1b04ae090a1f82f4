//! Shared fixture: a real anvil (gaib_contracts::devnet) killed on drop, a funded
//! deployer, the oracle's signer keys, time travel and revert assertions.

use gaib_contracts::alloy::eips::BlockNumberOrTag;
use gaib_contracts::alloy::primitives::{Address, U256};
use gaib_contracts::alloy::providers::{DynProvider, Provider};
use gaib_contracts::bindings::oracle::ValuationOracle;
pub(crate) use gaib_contracts::devnet::Anvil;
use gaib_contracts::{asset_id, provider_with_sender, ContractsError, ReportSigner};

/// anvil's first default account (10 000 ETH): deploys everything and is every admin.
pub(crate) use gaib_contracts::devnet::DEV_KEY as DEPLOYER_KEY;
/// The oracle's signers, as in the Solidity fixture (keys 0x51..0x55), quorum 3.
pub(crate) const SIGNER_KEYS: [u8; 5] = [0x51, 0x52, 0x53, 0x54, 0x55];
/// Oracle quorum.
pub(crate) const QUORUM: u64 = 3;
/// Oracle maxAge, seconds.
pub(crate) const MAX_AGE: u64 = 2 * 86_400;

/// A running anvil (killed on drop), or `None` when it is not installed locally (under `CI`
/// a missing anvil fails the test).
pub(crate) fn start() -> Option<Anvil> {
    Anvil::for_tests()
}

/// anvil's second default account (10 000 ETH): the tranched pools' servicer, who must not be
/// their admin (the deployer).
pub(crate) const SERVICER_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// The servicer's signer.
pub(crate) fn servicer() -> ReportSigner {
    ReportSigner::from_hex(SERVICER_KEY, "test").unwrap()
}

/// A provider sending from the servicer.
pub(crate) fn servicer_provider(anvil: &Anvil) -> DynProvider {
    provider_with_sender(anvil.url().parse().unwrap(), &servicer())
}

/// The deployer's signer.
pub(crate) fn deployer() -> ReportSigner {
    ReportSigner::from_hex(DEPLOYER_KEY, "test").unwrap()
}

/// Oracle signer `i` (0..5).
pub(crate) fn signer(i: usize) -> ReportSigner {
    let mut k = [0u8; 32];
    k[31] = SIGNER_KEYS[i];
    ReportSigner::from_hex(&gaib_contracts::alloy::hex::encode(k), "test").unwrap()
}

/// A provider sending from the deployer.
pub(crate) fn provider(anvil: &Anvil) -> DynProvider {
    provider_with_sender(anvil.url().parse().unwrap(), &deployer())
}

/// Timestamp of the latest block, unix seconds.
pub(crate) async fn now(p: &DynProvider) -> u64 {
    p.get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp
}

/// Moves chain time forward by `secs` and mines a block.
pub(crate) async fn warp(p: &DynProvider, secs: u64) {
    let _: serde_json::Value = p
        .raw_request("evm_increaseTime".into(), (secs,))
        .await
        .unwrap();
    let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
}

/// Deploys a `ValuationOracle` for `keccak256("sAID")` with the five signers, quorum 3, maxAge 2
/// days, decimals 18/24 (AID / sAID) and the given deviation cap; the deployer is admin and
/// guardian.
pub(crate) async fn deploy_oracle(p: &DynProvider, max_deviation_bps: u16) -> Address {
    let signers: Vec<Address> = (0..5).map(|i| signer(i).address()).collect();
    let o = ValuationOracle::deploy(
        p.clone(),
        deployer().address(),
        asset_id("sAID"),
        "sAID / AID NAV".to_string(),
        18,
        24,
        signers,
        U256::from(QUORUM),
        MAX_AGE,
        max_deviation_bps,
    )
    .await
    .expect("deploy oracle");
    *o.address()
}

/// Asserts `r` is a revert whose decoded reason starts with `name`.
pub(crate) fn assert_revert<T: std::fmt::Debug>(
    r: Result<T, ContractsError>,
    name: &str,
    what: &str,
) {
    match r {
        Err(ContractsError::Reverted { reason, .. }) => {
            assert!(
                reason.starts_with(name),
                "{what}: expected {name}, got {reason}"
            )
        }
        other => panic!("{what}: expected revert {name}, got {other:?}"),
    }
}

/// 10^n as U256.
pub(crate) fn pow10(n: u64) -> U256 {
    U256::from(10u8).pow(U256::from(n))
}

/// Sends a contract call as a transaction and returns its receipt, asserting success. Anvil
/// automines, so the receipt comes within milliseconds: poll every 2 ms rather than at alloy's
/// default interval.
macro_rules! tx {
    ($p:expr, $call:expr) => {{
        use gaib_contracts::alloy::providers::Provider as _;
        let pending = $call
            .send()
            .await
            .map_err(gaib_contracts::decode_oracle_error)
            .expect(stringify!($call));
        let hash = *pending.tx_hash();
        let mut receipt = None;
        for _ in 0..2_000 {
            receipt = $p.get_transaction_receipt(hash).await.unwrap();
            if receipt.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let receipt = receipt.expect("receipt within 4 s (automine)");
        assert!(receipt.status(), "{} failed", stringify!($call));
        receipt
    }};
}
