//! The service's SQLite database file: schema migrations at start-up (`PRAGMA user_version`),
//! WAL mode, and every query the service makes. Published valuations are append-only: triggers
//! refuse UPDATE and DELETE on them.

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
];

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

/// The database: one connection behind a mutex (every query is short; simulations run
/// outside it).
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
}

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

    /// Stores a portfolio (idempotent: the same body gets the same id).
    pub fn insert_portfolio(&self, row: &PortfolioRow) -> Result<()> {
        self.lock()
            .execute(
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
        Ok(())
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

    /// Stores an API key's hash.
    pub fn insert_key(&self, id: &str, name: &str, hash: &str) -> Result<()> {
        self.lock()
            .execute(
                "INSERT INTO api_keys (id, name, hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, hash, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The stored hash and name of a key that is not revoked.
    pub fn key(&self, id: &str) -> Result<Option<(String, String)>> {
        self.lock()
            .query_row(
                "SELECT hash, name FROM api_keys WHERE id = ?1 AND revoked = 0",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
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

    /// Claims the oldest queued job for a worker: marks it running, counts the attempt.
    pub fn claim_next_job(&self) -> Result<Option<JobRow>> {
        let id: Option<String> = {
            let mut c = self.lock();
            let tx = c.transaction().map_err(|e| self.err(e))?;
            let id: Option<String> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at, rowid LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some(id) = &id {
                tx.execute(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
                     started_at = ?2, paths_done = 0 WHERE id = ?1",
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
    /// its valuation, in one transaction.
    pub fn succeed_job(
        &self,
        id: &str,
        run_id: &str,
        paths_done: u64,
        valuation: Option<(&str, &str, i64)>,
    ) -> Result<()> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE jobs SET state = 'succeeded', run_id = ?2, paths_done = ?3, \
             finished_at = ?4, error = NULL, error_class = NULL WHERE id = ?1",
            params![id, run_id, paths_done as i64, now()],
        )
        .map_err(|e| self.err(e))?;
        if let Some((asset, record, observed_at)) = valuation {
            tx.execute(
                "INSERT INTO valuations (asset, job_id, run_id, record, observed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![asset, id, run_id, record, observed_at],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
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

    /// Puts a running job back in the queue (graceful shutdown).
    pub fn requeue(&self, id: &str) -> Result<()> {
        self.lock()
            .execute(
                "UPDATE jobs SET state = 'queued', paths_done = 0 WHERE id = ?1",
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

    /// The latest valuation of `asset`.
    pub fn latest_valuation(&self, asset: &str) -> Result<Option<ValuationRow>> {
        self.lock()
            .query_row(
                "SELECT seq, asset, job_id, run_id, record, observed_at FROM valuations \
                 WHERE asset = ?1 ORDER BY seq DESC LIMIT 1",
                [asset],
                Self::valuation_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The latest valuation of every asset.
    pub fn latest_valuations(&self) -> Result<Vec<ValuationRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(
                "SELECT seq, asset, job_id, run_id, record, observed_at FROM valuations v \
                 WHERE seq = (SELECT MAX(seq) FROM valuations w WHERE w.asset = v.asset) \
                 ORDER BY asset",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], Self::valuation_of)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The round a report of valuation `seq` of `asset` gets when no keeper chose one: its
    /// 1-based position among the asset's valuations.
    pub fn valuation_ordinal(&self, asset: &str, seq: i64) -> Result<i64> {
        self.lock()
            .query_row(
                "SELECT COUNT(*) FROM valuations WHERE asset = ?1 AND seq <= ?2",
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

    /// The valuations of `asset` observed in `from ..= to` (unix seconds), oldest first, at
    /// most `limit`.
    pub fn valuation_history(
        &self,
        asset: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<ValuationRow>> {
        let c = self.lock();
        let mut st = c
            .prepare(
                "SELECT seq, asset, job_id, run_id, record, observed_at FROM valuations \
                 WHERE asset = ?1 AND observed_at >= ?2 AND observed_at <= ?3 \
                 ORDER BY observed_at, seq LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![asset, from, to, limit as i64], Self::valuation_of)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}
