//! # gaib-api
//!
//! The gaib valuation service behind `gaib serve`: an axum HTTP server with an embedded SQLite
//! database file, a thin front over the run layer (`gaib-runs`) — it holds no orchestration of
//! its own. Portfolios are posted as JSON (the TOML schema) and validated by the engine;
//! simulations are persisted jobs on a bounded worker pool, each run exactly as `gaib run` runs
//! it (so a job's `results.json` equals `gaib run`'s byte for byte) and written as a
//! self-contained run directory; a finished job of a portfolio with a vault appends a valuation
//! (append-only table) that `/v1/valuations` and `/v1/collateral` serve once it is published.
//!
//! - [`Service::start`] / [`serve`]: start-up (migrations, WAL, job recovery) and graceful
//!   shutdown; [`Config`]: the configuration file.
//! - [`routes`]: every endpoint, documented with utoipa ([`openapi`]).
//! - [`problem`]: RFC 9457 problem details; [`problem::status_of`] is the one mapping of an
//!   error class to an HTTP status.
//! - [`auth`]: bearer API keys with roles (admin, writer, reader; only hashes stored,
//!   constant-time check) and the per-key rate limit; [`create_key_with_role`] backs
//!   `gaib keys create`.
//! - [`assets`]: assets registered once to an owning key, and the valuations the publish
//!   guards ([`valuation::hold_of`]) held until an admin key releases them.
//! - [`chain`]: signed EIP-712 reports and the keeper (through `gaib-contracts`).
//! - [`structure_jobs`]: `gaib structure` as a job kind against a finished simulation.
//! - [`jobs`]: the worker pool; [`db`]: the database; [`valuation`]: what a run publishes;
//!   [`arrow_rows`]: per-path rows as an Arrow IPC stream; [`metrics`]: Prometheus text;
//!   [`dashboard`]: `GET /`.
//!
//! **Architecture invariant:** every simulation goes through `gaib_runs::RunSpec::check` (at
//! submit) → `CheckedRun::prepare` → `PreparedRun::execute_to` (in a worker); this crate adds
//! persistence, HTTP and scheduling.

pub mod app;
pub mod arrow_rows;
pub mod assets;
pub mod auth;
pub mod bundle;
pub mod chain;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod jobs;
pub mod metrics;
pub mod problem;
pub mod routes;
mod security;
pub mod structure_jobs;
pub mod tranche_keeper;
pub mod valuation;

pub use app::{openapi, router, serve, AppState, Service, StartError};
pub use auth::{create_key, create_key_with_role, KeyError, Role};
pub use config::{Config, ConfigError};
pub use db::{Db, DbError};
