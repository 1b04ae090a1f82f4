//! A local anvil dev chain for tests and demos: spawned on 127.0.0.1 at a free port, killed when
//! dropped. The binary is `$GAIB_ANVIL` or `contracts-bindings/.tools/bin/anvil` (installed by
//! `contracts-bindings/scripts/install-tools.sh`).

use crate::bindings::aid::AID;
use crate::bindings::aid_minter::AIDMinter;
use crate::bindings::test_stablecoin::TestStablecoin;
use crate::deploy::{
    deploy, send, AidConfig, DeployConfig, Deployment, LendingMarketConfig, OracleConfig,
    TestStablecoinConfig, VaultConfig,
};
use crate::error::{ContractsError, Result};
use crate::publish::provider_with_sender;
use crate::signer::ReportSigner;
use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The private key of anvil's first default account (funded with 10 000 ETH on every fresh
/// anvil). Public knowledge: for dev chains only.
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// How long [`Anvil::spawn`] waits for anvil to listen.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running anvil; the process is killed and reaped on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    port: u16,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Anvil {
    /// The anvil binary: `$GAIB_ANVIL` if set (even if missing, so a wrong path is not silently
    /// replaced), else `contracts-bindings/.tools/bin/anvil`; `None` if it does not exist.
    pub fn binary() -> Option<PathBuf> {
        let p = match std::env::var_os("GAIB_ANVIL") {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/anvil"),
        };
        p.exists().then_some(p)
    }

    /// Starts `bin` on 127.0.0.1 at a free port (retrying on a port race) and waits until it
    /// listens.
    pub fn spawn(bin: &Path) -> Result<Anvil> {
        // One spawn at a time per process: between picking a free port and anvil binding it,
        // a parallel test could pick the same port and reach the other test's chain.
        static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| ContractsError::Rpc(format!("finding a free port: {e}")))?
                .port();
            let child = Command::new(bin)
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
                .map_err(|e| ContractsError::Rpc(format!("spawning {}: {e}", bin.display())))?;
            let mut anvil = Anvil { child, port };
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + START_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(status)) = anvil.child.try_wait() {
                    last = format!("anvil exited with {status}");
                    break; // e.g. the port was taken meanwhile: retry with another
                }
                if answers_rpc(&addr) {
                    return Ok(anvil);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if last.is_empty() {
                last = format!("not listening after {START_TIMEOUT:?}");
            }
            drop(anvil);
        }
        Err(ContractsError::Rpc(format!("anvil did not start: {last}")))
    }

    /// For tests: starts anvil, or returns `None` after printing a note when it is not installed.
    /// When the environment variable `CI` is set a missing anvil panics (the test fails).
    pub fn for_tests() -> Option<Anvil> {
        let Some(bin) = Self::binary() else {
            if std::env::var_os("CI").is_some() {
                panic!("anvil not found ($GAIB_ANVIL or contracts-bindings/.tools/bin/anvil); run contracts-bindings/scripts/install-tools.sh");
            }
            eprintln!(
                "note: anvil not found; skipping (run contracts-bindings/scripts/install-tools.sh)"
            );
            return None;
        };
        Some(Self::spawn(&bin).expect("start anvil"))
    }

    /// The TCP port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its JSON-RPC URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Whether a JSON-RPC `eth_chainId` to `addr` gets an answer (a listening socket alone is not
/// enough: anvil may accept a connection before it serves requests).
fn answers_rpc(addr: &SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect_timeout(addr, Duration::from_millis(200)) else {
        return false;
    };
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    // Read until the answer is seen, the peer closes, or the timeout (keep-alive or not).
    let (mut reply, mut buf) = (Vec::new(), [0u8; 1024]);
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&reply);
        if text.starts_with("HTTP/1.1 200") && text.contains("\"result\"") {
            return true;
        }
    }
}

/// The contracts an end-to-end test or demo publishes into, deployed by
/// [`crate::deploy::deploy`] (the one deployment path `gaib deploy` runs).
#[derive(Debug, Clone)]
pub struct DevStack {
    /// A provider that signs with the deployer's key.
    pub provider: DynProvider,
    /// The node's chain id.
    pub chain_id: u64,
    /// The ValuationOracle (the deployer its one signer, quorum 1).
    pub oracle: Address,
    /// The sAID vault.
    pub vault: Address,
    /// The example LendingMarket.
    pub market: Address,
    /// Everything deployed, with its transactions.
    pub deployment: Deployment,
}

/// Deploys a test stablecoin (6 decimals), AID and its minter, the oracle (the deployer as
/// its only signer, quorum 1, `max_age_s` seconds, `max_deviation_bps` per report), sAID and
/// the LendingMarket on `anvil`, then mints `idle_aid` wei of AID against the stablecoin and
/// donates it to the vault, so the vault's raw NAV is that idle AID plus the published
/// deployed value.
pub async fn deploy_dev_stack(
    anvil: &Anvil,
    deployer: &ReportSigner,
    max_age_s: u64,
    max_deviation_bps: u16,
    idle_aid: U256,
) -> Result<DevStack> {
    let url = anvil
        .url()
        .parse()
        .map_err(|e| ContractsError::Rpc(format!("anvil url: {e}")))?;
    let p = provider_with_sender(url, deployer);
    let me = deployer.address();
    let config = DeployConfig {
        aid: AidConfig {
            stablecoin: None,
            test_stablecoin: Some(TestStablecoinConfig {
                name: "Test USD".into(),
                symbol: "tUSD".into(),
                decimals: 6,
            }),
        },
        oracle: OracleConfig {
            asset: "sAID".into(),
            description: "sAID / AID NAV".into(),
            signers: vec![me.to_string()],
            quorum: 1,
            max_age_s,
            max_deviation_bps,
            max_growth_bps_per_year: 2_000,
            min_report_interval_s: 0,
            max_markdown_bps_per_day: 1_000,
            stale_price_decay_s: 7 * 86_400,
            guardian: None,
        },
        vault: VaultConfig::default(),
        lending_market: Some(LendingMarketConfig { enabled: true }),
        revenue_router: None,
        morpho_oracle_adapter: None,
        tranched_pool: None,
    };
    let deployment = deploy(&p, deployer, &config).await?;
    let at = |name: &str| {
        deployment
            .address(name)
            .ok_or_else(|| ContractsError::Rpc(format!("{name} was not deployed")))
    };
    let (usd, aid, minter) = (at("TestStablecoin")?, at("AID")?, at("AIDMinter")?);
    let (oracle, vault, market) = (at("ValuationOracle")?, at("SAID")?, at("LendingMarket")?);
    // 18 - 6 decimals: `idle_aid` wei of AID cost idle_aid / 10^12 stablecoin units.
    let usd_units = idle_aid.div_ceil(U256::from(10u64.pow(12)));
    let usd_c = TestStablecoin::new(usd, &p);
    let funding = [
        usd_c.mint(me, usd_units).into_transaction_request(),
        usd_c.approve(minter, usd_units).into_transaction_request(),
        AIDMinter::new(minter, &p)
            .mint(usd_units, me)
            .into_transaction_request(),
        AID::new(aid, &p)
            .transfer(vault, idle_aid)
            .into_transaction_request(),
    ];
    for tx in funding {
        send(&p, tx).await?;
    }
    Ok(DevStack {
        chain_id: deployment.chain_id,
        provider: p,
        oracle,
        vault,
        market,
        deployment,
    })
}
