//! Request extractors: the authenticated caller (what they may do is decided by the core
//! services, which take the caller), the client's address, path ids and optional bodies.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use fingertip_core::auth::{Actor, service};
use fingertip_core::{Core, CoreError};

use crate::dto::Id;
use crate::error::{ApiError, ApiResult};

/// The bearer token of a request, from the `Authorization` header.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    bearer_in(req.headers())
}

/// The bearer token in these headers' `Authorization`.
pub fn bearer_in(headers: &header::HeaderMap) -> Option<String> {
    if let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    {
        let h = h.trim();
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .unwrap_or("");
        return Some(token.trim().to_string()).filter(|t| !t.is_empty());
    }
    None
}

fn core_of(req: &HttpRequest) -> Result<Arc<Core>, ApiError> {
    req.app_data::<web::Data<Core>>()
        .map(|d| d.clone().into_inner())
        .ok_or_else(|| ApiError::Core(CoreError::Internal("application state missing".into())))
}

/// Any authenticated member.
pub struct Auth(pub Actor);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let core = core_of(req);
        let req = req.clone();
        Box::pin(async move {
            let core = core?;
            let token = token.ok_or_else(|| {
                CoreError::Unauthorized(
                    "missing bearer token (Authorization: Bearer <access_token>)".into(),
                )
            })?;
            let actor = service::authenticate(&core, &token).await?;
            tracing::Span::current().record("member.id", actor.member_id);
            // For the audit log, which the server writes once the response is known.
            req.extensions_mut().insert(actor.clone());
            Ok(Auth(actor))
        })
    }
}

/// Any authenticated member, for the routes of an anonymous writer (docs/feedback.md): the
/// token is checked as for [`Auth`], but the member is not recorded on the request's span (so
/// the request log does not name them) nor kept for the audit of refused requests.
pub struct AnonymousAuth(pub Actor);

impl FromRequest for AnonymousAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let core = core_of(req);
        Box::pin(async move {
            let core = core?;
            let token = token.ok_or_else(|| {
                CoreError::Unauthorized(
                    "missing bearer token (Authorization: Bearer <access_token>)".into(),
                )
            })?;
            Ok(AnonymousAuth(service::authenticate(&core, &token).await?))
        })
    }
}

/// Whether the client's address is taken from `X-Forwarded-For` (`ServerOptions`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustForwardedFor(pub bool);

/// The client's address, for the abuse limits and the audit log: the TCP peer, or, with
/// `FINGERTIP_TRUST_FORWARDED_FOR=true` (behind a proxy that overwrites the header), the
/// address the proxy forwarded.
pub fn client(req: &HttpRequest) -> service::Client {
    let trust = req
        .app_data::<web::Data<TrustForwardedFor>>()
        .is_some_and(|t| t.0);
    let info = req.connection_info();
    let addr = if trust {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    // Only the host: the port changes with every connection.
    let addr = addr.unwrap_or("unknown");
    let host = match addr.parse::<std::net::SocketAddr>() {
        Ok(sa) => sa.ip().to_string(),
        Err(_) => addr.chars().take(64).collect(),
    };
    service::Client::new(host)
}

/// Parses a path id ([`Id::parse`], untrimmed); anything that is not an id names nothing, so
/// it is a 404.
pub fn path_id(raw: &str, what: &'static str) -> Result<i64, ApiError> {
    Id::parse(raw)
        .map(|id| id.0)
        .ok_or(ApiError::Core(CoreError::NotFound(what)))
}

/// An optional JSON body: empty means none; anything else must parse (a 400 naming `body`
/// otherwise, never silently ignored).
pub fn optional_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| CoreError::invalid("body", format!("the JSON body is not valid: {e}")).into())
}
