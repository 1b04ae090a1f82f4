//! The HTTP routes, each documented for the OpenAPI document with utoipa (the router and the
//! document come from the same `routes!` calls, so no route is left out of it).

use crate::app::{AppState, WriteKey};
use crate::arrow_rows::ARROW_STREAM;
use crate::db::{state, Deleted, JobRow, PortfolioRow, Stored};
use crate::jobs::{self, SimulationRequest};
use crate::problem::{Problem, PROBLEM_JSON};
use crate::valuation::{Collateral, Valuation};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The OpenAPI document's frame: info, the bearer scheme, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "gaib valuation service",
        description = "Portfolios, Monte Carlo simulation jobs, published valuations and collateral parameters of gaib (docs/API.md). Reads are public; writes need a bearer API key (gaib keys create). Every error is RFC 9457 application/problem+json.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerScheme),
    components(schemas(Problem, crate::problem::FieldProblem))
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("gaib_<id>_<secret>")
                    .build(),
            ),
        );
    }
}

/// The router with every route, and its OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(dashboard))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(create_portfolio))
        .routes(routes!(get_portfolio, delete_portfolio))
        .routes(routes!(create_simulation))
        .routes(routes!(get_simulation, cancel_simulation))
        .routes(routes!(simulation_results))
        .routes(routes!(simulation_report))
        .routes(routes!(simulation_bundle))
        .routes(routes!(crate::structure_jobs::create_structure))
        .routes(routes!(
            crate::structure_jobs::get_structure,
            crate::structure_jobs::cancel_structure
        ))
        .routes(routes!(crate::structure_jobs::structure_result))
        .routes(routes!(latest_valuation))
        .routes(routes!(valuation_history))
        .routes(routes!(collateral))
        .routes(routes!(latest_report))
        .routes(routes!(
            crate::assets::register_asset,
            crate::assets::list_assets
        ))
        .routes(routes!(crate::assets::list_holds))
        .routes(routes!(crate::assets::release_hold))
        .routes(routes!(crate::tranche_keeper::tranche_publications))
}

/// `value` as a JSON response with `status` (500 problem+json if it cannot be serialised).
pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(b) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            b,
        )
            .into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

// --- health ---

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "alive", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness of the service.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ready {
    /// Whether the database answers a query.
    pub database: bool,
    /// Whether every worker thread is alive.
    pub workers: bool,
}

/// Readiness: the database is reachable and the workers are alive.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "ready", body = Ready),
        (status = 503, description = "not ready", body = Problem, content_type = PROBLEM_JSON)))]
async fn readyz(State(s): State<AppState>) -> Response {
    let r = Ready {
        database: s.db.ping(),
        workers: s.jobs.alive(),
    };
    if r.database && r.workers {
        json_response(StatusCode::OK, &r)
    } else {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            format!(
                "database reachable: {}, workers alive: {}",
                r.database, r.workers
            ),
        )
        .into_response()
    }
}

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "metrics", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 500, description = "database error", body = Problem, content_type = PROBLEM_JSON)))]
async fn metrics(State(s): State<AppState>) -> Result<Response, Problem> {
    let jobs = s.db.job_counts()?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        s.metrics.render(&jobs),
    )
        .into_response())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
async fn openapi_json(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        s.openapi.clone(),
    )
        .into_response()
}

/// The dashboard: each asset's latest NAV, haircut and LTV, NAV history, recent jobs.
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses(
        (status = 200, description = "self-contained HTML page", body = String, content_type = "text/html"),
        (status = 500, description = "database error", body = Problem, content_type = PROBLEM_JSON)))]
async fn dashboard(State(s): State<AppState>) -> Result<Response, Problem> {
    let html = crate::dashboard::render(&s)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response())
}

// --- portfolios ---

/// A stored portfolio.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PortfolioInfo {
    /// The service's id (derived from the body's SHA-256: the same body gets the same id).
    pub id: String,
    /// The portfolio's own id.
    pub portfolio_id: String,
    /// SHA-256 of the body as posted.
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Deals in the portfolio.
    pub deals: usize,
    /// The portfolio document as posted (the TOML schema, as JSON).
    #[schema(value_type = Object)]
    pub portfolio: serde_json::Value,
}

fn portfolio_info(row: &PortfolioRow, deals: usize) -> Result<PortfolioInfo, Problem> {
    Ok(PortfolioInfo {
        id: row.id.clone(),
        portfolio_id: row.portfolio_id.clone(),
        sha256: row.sha256.clone(),
        created_at: row.created_at,
        deals,
        portfolio: serde_json::from_slice(&row.body).map_err(Problem::internal)?,
    })
}

/// Stores a portfolio: a JSON document with the schema of the portfolio TOML, validated by the
/// engine's validator (deals inline: no loan-tape reference).
#[utoipa::path(post, path = "/v1/portfolios", tag = "portfolios",
    request_body(content = gaib_engine::Portfolio, content_type = "application/json", description = "portfolio document (the TOML schema as JSON; deals inline)"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "stored", body = PortfolioInfo,
            headers(("Location" = String, description = "/v1/portfolios/{id}"))),
        (status = 200, description = "the same body was stored before", body = PortfolioInfo),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "a reader key", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "the key holds max_portfolios_per_key portfolios", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, description = "body too large", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "invalid portfolio: every bad field with its path", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn create_portfolio(
    State(s): State<AppState>,
    key: WriteKey,
    body: Bytes,
) -> Result<Response, Problem> {
    let input = gaib_runs::PortfolioInput::from_json_body(&body)?;
    let sha = input.sha256().to_string();
    let id = format!("pf_{}", &sha[..24]);
    let new = PortfolioRow {
        id: id.clone(),
        portfolio_id: input.portfolio().portfolio.id.clone(),
        sha256: sha,
        body: body.to_vec(),
        created_at: crate::db::now(),
    };
    let cap = s.config.max_portfolios_per_key;
    let status = match s.db.store_portfolio(&new, &key.0.id, cap)? {
        Stored::Created => {
            tracing::info!(id = %id, portfolio = %new.portfolio_id, "portfolio stored");
            StatusCode::CREATED
        }
        Stored::Existing => StatusCode::OK,
        Stored::LimitReached => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "portfolio-limit",
                format!(
                    "key {} holds {cap} portfolios, the most allowed: delete unused ones \
                     (DELETE /v1/portfolios/{{id}})",
                    key.0.id
                ),
            ))
        }
    };
    let row =
        s.db.portfolio(&id)?
            .ok_or_else(|| Problem::internal("portfolio vanished"))?;
    let info = portfolio_info(&row, input.portfolio().deals.len())?;
    let mut r = json_response(status, &info);
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/portfolios/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// A stored portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, description = "the service's portfolio id")),
    responses(
        (status = 200, description = "the portfolio", body = PortfolioInfo),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn get_portfolio(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let row =
        s.db.portfolio(&id)?
            .ok_or_else(|| Problem::not_found("portfolio", &id))?;
    let input = gaib_runs::PortfolioInput::from_json_body(&row.body).map_err(Problem::internal)?;
    Ok(json_response(
        StatusCode::OK,
        &portfolio_info(&row, input.portfolio().deals.len())?,
    ))
}

/// Deletes this key's portfolio when no queued or running job of the key uses it (frees one
/// of its `max_portfolios_per_key`); the stored body goes once no key holds it and no job
/// refers to it.
#[utoipa::path(delete, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, description = "the service's portfolio id")),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "a reader key", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "this key stores no portfolio with this id", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "a queued or running job of the key uses it", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn delete_portfolio(
    State(s): State<AppState>,
    key: WriteKey,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    match s.db.delete_portfolio(&id, &key.0.id)? {
        Deleted::Deleted => {
            tracing::info!(id = %id, key = %key.0.id, "portfolio deleted");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Deleted::NotOwned => Err(Problem::not_found("portfolio of this key", &id)),
        Deleted::InUse => Err(Problem::new(
            StatusCode::CONFLICT,
            "portfolio-in-use",
            format!("portfolio {id} is used by a queued or running job of this key"),
        )),
    }
}

// --- simulations ---

/// Progress of a job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobProgress {
    /// Paths done over all legs.
    pub paths_done: u64,
    /// Paths over all legs (paths × legs).
    pub paths_total: u64,
    /// paths_done / paths_total.
    pub fraction: f64,
}

/// Why a job failed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobError {
    /// `input`, `internal` or `interrupted` (the server stopped while it ran, too often).
    pub class: String,
    /// What went wrong.
    pub detail: String,
}

/// Links of a job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobLinks {
    /// This status.
    #[serde(rename = "self")]
    pub self_: String,
    /// The results (when succeeded).
    pub results: String,
    /// The report page (when succeeded).
    pub report: String,
    /// The run directory as a tar archive (when succeeded).
    pub bundle: String,
}

/// A simulation job's status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobStatus {
    /// Job id.
    pub id: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// The request.
    pub request: Option<SimulationRequest>,
    /// Progress.
    pub progress: JobProgress,
    /// Times a worker started it (more than 1 after a restart).
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<JobError>,
    /// A note (e.g. that it was restarted after the server stopped).
    pub note: Option<String>,
    /// SHA-256 of the run's manifest.json (when succeeded).
    pub run_id: Option<String>,
    /// What became of the job's valuation (when it succeeded on a portfolio with a vault).
    pub publication: Option<crate::assets::JobPublication>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last start.
    pub started_at: Option<i64>,
    /// Unix seconds.
    pub finished_at: Option<i64>,
    /// Links.
    pub links: JobLinks,
}

fn status_of_job(s: &AppState, j: &JobRow) -> JobStatus {
    let done = if j.state == state::RUNNING {
        s.jobs.progress(&j.id).unwrap_or(j.paths_done as u64)
    } else {
        j.paths_done as u64
    };
    let total = j.paths_total.max(0) as u64;
    let failed = j.state == state::FAILED;
    let base = format!("/v1/simulations/{}", j.id);
    JobStatus {
        id: j.id.clone(),
        state: j.state.clone(),
        request: jobs::request_of(j),
        progress: JobProgress {
            paths_done: done,
            paths_total: total,
            fraction: if total == 0 {
                0.0
            } else {
                done as f64 / total as f64
            },
        },
        attempts: j.attempts,
        error: failed.then(|| JobError {
            class: j.error_class.clone().unwrap_or_else(|| "internal".into()),
            detail: j.error.clone().unwrap_or_default(),
        }),
        note: (!failed).then(|| j.error.clone()).flatten(),
        run_id: j.run_id.clone(),
        publication: crate::assets::publication_of_job(s, j),
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
        links: JobLinks {
            results: format!("{base}/results"),
            report: format!("{base}/report"),
            bundle: format!("{base}/bundle"),
            self_: base,
        },
    }
}

/// Queues a simulation of a stored portfolio. The job is persisted before the answer.
#[utoipa::path(post, path = "/v1/simulations", tag = "simulations",
    request_body = SimulationRequest,
    security(("api_key" = [])),
    responses(
        (status = 202, description = "queued", body = JobStatus,
            headers(("Location" = String, description = "/v1/simulations/{id}"))),
        (status = 400, description = "malformed JSON", body = Problem, content_type = PROBLEM_JSON),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, description = "body too large", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "invalid request (paths, seed range, scenario, backend, portfolio_id)", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit or job limit of the key", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn create_simulation(
    State(s): State<AppState>,
    key: WriteKey,
    body: Bytes,
) -> Result<Response, Problem> {
    let req: SimulationRequest = crate::assets::parse_body(&body)?;
    let s2 = s.clone();
    let key_id = key.0.id.clone();
    let sub = tokio::task::spawn_blocking(move || s2.jobs.submit(&key_id, req))
        .await
        .map_err(Problem::internal)??;
    let job =
        s.db.job(&sub.id)?
            .ok_or_else(|| Problem::internal("job vanished"))?;
    let mut r = json_response(StatusCode::ACCEPTED, &status_of_job(&s, &job));
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/simulations/{}", sub.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

fn job_or_404(s: &AppState, id: &str) -> Result<JobRow, Problem> {
    s.db.job(id)?
        .filter(|j| !crate::structure_jobs::is_structure(j))
        .ok_or_else(|| Problem::not_found("simulation", id))
}

/// A job's status and progress.
#[utoipa::path(get, path = "/v1/simulations/{id}", tag = "simulations",
    params(("id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "status", body = JobStatus),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn get_simulation(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let j = job_or_404(&s, &id)?;
    Ok(json_response(StatusCode::OK, &status_of_job(&s, &j)))
}

/// Cancels a job (queued: at once; running: at the next chunk of paths, through its own
/// cancellation token). Only the key that submitted it may.
#[utoipa::path(delete, path = "/v1/simulations/{id}", tag = "simulations",
    params(("id" = String, Path, description = "job id")),
    security(("api_key" = [])),
    responses(
        (status = 202, description = "cancellation requested (or done); the status follows", body = JobStatus),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "another key's job", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "already finished", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn cancel_simulation(
    State(s): State<AppState>,
    key: WriteKey,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let j = job_or_404(&s, &id)?;
    if j.key_id != key.0.id {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the key that submitted a job may cancel it",
        ));
    }
    if !s.jobs.cancel(&id)? {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "already-finished",
            format!("job {id} is {} and cannot be cancelled", j.state),
        ));
    }
    let j = job_or_404(&s, &id)?;
    Ok(json_response(StatusCode::ACCEPTED, &status_of_job(&s, &j)))
}

fn finished_run(s: &AppState, id: &str) -> Result<(JobRow, std::path::PathBuf), Problem> {
    let j = job_or_404(s, id)?;
    if j.state != state::SUCCEEDED {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not-finished",
            format!(
                "job {id} is {}: results exist once it has succeeded",
                j.state
            ),
        ));
    }
    let dir = s.jobs.run_dir(id);
    if !jobs::has_run(&dir) {
        return Err(Problem::internal(format!(
            "run directory {} of job {id} is missing",
            dir.display()
        )));
    }
    Ok((j, dir))
}

fn wants_arrow(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with(ARROW_STREAM)))
}

async fn read_file(p: std::path::PathBuf) -> Result<Vec<u8>, Problem> {
    tokio::task::spawn_blocking(move || std::fs::read(&p).map_err(|e| (p, e)))
        .await
        .map_err(Problem::internal)?
        .map_err(|(p, e)| Problem::internal(format!("{}: {e}", p.display())))
}

/// The typed results: `results.json` of the run, byte for byte what `gaib run` writes for the
/// same inputs; or, with `Accept: application/vnd.apache.arrow.stream`, the per-path rows as
/// an Arrow IPC stream (the columns of `gaib run --paths-out`).
#[utoipa::path(get, path = "/v1/simulations/{id}/results", tag = "simulations",
    params(("id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "results.json (gaib-runs Results, schema_version); with `Accept: application/vnd.apache.arrow.stream`, the per-path rows",
            content((Object = "application/json"), (String = "application/vnd.apache.arrow.stream"))),
        (status = 404, description = "unknown id, or no per-path rows kept for this job", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "not finished", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn simulation_results(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (j, dir) = finished_run(&s, &id)?;
    if wants_arrow(&headers) {
        let f = s.jobs.rows_file(&id);
        if !jobs::keeps_rows(&j) || !f.is_file() {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "no-path-rows",
                format!("job {id} kept no per-path rows (submit it with \"path_rows\": true)"),
            ));
        }
        let b = read_file(f).await?;
        return Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static(ARROW_STREAM))],
            b,
        )
            .into_response());
    }
    let b = read_file(dir.join(gaib_runs::RESULTS)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        b,
    )
        .into_response())
}

/// The run's report page (report.html).
#[utoipa::path(get, path = "/v1/simulations/{id}/report", tag = "simulations",
    params(("id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "report.html", body = String, content_type = "text/html"),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "not finished", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn simulation_report(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (_, dir) = finished_run(&s, &id)?;
    // The page the run wrote (hashed in its manifest), not a re-render per request.
    let html = read_file(dir.join(gaib_runs::REPORT)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response())
}

/// The run directory (manifest, inputs, results, report) as one tar archive whose single
/// top-level directory `gaib reproduce` accepts after extraction.
#[utoipa::path(get, path = "/v1/simulations/{id}/bundle", tag = "simulations",
    params(("id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "tar archive of the run directory <id>/", content_type = "application/x-tar"),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "not finished", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn simulation_bundle(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (_, dir) = finished_run(&s, &id)?;
    let name = id.clone();
    let tar = tokio::task::spawn_blocking(move || crate::bundle::tar_dir(&dir, &name))
        .await
        .map_err(Problem::internal)?
        .map_err(Problem::internal)?;
    let disposition = format!("attachment; filename=\"{id}.tar\"");
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-tar"),
        )],
        tar,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

// --- valuations ---

/// The latest published valuation of an asset (a vault id, e.g. `sAID`).
#[utoipa::path(get, path = "/v1/valuations/{asset}", tag = "valuations",
    params(("asset" = String, Path, description = "the vault id")),
    responses(
        (status = 200, description = "latest valuation", body = Valuation),
        (status = 404, description = "no valuation of this asset", body = Problem, content_type = PROBLEM_JSON)))]
async fn latest_valuation(
    State(s): State<AppState>,
    Path(asset): Path<String>,
) -> Result<Response, Problem> {
    let v = s
        .latest
        .valuation(&asset)
        .ok_or_else(|| Problem::not_found("valuation of asset", &asset))?;
    Ok(json_response(StatusCode::OK, &*v))
}

/// Range of a history query, unix seconds (inclusive).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Earliest observed_at (default: 0).
    pub from: Option<i64>,
    /// Latest observed_at (default: now and beyond).
    pub to: Option<i64>,
    /// Most rows (default and maximum 1000).
    pub limit: Option<usize>,
}

/// The valuations of an asset over time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct History {
    /// The asset.
    pub asset: String,
    /// Oldest first.
    pub valuations: Vec<Valuation>,
}

/// Every published valuation of an asset observed in `from ..= to`, oldest first.
#[utoipa::path(get, path = "/v1/valuations/{asset}/history", tag = "valuations",
    params(("asset" = String, Path, description = "the vault id"), HistoryQuery),
    responses(
        (status = 200, description = "history", body = History),
        (status = 400, description = "bad query (not a number, out of range)", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "from is after to", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "no valuation of this asset", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn valuation_history(
    State(s): State<AppState>,
    Path(asset): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, Problem> {
    if s.latest.valuation(&asset).is_none() {
        return Err(Problem::not_found("valuation of asset", &asset));
    }
    let (from, to) = (q.from.unwrap_or(0), q.to.unwrap_or(i64::MAX));
    if from > to {
        return Err(Problem::invalid_field(
            "from",
            from.to_string(),
            format!("after to = {to}"),
        ));
    }
    let rows =
        s.db.valuation_history(&asset, from, to, q.limit.unwrap_or(1000).clamp(1, 1000))?;
    let valuations = rows
        .iter()
        .map(|r| serde_json::from_str(&r.record).map_err(Problem::internal))
        .collect::<Result<Vec<Valuation>, _>>()?;
    Ok(json_response(
        StatusCode::OK,
        &History { asset, valuations },
    ))
}

/// What a lending protocol reads: price, haircut, LTV and validity of an asset.
#[utoipa::path(get, path = "/v1/collateral/{asset}", tag = "valuations",
    params(("asset" = String, Path, description = "the vault id")),
    responses(
        (status = 200, description = "collateral parameters", body = Collateral),
        (status = 404, description = "no valuation of this asset", body = Problem, content_type = PROBLEM_JSON)))]
async fn collateral(State(s): State<AppState>, Path(asset): Path<String>) -> Response {
    match s.latest.collateral_json(&asset) {
        Some(b) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            b,
        )
            .into_response(),
        None => Problem::not_found("valuation of asset", &asset).into_response(),
    }
}

/// The EIP-712 ValuationReport of an asset's latest valuation, its digest and signature(s),
/// ready to submit to the ValuationOracle (needs the `[chain]` section).
#[utoipa::path(get, path = "/v1/reports/{asset}/latest", tag = "valuations",
    params(("asset" = String, Path, description = "the vault id")),
    responses(
        (status = 200, description = "signed report", body = crate::chain::ReportAnswer),
        (status = 404, description = "no valuation of this asset, or no [chain] section configured", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "the valuation cannot be reported (e.g. a zero NAV)", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
async fn latest_report(
    State(s): State<AppState>,
    Path(asset): Path<String>,
) -> Result<Response, Problem> {
    let Some(chain) = s.chain.clone() else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "no-reports",
            "this service signs no reports: it has no [chain] section in its configuration",
        ));
    };
    let runs = s.config.runs_dir();
    let db = s.db.clone();
    let answer = tokio::task::spawn_blocking(move || {
        crate::chain::latest_report(&db, &chain, &runs, &asset)
    })
    .await
    .map_err(Problem::internal)??;
    Ok(json_response(StatusCode::OK, &answer))
}
