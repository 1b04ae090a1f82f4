//! Who may publish an asset's price, and the valuations the publish guards held.
//!
//! An asset (a vault id, e.g. `sAID`) is registered once, by an `admin` key, to the key that
//! owns it (`POST /v1/assets`); only jobs of that key publish its valuations, and only when
//! they pass the guards of [`crate::valuation::hold_of`]. A valuation that does not is stored
//! held with its reason (`GET /v1/holds`, the dashboard, the job's status) and is never served
//! by `/v1/valuations`, `/v1/collateral`, the reports or the keeper until an admin key releases
//! it (`POST /v1/holds/{seq}/release`).

use crate::app::{AdminKey, AppState};
use crate::auth::Role;
use crate::db::{AssetRow, HoldRow, JobRow, Released};
use crate::problem::{Problem, PROBLEM_JSON};
use crate::valuation::Valuation;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Parses a JSON request body: 400 for malformed JSON, 422 for JSON of the wrong shape.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        let kind = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        Problem::new(kind, "invalid-request", format!("request body: {e}"))
    })
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, Problem> {
    let b = serde_json::to_vec(value).map_err(Problem::internal)?;
    Ok((
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        b,
    )
        .into_response())
}

/// `POST /v1/assets`: an asset and the key that owns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetRegistration {
    /// The asset: a vault id (1 to 64 letters, digits, `-`, `_`, `.`).
    pub asset: String,
    /// The public id of the owning key (the `<id>` of `gaib_<id>_<secret>`; a writer or admin
    /// key).
    pub owner_key_id: String,
}

/// A registered asset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    /// The asset.
    pub asset: String,
    /// The public id of the key whose jobs publish it.
    pub owner_key_id: String,
    /// The admin key that registered it.
    pub registered_by: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<AssetRow> for Asset {
    fn from(r: AssetRow) -> Self {
        Self {
            asset: r.asset,
            owner_key_id: r.owner_key_id,
            registered_by: r.registered_by,
            created_at: r.created_at,
        }
    }
}

/// Every registered asset.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Assets {
    /// By name.
    pub assets: Vec<Asset>,
}

/// A valuation a publish guard held.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Hold {
    /// The valuation's sequence number (the id to release).
    pub seq: i64,
    /// The asset.
    pub asset: String,
    /// The job that computed it.
    pub job_id: String,
    /// `unregistered`, `not-owner`, `too-few-paths` or `price-move`.
    pub reason: String,
    /// The explanation, with the values.
    pub detail: String,
    /// Unix seconds.
    pub held_at: i64,
    /// The admin key that released it.
    pub released_by: Option<String>,
    /// Unix seconds of the release.
    pub released_at: Option<i64>,
    /// The valuation.
    pub valuation: Valuation,
}

impl TryFrom<HoldRow> for Hold {
    type Error = Problem;

    fn try_from(h: HoldRow) -> Result<Self, Problem> {
        Ok(Self {
            valuation: serde_json::from_str(&h.valuation.record).map_err(Problem::internal)?,
            seq: h.valuation.seq,
            asset: h.valuation.asset,
            job_id: h.valuation.job_id,
            reason: h.reason,
            detail: h.detail,
            held_at: h.held_at,
            released_by: h.released_by,
            released_at: h.released_at,
        })
    }
}

/// The held valuations not yet released.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Holds {
    /// Oldest first.
    pub holds: Vec<Hold>,
}

/// What became of a job's valuation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobPublication {
    /// The asset.
    pub asset: String,
    /// The valuation's sequence number.
    pub seq: i64,
    /// `published`, `held` or `released` (held, then published by an admin key).
    pub status: String,
    /// Why it was held.
    pub reason: Option<String>,
    /// The explanation.
    pub detail: Option<String>,
}

/// The publication of a succeeded job's valuation, if it has one.
pub(crate) fn publication_of_job(s: &AppState, j: &JobRow) -> Option<JobPublication> {
    if j.state != crate::db::state::SUCCEEDED {
        return None;
    }
    let (seq, asset, hold) = match s.db.job_valuation(&j.id) {
        Ok(found) => found?,
        Err(e) => {
            tracing::error!(job = %j.id, error = %e, "reading the job's valuation");
            return None;
        }
    };
    let status = match &hold {
        None => "published",
        Some(h) if h.released_at.is_some() => "released",
        Some(_) => "held",
    };
    Some(JobPublication {
        asset,
        seq,
        status: status.into(),
        reason: hold.as_ref().map(|h| h.reason.clone()),
        detail: hold.map(|h| h.detail),
    })
}

fn valid_asset(a: &str) -> bool {
    (1..=64).contains(&a.len())
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Registers an asset to the key whose jobs publish it (once; admin keys only).
#[utoipa::path(post, path = "/v1/assets", tag = "assets",
    request_body = AssetRegistration,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "registered", body = Asset),
        (status = 400, description = "malformed JSON", body = Problem, content_type = PROBLEM_JSON),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "not an admin key", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "the asset is registered already", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, description = "body too large", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "invalid asset or owner_key_id", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn register_asset(
    State(s): State<AppState>,
    admin: AdminKey,
    body: Bytes,
) -> Result<Response, Problem> {
    let req: AssetRegistration = parse_body(&body)?;
    if !valid_asset(&req.asset) {
        return Err(Problem::invalid_field(
            "asset",
            &req.asset,
            "1 to 64 letters, digits, '-', '_' or '.' (a vault id, e.g. sAID)",
        ));
    }
    let owner = s.db.key(&req.owner_key_id)?.ok_or_else(|| {
        Problem::invalid_field(
            "owner_key_id",
            &req.owner_key_id,
            "no such key (or it is revoked)",
        )
    })?;
    if owner.role.parse::<Role>().map_err(Problem::internal)? == Role::Reader {
        return Err(Problem::invalid_field(
            "owner_key_id",
            &req.owner_key_id,
            "a reader key cannot own an asset: its jobs could not run",
        ));
    }
    let row = AssetRow {
        asset: req.asset.clone(),
        owner_key_id: req.owner_key_id.clone(),
        registered_by: admin.0.id.clone(),
        created_at: crate::db::now(),
    };
    if !s.db.register_asset(&row)? {
        let owner =
            s.db.assets()?
                .into_iter()
                .find(|a| a.asset == req.asset)
                .map_or_else(String::new, |a| a.owner_key_id);
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "asset-registered",
            format!(
                "asset {} is registered already, to key {owner}: an asset is registered once",
                req.asset
            ),
        ));
    }
    tracing::info!(asset = %row.asset, owner = %row.owner_key_id, by = %row.registered_by,
        "asset registered");
    json(StatusCode::CREATED, &Asset::from(row))
}

/// Every registered asset and its owning key.
#[utoipa::path(get, path = "/v1/assets", tag = "assets",
    responses(
        (status = 200, description = "registered assets", body = Assets),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn list_assets(State(s): State<AppState>) -> Result<Response, Problem> {
    let assets = s.db.assets()?.into_iter().map(Asset::from).collect();
    json(StatusCode::OK, &Assets { assets })
}

/// The valuations a publish guard held that are not released, oldest first (at most 1000).
#[utoipa::path(get, path = "/v1/holds", tag = "assets",
    responses(
        (status = 200, description = "held valuations", body = Holds),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn list_holds(State(s): State<AppState>) -> Result<Response, Problem> {
    let holds =
        s.db.open_holds(1000)?
            .into_iter()
            .map(Hold::try_from)
            .collect::<Result<Vec<_>, _>>()?;
    json(StatusCode::OK, &Holds { holds })
}

/// Publishes a held valuation (admin keys only), unless a newer valuation of its asset is
/// published already.
#[utoipa::path(post, path = "/v1/holds/{seq}/release", tag = "assets",
    params(("seq" = i64, Path, description = "the held valuation's sequence number")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "released: now the asset's published valuation", body = Valuation),
        (status = 400, description = "seq is not an integer", body = Problem, content_type = PROBLEM_JSON),
        (status = 401, description = "no or bad API key", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "not an admin key", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "no open hold with this seq", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "a newer valuation of the asset is published", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, description = "rate limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub(crate) async fn release_hold(
    State(s): State<AppState>,
    admin: AdminKey,
    Path(seq): Path<i64>,
) -> Result<Response, Problem> {
    let row = match s.db.release_hold(seq, &admin.0.id)? {
        Released::Released(row) => row,
        Released::NotHeld => return Err(Problem::not_found("open hold", &seq.to_string())),
        Released::Superseded(newer) => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "superseded",
                format!("valuation {newer} of the asset is published and newer than {seq}"),
            ));
        }
    };
    tracing::warn!(seq, asset = %row.asset, by = %admin.0.id, "held valuation released");
    // The database's latest published valuation, so a newer one published meanwhile wins.
    if let Some(latest) = s.db.latest_valuation(&row.asset)? {
        let v: Valuation = serde_json::from_str(&latest.record).map_err(Problem::internal)?;
        s.latest.set(v);
    }
    let v: Valuation = serde_json::from_str(&row.record).map_err(Problem::internal)?;
    json(StatusCode::OK, &v)
}
