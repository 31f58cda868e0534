//! The one place where errors become HTTP: every error leaves as
//! `{"error": {"code", "message", "details"}}` with a stable code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use fingertip_core::db::Unavailable;
use fingertip_core::db::health::RETRY_AFTER_SECS;
use fingertip_core::{CoreError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: validation_failed, unauthorized, forbidden, not_found,
    /// conflict, payload_too_large, rate_limited, upstream_unavailable, unavailable, internal.
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDetail {
    pub field: String,
    pub message: String,
}

impl From<FieldError> for FieldDetail {
    fn from(f: FieldError) -> Self {
        Self {
            field: f.field,
            message: f.message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("no such route")]
    NoRoute,
    /// Refused at once: the database is known to be down (see `db_gate`).
    #[error("the database is not answering")]
    DatabaseDown,
}

/// Put on an error response whose cause was the database's unavailability, so that the gate
/// (`crate::db_gate`) can tell the shared health state.
#[derive(Debug, Clone, Copy)]
pub struct DbUnavailable(pub Unavailable);

const DB_DOWN_MESSAGE: &str =
    "the service's database is not answering right now; try again shortly";
const DB_SLOW_MESSAGE: &str = "the database took too long to answer; try again shortly";

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The stable code this error is answered with.
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    fn parts(
        &self,
    ) -> (
        StatusCode,
        &'static str,
        String,
        Vec<FieldDetail>,
        Option<u64>,
    ) {
        use CoreError as C;
        match self {
            ApiError::Core(e) => match e {
                C::Validation { message, details } => (
                    StatusCode::BAD_REQUEST,
                    "validation_failed",
                    message.clone(),
                    details.iter().cloned().map(Into::into).collect(),
                    None,
                ),
                C::Unauthorized(m) => (
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    m.clone(),
                    vec![],
                    None,
                ),
                C::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone(), vec![], None),
                C::NotFound(what) => (
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("{what} not found"),
                    vec![],
                    None,
                ),
                C::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone(), vec![], None),
                C::RateLimited {
                    message,
                    retry_after_secs,
                } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    message.clone(),
                    vec![],
                    Some(*retry_after_secs),
                ),
                C::Upstream {
                    message,
                    unavailable,
                } => (
                    if *unavailable {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::BAD_GATEWAY
                    },
                    "upstream_unavailable",
                    message.clone(),
                    vec![],
                    None,
                ),
                C::Database(err) if fingertip_core::db::classify(err).is_some() => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    match fingertip_core::db::classify(err) {
                        Some(Unavailable::Slow) => DB_SLOW_MESSAGE.into(),
                        _ => DB_DOWN_MESSAGE.into(),
                    },
                    vec![],
                    Some(RETRY_AFTER_SECS),
                ),
                C::Database(err) if fingertip_core::error::is_unique_violation(err) => (
                    StatusCode::CONFLICT,
                    "conflict",
                    "this conflicts with an existing record".into(),
                    vec![],
                    None,
                ),
                C::Database(_) | C::Queue(_) | C::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged".into(),
                    vec![],
                    None,
                ),
            },
            ApiError::PayloadTooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                m.clone(),
                vec![],
                None,
            ),
            ApiError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                m.clone(),
                vec![FieldDetail {
                    field: "body".into(),
                    message: m.clone(),
                }],
                None,
            ),
            ApiError::NoRoute => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route".into(),
                vec![],
                None,
            ),
            ApiError::DatabaseDown => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                DB_DOWN_MESSAGE.into(),
                vec![],
                Some(RETRY_AFTER_SECS),
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, message, details, retry) = self.parts();
        let unavailable = match self {
            ApiError::Core(e) => e.unavailable(),
            _ => None,
        };
        match unavailable {
            // An outage is logged once by the health state, not once per request.
            Some(Unavailable::Outage) => {}
            Some(Unavailable::Slow) => {
                tracing::warn!(error = %self, "request failed: the database was too slow");
            }
            None if status.is_server_error() && !matches!(self, ApiError::DatabaseDown) => {
                tracing::error!(error = %self, "request failed");
            }
            None => {}
        }
        let mut resp = HttpResponse::build(status);
        if let Some(secs) = retry {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        let mut resp = resp.json(ErrorBody {
            error: ErrorDetail {
                code,
                message,
                details,
            },
        });
        if let Some(kind) = unavailable {
            resp.extensions_mut().insert(DbUnavailable(kind));
        }
        resp
    }
}

/// Rewrites actix's JSON body errors into the envelope.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::Overflow { limit } | J::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge(format!("the request body is larger than {limit} bytes"))
        }
        J::ContentType => {
            ApiError::BadRequest("the body must be JSON (Content-Type: application/json)".into())
        }
        J::Deserialize(e) => ApiError::BadRequest(format!("the JSON body is not valid: {e}")),
        other => ApiError::BadRequest(format!("could not read the body: {other}")),
    };
    e.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let m = err.to_string();
    ApiError::Core(CoreError::Validation {
        message: format!("the query string is not valid: {m}"),
        details: vec![FieldError::new("query", m)],
    })
    .into()
}

pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::Core(CoreError::NotFound("resource")).into()
}

/// Rewrites an error response that is not already JSON (actix's own, e.g. a `web::Bytes` body
/// over the limit) into the envelope, with the code of its status.
pub fn ensure_envelope<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    // JSON errors are already in the envelope; a page's error is a page (crate::pages).
    let done = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if done {
        return Ok(actix_web::middleware::ErrorHandlerResponse::Response(
            res.map_into_left_body(),
        ));
    }
    let status = res.status();
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "authentication is required"),
        StatusCode::FORBIDDEN => ("forbidden", "this is not allowed"),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ("not_found", "no such route"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
        s if s.is_server_error() => ("internal", "something went wrong on our side"),
        _ => ("validation_failed", "the request is not valid"),
    };
    let status = if status == StatusCode::METHOD_NOT_ALLOWED {
        StatusCode::NOT_FOUND
    } else {
        status
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message: message.into(),
            details: vec![],
        },
    };
    let (req, _) = res.into_parts();
    let resp = HttpResponse::build(status).json(body);
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, resp).map_into_right_body(),
    ))
}

/// The fallback for unknown routes.
pub async fn no_route() -> HttpResponse {
    ApiError::NoRoute.error_response()
}
