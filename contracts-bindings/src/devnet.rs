//! A local anvil dev chain for tests and demos: spawned on 127.0.0.1 at a free port, killed when
//! dropped. The binary is `$GAIB_ANVIL` or `contracts-bindings/.tools/bin/anvil` (installed by
//! `contracts-bindings/scripts/install-tools.sh`).

use crate::error::{ContractsError, Result};
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
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
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
