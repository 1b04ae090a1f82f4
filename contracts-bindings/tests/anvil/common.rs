//! Shared fixture: a real anvil on 127.0.0.1 (random free port) killed on drop, a funded
//! deployer, the oracle's signer keys, time travel and revert assertions.

use gaib_contracts::alloy::eips::BlockNumberOrTag;
use gaib_contracts::alloy::primitives::{Address, U256};
use gaib_contracts::alloy::providers::{DynProvider, Provider};
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::{asset_id, provider_with_sender, ContractsError, ReportSigner};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// anvil's first default account (10 000 ETH): deploys everything and is every admin.
pub(crate) const DEPLOYER_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// The oracle's signers, as in the Solidity fixture (keys 0x51..0x55), quorum 3.
pub(crate) const SIGNER_KEYS: [u8; 5] = [0x51, 0x52, 0x53, 0x54, 0x55];
/// Oracle quorum.
pub(crate) const QUORUM: u64 = 3;
/// Oracle maxAge, seconds.
pub(crate) const MAX_AGE: u64 = 2 * 86_400;

/// A running anvil, killed (and reaped) on drop.
pub(crate) struct Anvil {
    child: Child,
    /// JSON-RPC URL.
    pub(crate) url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn anvil_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GAIB_ANVIL") {
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/anvil");
    p.exists().then_some(p)
}

/// Starts anvil, or returns `None` (with a note) when it is not installed locally. Under `CI`
/// a missing anvil fails the test.
pub(crate) fn start() -> Option<Anvil> {
    let Some(bin) = anvil_binary() else {
        if std::env::var_os("CI").is_some() {
            panic!("anvil not found ($GAIB_ANVIL or contracts-bindings/.tools/bin/anvil); run contracts-bindings/scripts/install-tools.sh");
        }
        eprintln!(
            "note: anvil not found; skipping (run contracts-bindings/scripts/install-tools.sh)"
        );
        return None;
    };
    for _attempt in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--silent",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn anvil");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break; // exited: port taken, retry with another
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Some(Anvil {
                    child,
                    url: format!("http://127.0.0.1:{port}"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("anvil did not start");
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
    provider_with_sender(anvil.url.parse().unwrap(), &deployer())
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
