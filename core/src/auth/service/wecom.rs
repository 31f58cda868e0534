//! Signing in on a reading page through WeCom's web sign-in (WECHAT.md §11): the member who
//! tapped a WeCom card is known by their WeCom user id, matched case-insensitively against the
//! roster. The page gets a short session of its own: an access token for a new session with no
//! refresh token. When it expires the page signs in again, silently (`snsapi_base` asks the
//! member nothing).

use fingertip_platform::{ErrorClass, LoginFailure, WecomViewer};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{EntityTrait, QueryFilter, QuerySelect};

use super::session::open_session;

use crate::Core;
use crate::auth::tokens::ACCESS_TTL_SECS;
use crate::entities::members;
use crate::error::{CoreError, CoreResult, Violations};

/// Longest code WeCom hands back (WECHAT.md §11).
pub const MAX_CODE: usize = 512;

/// What a WeCom sign-in came to.
#[derive(Debug, Clone)]
pub enum ReaderSignIn {
    /// A member on the roster: a session for the page.
    Member {
        member_id: i64,
        access_token: String,
        expires_in: i64,
    },
    /// Someone outside the company (WeCom knows them only by an openid).
    NotInCompany,
    /// A WeCom user id that no member of the roster carries.
    NotOnRoster { userid: String },
}

fn platform_error(e: &LoginFailure) -> CoreError {
    tracing::warn!(errcode = ?e.errcode, error = %e, "WeCom sign-in failed");
    match e.class {
        ErrorClass::InvalidInput => CoreError::invalid(
            "code",
            "the WeCom sign-in code is invalid, expired or already used; open the link again",
        ),
        ErrorClass::RateLimited => CoreError::RateLimited {
            message: "WeCom is limiting sign-ins; try again in a minute".into(),
            retry_after_secs: 60,
        },
        ErrorClass::Unavailable => CoreError::Upstream {
            message: "WeCom did not answer; try again shortly".into(),
            unavailable: true,
        },
        ErrorClass::Misconfigured => CoreError::Upstream {
            message: "WeCom refused this server's sign-in request; the operator must check the WeCom app settings and its trusted domain".into(),
            unavailable: false,
        },
    }
}

fn not_configured() -> CoreError {
    CoreError::Upstream {
        message: "WeCom is not configured on this server (FINGERTIP_WECOM_CORPID, FINGERTIP_WECOM_SECRET and FINGERTIP_WECOM_AGENTID are unset)".into(),
        unavailable: false,
    }
}

/// A fresh `state` for a sign-in: 128 random bits as 32 hex digits (WeCom carries only
/// letters and digits).
pub fn sign_in_state() -> String {
    crate::auth::secrets::random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where to send a browser to sign in with WeCom; it comes back to `redirect_uri` with a code
/// and `state`.
pub fn wecom_authorize_url(core: &Core, redirect_uri: &str, state: &str) -> CoreResult<String> {
    let port = core.wecom_sign_in.as_ref().ok_or_else(not_configured)?;
    port.authorize_url(redirect_uri, state)
        .map_err(|e| platform_error(&e))
}

/// Signs in the member behind a WeCom OAuth `code`.
pub async fn wecom_reader_sign_in(core: &Core, code: &str) -> CoreResult<ReaderSignIn> {
    let mut v = Violations::new();
    v.text(code, "code", MAX_CODE);
    v.finish()?;
    let port = core.wecom_sign_in.as_ref().ok_or_else(not_configured)?;
    let userid = match port
        .identify(code.trim())
        .await
        .map_err(|e| platform_error(&e))?
    {
        WecomViewer::Outsider => return Ok(ReaderSignIn::NotInCompany),
        WecomViewer::Member { userid } => userid,
    };
    let found = members::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(members::Column::WecomUserid)))
                .eq(userid.to_lowercase()),
        )
        .limit(2)
        .all(&core.db)
        .await?;
    let member = match found.as_slice() {
        [] => return Ok(ReaderSignIn::NotOnRoster { userid }),
        [m] => m,
        _ => {
            return Err(CoreError::Conflict(format!(
                "more than one member of the roster has the WeCom user id {userid:?}; an administrator must correct the roster"
            )));
        }
    };
    if !member.active {
        return Err(CoreError::Forbidden(
            "this member has been deactivated".into(),
        ));
    }
    let sid = open_session(core, member.id).await?;
    Ok(ReaderSignIn::Member {
        member_id: member.id,
        access_token: core.tokens.access_token(
            member.id,
            member.role.as_str(),
            &sid,
            core.now(),
        )?,
        expires_in: ACCESS_TTL_SECS,
    })
}
