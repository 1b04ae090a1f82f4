//! The service: shared state, the write-key extractor, the middleware stack (metrics,
//! problem+json everywhere, body limit, CORS), start-up and graceful shutdown.

use crate::auth::{KeyId, RateLimiter, Role};
use crate::config::Config;
use crate::db::Db;
use crate::jobs::{Jobs, Latest, PoolConfig};
use crate::metrics::Metrics;
use crate::problem::Problem;
use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Arc<Db>,
    /// The worker pool.
    pub jobs: Arc<Jobs>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Latest valuation per asset.
    pub latest: Arc<Latest>,
    /// Rate limit of write keys.
    pub limiter: Arc<RateLimiter>,
    /// The OpenAPI document, serialised once.
    pub openapi: axum::body::Bytes,
    /// The configuration.
    pub config: Arc<Config>,
    /// The chain side (reports, keeper), when configured.
    pub chain: Option<Arc<crate::chain::Chain>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db.path())
            .finish()
    }
}

/// A verified `writer` or `admin` API key that is within its rate limit: the extractor of
/// every write endpoint.
#[derive(Debug, Clone)]
pub struct WriteKey(pub KeyId);

impl FromRequestParts<AppState> for WriteKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
        authorized(parts, s, &[Role::Admin, Role::Writer])
            .await
            .map(WriteKey)
    }
}

/// A verified `admin` API key within its rate limit: registering assets, releasing holds.
#[derive(Debug, Clone)]
pub struct AdminKey(pub KeyId);

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
        authorized(parts, s, &[Role::Admin]).await.map(AdminKey)
    }
}

/// The request's key, verified, of one of the `allowed` roles, and within its rate limit.
async fn authorized(parts: &Parts, s: &AppState, allowed: &[Role]) -> Result<KeyId, Problem> {
    let h = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let db = s.db.clone();
    let key = tokio::task::spawn_blocking(move || crate::auth::verify(&db, h.as_deref()))
        .await
        .map_err(Problem::internal)??;
    // The key's id (never its secret) on the request span, from here on in every log line.
    tracing::Span::current().record("key_id", key.id.as_str());
    s.limiter.check(&key.id).map_err(|wait| {
        Problem::too_many(
            "rate-limit",
            format!(
                "key {} exceeded {} write requests per minute (burst {})",
                key.id, s.config.rate_limit_per_minute, s.config.rate_limit_burst
            ),
            wait,
        )
    })?;
    crate::auth::require(key, allowed)
}

/// Every request: a `request` span (method, route template, then status, latency and the
/// write key's id — never its secret) around the handler, one log event when answered, and the
/// metrics under bounded labels.
async fn observe(State(s): axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    use tracing::field::Empty;
    let route = crate::metrics::route_label(req.extensions().get::<MatchedPath>()).to_string();
    let method = crate::metrics::method_label(req.method());
    let span = tracing::info_span!("request", method = %req.method(), route = %route,
        status = Empty, latency_ms = Empty, key_id = Empty);
    let t = Instant::now();
    let res = next.run(req).instrument(span.clone()).await;
    let seconds = t.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    s.metrics.record(&route, method, status, seconds);
    span.record("status", status);
    span.record("latency_ms", seconds * 1e3);
    let _in = span.enter();
    // A 5xx is an error, a 4xx worth a line by default; a success is a debug line, so the
    // default log of a busy price feed is not one line per read.
    if res.status().is_server_error() {
        tracing::error!("answered");
    } else if res.status().is_client_error() {
        tracing::info!("answered");
    } else {
        tracing::debug!("answered");
    }
    res
}

use axum::extract::State;

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([header::LOCATION, header::RETRY_AFTER]),
    )
}

/// The router of a state (tests and `serve`).
pub fn router(state: AppState) -> Router {
    let (r, _) = crate::routes::router().split_for_parts();
    let limit = state.config.max_body_bytes;
    let cors = cors(&state.config.cors_origins);
    let r = r
        .fallback(|| async {
            Problem::new(
                axum::http::StatusCode::NOT_FOUND,
                "not-found",
                "no such route",
            )
        })
        .layer(middleware::map_response(crate::problem::problem_everywhere))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(state);
    let r = crate::security::layer(r);
    match cors {
        Some(c) => r.layer(c),
        None => r,
    }
}

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// The listen address is invalid or taken.
    #[error("listen {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The chain section is unusable (address, key, node).
    #[error("chain: {0}")]
    Chain(#[from] gaib_contracts::ContractsError),
    /// The OpenAPI document did not serialise.
    #[error("openapi: {0}")]
    OpenApi(String),
}

/// A started service.
pub struct Service {
    addr: SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    keeper: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("addr", &self.addr).finish()
    }
}

/// The OpenAPI document of the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = crate::routes::router().into_openapi();
    crate::problem::document_bad_parameters(&mut doc);
    doc
}

impl Service {
    /// Opens the database (migrations, WAL), recovers interrupted jobs, starts the workers and
    /// listens on `config.listen` (port 0: any free port; see [`Service::addr`]).
    pub async fn start(config: Config) -> Result<Self, StartError> {
        config.check()?;
        let chain = match &config.chain {
            Some(c) => Some(Arc::new(crate::chain::Chain::load(c).await?)),
            None => None,
        };
        let db = Arc::new(Db::open(&config.db)?);
        let metrics = Arc::new(Metrics::default());
        let latest = Arc::new(Latest::default());
        for row in db.latest_valuations()? {
            match serde_json::from_str(&row.record) {
                Ok(v) => latest.set(v),
                Err(e) => tracing::error!(asset = %row.asset, error = %e, "unreadable valuation"),
            }
        }
        let pool = PoolConfig {
            workers: config.workers,
            threads: config.threads,
            runs_dir: config.runs_dir(),
            valid_for_s: config.valid_for_s,
            max_jobs_per_key: config.max_jobs_per_key,
            max_paths_per_job: config.max_paths_per_job,
            path_rows_max_paths: config.path_rows_max_paths,
            guards: config.guards(),
        };
        let jobs = Arc::new(Jobs::start(
            db.clone(),
            pool,
            config.max_attempts,
            metrics.clone(),
            latest.clone(),
        )?);
        let openapi = serde_json::to_vec_pretty(&openapi())
            .map_err(|e| StartError::OpenApi(e.to_string()))?;
        let state = AppState {
            db,
            jobs,
            metrics,
            latest: latest.clone(),
            limiter: Arc::new(RateLimiter::new(
                config.rate_limit_per_minute,
                config.rate_limit_burst,
            )),
            openapi: openapi.into(),
            config: Arc::new(config.clone()),
            chain: chain.clone(),
        };
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|source| StartError::Listen {
                addr: config.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.listen.clone(),
            source,
        })?;
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        let keeper = chain.filter(|c| c.publish).map(|c| {
            tokio::spawn(crate::chain::keeper(
                state.db.clone(),
                c,
                config.runs_dir(),
                state.metrics.clone(),
                latest.changed.clone(),
            ))
        });
        tracing::info!(%addr, db = %config.db.display(), "gaib serve listening");
        Ok(Self {
            addr,
            state,
            stop: Some(tx),
            server,
            keeper,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (tests: the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Graceful shutdown: stops accepting, lets answers in flight finish, cancels and
    /// re-queues running jobs, joins the workers and closes the database.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.server).await;
        if let Some(k) = self.keeper.take() {
            k.abort();
        }
        let jobs = self.state.jobs.clone();
        let _ = tokio::task::spawn_blocking(move || jobs.shutdown()).await;
        tracing::info!("gaib serve stopped");
    }
}

/// Runs the service until SIGTERM or Ctrl-C, then shuts it down gracefully.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let service = Service::start(config).await?;
    eprintln!("gaib serve: listening on http://{}", service.addr());
    shutdown_signal().await;
    eprintln!("gaib serve: stopping");
    service.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
