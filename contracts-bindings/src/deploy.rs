//! Deploying gaib's contracts from the checked-in artifacts (what `gaib deploy` runs): AID and
//! its minter, the ValuationOracle (signers, quorum, maxAge, caps, guardian), sAID, and
//! optionally the example LendingMarket, the RevenueRouter and the MorphoOracleAdapter (the
//! oracle reading a Morpho Blue market must use), each transaction waited for, and a
//! [`Deployment`] record with every address, constructor argument and transaction.
//!
//! The configuration is TOML ([`DeployConfig::from_toml`]); every field is checked before any
//! transaction is sent, and errors name the field (`oracle.signers[1]`, `oracle.quorum`, …).
//! Times are unix seconds / durations in seconds, ratios in basis points (10 000 = 100 %).
//!
//! The deploying key becomes the admin (DEFAULT_ADMIN_ROLE and the contracts' operational roles)
//! of AID, the oracle, sAID and the router; `oracle.guardian`, when given, also gets the oracle's
//! GUARDIAN_ROLE. Handing the admin roles to a multisig afterwards is a separate, deliberate step.

use crate::bindings::aid::AID;
use crate::bindings::aid_minter::AIDMinter;
use crate::bindings::lending_market::LendingMarket;
use crate::bindings::morpho_oracle_adapter::MorphoOracleAdapter;
use crate::bindings::oracle::ValuationOracle;
use crate::bindings::revenue_router::RevenueRouter;
use crate::bindings::said::SAID;
use crate::bindings::test_stablecoin::TestStablecoin;
use crate::bindings::tranche_oracle::TrancheOracle;
use crate::bindings::tranched_pool::TranchedPool;
use crate::error::{ContractsError, Result};
use crate::publish::{parse_address, RECEIPT_TIMEOUT};
use crate::report::asset_id;
use crate::signer::ReportSigner;
use alloy::network::{Ethereum, Network, ReceiptResponse};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use gaib_engine::pool_wei::WeiTerms;
use gaib_engine::Pool;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `deploy.toml`: what to deploy and with which parameters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// The stablecoin AID is minted against.
    pub aid: AidConfig,
    /// The valuation oracle.
    pub oracle: OracleConfig,
    /// The sAID vault (all fields optional).
    #[serde(default)]
    pub vault: VaultConfig,
    /// The example lending market (deployed when the table is present and `enabled`).
    #[serde(default)]
    pub lending_market: Option<LendingMarketConfig>,
    /// The revenue router (deployed when the table is present and `enabled`).
    #[serde(default)]
    pub revenue_router: Option<RouterConfig>,
    /// The fail-closed Morpho Blue oracle over the ValuationOracle, the address a Morpho market
    /// over sAID uses as `MarketParams.oracle` (deployed when the table is present and `enabled`).
    #[serde(default)]
    pub morpho_oracle_adapter: Option<RouterConfig>,
    /// One pool of the portfolio on chain: its `TranchedPool` with one `TrancheToken` per
    /// tranche, and its `TrancheOracle` for per-tranche prices (deployed when the table is
    /// present; the caller loads the portfolio, see [`deploy_with_pool`]).
    #[serde(default)]
    pub tranched_pool: Option<TranchedPoolConfig>,
}

/// `[tranched_pool]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TranchedPoolConfig {
    /// The portfolio file holding the pool (a path; `gaib deploy` reads it relative to the
    /// current directory).
    pub portfolio: String,
    /// The pool's id in the portfolio (`pools[].id`).
    pub pool: String,
    /// Receiver of the senior fees (default: the deployer).
    #[serde(default)]
    pub fee_recipient: Option<String>,
    /// The servicer, who closes the pool's periods (`SERVICER_ROLE`), 0x address. Required by
    /// [`deploy_with_pool`] and not the deployer, who is the pool's admin: no account may hold
    /// both roles (review finding M2).
    #[serde(default)]
    pub servicer: Option<String>,
    /// Seconds from deployment to the issue deadline, after which anyone may cancel an issue not
    /// closed and subscribers take refunds (1..=31 536 000; default 30 days).
    #[serde(default = "thirty_days")]
    pub issue_window_s: u64,
    /// Least seconds between the issue close and the first period, and between periods
    /// (1..=31 622 400; default 30 days).
    #[serde(default = "thirty_days")]
    pub period_s: u64,
    /// The period whose close is the legal final (1..=1200). `gaib deploy` defaults it to the
    /// portfolio's horizon K (`Portfolio::horizon_months`, the engine's legal final month); [`deploy_with_pool`]
    /// needs it set.
    #[serde(default)]
    pub legal_final_period: Option<u32>,
    /// The `TrancheOracle`'s highest acceptable price of every tranche, bps of par
    /// (1..=1 000 000; default 30 000 = 3 × par).
    #[serde(default = "three_par_bps")]
    pub max_price_bps: u32,
}

fn three_par_bps() -> u32 {
    30_000
}

fn thirty_days() -> u64 {
    30 * 86_400
}

impl TranchedPoolConfig {
    /// The pool's `TranchedPool.Schedule`, checked against the contract's bounds (errors name
    /// `tranched_pool.<field>`).
    pub fn schedule(&self) -> Result<TranchedPool::Schedule> {
        if self.issue_window_s == 0 || self.issue_window_s > 365 * 86_400 {
            return Err(ContractsError::invalid(
                "tranched_pool.issue_window_s",
                format!("{}: not in 1..=31536000", self.issue_window_s),
            ));
        }
        if self.period_s == 0 || self.period_s > 366 * 86_400 {
            return Err(ContractsError::invalid(
                "tranched_pool.period_s",
                format!("{}: not in 1..=31622400", self.period_s),
            ));
        }
        let legal_final = match self.legal_final_period {
            Some(n) if (1..=1200).contains(&n) => n,
            Some(n) => {
                return Err(ContractsError::invalid(
                    "tranched_pool.legal_final_period",
                    format!("{n}: not in 1..=1200"),
                ))
            }
            None => {
                return Err(ContractsError::invalid(
                    "tranched_pool.legal_final_period",
                    "missing (gaib deploy sets it to the portfolio's horizon)",
                ))
            }
        };
        if self.max_price_bps == 0 || self.max_price_bps > 1_000_000 {
            return Err(ContractsError::invalid(
                "tranched_pool.max_price_bps",
                format!("{}: not in 1..=1000000", self.max_price_bps),
            ));
        }
        Ok(TranchedPool::Schedule {
            issueWindow: U256::from(self.issue_window_s),
            periodSeconds: U256::from(self.period_s),
            legalFinalPeriod: U256::from(legal_final),
        })
    }
}

/// `[aid]`: exactly one of `stablecoin` and `[aid.test_stablecoin]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AidConfig {
    /// Address of an existing stablecoin (≤ 18 decimals) the minter accepts.
    #[serde(default)]
    pub stablecoin: Option<String>,
    /// Deploy a freely mintable test stablecoin instead (dev chains only).
    #[serde(default)]
    pub test_stablecoin: Option<TestStablecoinConfig>,
}

/// `[aid.test_stablecoin]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestStablecoinConfig {
    /// ERC-20 name, e.g. "Test USD".
    pub name: String,
    /// ERC-20 symbol, e.g. "tUSD".
    pub symbol: String,
    /// Decimals (≤ 18), e.g. 6.
    pub decimals: u8,
}

/// `[oracle]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    /// The asset name whose keccak256 is the oracle's asset id (sAID requires "sAID").
    #[serde(default = "default_asset")]
    pub asset: String,
    /// Feed description.
    #[serde(default = "default_description")]
    pub description: String,
    /// Authorised signers (distinct, non-zero addresses).
    pub signers: Vec<String>,
    /// Distinct signatures a report needs (1..=signers).
    pub quorum: u64,
    /// Maximum report age at submission and at read, seconds (> 0).
    pub max_age_s: u64,
    /// Maximum NAV move per report without the guardian, bps (≤ 10 000).
    pub max_deviation_bps: u16,
    /// Maximum NAV growth per year of observation time without the guardian, bps
    /// (default 2 000 = 20 %/year).
    #[serde(default = "default_growth")]
    pub max_growth_bps_per_year: u32,
    /// Minimum seconds between accepted submissions without the guardian (default 0).
    #[serde(default)]
    pub min_report_interval_s: u64,
    /// Maximum NAV fall per day of observation time without the guardian, bps (default 1 000 =
    /// 10 %/day).
    #[serde(default = "default_markdown")]
    pub max_markdown_bps_per_day: u32,
    /// Seconds over which the lenders' price decays to zero once stale (default 7 days).
    #[serde(default = "default_decay")]
    pub stale_price_decay_s: u64,
    /// An extra holder of GUARDIAN_ROLE (the deployer always holds it).
    #[serde(default)]
    pub guardian: Option<String>,
}

/// `[vault]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// Seconds between redemption fulfilments (default: the contract's 30 days).
    #[serde(default)]
    pub cycle_length_s: Option<u64>,
    /// sAID's own NAV growth cap, bps per year (default: the contract's 2 000).
    #[serde(default)]
    pub max_nav_growth_bps_per_year: Option<u64>,
    /// sAID's mark-down floor, bps per day (≤ 1 000 000; default: the contract's 1 000).
    #[serde(default)]
    pub max_nav_drop_bps_per_day: Option<u64>,
}

/// `[lending_market]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LendingMarketConfig {
    /// Deploy it (default true when the table is present).
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// `[revenue_router]`, `[morpho_oracle_adapter]`: an optional contract without parameters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Deploy it (default true when the table is present).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn default_asset() -> String {
    "sAID".into()
}
fn default_description() -> String {
    "sAID / AID NAV".into()
}
fn default_growth() -> u32 {
    2_000
}
fn default_markdown() -> u32 {
    1_000
}
fn default_decay() -> u64 {
    7 * 86_400
}
fn yes() -> bool {
    true
}

/// A checked configuration: every address parsed.
#[derive(Debug, Clone)]
struct Checked {
    stablecoin: Option<Address>,
    signers: Vec<Address>,
    guardian: Option<Address>,
    fee_recipient: Option<Address>,
    servicer: Option<Address>,
}

impl DeployConfig {
    /// Parses and checks `deploy.toml`; `source` names the file in errors.
    pub fn from_toml(text: &str, source: &str) -> Result<DeployConfig> {
        let c: DeployConfig = toml::from_str(text)
            .map_err(|e| ContractsError::invalid(format!("config {source}"), e.to_string()))?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> Result<Checked> {
        let stablecoin = match (&self.aid.stablecoin, &self.aid.test_stablecoin) {
            (Some(a), None) => Some(parse_address(a, "aid.stablecoin")?),
            (None, Some(t)) => {
                if t.decimals > 18 {
                    return Err(ContractsError::invalid(
                        "aid.test_stablecoin.decimals",
                        format!("{} > 18", t.decimals),
                    ));
                }
                None
            }
            _ => {
                return Err(ContractsError::invalid(
                    "aid",
                    "give exactly one of `stablecoin = \"0x…\"` and `[aid.test_stablecoin]`",
                ))
            }
        };
        let o = &self.oracle;
        if o.asset != "sAID" {
            return Err(ContractsError::invalid(
                "oracle.asset",
                format!("{:?}: sAID only accepts an oracle for \"sAID\"", o.asset),
            ));
        }
        let mut signers = Vec::with_capacity(o.signers.len());
        for (i, s) in o.signers.iter().enumerate() {
            let a = parse_address(s, &format!("oracle.signers[{i}]"))?;
            if a == Address::ZERO || signers.contains(&a) {
                return Err(ContractsError::invalid(
                    format!("oracle.signers[{i}]"),
                    format!("{s}: zero or listed twice"),
                ));
            }
            signers.push(a);
        }
        if o.quorum == 0 || o.quorum > signers.len() as u64 {
            return Err(ContractsError::invalid(
                "oracle.quorum",
                format!("{} is not in 1..={} (the signers)", o.quorum, signers.len()),
            ));
        }
        if o.max_age_s == 0 {
            return Err(ContractsError::invalid("oracle.max_age_s", "must be > 0"));
        }
        if o.max_deviation_bps > 10_000 {
            return Err(ContractsError::invalid(
                "oracle.max_deviation_bps",
                format!("{} > 10000", o.max_deviation_bps),
            ));
        }
        let guardian = o
            .guardian
            .as_deref()
            .map(|g| parse_address(g, "oracle.guardian"))
            .transpose()?;
        if self.vault.cycle_length_s == Some(0) {
            return Err(ContractsError::invalid(
                "vault.cycle_length_s",
                "must be > 0",
            ));
        }
        for (field, value) in [
            (
                "vault.max_nav_growth_bps_per_year",
                self.vault.max_nav_growth_bps_per_year,
            ),
            (
                "vault.max_nav_drop_bps_per_day",
                self.vault.max_nav_drop_bps_per_day,
            ),
        ] {
            if let Some(x) = value.filter(|&x| x > 1_000_000) {
                return Err(ContractsError::invalid(field, format!("{x} > 1000000")));
            }
        }
        let fee_recipient = self
            .tranched_pool
            .as_ref()
            .and_then(|t| t.fee_recipient.as_deref())
            .map(|a| parse_address(a, "tranched_pool.fee_recipient"))
            .transpose()?;
        let servicer = self
            .tranched_pool
            .as_ref()
            .and_then(|t| t.servicer.as_deref())
            .map(|a| parse_address(a, "tranched_pool.servicer"))
            .transpose()?;
        Ok(Checked {
            stablecoin,
            signers,
            guardian,
            fee_recipient,
            servicer,
        })
    }
}

/// One deployed contract.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deployed {
    /// Its address.
    pub address: Address,
    /// The creation transaction.
    pub tx_hash: B256,
    /// The block that included it.
    pub block_number: Option<u64>,
    /// Constructor arguments by name (addresses, integers as decimal strings).
    pub constructor_args: Value,
}

/// One configuration transaction after the deployments (role grants, parameters).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SetupTx {
    /// What it did, e.g. `AID.grantRole(MINTER_ROLE, AIDMinter)`.
    pub call: String,
    /// The transaction.
    pub tx_hash: B256,
}

/// What [`deploy`] did: `deployments/<chain-id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deployment {
    /// The chain id of the node.
    pub chain_id: u64,
    /// The deploying address (admin of every contract).
    pub deployer: Address,
    /// Contracts by name: TestStablecoin (if deployed), AID, AIDMinter, ValuationOracle, SAID,
    /// LendingMarket, RevenueRouter and MorphoOracleAdapter (if enabled).
    pub contracts: std::collections::BTreeMap<String, Deployed>,
    /// Configuration transactions, in order.
    pub setup: Vec<SetupTx>,
    /// The configuration the deployment ran with.
    pub config: Value,
}

impl Deployment {
    /// The address of `name`, if deployed.
    pub fn address(&self, name: &str) -> Option<Address> {
        self.contracts.get(name).map(|d| d.address)
    }
}

/// Collects the deployment and, on failure, says what was already on chain.
struct Progress {
    d: Deployment,
}

impl Progress {
    fn fail(&self, what: &str, e: ContractsError) -> ContractsError {
        let done: Vec<String> = self
            .d
            .contracts
            .iter()
            .map(|(k, v)| format!("{k} {}", v.address))
            .collect();
        let already = if done.is_empty() {
            "nothing deployed yet".to_string()
        } else {
            format!("already deployed: {}", done.join(", "))
        };
        match e {
            ContractsError::Rpc(m) => ContractsError::Rpc(format!("{what}: {m} ({already})")),
            ContractsError::Reverted {
                contract,
                reason,
                data,
            } => ContractsError::Reverted {
                contract,
                reason: format!("{reason} in {what} ({already})"),
                data,
            },
            ContractsError::TxFailed { tx_hash } => ContractsError::Rpc(format!(
                "{what}: transaction {tx_hash} was mined but failed (status 0) ({already})"
            )),
            other => other,
        }
    }
}

fn rpc_err(e: impl std::fmt::Display) -> ContractsError {
    ContractsError::Rpc(e.to_string())
}

/// A transaction request on Ethereum.
type TransactionRequest = <Ethereum as Network>::TransactionRequest;

/// Sends `tx` and waits (at most [`RECEIPT_TIMEOUT`]) for a successful receipt.
pub(crate) async fn send(
    p: &DynProvider,
    tx: TransactionRequest,
) -> Result<<Ethereum as Network>::ReceiptResponse> {
    let pending = p.send_transaction(tx).await.map_err(|e| {
        let msg = e.to_string();
        if msg.contains("revert") {
            ContractsError::Reverted {
                contract: "deployment",
                reason: msg,
                data: None,
            }
        } else {
            rpc_err(msg)
        }
    })?;
    let tx_hash = *pending.tx_hash();
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|e| rpc_err(format!("waiting for receipt of {tx_hash}: {e}")))?;
    if !receipt.status() {
        return Err(ContractsError::TxFailed { tx_hash });
    }
    Ok(receipt)
}

impl Progress {
    /// Sends a creation transaction and records it.
    async fn create(
        &mut self,
        p: &DynProvider,
        name: &str,
        tx: TransactionRequest,
        args: Value,
    ) -> Result<Address> {
        let what = format!("deploying {name}");
        let r = send(p, tx).await.map_err(|e| self.fail(&what, e))?;
        let address = r
            .contract_address()
            .ok_or_else(|| self.fail(&what, rpc_err("the receipt has no contract address")))?;
        self.d.contracts.insert(
            name.to_string(),
            Deployed {
                address,
                tx_hash: r.transaction_hash(),
                block_number: r.block_number(),
                constructor_args: args,
            },
        );
        Ok(address)
    }

    /// Sends a configuration call and records it.
    async fn call(&mut self, p: &DynProvider, what: &str, tx: TransactionRequest) -> Result<()> {
        let r = send(p, tx).await.map_err(|e| self.fail(what, e))?;
        self.d.setup.push(SetupTx {
            call: what.to_string(),
            tx_hash: r.transaction_hash(),
        });
        Ok(())
    }
}

/// Deploys everything `config` asks for from `provider`'s wallet (whose address is
/// `deployer.address()`), waiting for each receipt, and returns the record. Nothing is written
/// anywhere; the caller stores the [`Deployment`] (atomically) once this returns.
pub async fn deploy(
    provider: &DynProvider,
    deployer: &ReportSigner,
    config: &DeployConfig,
) -> Result<Deployment> {
    deploy_with_pool(provider, deployer, config, None).await
}

/// The integer terms of `pool` for `TranchedPool` (fee bps, OC trigger ppb, per-tranche specs,
/// token names and symbols), every field checked (errors name `tranched_pool.<field>`).
pub fn pool_terms(pool: &Pool) -> Result<PoolTerms> {
    let (t, balances) = WeiTerms::from_pool(pool, "tranched_pool")
        .map_err(|e| ContractsError::invalid(e.field.clone(), format!("{}: {}", e.value, e.why)))?;
    if pool.tranches.is_empty() || pool.tranches.len() > crate::tranche_report::MAX_TRANCHES {
        return Err(ContractsError::invalid(
            "tranched_pool.tranches",
            format!(
                "{} tranches; a TranchedPool takes 1..=8",
                pool.tranches.len()
            ),
        ));
    }
    let specs = (0..balances.len())
        .map(|j| TranchedPool::TrancheSpec {
            balance: U256::from(balances[j]),
            couponPpb: U256::from(t.coupon_ppb[j]),
            floating: t.floating[j],
            spreadPpb: U256::from(t.spread_ppb[j]),
        })
        .collect();
    Ok(PoolTerms {
        senior_fee_bps: t.senior_fee_bps,
        oc_trigger_ppb: t.oc_trigger_ppb,
        specs,
        names: pool
            .tranches
            .iter()
            .map(|tr| format!("{} tranche {}", pool.id, tr.id))
            .collect(),
        symbols: pool
            .tranches
            .iter()
            .map(|tr| format!("{}-{}", pool.id, tr.id))
            .collect(),
    })
}

/// A pool's `TranchedPool` constructor arguments (see [`pool_terms`]).
#[derive(Debug, Clone)]
pub struct PoolTerms {
    /// Annual senior fee, bps.
    pub senior_fee_bps: u16,
    /// OC trigger × 10^9.
    pub oc_trigger_ppb: u128,
    /// Per tranche: original balance (wei), coupon and spread (ppb), floating flag.
    pub specs: Vec<TranchedPool::TrancheSpec>,
    /// ERC-20 names, `<pool> tranche <id>`.
    pub names: Vec<String>,
    /// ERC-20 symbols, `<pool>-<id>`.
    pub symbols: Vec<String>,
}

/// [`deploy`], plus, when the configuration has a `[tranched_pool]` table, that pool (`pool`,
/// loaded by the caller from `tranched_pool.portfolio`; its id must be `tranched_pool.pool`):
/// a `TranchedPool` over AID (the deployer its admin, `tranched_pool.servicer` its servicer),
/// whose `TrancheToken`s are
/// recorded as `TrancheToken:<tranche id>`, and a `TrancheOracle` for the pool (asset =
/// keccak256 of the pool id, bound to the `TranchedPool` whose `period()` its reports carry) with
/// the `[oracle]` table's signers, quorum, maxAge and caps.
pub async fn deploy_with_pool(
    provider: &DynProvider,
    deployer: &ReportSigner,
    config: &DeployConfig,
    pool: Option<&Pool>,
) -> Result<Deployment> {
    let checked = config.check()?;
    let pool_terms = match (&config.tranched_pool, pool) {
        (None, _) => None,
        (Some(t), Some(p)) if p.id == t.pool => Some((p, pool_terms(p)?, t.schedule()?)),
        (Some(t), other) => {
            return Err(ContractsError::invalid(
                "tranched_pool.pool",
                format!(
                    "{:?}: the pool given is {:?}",
                    t.pool,
                    other.map(|p| p.id.as_str())
                ),
            ))
        }
    };
    if pool_terms.is_some() {
        match checked.servicer {
            None => {
                return Err(ContractsError::invalid(
                    "tranched_pool.servicer",
                    "missing: the account that closes the pool's periods (not the deployer)",
                ))
            }
            Some(s) if s == deployer.address() => {
                return Err(ContractsError::invalid(
                    "tranched_pool.servicer",
                    format!(
                        "{s} is the deployer, the pool's admin: the servicer must be another \
                         account (review finding M2)"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| rpc_err(format!("eth_chainId: {e}")))?;
    let me = deployer.address();
    let p = provider;
    let mut g = Progress {
        d: Deployment {
            chain_id,
            deployer: me,
            contracts: Default::default(),
            setup: Vec::new(),
            config: serde_json::to_value(config).map_err(rpc_err)?,
        },
    };

    let stablecoin = match (&checked.stablecoin, &config.aid.test_stablecoin) {
        (Some(a), _) => *a,
        (None, Some(t)) => {
            let tx = TestStablecoin::deploy_builder(
                p.clone(),
                t.name.clone(),
                t.symbol.clone(),
                t.decimals,
            )
            .into_transaction_request();
            g.create(
                p,
                "TestStablecoin",
                tx,
                json!({"name": t.name, "symbol": t.symbol, "decimals": t.decimals}),
            )
            .await?
        }
        (None, None) => unreachable!("checked: one of the two"),
    };

    let tx = AID::deploy_builder(p.clone(), me).into_transaction_request();
    let aid = g.create(p, "AID", tx, json!({"admin": me})).await?;
    let tx = AIDMinter::deploy_builder(p.clone(), aid, stablecoin).into_transaction_request();
    let minter = g
        .create(
            p,
            "AIDMinter",
            tx,
            json!({"aid": aid, "stablecoin": stablecoin}),
        )
        .await?;
    let aid_c = AID::new(aid, p);
    let role = aid_c
        .MINTER_ROLE()
        .call()
        .await
        .map_err(|e| g.fail("reading AID.MINTER_ROLE", rpc_err(e)))?;
    let tx = aid_c.grantRole(role, minter).into_transaction_request();
    g.call(p, "AID.grantRole(MINTER_ROLE, AIDMinter)", tx)
        .await?;

    let o = &config.oracle;
    let asset = asset_id(&o.asset);
    let tx = ValuationOracle::deploy_builder(
        p.clone(),
        me,
        asset,
        o.description.clone(),
        18,
        24,
        checked.signers.clone(),
        U256::from(o.quorum),
        o.max_age_s,
        o.max_deviation_bps,
    )
    .into_transaction_request();
    let oracle = g
        .create(
            p,
            "ValuationOracle",
            tx,
            json!({
                "admin": me, "asset": asset, "asset_name": o.asset, "description": o.description,
                "loanDecimals": 18, "collateralDecimals": 24, "signers": checked.signers,
                "quorum": o.quorum, "maxAge": o.max_age_s, "maxDeviationBps": o.max_deviation_bps,
            }),
        )
        .await?;
    let oc = ValuationOracle::new(oracle, p);
    let tx = oc
        .setRateLimits(o.max_growth_bps_per_year, o.min_report_interval_s)
        .into_transaction_request();
    g.call(
        p,
        &format!(
            "ValuationOracle.setRateLimits({}, {})",
            o.max_growth_bps_per_year, o.min_report_interval_s
        ),
        tx,
    )
    .await?;
    let tx = oc
        .setMaxMarkdownBpsPerDay(o.max_markdown_bps_per_day)
        .into_transaction_request();
    g.call(
        p,
        &format!(
            "ValuationOracle.setMaxMarkdownBpsPerDay({})",
            o.max_markdown_bps_per_day
        ),
        tx,
    )
    .await?;
    let tx = oc
        .setStalePriceDecay(o.stale_price_decay_s)
        .into_transaction_request();
    g.call(
        p,
        &format!(
            "ValuationOracle.setStalePriceDecay({})",
            o.stale_price_decay_s
        ),
        tx,
    )
    .await?;
    if let Some(guardian) = checked.guardian {
        let role = oc
            .GUARDIAN_ROLE()
            .call()
            .await
            .map_err(|e| g.fail("reading GUARDIAN_ROLE", rpc_err(e)))?;
        let tx = oc.grantRole(role, guardian).into_transaction_request();
        g.call(
            p,
            &format!("ValuationOracle.grantRole(GUARDIAN_ROLE, {guardian})"),
            tx,
        )
        .await?;
    }

    let tx = SAID::deploy_builder(p.clone(), aid, oracle, me).into_transaction_request();
    let vault = g
        .create(
            p,
            "SAID",
            tx,
            json!({"aid": aid, "oracle": oracle, "admin": me}),
        )
        .await?;
    let v = &config.vault;
    if v.cycle_length_s.is_some() || v.max_nav_growth_bps_per_year.is_some() {
        let sc = SAID::new(vault, p);
        let cycle = match v.cycle_length_s {
            Some(c) => U256::from(c),
            None => sc
                .cycleLength()
                .call()
                .await
                .map_err(|e| g.fail("reading SAID.cycleLength", rpc_err(e)))?,
        };
        let growth = match v.max_nav_growth_bps_per_year {
            Some(x) => U256::from(x),
            None => sc
                .maxNavGrowthBpsPerYear()
                .call()
                .await
                .map_err(|e| g.fail("reading SAID.maxNavGrowthBpsPerYear", rpc_err(e)))?,
        };
        let tx = sc.setParameters(cycle, growth).into_transaction_request();
        g.call(p, &format!("SAID.setParameters({cycle}, {growth})"), tx)
            .await?;
    }
    if let Some(drop) = v.max_nav_drop_bps_per_day {
        let tx = SAID::new(vault, p)
            .setMaxNavDropBpsPerDay(U256::from(drop))
            .into_transaction_request();
        g.call(p, &format!("SAID.setMaxNavDropBpsPerDay({drop})"), tx)
            .await?;
    }

    if config.lending_market.as_ref().is_some_and(|m| m.enabled) {
        let tx =
            LendingMarket::deploy_builder(p.clone(), vault, aid, oracle).into_transaction_request();
        g.create(
            p,
            "LendingMarket",
            tx,
            json!({"collateralToken": vault, "loanToken": aid, "oracle": oracle}),
        )
        .await?;
    }
    if config.revenue_router.as_ref().is_some_and(|r| r.enabled) {
        let tx = RevenueRouter::deploy_builder(p.clone(), aid, me).into_transaction_request();
        g.create(p, "RevenueRouter", tx, json!({"aid": aid, "admin": me}))
            .await?;
    }
    if config
        .morpho_oracle_adapter
        .as_ref()
        .is_some_and(|m| m.enabled)
    {
        let tx = MorphoOracleAdapter::deploy_builder(p.clone(), oracle).into_transaction_request();
        g.create(p, "MorphoOracleAdapter", tx, json!({"source": oracle}))
            .await?;
    }
    if let Some((pool, t, schedule)) = pool_terms {
        let max_price_bps = config
            .tranched_pool
            .as_ref()
            .map_or(30_000, |c| c.max_price_bps);
        let max_prices = vec![
            U256::from(max_price_bps) * U256::from(100_000_000_000_000u64);
            pool.tranches.len()
        ];
        let fees = checked.fee_recipient.unwrap_or(me);
        let servicer = checked.servicer.unwrap_or_default();
        let tx = TranchedPool::deploy_builder(
            p.clone(),
            aid,
            me,
            servicer,
            fees,
            U256::from(t.senior_fee_bps),
            U256::from(t.oc_trigger_ppb),
            t.specs.clone(),
            t.names.clone(),
            t.symbols.clone(),
            schedule.clone(),
        )
        .into_transaction_request();
        let specs: Vec<Value> = t
            .specs
            .iter()
            .map(|s| {
                json!({"balance": s.balance.to_string(), "couponPpb": s.couponPpb.to_string(),
                       "floating": s.floating, "spreadPpb": s.spreadPpb.to_string()})
            })
            .collect();
        let pool_addr = g
            .create(
                p,
                "TranchedPool",
                tx,
                json!({
                    "aid": aid, "admin": me, "servicer": servicer, "feeRecipient": fees,
                    "pool": pool.id,
                    "seniorFeeBps": t.senior_fee_bps, "ocTriggerPpb": t.oc_trigger_ppb.to_string(),
                    "specs": specs, "names": t.names, "symbols": t.symbols,
                    "schedule": {"issueWindow": schedule.issueWindow.to_string(),
                        "periodSeconds": schedule.periodSeconds.to_string(),
                        "legalFinalPeriod": schedule.legalFinalPeriod.to_string()},
                }),
            )
            .await?;
        let created = g.d.contracts["TranchedPool"].clone();
        let pc = TranchedPool::new(pool_addr, p);
        for (j, tr) in pool.tranches.iter().enumerate() {
            let token = pc
                .tranches(U256::from(j))
                .call()
                .await
                .map_err(|e| g.fail("reading TranchedPool.tranches", rpc_err(e)))?;
            g.d.contracts.insert(
                format!("TrancheToken:{}", tr.id),
                Deployed {
                    address: token,
                    constructor_args: json!({"createdBy": pool_addr, "trancheIndex": j,
                        "name": t.names[j], "symbol": t.symbols[j]}),
                    ..created.clone()
                },
            );
        }
        let pool_id = asset_id(&pool.id);
        let description = format!("{} tranches / AID", pool.id);
        let tx = TrancheOracle::deploy_builder(
            p.clone(),
            me,
            pool_id,
            pool_addr,
            description.clone(),
            checked.signers.clone(),
            U256::from(o.quorum),
            o.max_age_s,
            o.max_deviation_bps,
            max_prices.clone(),
        )
        .into_transaction_request();
        let to = g
            .create(
                p,
                "TrancheOracle",
                tx,
                json!({"admin": me, "asset": pool_id, "pool": pool.id, "tranchedPool": pool_addr,
                       "description": description,
                       "signers": checked.signers, "quorum": o.quorum, "maxAge": o.max_age_s,
                       "maxDeviationBps": o.max_deviation_bps,
                       "maxPrices": max_prices.iter().map(|x| x.to_string()).collect::<Vec<_>>()}),
            )
            .await?;
        let toc = TrancheOracle::new(to, p);
        let tx = toc
            .setRateLimits(o.max_growth_bps_per_year, o.min_report_interval_s)
            .into_transaction_request();
        g.call(
            p,
            &format!(
                "TrancheOracle.setRateLimits({}, {})",
                o.max_growth_bps_per_year, o.min_report_interval_s
            ),
            tx,
        )
        .await?;
        let tx = toc
            .setMaxMarkdownBpsPerDay(o.max_markdown_bps_per_day)
            .into_transaction_request();
        g.call(
            p,
            &format!(
                "TrancheOracle.setMaxMarkdownBpsPerDay({})",
                o.max_markdown_bps_per_day
            ),
            tx,
        )
        .await?;
    }
    Ok(g.d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[aid.test_stablecoin]
name = "Test USD"
symbol = "tUSD"
decimals = 6

[oracle]
signers = ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
quorum = 2
max_age_s = 172800
max_deviation_bps = 500

[lending_market]
"#;

    #[test]
    fn a_good_config_parses_with_defaults() {
        let c = DeployConfig::from_toml(GOOD, "deploy.toml").unwrap();
        assert_eq!(c.oracle.asset, "sAID");
        assert_eq!(c.oracle.max_growth_bps_per_year, 2_000);
        assert_eq!(c.oracle.stale_price_decay_s, 7 * 86_400);
        assert_eq!(c.oracle.max_markdown_bps_per_day, 1_000);
        assert_eq!(c.vault.max_nav_drop_bps_per_day, None);
        assert!(c.lending_market.unwrap().enabled);
        assert!(c.revenue_router.is_none());
    }

    /// Review finding M2: the pool's servicer is required and is not the deployer (its admin);
    /// refused before any transaction (the node here does not exist).
    #[test]
    fn a_pool_needs_a_servicer_other_than_the_deployer() {
        let me = ReportSigner::from_hex(crate::devnet::DEV_KEY, "test").unwrap();
        let pool: Pool = toml::from_str(
            "id = \"P\"\ndeal_ids = []\nsenior_fee_bps = 25\noc_trigger = 1.25\n\
             [[tranches]]\nid = \"A\"\nbalance = 700\ncoupon = 0.06\n\
             [[tranches]]\nid = \"E\"\nbalance = 300\n",
        )
        .unwrap();
        let provider = crate::provider_with_sender("http://127.0.0.1:9".parse().unwrap(), &me);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let run = |extra: String| {
            let c = DeployConfig::from_toml(
                &format!(
                    "{GOOD}[tranched_pool]\nportfolio = \"p.toml\"\npool = \"P\"\n\
                     legal_final_period = 12\n{extra}"
                ),
                "deploy.toml",
            )
            .unwrap();
            rt.block_on(deploy_with_pool(&provider, &me, &c, Some(&pool)))
                .unwrap_err()
                .to_string()
        };
        let e = run(String::new());
        assert!(
            e.contains("tranched_pool.servicer") && e.contains("missing"),
            "{e}"
        );
        let e = run(format!("servicer = \"{}\"\n", me.address()));
        assert!(
            e.contains("tranched_pool.servicer") && e.contains("deployer"),
            "{e}"
        );
        let e = DeployConfig::from_toml(
            &format!("{GOOD}[tranched_pool]\nportfolio = \"p.toml\"\npool = \"P\"\nservicer = \"0x12\"\n"),
            "deploy.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("tranched_pool.servicer"), "{e}");
    }

    #[test]
    fn pool_schedule_defaults_and_bounds() {
        let t = |extra: &str| {
            DeployConfig::from_toml(
                &format!("{GOOD}[tranched_pool]\nportfolio = \"p.toml\"\npool = \"P\"\n{extra}"),
                "deploy.toml",
            )
            .unwrap()
            .tranched_pool
            .unwrap()
        };
        let err = |extra: &str| t(extra).schedule().unwrap_err().to_string();
        assert!(err("").contains("tranched_pool.legal_final_period"));
        let s = t("legal_final_period = 60").schedule().unwrap();
        assert_eq!(s.issueWindow, U256::from(2_592_000u32));
        assert_eq!(s.periodSeconds, U256::from(2_592_000u32));
        assert_eq!(s.legalFinalPeriod, U256::from(60u8));
        assert!(err("legal_final_period = 1201").contains("tranched_pool.legal_final_period"));
        assert!(err("legal_final_period = 6\nperiod_s = 0").contains("tranched_pool.period_s"));
        assert!(err("legal_final_period = 6\nmax_price_bps = 0")
            .contains("tranched_pool.max_price_bps"));
        assert_eq!(t("").max_price_bps, 30_000);
        assert!(err("legal_final_period = 6\nissue_window_s = 31536001")
            .contains("tranched_pool.issue_window_s"));
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases = [
            (GOOD.replace("quorum = 2", "quorum = 3"), "oracle.quorum"),
            (GOOD.replace("quorum = 2", "quorum = 0"), "oracle.quorum"),
            (
                GOOD.replace("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x1234"),
                "oracle.signers[1]",
            ),
            (
                GOOD.replace(
                    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                ),
                "oracle.signers[1]",
            ),
            (
                GOOD.replace("max_deviation_bps = 500", "max_deviation_bps = 10001"),
                "oracle.max_deviation_bps",
            ),
            (
                GOOD.replace("max_age_s = 172800", "max_age_s = 0"),
                "oracle.max_age_s",
            ),
            (GOOD.replace("decimals = 6", "decimals = 19"), "decimals"),
            (
                GOOD.replace("[oracle]", "[oracle]\nasset = \"xAID\""),
                "oracle.asset",
            ),
            (GOOD.replace("[oracle]", "[oracle]\nquorom = 1"), "quorom"),
            (
                GOOD.replace(
                    "[aid.test_stablecoin]",
                    "[aid]\nstablecoin = \"0x01\"\n[aid.test_stablecoin]",
                ),
                "aid",
            ),
            (
                format!("{GOOD}[vault]\nmax_nav_drop_bps_per_day = 1000001\n"),
                "vault.max_nav_drop_bps_per_day",
            ),
            ("[oracle".to_string(), "config deploy.toml"),
            (
                format!("{GOOD}[tranched_pool]\nportfolio = \"p.toml\"\npool = \"P\"\nfee_recipient = \"0x12\"\n"),
                "tranched_pool.fee_recipient",
            ),
            (
                format!("{GOOD}[tranched_pool]\nportfolio = \"p.toml\"\n"),
                "pool",
            ),
        ];
        for (text, field) in cases {
            let e = DeployConfig::from_toml(&text, "deploy.toml").unwrap_err();
            assert!(e.is_input_error(), "{e}");
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
    }
}
