//! The service's SQLite database file: schema migrations at start-up (`PRAGMA user_version`),
//! WAL mode, and every query the service makes. Valuations are append-only: triggers refuse
//! UPDATE, DELETE and an INSERT (`INSERT OR REPLACE`, `REPLACE INTO`) over an existing row. A
//! valuation that a publish guard stopped has a row in `valuation_holds` (its reason; an admin
//! may release it); every other valuation is published.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database directory could not be created.
    #[error("database {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file was written by a newer version of the service.
    #[error("database {path}: schema version {found} is newer than this build's {known}")]
    TooNew {
        /// The database file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A stored JSON column did not parse.
    #[error("database {path}: stored {what} is not valid: {message}")]
    Corrupt {
        /// The database file.
        path: String,
        /// Which column.
        what: &'static str,
        /// The parser's message.
        message: String,
    },
}

/// Result alias of the database layer.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// The schema, one migration per entry; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: portfolios, API keys, jobs, valuations (append-only).
    r#"
    CREATE TABLE portfolios (
        id           TEXT PRIMARY KEY,
        portfolio_id TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        body         BLOB NOT NULL,
        created_at   INTEGER NOT NULL
    );
    CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        hash       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE jobs (
        id           TEXT PRIMARY KEY,
        key_id       TEXT NOT NULL,
        portfolio_id TEXT NOT NULL REFERENCES portfolios(id),
        request      TEXT NOT NULL,
        scenarios    TEXT NOT NULL,
        state        TEXT NOT NULL,
        paths_total  INTEGER NOT NULL,
        paths_done   INTEGER NOT NULL DEFAULT 0,
        attempts     INTEGER NOT NULL DEFAULT 0,
        error        TEXT,
        error_class  TEXT,
        run_id       TEXT,
        created_at   INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER
    );
    CREATE INDEX jobs_state ON jobs(state, created_at);
    CREATE INDEX jobs_key ON jobs(key_id, state);
    CREATE TABLE valuations (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        asset        TEXT NOT NULL,
        job_id       TEXT NOT NULL,
        run_id       TEXT NOT NULL,
        record       TEXT NOT NULL,
        observed_at  INTEGER NOT NULL
    );
    CREATE INDEX valuations_asset ON valuations(asset, observed_at);
    CREATE TRIGGER valuations_no_update BEFORE UPDATE ON valuations
        BEGIN SELECT RAISE(ABORT, 'valuations are append-only: UPDATE refused'); END;
    CREATE TRIGGER valuations_no_delete BEFORE DELETE ON valuations
        BEGIN SELECT RAISE(ABORT, 'valuations are append-only: DELETE refused'); END;
    "#,
    // 2: the keeper's publications of valuations to the oracle.
    r#"
    CREATE TABLE publications (
        asset           TEXT NOT NULL,
        valuation_seq   INTEGER NOT NULL REFERENCES valuations(seq),
        round           INTEGER NOT NULL,
        status          TEXT NOT NULL,
        tx_hash         TEXT,
        error           TEXT,
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (asset, valuation_seq)
    );
    "#,
    // 3: key roles, asset owners, held valuations, portfolio owners, fair claims, and no
    // REPLACE over a valuation. Keys made before roles existed become `writer`: what they
    // could do (store portfolios, run jobs) they still can; admin powers are granted only
    // explicitly (`gaib keys create --role admin`). A portfolio's owners are the keys that ran
    // jobs on it.
    r#"
    ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'writer';
    CREATE TABLE assets (
        asset         TEXT PRIMARY KEY,
        owner_key_id  TEXT NOT NULL REFERENCES api_keys(id),
        registered_by TEXT NOT NULL,
        created_at    INTEGER NOT NULL
    );
    CREATE TABLE valuation_holds (
        seq         INTEGER PRIMARY KEY REFERENCES valuations(seq),
        asset       TEXT NOT NULL,
        reason      TEXT NOT NULL,
        detail      TEXT NOT NULL,
        held_at     INTEGER NOT NULL,
        released_by TEXT,
        released_at INTEGER
    );
    CREATE INDEX valuation_holds_open ON valuation_holds(released_at, seq);
    CREATE TABLE portfolio_keys (
        portfolio_id TEXT NOT NULL REFERENCES portfolios(id),
        key_id       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (portfolio_id, key_id)
    );
    CREATE INDEX portfolio_keys_key ON portfolio_keys(key_id);
    INSERT OR IGNORE INTO portfolio_keys (portfolio_id, key_id, created_at)
        SELECT portfolio_id, key_id, MIN(created_at) FROM jobs GROUP BY portfolio_id, key_id;
    ALTER TABLE jobs ADD COLUMN claim_seq INTEGER;
    CREATE INDEX jobs_key_claim ON jobs(key_id, claim_seq);
    CREATE TRIGGER valuations_no_replace BEFORE INSERT ON valuations
        WHEN EXISTS (SELECT 1 FROM valuations WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'valuations are append-only: REPLACE refused'); END;
    "#,
    // 4: the keeper's publications of tranche prices (issue 25): one row per (job's run, pool,
    // pool period), with the prices it carried (JSON array of 1e18 fixed-point decimal strings).
    r#"
    CREATE TABLE tranche_publications (
        job_id          TEXT NOT NULL REFERENCES jobs(id),
        run_id          TEXT NOT NULL,
        pool            TEXT NOT NULL,
        period          INTEGER NOT NULL,
        oracle          TEXT NOT NULL,
        round           INTEGER NOT NULL,
        prices          TEXT NOT NULL,
        status          TEXT NOT NULL,
        tx_hash         TEXT,
        error           TEXT,
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (job_id, pool, period)
    );
    CREATE INDEX tranche_publications_pool ON tranche_publications(pool, updated_at);
    "#,
];

/// A valuation row is published unless it has a hold that was not released (`v` is the
/// valuations table's alias).
const PUBLISHED: &str = "NOT EXISTS (SELECT 1 FROM valuation_holds h \
    WHERE h.seq = v.seq AND h.released_at IS NULL)";

/// The keeper's record of publishing one valuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Publication {
    /// The asset.
    pub asset: String,
    /// The valuation's sequence number.
    pub valuation_seq: i64,
    /// The report round (last attempted).
    pub round: i64,
    /// `published` or `failed` (retried with backoff).
    pub status: String,
    /// The transaction hash once published.
    pub tx_hash: Option<String>,
    /// The last error.
    pub error: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// Unix seconds of the next retry.
    pub next_attempt_at: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

/// The keeper's record of publishing one run's tranche prices of one pool for one pool period
/// (`GET /v1/tranche-publications/{pool}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranchePublication {
    /// The job whose run priced the tranches.
    pub job_id: String,
    /// SHA-256 of the run's manifest (the report's `runId`), hex.
    pub run_id: String,
    /// The pool id (its keccak256 is the TrancheOracle's asset).
    pub pool: String,
    /// The pool's period (`TranchedPool.period()`, periods closed) the prices are for.
    pub period: i64,
    /// The TrancheOracle, 0x address.
    pub oracle: String,
    /// The report round (last attempted; 0 when the oracle could not be asked).
    pub round: i64,
    /// Per tranche, senior first: AID per whole token, 1e18 fixed point as decimal strings.
    pub prices: Vec<String>,
    /// `published`; `failed` (retried with backoff); `stale` (the run is older than the pool's
    /// last period close, so it cannot price this period; not retried: a newer run is needed).
    pub status: String,
    /// The transaction hash once published, 0x hex.
    pub tx_hash: Option<String>,
    /// The last error (or why the run is stale).
    pub error: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// Unix seconds of the next retry.
    pub next_attempt_at: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

/// Columns of `tranche_publications` in [`TranchePublication`]'s field order.
const TRANCHE_PUBLICATION_COLUMNS: &str = "job_id, run_id, pool, period, oracle, round, prices, \
    status, tx_hash, error, attempts, next_attempt_at, updated_at";

/// States of a job.
pub mod state {
    /// Persisted, waiting for a worker.
    pub const QUEUED: &str = "queued";
    /// A worker is simulating it.
    pub const RUNNING: &str = "running";
    /// Finished; its run directory is written.
    pub const SUCCEEDED: &str = "succeeded";
    /// Failed, with the reason.
    pub const FAILED: &str = "failed";
    /// Cancelled through `DELETE /v1/simulations/{id}`.
    pub const CANCELLED: &str = "cancelled";
    /// Every state, for metrics.
    pub const ALL: [&str; 5] = [QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED];
}

/// A stored portfolio.
#[derive(Debug, Clone)]
pub struct PortfolioRow {
    /// The service's id of it.
    pub id: String,
    /// The portfolio's own id (`[portfolio] id`).
    pub portfolio_id: String,
    /// SHA-256 of the body.
    pub sha256: String,
    /// The JSON body as posted.
    pub body: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
}

/// One scenario of a job, stored with its bytes when the job is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredScenario {
    /// Where it was found (the name a scenario's errors use).
    pub source: String,
    /// Its TOML text.
    pub text: String,
}

/// A stored job.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Job id.
    pub id: String,
    /// Id of the API key that submitted it.
    pub key_id: String,
    /// The portfolio's service id.
    pub portfolio_id: String,
    /// The request as JSON (crate::jobs::SimulationRequest).
    pub request: String,
    /// The scenarios' texts.
    pub scenarios: Vec<StoredScenario>,
    /// See [`state`].
    pub state: String,
    /// Paths over all legs.
    pub paths_total: i64,
    /// Paths done when last recorded.
    pub paths_done: i64,
    /// How many times a worker started it.
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The failure's class (`input`, `internal`, `interrupted`).
    pub error_class: Option<String>,
    /// SHA-256 of the run's manifest.json.
    pub run_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last start.
    pub started_at: Option<i64>,
    /// Unix seconds.
    pub finished_at: Option<i64>,
}

/// A published valuation row.
#[derive(Debug, Clone)]
pub struct ValuationRow {
    /// Sequence number (insertion order).
    pub seq: i64,
    /// The asset (vault id).
    pub asset: String,
    /// The job that computed it.
    pub job_id: String,
    /// SHA-256 of the run's manifest.json.
    pub run_id: String,
    /// The record as JSON (crate::valuation::Valuation).
    pub record: String,
    /// Unix seconds.
    pub observed_at: i64,
}

/// A stored API key (not revoked).
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// SHA-256 of the secret (hex).
    pub hash: String,
    /// Its name.
    pub name: String,
    /// `admin`, `writer` or `reader`.
    pub role: String,
}

/// A registered asset and the key whose jobs publish its valuations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRow {
    /// The asset (vault id).
    pub asset: String,
    /// Id of the owning key.
    pub owner_key_id: String,
    /// Id of the admin key that registered it.
    pub registered_by: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What storing a portfolio for a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new portfolio, now the key's.
    Created,
    /// The body was stored before (by this or another key); now (also) the key's.
    Existing,
    /// The key already holds its cap of portfolios: nothing stored.
    LimitReached,
}

/// What deleting a key's portfolio did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The key's claim is gone (and the portfolio, if nothing else needs it).
    Deleted,
    /// The key has no portfolio with this id.
    NotOwned,
    /// A queued or running job of the key uses it: nothing deleted.
    InUse,
}

/// Why a finished job's valuation is held instead of published, as decided by a guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldDecision {
    /// A short code (`unregistered`, `not-owner`, `too-few-paths`, `price-move`).
    pub reason: &'static str,
    /// The explanation, with the values.
    pub detail: String,
}

/// What a publish guard sees of an asset when a job's valuation arrives.
#[derive(Debug, Clone, Default)]
pub struct PublishContext {
    /// The asset's owning key, if the asset is registered.
    pub owner_key_id: Option<String>,
    /// The record (JSON) of the asset's latest published valuation.
    pub last_published: Option<String>,
}

/// A held valuation (open or released).
#[derive(Debug, Clone)]
pub struct HoldRow {
    /// The valuation row.
    pub valuation: ValuationRow,
    /// The guard's reason code.
    pub reason: String,
    /// The explanation.
    pub detail: String,
    /// Unix seconds.
    pub held_at: i64,
    /// Id of the admin key that released it.
    pub released_by: Option<String>,
    /// Unix seconds of the release.
    pub released_at: Option<i64>,
}

/// What releasing a hold did.
#[derive(Debug, Clone)]
pub enum Released {
    /// Published now.
    Released(ValuationRow),
    /// No open hold with this sequence number.
    NotHeld,
    /// A newer valuation of the asset is published (its seq): releasing an older one would
    /// publish a stale price.
    Superseded(i64),
}

/// The database: one connection behind a mutex (every query is short; simulations run
/// outside it).
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const VALUATION_COLUMNS: &str = "v.seq, v.asset, v.job_id, v.run_id, v.record, v.observed_at";

const HOLD_COLUMNS: &str = "h.reason, h.detail, h.held_at, h.released_by, h.released_at";

const JOB_COLUMNS: &str = "id, key_id, portfolio_id, request, scenarios, state, paths_total, \
    paths_done, attempts, error, error_class, run_id, created_at, started_at, finished_at";

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Db {
    /// Opens (creating it and its directory if needed) the database file, switches it to WAL
    /// mode and applies every pending migration.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let p = path.display().to_string();
        let sq = |source| DbError::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(sq)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sq)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sq)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sq)?;
        let db = Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        };
        db.migrate()?;
        Ok(db)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.lock();
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(DbError::TooNew {
                path: self.path.display().to_string(),
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = c.transaction().map_err(|e| self.err(e))?;
            tx.execute_batch(sql).map_err(|e| self.err(e))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
            tracing::info!(version = i + 1, "database migrated");
        }
        Ok(())
    }

    /// The schema version applied.
    pub fn schema_version(&self) -> Result<i64> {
        self.lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Whether the database answers a query.
    pub fn ping(&self) -> bool {
        self.lock()
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .is_ok()
    }

    /// Runs `sql` on the connection (tests: proving the triggers refuse).
    pub fn execute_raw(&self, sql: &str) -> Result<usize> {
        self.lock().execute(sql, []).map_err(|e| self.err(e))
    }

    // --- portfolios ---

    /// Stores a portfolio for `key_id` (idempotent: the same body gets the same id) unless the
    /// key already holds `cap` other portfolios; one transaction.
    pub fn store_portfolio(&self, row: &PortfolioRow, key_id: &str, cap: u32) -> Result<Stored> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        let q = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<i64> {
            tx.query_row(sql, p, |r| r.get(0)).map_err(|e| self.err(e))
        };
        let mine = q(
            "SELECT COUNT(*) FROM portfolio_keys WHERE portfolio_id = ?1 AND key_id = ?2",
            &[&row.id, &key_id],
        )?;
        let existed = q("SELECT COUNT(*) FROM portfolios WHERE id = ?1", &[&row.id])? > 0;
        if mine == 0 {
            let held = q(
                "SELECT COUNT(*) FROM portfolio_keys WHERE key_id = ?1",
                &[&key_id],
            )?;
            if held >= i64::from(cap) {
                return Ok(Stored::LimitReached);
            }
        }
        tx.execute(
            "INSERT OR IGNORE INTO portfolios (id, portfolio_id, sha256, body, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                row.id,
                row.portfolio_id,
                row.sha256,
                row.body,
                row.created_at
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT OR IGNORE INTO portfolio_keys (portfolio_id, key_id, created_at) \
             VALUES (?1, ?2, ?3)",
            params![row.id, key_id, now()],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(if existed {
            Stored::Existing
        } else {
            Stored::Created
        })
    }

    /// Whether `key_id` has stored portfolio `id`.
    pub fn owns_portfolio(&self, id: &str, key_id: &str) -> Result<bool> {
        self.lock()
            .query_row(
                "SELECT COUNT(*) FROM portfolio_keys WHERE portfolio_id = ?1 AND key_id = ?2",
                params![id, key_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Removes `key_id`'s claim on portfolio `id` unless a queued or running job of the key
    /// uses it; the portfolio itself goes once no key claims it and no job refers to it. One
    /// transaction.
    pub fn delete_portfolio(&self, id: &str, key_id: &str) -> Result<Deleted> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<i64> {
            tx.query_row(sql, p, |r| r.get(0)).map_err(|e| self.err(e))
        };
        let mine = count(
            "SELECT COUNT(*) FROM portfolio_keys WHERE portfolio_id = ?1 AND key_id = ?2",
            &[&id, &key_id],
        )?;
        if mine == 0 {
            return Ok(Deleted::NotOwned);
        }
        let active = count(
            "SELECT COUNT(*) FROM jobs WHERE portfolio_id = ?1 AND key_id = ?2 \
             AND state IN ('queued', 'running')",
            &[&id, &key_id],
        )?;
        if active > 0 {
            return Ok(Deleted::InUse);
        }
        tx.execute(
            "DELETE FROM portfolio_keys WHERE portfolio_id = ?1 AND key_id = ?2",
            params![id, key_id],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "DELETE FROM portfolios WHERE id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM portfolio_keys WHERE portfolio_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM jobs WHERE portfolio_id = ?1)",
            [id],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Deleted::Deleted)
    }

    /// A stored portfolio.
    pub fn portfolio(&self, id: &str) -> Result<Option<PortfolioRow>> {
        self.lock()
            .query_row(
                "SELECT id, portfolio_id, sha256, body, created_at FROM portfolios WHERE id = ?1",
                [id],
                |r| {
                    Ok(PortfolioRow {
                        id: r.get(0)?,
                        portfolio_id: r.get(1)?,
                        sha256: r.get(2)?,
                        body: r.get(3)?,
                        created_at: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    // --- API keys ---

    /// Stores an API key's hash and role.
    pub fn insert_key(&self, id: &str, name: &str, hash: &str, role: &str) -> Result<()> {
        self.lock()
            .execute(
                "INSERT INTO api_keys (id, name, hash, created_at, role) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, name, hash, now(), role],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A key that is not revoked.
    pub fn key(&self, id: &str) -> Result<Option<KeyRow>> {
        self.lock()
            .query_row(
                "SELECT hash, name, role FROM api_keys WHERE id = ?1 AND revoked = 0",
                [id],
                |r| {
                    Ok(KeyRow {
                        hash: r.get(0)?,
                        name: r.get(1)?,
                        role: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    // --- assets ---

    /// Registers `asset` to its owning key; false (and nothing written) if it is registered
    /// already: an asset is registered once.
    pub fn register_asset(&self, row: &AssetRow) -> Result<bool> {
        let n = self
            .lock()
            .execute(
                "INSERT OR IGNORE INTO assets (asset, owner_key_id, registered_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    row.asset,
                    row.owner_key_id,
                    row.registered_by,
                    row.created_at
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Every registered asset, by name.
    pub fn assets(&self) -> Result<Vec<AssetRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(
                "SELECT asset, owner_key_id, registered_by, created_at FROM assets ORDER BY asset",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(AssetRow {
                    asset: r.get(0)?,
                    owner_key_id: r.get(1)?,
                    registered_by: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    // --- jobs ---

    fn job_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(JobRow, String)> {
        let scenarios: String = r.get(4)?;
        Ok((
            JobRow {
                id: r.get(0)?,
                key_id: r.get(1)?,
                portfolio_id: r.get(2)?,
                request: r.get(3)?,
                scenarios: Vec::new(),
                state: r.get(5)?,
                paths_total: r.get(6)?,
                paths_done: r.get(7)?,
                attempts: r.get(8)?,
                error: r.get(9)?,
                error_class: r.get(10)?,
                run_id: r.get(11)?,
                created_at: r.get(12)?,
                started_at: r.get(13)?,
                finished_at: r.get(14)?,
            },
            scenarios,
        ))
    }

    fn finish_job(&self, (mut job, scenarios): (JobRow, String)) -> Result<JobRow> {
        job.scenarios = serde_json::from_str(&scenarios).map_err(|e| DbError::Corrupt {
            path: self.path.display().to_string(),
            what: "job scenarios",
            message: e.to_string(),
        })?;
        Ok(job)
    }

    /// Persists a new queued job.
    pub fn insert_job(&self, job: &JobRow) -> Result<()> {
        let scenarios = serde_json::to_string(&job.scenarios).map_err(|e| DbError::Corrupt {
            path: self.path.display().to_string(),
            what: "job scenarios",
            message: e.to_string(),
        })?;
        self.lock()
            .execute(
                "INSERT INTO jobs (id, key_id, portfolio_id, request, scenarios, state, \
                 paths_total, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    job.id,
                    job.key_id,
                    job.portfolio_id,
                    job.request,
                    scenarios,
                    job.state,
                    job.paths_total,
                    job.created_at
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A stored job.
    pub fn job(&self, id: &str) -> Result<Option<JobRow>> {
        let row = self
            .lock()
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                Self::job_of,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|r| self.finish_job(r)).transpose()
    }

    /// The most recent jobs, newest first.
    pub fn recent_jobs(&self, limit: usize) -> Result<Vec<JobRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?1"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([limit as i64], Self::job_of)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        drop(st);
        drop(c);
        rows.into_iter().map(|r| self.finish_job(r)).collect()
    }

    /// Jobs of a key that are queued or running.
    pub fn active_jobs_of_key(&self, key_id: &str) -> Result<i64> {
        self.lock()
            .query_row(
                "SELECT COUNT(*) FROM jobs WHERE key_id = ?1 AND state IN ('queued', 'running')",
                [key_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Number of jobs in each state.
    pub fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        let c = self.lock();
        let mut st = c
            .prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Claims the next queued job for a worker, round-robin between keys: of the keys with
    /// queued jobs, the one with the fewest running jobs, then the one served longest ago
    /// (never first), gets its oldest job. Marks it running and counts the attempt.
    pub fn claim_next_job(&self) -> Result<Option<JobRow>> {
        let id: Option<String> = {
            let mut c = self.lock();
            let tx = c.transaction().map_err(|e| self.err(e))?;
            let id: Option<String> = tx
                .query_row(
                    "SELECT j.id FROM jobs j WHERE j.state = 'queued' ORDER BY \
                     (SELECT COUNT(*) FROM jobs r WHERE r.key_id = j.key_id \
                      AND r.state = 'running'), \
                     (SELECT COALESCE(MAX(c.claim_seq), 0) FROM jobs c \
                      WHERE c.key_id = j.key_id), \
                     j.created_at, j.rowid LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some(id) = &id {
                tx.execute(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
                     started_at = ?2, paths_done = 0, \
                     claim_seq = (SELECT COALESCE(MAX(claim_seq), 0) + 1 FROM jobs) \
                     WHERE id = ?1",
                    params![id, now()],
                )
                .map_err(|e| self.err(e))?;
            }
            tx.commit().map_err(|e| self.err(e))?;
            id
        };
        match id {
            Some(id) => self.job(&id),
            None => Ok(None),
        }
    }

    /// Marks a queued job cancelled; false if it was not queued.
    pub fn cancel_queued(&self, id: &str) -> Result<bool> {
        let n = self
            .lock()
            .execute(
                "UPDATE jobs SET state = 'cancelled', finished_at = ?2 \
                 WHERE id = ?1 AND state = 'queued'",
                params![id, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Records a running job's progress.
    pub fn set_progress(&self, id: &str, done: u64) -> Result<()> {
        self.lock()
            .execute(
                "UPDATE jobs SET paths_done = ?2 WHERE id = ?1 AND state = 'running'",
                params![id, done as i64],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks a running job succeeded, with its run id and (when the portfolio has a vault)
    /// its valuation `(asset, record, observed_at)`, in one transaction. `guard` sees the
    /// asset's owner and last published valuation as of that transaction and decides whether
    /// the valuation is held; the decision is returned.
    pub fn succeed_job(
        &self,
        id: &str,
        run_id: &str,
        paths_done: u64,
        valuation: Option<(&str, &str, i64)>,
        guard: impl FnOnce(&PublishContext) -> Option<HoldDecision>,
    ) -> Result<Option<HoldDecision>> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE jobs SET state = 'succeeded', run_id = ?2, paths_done = ?3, \
             finished_at = ?4, error = NULL, error_class = NULL WHERE id = ?1",
            params![id, run_id, paths_done as i64, now()],
        )
        .map_err(|e| self.err(e))?;
        let mut hold = None;
        if let Some((asset, record, observed_at)) = valuation {
            let ctx = PublishContext {
                owner_key_id: tx
                    .query_row(
                        "SELECT owner_key_id FROM assets WHERE asset = ?1",
                        [asset],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| self.err(e))?,
                last_published: tx
                    .query_row(
                        &format!(
                            "SELECT v.record FROM valuations v WHERE v.asset = ?1 AND {PUBLISHED} \
                             ORDER BY v.seq DESC LIMIT 1"
                        ),
                        [asset],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| self.err(e))?,
            };
            hold = guard(&ctx);
            tx.execute(
                "INSERT INTO valuations (asset, job_id, run_id, record, observed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![asset, id, run_id, record, observed_at],
            )
            .map_err(|e| self.err(e))?;
            if let Some(h) = &hold {
                tx.execute(
                    "INSERT INTO valuation_holds (seq, asset, reason, detail, held_at) \
                     VALUES (last_insert_rowid(), ?1, ?2, ?3, ?4)",
                    params![asset, h.reason, h.detail, now()],
                )
                .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(hold)
    }

    /// Marks a job finished in `state` (failed or cancelled) with a reason.
    pub fn end_job(
        &self,
        id: &str,
        state: &str,
        error: Option<&str>,
        class: Option<&str>,
    ) -> Result<()> {
        self.lock()
            .execute(
                "UPDATE jobs SET state = ?2, error = ?3, error_class = ?4, finished_at = ?5 \
                 WHERE id = ?1",
                params![id, state, error, class, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Puts a running job back in the queue (graceful shutdown). The attempt its claim counted
    /// is given back: only a crash uses up one of `max_attempts`.
    pub fn requeue(&self, id: &str) -> Result<()> {
        self.lock()
            .execute(
                "UPDATE jobs SET state = 'queued', paths_done = 0, \
                 attempts = MAX(attempts - 1, 0) WHERE id = ?1",
                [id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// After a crash or restart: every job still marked running restarts from the beginning
    /// (queued again) if it has had fewer than `max_attempts` attempts, else it is marked failed
    /// with the reason. Returns (restarted, failed).
    pub fn recover(&self, max_attempts: u32) -> Result<(usize, usize)> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        let failed = tx
            .execute(
                "UPDATE jobs SET state = 'failed', error_class = 'interrupted', \
                 error = 'the server stopped while the job was running (' || attempts || \
                 ' attempts); not restarted again', finished_at = ?2 \
                 WHERE state = 'running' AND attempts >= ?1",
                params![max_attempts as i64, now()],
            )
            .map_err(|e| self.err(e))?;
        let restarted = tx
            .execute(
                "UPDATE jobs SET state = 'queued', paths_done = 0, \
                 error = 'restarted from the beginning after the server stopped while it ran' \
                 WHERE state = 'running'",
                [],
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok((restarted, failed))
    }

    // --- valuations ---

    fn valuation_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ValuationRow> {
        Ok(ValuationRow {
            seq: r.get(0)?,
            asset: r.get(1)?,
            job_id: r.get(2)?,
            run_id: r.get(3)?,
            record: r.get(4)?,
            observed_at: r.get(5)?,
        })
    }

    /// The latest published valuation of `asset`.
    pub fn latest_valuation(&self, asset: &str) -> Result<Option<ValuationRow>> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {VALUATION_COLUMNS} FROM valuations v \
                     WHERE v.asset = ?1 AND {PUBLISHED} ORDER BY v.seq DESC LIMIT 1"
                ),
                [asset],
                Self::valuation_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The latest published valuation of every asset.
    pub fn latest_valuations(&self) -> Result<Vec<ValuationRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(&format!(
                "SELECT {VALUATION_COLUMNS} FROM valuations v WHERE v.seq IN \
                 (SELECT MAX(v.seq) FROM valuations v WHERE {PUBLISHED} GROUP BY v.asset) \
                 ORDER BY v.asset"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], Self::valuation_of)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The round a report of valuation `seq` of `asset` gets when no keeper chose one: its
    /// 1-based position among the asset's published valuations.
    pub fn valuation_ordinal(&self, asset: &str, seq: i64) -> Result<i64> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT COUNT(*) FROM valuations v WHERE v.asset = ?1 AND v.seq <= ?2 \
                     AND {PUBLISHED}"
                ),
                params![asset, seq],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The keeper's record of valuation `seq` of `asset`.
    pub fn publication(&self, asset: &str, seq: i64) -> Result<Option<Publication>> {
        self.lock()
            .query_row(
                "SELECT asset, valuation_seq, round, status, tx_hash, error, attempts, \
                 next_attempt_at, updated_at FROM publications \
                 WHERE asset = ?1 AND valuation_seq = ?2",
                params![asset, seq],
                |r| {
                    Ok(Publication {
                        asset: r.get(0)?,
                        valuation_seq: r.get(1)?,
                        round: r.get(2)?,
                        status: r.get(3)?,
                        tx_hash: r.get(4)?,
                        error: r.get(5)?,
                        attempts: r.get(6)?,
                        next_attempt_at: r.get(7)?,
                        updated_at: r.get(8)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records a publication attempt (insert or replace).
    pub fn record_publication(&self, p: &Publication) -> Result<()> {
        self.lock()
            .execute(
                "INSERT OR REPLACE INTO publications (asset, valuation_seq, round, status, \
                 tx_hash, error, attempts, next_attempt_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    p.asset,
                    p.valuation_seq,
                    p.round,
                    p.status,
                    p.tx_hash,
                    p.error,
                    p.attempts,
                    p.next_attempt_at,
                    p.updated_at
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn tranche_publication_of(
        &self,
        r: &rusqlite::Row<'_>,
    ) -> rusqlite::Result<TranchePublication> {
        let prices: String = r.get(6)?;
        let prices = serde_json::from_str(&prices).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e))
        })?;
        Ok(TranchePublication {
            job_id: r.get(0)?,
            run_id: r.get(1)?,
            pool: r.get(2)?,
            period: r.get(3)?,
            oracle: r.get(4)?,
            round: r.get(5)?,
            prices,
            status: r.get(7)?,
            tx_hash: r.get(8)?,
            error: r.get(9)?,
            attempts: r.get(10)?,
            next_attempt_at: r.get(11)?,
            updated_at: r.get(12)?,
        })
    }

    /// The keeper's record of job `job_id`'s tranche prices of `pool` for pool period `period`.
    pub fn tranche_publication(
        &self,
        job_id: &str,
        pool: &str,
        period: i64,
    ) -> Result<Option<TranchePublication>> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {TRANCHE_PUBLICATION_COLUMNS} FROM tranche_publications \
                     WHERE job_id = ?1 AND pool = ?2 AND period = ?3"
                ),
                params![job_id, pool, period],
                |r| self.tranche_publication_of(r),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records a tranche price publication attempt (insert, or replace the row of the same job,
    /// pool and period).
    pub fn record_tranche_publication(&self, p: &TranchePublication) -> Result<()> {
        let prices = serde_json::to_string(&p.prices).map_err(|e| DbError::Corrupt {
            path: self.path.display().to_string(),
            what: "tranche_publications.prices",
            message: e.to_string(),
        })?;
        self.lock()
            .execute(
                &format!(
                    "INSERT OR REPLACE INTO tranche_publications ({TRANCHE_PUBLICATION_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                params![
                    p.job_id,
                    p.run_id,
                    p.pool,
                    p.period,
                    p.oracle,
                    p.round,
                    prices,
                    p.status,
                    p.tx_hash,
                    p.error,
                    p.attempts,
                    p.next_attempt_at,
                    p.updated_at
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The keeper's tranche price publications of `pool`, newest first (by period, then last
    /// change), at most `limit`.
    pub fn tranche_publications(
        &self,
        pool: &str,
        limit: usize,
    ) -> Result<Vec<TranchePublication>> {
        let c = self.lock();
        let mut st = c
            .prepare(&format!(
                "SELECT {TRANCHE_PUBLICATION_COLUMNS} FROM tranche_publications WHERE pool = ?1 \
                 ORDER BY period DESC, updated_at DESC, job_id LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![pool, limit as i64], |r| {
                self.tranche_publication_of(r)
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The published valuations of `asset` observed in `from ..= to` (unix seconds), oldest
    /// first, at most `limit`.
    pub fn valuation_history(
        &self,
        asset: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<ValuationRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(&format!(
                "SELECT {VALUATION_COLUMNS} FROM valuations v \
                 WHERE v.asset = ?1 AND v.observed_at >= ?2 AND v.observed_at <= ?3 \
                 AND {PUBLISHED} ORDER BY v.observed_at, v.seq LIMIT ?4"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![asset, from, to, limit as i64], Self::valuation_of)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    // --- holds ---

    fn hold_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<HoldRow> {
        Ok(HoldRow {
            valuation: Self::valuation_of(r)?,
            reason: r.get(6)?,
            detail: r.get(7)?,
            held_at: r.get(8)?,
            released_by: r.get(9)?,
            released_at: r.get(10)?,
        })
    }

    /// Held valuations that are not released, oldest first, at most `limit`.
    pub fn open_holds(&self, limit: usize) -> Result<Vec<HoldRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(&format!(
                "SELECT {VALUATION_COLUMNS}, {HOLD_COLUMNS} FROM valuations v \
                 JOIN valuation_holds h ON h.seq = v.seq WHERE h.released_at IS NULL \
                 ORDER BY v.seq LIMIT ?1"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([limit as i64], Self::hold_of)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The hold of job `job_id`'s valuation and the valuation's seq and asset: `(seq, asset,
    /// hold)`; None when the job published no valuation.
    pub fn job_valuation(&self, job_id: &str) -> Result<Option<(i64, String, Option<HoldRow>)>> {
        let row = self
            .lock()
            .query_row(
                &format!(
                    "SELECT {VALUATION_COLUMNS}, {HOLD_COLUMNS} FROM valuations v \
                     LEFT JOIN valuation_holds h ON h.seq = v.seq WHERE v.job_id = ?1 \
                     ORDER BY v.seq DESC LIMIT 1"
                ),
                [job_id],
                |r| {
                    let v = Self::valuation_of(r)?;
                    let held: Option<String> = r.get(6)?;
                    let hold = held.is_some().then(|| Self::hold_of(r)).transpose()?;
                    Ok((v.seq, v.asset, hold))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row)
    }

    /// Releases the open hold of valuation `seq` (published from now on), on behalf of admin
    /// key `by`, unless a newer valuation of its asset is published; one transaction.
    pub fn release_hold(&self, seq: i64, by: &str) -> Result<Released> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        let row = tx
            .query_row(
                &format!(
                    "SELECT {VALUATION_COLUMNS} FROM valuations v JOIN valuation_holds h \
                     ON h.seq = v.seq WHERE v.seq = ?1 AND h.released_at IS NULL"
                ),
                [seq],
                Self::valuation_of,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(row) = row else {
            return Ok(Released::NotHeld);
        };
        let newer: Option<i64> = tx
            .query_row(
                &format!(
                    "SELECT MAX(v.seq) FROM valuations v WHERE v.asset = ?1 AND v.seq > ?2 \
                     AND {PUBLISHED}"
                ),
                params![row.asset, seq],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if let Some(n) = newer {
            return Ok(Released::Superseded(n));
        }
        tx.execute(
            "UPDATE valuation_holds SET released_by = ?2, released_at = ?3 WHERE seq = ?1",
            params![seq, by, now()],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Released::Released(row))
    }
}
