//! The audit log for admins: every change, newest first, filtered by action (or a family of
//! them: `broadcast`), by target and by who; and, on request, the verification of the whole
//! hash chain. Read through `audit::list` and `audit::verify_as`, which refuse anyone but an
//! admin (a secretary gets the 403 page).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use fingertip_core::Core;
use fingertip_core::audit::{self, Filter};
use fingertip_core::paging::PageRequest;

use super::{CSP, Console, Frame, failure};
use crate::dto::common::Id;
use crate::pages::html_with;

/// Entries per page.
const PAGE: u64 = 50;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

struct Line {
    seq: i64,
    at: String,
    who: String,
    action: String,
    target: String,
    summary: String,
}

struct Checked {
    ok: bool,
    entries: u64,
    text: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    action: String,
    target_type: String,
    target_id: String,
    actor: String,
    lines: Vec<Line>,
    next: Option<String>,
    verified: Option<Checked>,
}

#[get("/console/audit")]
async fn page(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let q: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let filter = Filter {
        actor_member_id: q
            .get("actor")
            .and_then(|a| Id::parse(a.trim()))
            .map(|i| i.0),
        action: q.get("action").map(|a| a.trim().chars().take(64).collect()),
        target_type: q
            .get("target_type")
            .map(|t| t.trim().chars().take(32).collect()),
        target_id: q
            .get("target_id")
            .map(|t| t.trim().chars().take(64).collect()),
        ..Default::default()
    };
    let back = format!("{}/console/audit", site.prefix);
    let result = async {
        let page = PageRequest::parse(Some(PAGE), q.get("cursor").map(String::as_str))?;
        let listed = audit::list(&core, &actor, &filter, page).await?;
        let verified = if q.contains_key("verify") {
            Some(audit::verify_as(&core, &actor).await?)
        } else {
            None
        };
        let frame = Frame::of(&core, &actor, &site, csrf, "audit", "审计日志").await?;
        Ok::<_, fingertip_core::CoreError>((listed, verified, frame))
    }
    .await;
    let (listed, verified, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let tz = core.settings.timezone;
    let lines = listed
        .items
        .into_iter()
        .map(|e| Line {
            seq: e.seq,
            at: e
                .at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            who: match (e.actor_member_id, e.actor_role) {
                (Some(id), Some(role)) => format!("{role} #{id}"),
                (Some(id), None) => format!("#{id}"),
                _ => "匿名".into(),
            },
            target: match (e.target_type, e.target_id) {
                (Some(t), Some(id)) => format!("{t} #{id}"),
                (Some(t), None) => t,
                _ => String::new(),
            },
            summary: e.summary.to_string().chars().take(300).collect(),
            action: e.action,
        })
        .collect();
    let next = listed.next_cursor.map(|c| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for k in ["action", "target_type", "target_id", "actor"] {
            if let Some(v) = q.get(k) {
                s.append_pair(k, v);
            }
        }
        s.append_pair("cursor", &c);
        format!("{back}?{}", s.finish())
    });
    let verified = verified.map(|v| Checked {
        ok: v.ok(),
        entries: v.entries,
        text: match &v.first_mismatch {
            None => format!("链条完整：最后一条为第 {} 条。", v.last_seq),
            Some(m) => format!("第 {} 条起链条不符：{}", m.seq, m.reason),
        },
    });
    html_with(
        StatusCode::OK,
        &AuditPage {
            frame,
            action: get("action"),
            target_type: get("target_type"),
            target_id: get("target_id"),
            actor: get("actor"),
            lines,
            next,
            verified,
        },
        CSP,
    )
}
