//! `gaib publish`: sign a valuation report with a local key and submit it to a
//! `ValuationOracle` over JSON-RPC.
//!
//! The report comes either from a file (`--report FILE`: a bare report, or one with signatures
//! already collected from other signers) or straight from a run directory (`--from-run DIR`,
//! what `gaib run --out DIR` wrote). With `--from-run` the report's figures are the run's
//! on-chain valuation, [`gaib_runs::RunDir::valuation`] (its module doc has the rules), and
//! [`gaib_api::chain::report_of`] copies them into the report, as the service does:
//!
//! - every output file must hash as the manifest records (exit 2 naming the file otherwise),
//!   and the portfolio must have a vault (exit 2 otherwise);
//! - `asset` = keccak256 of the vault id (e.g. `"sAID"`);
//! - `nav_per_share` = the vault's **unstaking NAV per share at t = 0**
//!   (`valuation.vault.nav0_per_share_usd`, AID = USD), converted to 1e18 fixed point through its
//!   shortest decimal form and truncated. This is the price of redemptions and of sAID as
//!   collateral on the valuation date; the simulated horizon NAV is a forecast, not a mark, and
//!   the run's risk reaches the chain through the haircut and LTV instead;
//! - `deployed_value` = the vault's NAV at t = 0 minus its liquidity buffer, i.e. the value of
//!   its off-chain holdings (whole deals at their funded amounts, tranche holdings at their
//!   marks at issue), exact in decimals as `results.json`'s `vault_book` records them (on chain,
//!   sAID adds its idle AID to it);
//! - `haircut_bps` = the haircut rounded up, `ltv_bps` = the recommended LTV rounded down
//!   ([`gaib_runs::percent_to_bps`]);
//! - `run_id` = SHA-256 of `DIR/manifest.json`'s bytes;
//! - `observed_at` = the manifest's `created_unix_s`, the moment the run computed the valuation
//!   (not the portfolio's `as_of` date, the model's t = 0, which would usually be older than the
//!   oracle's `maxAge`); the oracle rejects an `observed_at` in the future or older than `maxAge`;
//! - `valid_until` = `observed_at + --valid-for` (default 1 day);
//! - `round` = `--round N`, or `--round auto`: the oracle's `latestRound` + 1, read over RPC.
//!
//! `--dry-run` prints `{"report", "eip712_digest", "chain_id", "oracle"}` as JSON and sends
//! nothing; `--write-report FILE` saves `{"report", "signatures"}` (with this key's signature
//! when a key is given) so that other signers can co-sign it with `gaib publish --report FILE`.
//!
//! `--tranches` publishes a pool's per-tranche prices to its `TrancheOracle` instead (the second
//! report type, docs/ONCHAIN.md "Tokenised positions"): with `--from-run` the pool is the one
//! whose id hashes to the oracle's `asset()` (read over `--rpc`), each price is the tranche's
//! E\[PV\] / original balance in 1e18 fixed point
//! ([`gaib_api::tranche_keeper::tranche_prices_of_run`], the service keeper's rule), `period` the
//! pool's `period()` (read through the oracle's `tranchedPool()`: the oracle takes and serves
//! the prices only while the pool is at that period),
//! `observed_at`, `valid_until` and `run_id` as above, `round` = `--round N` or `auto` (the
//! oracle's `latestTrancheRound` + 1); `--dry-run`, `--write-report` and `--report` work as for
//! the NAV report, on `{"tranche_report", "signatures"}`.
//!
//! Bad input (URL, address, report JSON, run directory, key) exits 2 naming the field; chain
//! errors (the node unreachable, a revert decoded from the oracle's ABI) exit 1.

use anyhow::Context;
use gaib_api::chain::report_of;
use gaib_api::tranche_keeper::{tranche_prices_of_run, RunTranchePrices, TranchePricesError};
use gaib_contracts::alloy::primitives::{Address, Bytes, B256};
use gaib_contracts::alloy::providers::{Provider, ProviderBuilder};
use gaib_contracts::alloy::transports::http::reqwest::Url;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::bindings::tranche_oracle::TrancheOracle::{self, TrancheOracleErrors};
use gaib_contracts::bindings::tranched_pool::TranchedPool::{self, TranchedPoolErrors};
use gaib_contracts::{
    decode_oracle_error, decode_revert, parse_address, parse_rpc_url, run_id_of_manifest,
    sign_and_publish_tranches, ContractsError, ReportSigner, SignedReport, SignedTrancheReport,
    TrancheReport,
};
use gaib_runs::{wei_to_aid, OnchainValuation, RunDir};
use std::path::{Path, PathBuf};

/// Arguments of `gaib publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// JSON-RPC endpoint (http:// or https://), e.g. http://127.0.0.1:8545. Optional with
    /// --dry-run (then --chain-id gives the digest's chain).
    #[arg(long, required_unless_present = "dry_run")]
    rpc: Option<String>,
    /// Address of the ValuationOracle contract (0x…, 20 bytes).
    #[arg(long)]
    oracle: String,
    /// Report JSON: a report, or {"report": …, "signatures": ["0x…", …]} with signatures already
    /// collected from other signers.
    #[arg(
        long,
        required_unless_present = "from_run",
        conflicts_with = "from_run"
    )]
    report: Option<PathBuf>,
    /// Build the report from a run directory (results.json + manifest.json of `gaib run --out`):
    /// NAV per share = the vault's unstaking NAV per share at t = 0, observed at the run's
    /// creation time.
    #[arg(long, value_name = "DIR")]
    from_run: Option<PathBuf>,
    /// Report round with --from-run: a number ≥ 1, or `auto` (the oracle's latest round + 1).
    #[arg(long, requires = "from_run")]
    round: Option<String>,
    /// How long a --from-run report stays valid after the run: seconds, or with a unit
    /// (30m, 12h, 1d).
    #[arg(long, default_value = "1d", requires = "from_run")]
    valid_for: String,
    /// Print the report and its EIP-712 digest as JSON; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also save the report with this key's signature (if a key is given) to FILE, for other
    /// signers to co-sign with `gaib publish --report FILE`.
    #[arg(long, value_name = "FILE")]
    write_report: Option<PathBuf>,
    /// Chain id for the digest when no --rpc is given (with --rpc it must match the node's).
    #[arg(long)]
    chain_id: Option<u64>,
    /// File holding the hex secp256k1 key that signs the report and pays for the transaction.
    #[arg(long, conflicts_with = "key_env")]
    key_file: Option<PathBuf>,
    /// Environment variable holding that key instead (never printed).
    #[arg(long)]
    key_env: Option<String>,
    /// Publish the per-tranche price report (`TranchePriceReport`) instead of the NAV report:
    /// --oracle is then the pool's TrancheOracle; --from-run prices each tranche of the pool
    /// whose id hashes to the oracle's asset at E\[PV\] / original balance; --report and
    /// --write-report read and write `{"tranche_report", "signatures"}`.
    #[arg(long)]
    tranches: bool,
}

/// The round of a `--from-run` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// This round.
    Fixed(u64),
    /// The oracle's `latestRound` + 1.
    Auto,
}

/// Parses `--round`: `auto` or an integer ≥ 1.
fn parse_round(s: Option<&str>) -> anyhow::Result<Round> {
    let Some(s) = s else {
        return Err(crate::CliError::invalid(
            "invalid round: --from-run needs --round N or --round auto",
        ));
    };
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(Round::Auto);
    }
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(Round::Fixed(n)),
        _ => Err(crate::CliError::invalid(format!(
            "invalid round: {s:?} is neither an integer ≥ 1 nor `auto`"
        ))),
    }
}

/// Parses `--valid-for`: seconds, or a number with a unit `s`, `m`, `h` or `d`; > 0.
fn parse_duration(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => 0,
    };
    match num.parse::<u64>().ok().and_then(|n| n.checked_mul(scale)) {
        Some(secs) if secs > 0 => Ok(secs),
        _ => Err(crate::CliError::invalid(format!(
            "invalid valid-for: {s:?} (seconds > 0, or a number with s, m, h or d, e.g. 1d)"
        ))),
    }
}

/// Loads the key from --key-file or --key-env, if given.
fn load_key(a: &Args) -> anyhow::Result<Option<ReportSigner>> {
    match (&a.key_file, &a.key_env) {
        (Some(f), _) => ReportSigner::from_file(f).map(Some),
        (None, Some(v)) => ReportSigner::from_env(v).map(Some),
        (None, None) => Ok(None),
    }
    .map_err(anyhow::Error::from)
}

/// Where the report comes from.
enum Source {
    /// A report file, possibly with signatures already collected.
    File(SignedReport),
    /// A run directory's on-chain figures (the report's round is still to choose).
    Run {
        /// The directory, for the summary line.
        dir: PathBuf,
        /// Its figures ([`RunDir::valuation`]).
        valuation: OnchainValuation,
        /// The round asked for.
        round: Round,
    },
}

/// Reads `--report FILE` (validated) or the figures of `--from-run DIR` (see the module doc).
fn read_source(a: &Args) -> anyhow::Result<Source> {
    match (&a.report, &a.from_run) {
        (Some(path), _) => {
            if a.round.is_some() {
                return Err(crate::CliError::invalid(
                    "invalid round: --round applies to --from-run (a --report file has its own)",
                ));
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                crate::CliError::invalid(format!(
                    "invalid report: cannot read {}: {e}",
                    path.display()
                ))
            })?;
            let signed = SignedReport::from_json(&text)?;
            signed.report.validate()?;
            Ok(Source::File(signed))
        }
        (None, Some(dir)) => {
            let round = parse_round(a.round.as_deref())?;
            let valid_for = parse_duration(&a.valid_for)?;
            let valuation = RunDir::open(dir)?.valuation(valid_for)?;
            Ok(Source::Run {
                dir: dir.clone(),
                valuation,
                round,
            })
        }
        (None, None) => Err(crate::CliError::invalid(
            "invalid report: give --report FILE or --from-run DIR",
        )),
    }
}

/// The chain id of the digest and, when `auto_round`, the oracle's latest round: both from the
/// node at `rpc`, else `--chain-id` (checked against the node's when both are given).
fn chain_context(
    runtime: &tokio::runtime::Runtime,
    rpc: Option<&Url>,
    oracle: Address,
    given_chain_id: Option<u64>,
    auto_round: bool,
) -> anyhow::Result<(Option<u64>, Option<u64>)> {
    let (chain_id, latest_round) = match rpc {
        Some(url) => {
            let provider = ProviderBuilder::new().connect_http(url.clone());
            runtime.block_on(async {
                let chain_id = provider
                    .get_chain_id()
                    .await
                    .map_err(|e| ContractsError::Rpc(format!("eth_chainId: {e}")))?;
                let latest = if auto_round {
                    Some(
                        ValuationOracle::new(oracle, &provider)
                            .latestRound()
                            .call()
                            .await
                            .map_err(decode_oracle_error)?,
                    )
                } else {
                    None
                };
                Ok::<_, ContractsError>((Some(chain_id), latest))
            })?
        }
        None if auto_round => {
            return Err(crate::CliError::invalid(
                "invalid round: --round auto reads the oracle's latest round and needs --rpc",
            ))
        }
        None => (given_chain_id, None),
    };
    if let (Some(given), Some(node)) = (given_chain_id, chain_id) {
        if given != node {
            return Err(crate::CliError::invalid(format!(
                "invalid chain-id: {given}, but the node at --rpc is chain {node}"
            )));
        }
    }
    Ok((chain_id, latest_round))
}

/// The report to sign: the file's, or the run's figures for the chosen round (printing a
/// summary line to stderr).
fn signed_report(source: Source, latest_round: Option<u64>) -> anyhow::Result<SignedReport> {
    let (dir, valuation, round) = match source {
        Source::File(signed) => return Ok(signed),
        Source::Run {
            dir,
            valuation,
            round,
        } => (dir, valuation, round),
    };
    let round = match round {
        Round::Fixed(n) => n,
        Round::Auto => latest_round.unwrap_or(0).checked_add(1).ok_or_else(|| {
            crate::CliError::invalid("invalid round: the oracle's round is at its maximum")
        })?,
    };
    let report = report_of(&valuation, round)?;
    eprintln!(
        "report from {}: {} NAV/share {} AID, deployed {} AID, haircut {} bps, LTV {} bps, \
         observed {} valid until {}, round {}, run id {}",
        dir.display(),
        valuation.asset,
        wei_to_aid(valuation.nav_per_share_wei),
        wei_to_aid(valuation.deployed_value_wei),
        report.haircut_bps,
        report.ltv_bps,
        report.observed_at,
        report.valid_until,
        report.round,
        report.run_id
    );
    Ok(SignedReport {
        report,
        signatures: Vec::new(),
    })
}

/// `--write-report FILE`: the report with this key's signature added when both a key and a
/// chain id (for the digest) are known.
fn write_report(
    path: &Path,
    signed: &SignedReport,
    key: Option<&ReportSigner>,
    digest: Option<B256>,
) -> anyhow::Result<()> {
    let mut out = signed.clone();
    if let (Some(k), Some(d)) = (key, digest) {
        let own = Bytes::from(k.sign_digest(d)?.to_vec());
        if !out.signatures.contains(&own) {
            out.signatures.push(own);
        }
    } else if key.is_some() {
        eprintln!(
            "note: no chain id (give --rpc or --chain-id): {} is saved unsigned",
            path.display()
        );
    }
    let mut text = serde_json::to_string_pretty(&out)?;
    text.push('\n');
    gaib_runs::write_atomic(path, text.as_bytes())?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Signs and submits `signed` to `oracle` and waits for the receipt; prints the outcome.
fn submit(
    runtime: &tokio::runtime::Runtime,
    rpc: Option<Url>,
    oracle: Address,
    signed: &SignedReport,
    key: Option<ReportSigner>,
) -> anyhow::Result<()> {
    let Some(rpc) = rpc else {
        return Err(crate::CliError::invalid(
            "invalid rpc: give --rpc URL (or --dry-run)",
        ));
    };
    let Some(key) = key else {
        return Err(crate::CliError::invalid(
            "invalid key: give --key-file FILE or --key-env VAR",
        ));
    };
    let out = runtime.block_on(gaib_contracts::sign_and_publish(rpc, oracle, signed, &key))?;
    println!(
        "published round {} to {oracle}: tx {} in block {}, gas {}",
        out.round,
        out.tx_hash,
        out.block_number
            .map_or_else(|| "?".to_string(), |b| b.to_string()),
        out.gas_used
    );
    Ok(())
}

/// Validates the inputs, then builds or reads the report and signs, submits and waits for the
/// receipt (or, with --dry-run, prints it).
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    if a.tranches {
        return run_tranches(a);
    }
    let (
        ChainSetup {
            rpc,
            oracle,
            key,
            runtime,
        },
        source,
    ) = ChainSetup::from_args(&a, || read_source(&a))?;
    let auto_round = matches!(
        source,
        Source::Run {
            round: Round::Auto,
            ..
        }
    );
    let (chain_id, latest_round) =
        chain_context(&runtime, rpc.as_ref(), oracle, a.chain_id, auto_round)?;
    let signed = signed_report(source, latest_round)?;
    let digest: Option<B256> = chain_id.map(|c| signed.report.digest(c, oracle));
    if let Some(path) = &a.write_report {
        write_report(path, &signed, key.as_ref(), digest)?;
    }
    if a.dry_run {
        let shown = serde_json::json!({
            "report": signed.report,
            "signatures": signed.signatures,
            "eip712_digest": digest,
            "chain_id": chain_id,
            "oracle": oracle,
        });
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    submit(&runtime, rpc, oracle, &signed, key)
}

/// The tranche prices of the run in `dir` for the pool whose id hashes to `pool` (the
/// TrancheOracle's asset) at pool period `period` (the pool's `period()` now), observed at the
/// run's creation and valid for `valid_for` seconds.
fn tranche_report_of_run(
    dir: &Path,
    pool: B256,
    period: u64,
    valid_for: u64,
    round: u64,
) -> anyhow::Result<TrancheReport> {
    let rd = RunDir::open(dir)?;
    let differences = rd.output_hash_differences();
    if !differences.is_empty() {
        return Err(crate::CliError::invalid(format!(
            "invalid from-run: {}'s files do not match its manifest: {}",
            dir.display(),
            differences.join("; ")
        )));
    }
    let RunTranchePrices { pool: id, prices } =
        tranche_prices_of_run(&rd, pool).map_err(|e| match e {
            TranchePricesError::NoPool { .. } => {
                crate::CliError::invalid(format!("invalid from-run: {e}"))
            }
            TranchePricesError::Prices { source, .. } => anyhow::Error::from(source),
        })?;
    let observed_at = rd.manifest.created_unix_s;
    let report = TrancheReport {
        pool,
        period,
        prices,
        observed_at,
        valid_until: observed_at.checked_add(valid_for).ok_or_else(|| {
            crate::CliError::invalid("invalid valid-for: past the largest Unix time")
        })?,
        run_id: run_id_of_manifest(&rd.manifest_bytes),
        round,
    };
    report.validate()?;
    eprintln!(
        "tranche prices of {id} at pool period {} from {}: {} (1e18 = par), observed {} valid until {}, round {}",
        report.period,
        dir.display(),
        report
            .prices
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        report.observed_at,
        report.valid_until,
        report.round
    );
    Ok(report)
}

/// The chain set-up both report types share: the RPC URL, the oracle's address, the key (required
/// unless `--dry-run`) and the async runtime.
struct ChainSetup {
    /// `--rpc`, parsed.
    rpc: Option<Url>,
    /// `--oracle`, parsed.
    oracle: Address,
    /// `--key-file` / `--key-env`, loaded.
    key: Option<ReportSigner>,
    /// A current-thread tokio runtime.
    runtime: tokio::runtime::Runtime,
}

impl ChainSetup {
    /// Parses `--rpc` and `--oracle`, runs `before_key` (the NAV report reads its source there),
    /// then loads the key, refuses a missing one without `--dry-run` and starts the runtime: the
    /// order in which the command reports bad input (the CLI tests pin it).
    fn from_args<T>(
        a: &Args,
        before_key: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<(Self, T)> {
        let rpc: Option<Url> = a.rpc.as_deref().map(parse_rpc_url).transpose()?;
        let oracle = parse_address(&a.oracle, "oracle")?;
        let before = before_key()?;
        let key = load_key(a)?;
        if key.is_none() && !a.dry_run {
            return Err(crate::CliError::invalid(
                "invalid key: give --key-file FILE or --key-env VAR",
            ));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok((
            Self {
                rpc,
                oracle,
                key,
                runtime,
            },
            before,
        ))
    }
}

/// `gaib publish --tranches`: the per-tranche price report, read or built, signed, and written,
/// printed or submitted as the NAV report is.
fn run_tranches(a: Args) -> anyhow::Result<()> {
    let (
        ChainSetup {
            rpc,
            oracle,
            key,
            runtime,
        },
        (),
    ) = ChainSetup::from_args(&a, || Ok(()))?;
    let (chain_id, signed) = match (&a.report, &a.from_run) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                crate::CliError::invalid(format!(
                    "invalid report: cannot read {}: {e}",
                    path.display()
                ))
            })?;
            let signed = SignedTrancheReport::from_json(&text)?;
            let (chain_id, _) = chain_context(&runtime, rpc.as_ref(), oracle, a.chain_id, false)?;
            (chain_id, signed)
        }
        (None, Some(dir)) => {
            let round = parse_round(a.round.as_deref())?;
            let valid_for = parse_duration(&a.valid_for)?;
            let Some(url) = rpc.as_ref() else {
                return Err(crate::CliError::invalid(
                    "invalid rpc: --tranches --from-run reads the oracle's pool and needs --rpc",
                ));
            };
            let provider = ProviderBuilder::new().connect_http(url.clone());
            let (chain_id, pool, latest, period) = runtime.block_on(async {
                let err = |e| decode_revert::<TrancheOracleErrors>(e, "TrancheOracle");
                let o = TrancheOracle::new(oracle, &provider);
                let chain_id = provider
                    .get_chain_id()
                    .await
                    .map_err(|e| ContractsError::Rpc(format!("eth_chainId: {e}")))?;
                let pool = o.asset().call().await.map_err(err)?;
                let latest = o.latestTrancheRound().call().await.map_err(err)?;
                let pool_contract = o.tranchedPool().call().await.map_err(err)?;
                let period = TranchedPool::new(pool_contract, &provider)
                    .period()
                    .call()
                    .await
                    .map_err(|e| decode_revert::<TranchedPoolErrors>(e, "TranchedPool"))?;
                Ok::<_, ContractsError>((chain_id, pool, latest, period))
            })?;
            let period = u64::try_from(period).map_err(|_| {
                crate::CliError::invalid(format!(
                    "invalid from-run: the pool's period {period} is above 2^64 - 1"
                ))
            })?;
            if let Some(given) = a.chain_id.filter(|&c| c != chain_id) {
                return Err(crate::CliError::invalid(format!(
                    "invalid chain-id: {given}, but the node at --rpc is chain {chain_id}"
                )));
            }
            let round = match round {
                Round::Fixed(n) => n,
                Round::Auto => latest.checked_add(1).ok_or_else(|| {
                    crate::CliError::invalid("invalid round: the oracle's round is at its maximum")
                })?,
            };
            let report = tranche_report_of_run(dir, pool, period, valid_for, round)?;
            (
                Some(chain_id),
                SignedTrancheReport {
                    tranche_report: report,
                    signatures: Vec::new(),
                },
            )
        }
        (None, None) => {
            return Err(crate::CliError::invalid(
                "invalid report: give --report FILE or --from-run DIR",
            ))
        }
    };
    let digest = chain_id.map(|c| signed.tranche_report.digest(c, oracle));
    if let Some(path) = &a.write_report {
        let mut out = signed.clone();
        if let (Some(k), Some(d)) = (key.as_ref(), digest) {
            let own = Bytes::from(k.sign_digest(d)?.to_vec());
            if !out.signatures.contains(&own) {
                out.signatures.push(own);
            }
        }
        let mut text = serde_json::to_string_pretty(&out)?;
        text.push('\n');
        gaib_runs::write_atomic(path, text.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    if a.dry_run {
        let shown = serde_json::json!({
            "tranche_report": signed.tranche_report,
            "signatures": signed.signatures,
            "eip712_digest": digest,
            "chain_id": chain_id,
            "oracle": oracle,
        });
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let (Some(rpc), Some(key)) = (rpc, key) else {
        return Err(crate::CliError::invalid(
            "invalid rpc: give --rpc URL (or --dry-run)",
        ));
    };
    let out = runtime.block_on(sign_and_publish_tranches(rpc, oracle, &signed, &key))?;
    println!(
        "published tranche prices round {} to {oracle}: tx {} in block {}, gas {}",
        out.round,
        out.tx_hash,
        out.block_number
            .map_or_else(|| "?".to_string(), |b| b.to_string()),
        out.gas_used
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(rpc: &str, oracle: &str, report: PathBuf, key_env: Option<&str>) -> Args {
        Args {
            rpc: Some(rpc.into()),
            oracle: oracle.into(),
            report: Some(report),
            from_run: None,
            round: None,
            valid_for: "1d".into(),
            dry_run: false,
            write_report: None,
            chain_id: None,
            key_file: None,
            key_env: key_env.map(str::to_string),
            tranches: false,
        }
    }

    /// The message of an input error (exit 2), if `e` is one.
    fn invalid_message(e: &anyhow::Error) -> Option<String> {
        (crate::exit::class_of(e) == gaib_runs::ErrorClass::Input).then(|| format!("{e:#}"))
    }

    #[test]
    fn round_and_validity_parse() {
        assert_eq!(parse_round(Some("auto")).unwrap(), Round::Auto);
        assert_eq!(parse_round(Some("7")).unwrap(), Round::Fixed(7));
        for bad in [None, Some("0"), Some("-1"), Some("next")] {
            let e = parse_round(bad).unwrap_err();
            assert!(invalid_message(&e).unwrap().contains("round"), "{bad:?}");
        }
        assert_eq!(parse_duration("3600").unwrap(), 3_600);
        assert_eq!(parse_duration("30m").unwrap(), 1_800);
        assert_eq!(parse_duration("12h").unwrap(), 43_200);
        assert_eq!(parse_duration("1d").unwrap(), 86_400);
        for bad in ["0", "1w", "", "d", "99999999999999999999d"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(invalid_message(&e).unwrap().contains("valid-for"), "{bad}");
        }
    }

    #[test]
    fn tranches_bad_input_exits_2_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let oracle = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        // --from-run reads the oracle's pool over RPC
        let mut a = args("http://127.0.0.1:1", oracle, PathBuf::new(), None);
        (a.rpc, a.report, a.tranches, a.dry_run) = (None, None, true, true);
        (a.from_run, a.round) = (Some(dir.path().to_path_buf()), Some("auto".into()));
        let m = invalid_message(&run(a).unwrap_err()).expect("exit 2");
        assert!(m.contains("rpc"), "{m}");
        // a NAV report is not a tranche report
        let nav = dir.path().join("nav.json");
        std::fs::write(&nav, r#"{"report": {}, "signatures": []}"#).unwrap();
        let mut a = args("http://127.0.0.1:1", oracle, nav, None);
        (a.tranches, a.dry_run, a.chain_id, a.rpc) = (true, true, Some(1), None);
        let m = invalid_message(&run(a).unwrap_err()).expect("exit 2");
        assert!(m.contains("tranche_report"), "{m}");
        // no prices
        let empty = dir.path().join("empty.json");
        std::fs::write(
            &empty,
            r#"{"tranche_report": {"pool": "0x0000000000000000000000000000000000000000000000000000000000000001",
                "period": 0, "prices": [], "observed_at": 1, "valid_until": 2,
                "run_id": "0x0000000000000000000000000000000000000000000000000000000000000002", "round": 1}}"#,
        )
        .unwrap();
        let mut a = args("http://127.0.0.1:1", oracle, empty.clone(), None);
        (a.tranches, a.dry_run, a.chain_id, a.rpc) = (true, true, Some(1), None);
        let m = invalid_message(&run(a).unwrap_err()).expect("exit 2");
        assert!(m.contains("prices"), "{m}");
        // a report without the pool's period (review finding M1) is refused naming it
        let text = std::fs::read_to_string(&empty)
            .unwrap()
            .replace("\"period\": 0, ", "");
        let no_period = dir.path().join("no-period.json");
        std::fs::write(&no_period, text).unwrap();
        let mut a = args("http://127.0.0.1:1", oracle, no_period, None);
        (a.tranches, a.dry_run, a.chain_id, a.rpc) = (true, true, Some(1), None);
        let m = invalid_message(&run(a).unwrap_err()).expect("exit 2");
        assert!(m.contains("period"), "{m}");
    }

    #[test]
    fn bad_input_exits_2_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("report.json");
        std::fs::write(
            &good,
            r#"{"asset":"0x0000000000000000000000000000000000000000000000000000000000000001",
               "nav_per_share":"1000000000000000000","deployed_value":"0","haircut_bps":0,
               "ltv_bps":8000,"observed_at":1,"valid_until":2,
               "run_id":"0x0000000000000000000000000000000000000000000000000000000000000002","round":1}"#,
        )
        .unwrap();
        let bad_json = dir.path().join("bad.json");
        std::fs::write(&bad_json, "{ not json").unwrap();
        let oracle = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        let cases = [
            (
                args("localhost:8545", oracle, good.clone(), Some("X")),
                "rpc",
            ),
            (
                args("http://127.0.0.1:1", "0x12", good.clone(), Some("X")),
                "oracle",
            ),
            (
                args("http://127.0.0.1:1", oracle, bad_json, Some("X")),
                "report",
            ),
            (
                args(
                    "http://127.0.0.1:1",
                    oracle,
                    dir.path().join("missing.json"),
                    Some("X"),
                ),
                "report",
            ),
            (
                args("http://127.0.0.1:1", oracle, good.clone(), None),
                "key",
            ),
            (
                args(
                    "http://127.0.0.1:1",
                    oracle,
                    good,
                    Some("GAIB_PUBLISH_TEST_UNSET_KEY"),
                ),
                "GAIB_PUBLISH_TEST_UNSET_KEY",
            ),
        ];
        for (a, field) in cases {
            let e = run(a).unwrap_err();
            let msg = invalid_message(&e).unwrap_or_else(|| panic!("not exit 2: {e:#}"));
            assert!(msg.contains(field), "{field}: {msg}");
        }
    }

    /// End to end on a real anvil: `run` publishes (exit 0); a replay is a chain error (exit 1,
    /// not 2) that names the decoded custom error.
    #[test]
    fn publishes_to_anvil_and_a_replay_is_a_decoded_chain_error() {
        use gaib_contracts::alloy::primitives::U256;
        use gaib_contracts::alloy::providers::Provider;
        use gaib_contracts::bindings::oracle::ValuationOracle;
        use gaib_contracts::devnet::{Anvil, DEV_KEY};

        let Some(anvil) = Anvil::for_tests() else {
            return;
        };
        let key = ReportSigner::from_hex(DEV_KEY, "test").unwrap();
        let p = gaib_contracts::provider_with_sender(anvil.url().parse().unwrap(), &key);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (oracle, now) = rt.block_on(async {
            let o = ValuationOracle::deploy(
                p.clone(),
                key.address(),
                gaib_contracts::asset_id("sAID"),
                "sAID / AID NAV".to_string(),
                18,
                24,
                vec![key.address()],
                U256::from(1u8),
                86_400,
                500,
            )
            .await
            .unwrap();
            let now = p
                .get_block_by_number(gaib_contracts::alloy::eips::BlockNumberOrTag::Latest)
                .await
                .unwrap()
                .unwrap()
                .header
                .timestamp;
            (*o.address(), now)
        });
        let dir = tempfile::tempdir().unwrap();
        let report = gaib_contracts::Report {
            asset: gaib_contracts::asset_id("sAID"),
            nav_per_share: U256::from(1_020_000_000_000_000_000u128),
            deployed_value: U256::ZERO,
            haircut_bps: 1_000,
            ltv_bps: 8_000,
            observed_at: now,
            valid_until: now + 3_600,
            run_id: gaib_contracts::run_id_of_manifest(b"manifest"),
            round: 1,
        };
        let report_path = dir.path().join("report.json");
        std::fs::write(&report_path, serde_json::to_string(&report).unwrap()).unwrap();
        let key_path = dir.path().join("key");
        std::fs::write(&key_path, DEV_KEY).unwrap();
        let a = || Args {
            key_file: Some(key_path.clone()),
            ..args(&anvil.url(), &oracle.to_string(), report_path.clone(), None)
        };
        run(a()).expect("publish");
        let price = rt.block_on(async {
            ValuationOracle::new(oracle, &p)
                .price()
                .call()
                .await
                .unwrap()
        });
        assert_eq!(
            price,
            report.nav_per_share * U256::from(1_000_000_000_000u64)
        );
        let e = run(a()).unwrap_err();
        assert!(
            invalid_message(&e).is_none(),
            "a revert is not bad input: {e:#}"
        );
        assert!(format!("{e:#}").contains("RoundNotIncreasing"), "{e:#}");
    }
}
