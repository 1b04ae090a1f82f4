//! RFC 9457 problem details: every error the service answers is `application/problem+json`,
//! with the field path where there is one. [`status_of`] is the one place an
//! [`ErrorClass`] becomes an HTTP status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gaib_engine::EngineError;
use gaib_runs::{ErrorClass, RunError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// Field path, e.g. `deals["L-07"].principal`, `pools["P1"].tranches[2].balance`, or the
    /// request field (`paths`, `seed`, `scenarios[0]`).
    pub path: String,
    /// The offending value as written (or as understood).
    pub value: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type, e.g. `/problems/invalid-portfolio`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Every invalid field, when the problem is about fields of the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait before retrying (429 answers; also in the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl Problem {
    /// A problem of type `/problems/<kind>`.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: format!("/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_s: None,
        }
    }

    /// 404: no such resource.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no {what} with id '{id}'"),
        )
    }

    /// 400 / 422 for a bad request field.
    pub fn invalid_field(
        path: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let e = FieldProblem {
            path: path.into(),
            value: value.into(),
            reason: reason.into(),
        };
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            format!("invalid {} = {}: {}", e.path, e.value, e.reason),
        );
        p.errors.push(e);
        p
    }

    /// 500: not the caller's fault. The detail is logged, the answer says only that.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error (logged on the server)",
        )
    }

    /// 429 with a Retry-After.
    pub fn too_many(kind: &str, detail: impl Into<String>, retry_after_s: u64) -> Self {
        let mut p = Self::new(StatusCode::TOO_MANY_REQUESTS, kind, detail);
        p.retry_after_s = Some(retry_after_s.max(1));
        p
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The HTTP status of an error class: the one mapping of the service.
/// Input → 422 (the request was well-formed but its content is invalid), Mismatch → 409,
/// Cancelled → 409 (the job was cancelled), Internal → 500.
pub fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::Input => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::Mismatch | ErrorClass::Cancelled => StatusCode::CONFLICT,
        ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The problem type name of an error class.
fn kind_of(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Input => "invalid-input",
        ErrorClass::Mismatch => "mismatch",
        ErrorClass::Cancelled => "cancelled",
        ErrorClass::Internal => "internal",
    }
}

/// The field problems of a run error: every invalid portfolio field, or the run argument.
pub fn field_problems(e: &RunError) -> Vec<FieldProblem> {
    match e {
        RunError::Engine(EngineError::Invalid { errors }) => errors
            .iter()
            .map(|f| FieldProblem {
                path: f.path.clone(),
                value: f.value.clone(),
                reason: f.reason.clone(),
            })
            .collect(),
        RunError::Argument {
            name,
            value,
            reason,
        } => vec![FieldProblem {
            path: name.to_string(),
            value: value.clone(),
            reason: reason.clone(),
        }],
        _ => Vec::new(),
    }
}

impl From<RunError> for Problem {
    fn from(e: RunError) -> Self {
        let class = e.class();
        if class == ErrorClass::Internal {
            return Problem::internal(&e);
        }
        let kind = match &e {
            RunError::Engine(EngineError::Invalid { .. } | EngineError::Parse { .. }) => {
                "invalid-portfolio"
            }
            _ => kind_of(class),
        };
        let mut p = Problem::new(status_of(class), kind, e.to_string());
        p.errors = field_problems(&e);
        p
    }
}

impl From<rusqlite::Error> for Problem {
    fn from(e: rusqlite::Error) -> Self {
        Problem::internal(format!("database: {e}"))
    }
}

impl From<crate::db::DbError> for Problem {
    fn from(e: crate::db::DbError) -> Self {
        Problem::internal(e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry = self.retry_after_s;
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut r = (status, body).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(s) = retry {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

/// Middleware body: turns every error answer that is not already problem+json (axum's
/// extractor rejections, the router's 404 and 405, the body limit's 413) into one, keeping its
/// status and its text as the detail.
pub(crate) async fn problem_everywhere(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let kind = match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid-request",
        _ if status.is_server_error() => "internal",
        _ => "error",
    };
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut out = Problem::new(status, kind, detail).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// Documents, on every operation of `doc` that has path or query parameters, the 400 problem
/// answered when they cannot be decoded (bad percent-encoding, not a number, out of range):
/// axum's extractor rejections, which the `problem_everywhere` middleware turns into problem+json.
pub fn document_bad_parameters(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            if op.parameters.as_ref().is_none_or(Vec::is_empty) {
                continue;
            }
            op.responses
                .responses
                .entry("400".to_string())
                .or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(
                            "a path or query parameter cannot be decoded (bad percent-encoding, \
                             not a number, out of range)",
                        )
                        .content(
                            PROBLEM_JSON,
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build()
                        .into()
                });
        }
    }
}
