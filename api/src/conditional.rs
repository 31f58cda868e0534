//! Conditional GETs for what a phone polls (the inbox page, the unread count, an item): the
//! answer carries an `ETag` (a digest of its JSON) and `Cache-Control: private, no-cache`, and a
//! request whose `If-None-Match` names the current tag gets 304 Not Modified with no body. A
//! phone on a bad connection that polls its inbox then downloads nothing it already has.
//!
//! The tag is weak (`W/"…"`): the same JSON may leave gzip-compressed or not.

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use fingertip_core::CoreError;
use serde::Serialize;

use crate::error::ApiResult;

/// `value` as JSON with its `ETag`, or 304 when `If-None-Match` already names it.
pub fn json<T: Serialize>(req: &HttpRequest, value: &T) -> ApiResult<HttpResponse> {
    let body = serde_json::to_string(value)
        .map_err(|e| CoreError::Internal(format!("a response did not serialize: {e}")))?;
    let digest = fingertip_core::auth::secrets::sha256_hex(&body);
    let tag = EntityTag::new_weak(digest.get(..32).unwrap_or(&digest).to_string());
    let fresh = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&tag)),
        None => false,
    };
    let mut resp = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header(header::ETag(tag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    Ok(if fresh {
        resp.finish()
    } else {
        resp.content_type(header::ContentType::json()).body(body)
    })
}
