//! Structure jobs: tranche sizing to target PDs/ELs and break-even stresses
//! ([`gaib_runs::StructureRequest`], the code behind `gaib structure`) of a finished
//! simulation's run, as persisted jobs on the same worker pool.
//!
//! `POST /v1/simulations/{id}/structures` checks the request against the run at submit
//! ([`gaib_runs::StructureRequest::check`]: a bad target, bound, EL level or pool is a 422
//! naming the field and value) and stores a job whose request is a [`StoredStructure`]; a
//! worker computes it through the run layer ([`gaib_runs::RunDir::structure`]) and writes
//! `structure.json` — `gaib structure DIR --format json` for the same run, byte for byte —
//! into the job's own directory, leaving the simulation's run directory (and its id)
//! untouched. `GET /v1/structures/{id}` answers the status (`DELETE` cancels it),
//! `GET /v1/structures/{id}/result` the document.

use crate::app::{AppState, WriteKey};
use crate::db::{state, JobRow};
use crate::problem::{Problem, PROBLEM_JSON};
use crate::routes::json_response;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gaib_runs::{CancelToken, RunDir, RunError, StructureRequest, TargetMetric, TrancheTarget};
use serde::{Deserialize, Serialize};
use std::path::Path as FsPath;
use utoipa::ToSchema;

/// PD or EL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Probability of a default event by the horizon (write-down, or the senior's interest
    /// default), %.
    Pd,
    /// Expected loss, % of the tranche's balance.
    El,
}

/// One tranche's target: `metric` at most `max_pct` percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// `POOL/TRANCHE` (or a tranche id unique over the portfolio's pools).
    pub tranche: String,
    /// What the bound bounds.
    pub metric: Metric,
    /// The bound, percent, strictly between 0 and 100.
    pub max_pct: f64,
}

/// `POST /v1/simulations/{id}/structures`: what to compute on the simulation's paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StructureJobRequest {
    /// Targets of tranches of one pool, sized from the senior down (the equity takes the
    /// rest); may be empty when `breakeven_pool` is given.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// Also the break-even stresses of this pool (id).
    #[serde(default)]
    pub breakeven_pool: Option<String>,
    /// The EL level of the Monte Carlo break-evens, % of a tranche's balance (default 1).
    #[serde(default)]
    pub el_level_pct: Option<f64>,
}

impl StructureJobRequest {
    /// The run layer's request.
    pub fn to_runs(&self) -> StructureRequest {
        StructureRequest::new(
            self.targets
                .iter()
                .map(|t| TrancheTarget {
                    tranche: t.tranche.clone(),
                    metric: match t.metric {
                        Metric::Pd => TargetMetric::Pd,
                        Metric::El => TargetMetric::El,
                    },
                    max_pct: t.max_pct,
                })
                .collect(),
            self.breakeven_pool.clone(),
            self.el_level_pct.unwrap_or(gaib_runs::DEFAULT_EL_LEVEL_PCT),
        )
    }
}

/// A structure job's request as stored in the jobs table (its `request` column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredStructure {
    /// The simulation job whose run it reads.
    pub simulation: String,
    /// The request.
    pub structure: StructureJobRequest,
}

impl StoredStructure {
    /// The stored structure request of `job`, or None when it is a simulation job.
    pub fn of(job: &JobRow) -> Option<Self> {
        serde_json::from_str(&job.request).ok()
    }
}

/// Whether `job` is a structure job.
pub fn is_structure(job: &JobRow) -> bool {
    StoredStructure::of(job).is_some()
}

/// The run a structure job reads: the finished simulation `id`'s run directory, opened (its
/// inputs checked against its manifest).
fn source_run(s: &AppState, id: &str) -> Result<(JobRow, RunDir), Problem> {
    let j =
        s.db.job(id)?
            .filter(|j| !is_structure(j))
            .ok_or_else(|| Problem::not_found("simulation", id))?;
    if j.state != state::SUCCEEDED {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not-finished",
            format!(
                "simulation {id} is {}: a structure reads a succeeded simulation's paths",
                j.state
            ),
        ));
    }
    let dir = RunDir::open(&s.jobs.run_dir(id)).map_err(Problem::internal)?;
    Ok((j, dir))
}

/// Computes structure job `job` (request `st`) in the worker: writes `structure.json` into
/// `out` (the job's directory) and returns the read run's id (its manifest's SHA-256).
/// Cancellation is checked before and after the computation (it has no chunks to stop at).
pub(crate) fn compute(
    runs_dir: &FsPath,
    st: &StoredStructure,
    out: &FsPath,
    cancel: &CancelToken,
) -> Result<String, RunError> {
    if cancel.is_cancelled() {
        return Err(RunError::Cancelled);
    }
    let run = RunDir::open(&runs_dir.join(&st.simulation))?;
    let doc = run.structure(&st.structure.to_runs())?;
    if cancel.is_cancelled() {
        return Err(RunError::Cancelled);
    }
    std::fs::create_dir_all(out).map_err(|e| RunError::Io {
        path: out.display().to_string(),
        source: e,
    })?;
    gaib_runs::write_atomic(&out.join(gaib_runs::STRUCTURE), &doc.to_json_bytes()?)?;
    Ok(gaib_runs::sha256_hex(&run.manifest_bytes))
}

/// Links of a structure job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StructureLinks {
    /// This status.
    #[serde(rename = "self")]
    pub self_: String,
    /// The result (structure.json) once succeeded.
    pub result: String,
    /// The simulation whose run it reads.
    pub simulation: String,
}

/// A structure job's status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StructureJobStatus {
    /// Job id.
    pub id: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// The simulation job whose run it reads.
    pub simulation: String,
    /// The request.
    pub request: StructureJobRequest,
    /// Times a worker started it.
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<crate::routes::JobError>,
    /// SHA-256 of the read run's manifest.json (when succeeded).
    pub run_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last start.
    pub started_at: Option<i64>,
    /// Unix seconds.
    pub finished_at: Option<i64>,
    /// Links.
    pub links: StructureLinks,
}

fn status_of(j: &JobRow, st: StoredStructure) -> StructureJobStatus {
    let base = format!("/v1/structures/{}", j.id);
    StructureJobStatus {
        id: j.id.clone(),
        state: j.state.clone(),
        error: (j.state == state::FAILED).then(|| crate::routes::JobError {
            class: j.error_class.clone().unwrap_or_else(|| "internal".into()),
            detail: j.error.clone().unwrap_or_default(),
        }),
        attempts: j.attempts,
        run_id: j.run_id.clone(),
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
        links: StructureLinks {
            result: format!("{base}/result"),
            simulation: format!("/v1/simulations/{}", st.simulation),
            self_: base,
        },
        simulation: st.simulation,
        request: st.structure,
    }
}

/// Queues a structure analysis of a succeeded simulation's run: tranche sizing to target
/// PDs/ELs (from the senior down; one simulation of the paths, the pool waterfall re-run per
/// trial) and/or a pool's break-even stresses, as `gaib structure` computes them.
#[utoipa::path(post, path = "/v1/simulations/{id}/structures", tag = "structures",
    params(("id" = String, Path, description = "the simulation job whose run to read")),
    request_body = StructureJobRequest,
    security(("api_key" = [])),
    responses(
        (status = 202, description = "queued", body = StructureJobStatus,
            headers(("Location" = String, description = "/v1/structures/{id}"))),
        (status = 400, description = "malformed JSON", body = Problem, content_type = PROBLEM_JSON),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "unknown simulation", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "the simulation has not succeeded", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, description = "body too large", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "invalid request (a target's tranche or bound, el_level_pct, breakeven_pool), naming the field and value", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit or job limit of the key", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn create_structure(
    State(s): State<AppState>,
    key: WriteKey,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let req: StructureJobRequest = crate::assets::parse_body(&body)?;
    let s2 = s.clone();
    let key_id = key.0.id.clone();
    let job = tokio::task::spawn_blocking(move || -> Result<JobRow, Problem> {
        let (sim, run) = source_run(&s2, &id)?;
        req.to_runs().check(&run.spec)?;
        let stored = StoredStructure {
            simulation: id,
            structure: req,
        };
        let job_id = s2.jobs.submit_structure(&key_id, &sim, &stored)?;
        s2.db
            .job(&job_id)?
            .ok_or_else(|| Problem::internal("job vanished"))
    })
    .await
    .map_err(Problem::internal)??;
    let st = StoredStructure::of(&job).ok_or_else(|| Problem::internal("not a structure job"))?;
    let mut r = json_response(StatusCode::ACCEPTED, &status_of(&job, st));
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/structures/{}", job.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

fn structure_job(s: &AppState, id: &str) -> Result<(JobRow, StoredStructure), Problem> {
    s.db.job(id)?
        .and_then(|j| StoredStructure::of(&j).map(|st| (j, st)))
        .ok_or_else(|| Problem::not_found("structure", id))
}

/// A structure job's status.
#[utoipa::path(get, path = "/v1/structures/{id}", tag = "structures",
    params(("id" = String, Path, description = "structure job id")),
    responses(
        (status = 200, description = "status", body = StructureJobStatus),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn get_structure(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (j, st) = structure_job(&s, &id)?;
    Ok(json_response(StatusCode::OK, &status_of(&j, st)))
}

/// Cancels a structure job (the submitting key only): a queued one at once; a running one is
/// marked cancelled when its computation returns (it has no chunks to stop at).
#[utoipa::path(delete, path = "/v1/structures/{id}", tag = "structures",
    params(("id" = String, Path, description = "structure job id")),
    security(("api_key" = [])),
    responses(
        (status = 202, description = "cancellation requested (or done); the status follows", body = StructureJobStatus),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "another key's job", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "already finished", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn cancel_structure(
    State(s): State<AppState>,
    key: WriteKey,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (j, _) = structure_job(&s, &id)?;
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
            format!("structure job {id} is {} and cannot be cancelled", j.state),
        ));
    }
    let (j, st) = structure_job(&s, &id)?;
    Ok(json_response(StatusCode::ACCEPTED, &status_of(&j, st)))
}

/// A succeeded structure job's result: `structure.json` (gaib-runs StructureFile,
/// `schema_version`; the request, the run it read, the sized tranches with PD/EL/price ± se
/// and attachment 95 % intervals, the break-evens), byte for byte what `gaib structure DIR
/// --format json` prints for the simulation's run directory.
#[utoipa::path(get, path = "/v1/structures/{id}/result", tag = "structures",
    params(("id" = String, Path, description = "structure job id")),
    responses(
        (status = 200, description = "structure.json", content((Object = "application/json"))),
        (status = 404, description = "unknown id", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "not finished", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn structure_result(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (j, _) = structure_job(&s, &id)?;
    if j.state != state::SUCCEEDED {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not-finished",
            format!(
                "structure job {id} is {}: its result exists once it has succeeded",
                j.state
            ),
        ));
    }
    let p = s.jobs.run_dir(&id).join(gaib_runs::STRUCTURE);
    let b = tokio::task::spawn_blocking(move || std::fs::read(&p).map_err(|e| (p, e)))
        .await
        .map_err(Problem::internal)?
        .map_err(|(p, e)| Problem::internal(format!("{}: {e}", p.display())))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        b,
    )
        .into_response())
}
