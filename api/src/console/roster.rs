//! The roster: the units the signed-in member manages, their members (search, one unit's
//! subtree, only those not yet bound), and a printable sheet of invite codes, each with the QR
//! code that opens the mini-program's binding page. Read through `org::units::tree` and
//! `org::members::list` with the member as the actor: a secretary sees their subtree only.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use fingertip_core::Core;
use fingertip_core::org::members::{self, MemberFilter};
use fingertip_core::org::units::{self, UnitNode};
use fingertip_core::paging::PageRequest;

use super::{CSP, Console, Frame, failure};
use crate::dto::common::Id;
use crate::pages::html_with;

/// The mini-program page a binding QR code names (its `onLoad` gets `code`). The code carries
/// the page path, which the mini-program's own scanner (`wx.scanCode`) reads; for WeChat's
/// camera to open the mini-program from it, a mini-program code (`wxacode.getUnlimited`) or the
/// "scan an ordinary link" rule is needed, which this server does not make yet.
pub const BIND_PAGE: &str = "pages/bind/index";
/// Members per roster page.
const PAGE: u64 = 50;
/// Invite codes per printed sheet.
const SHEET: u64 = 120;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(roster).service(invites).service(add_unit);
}

/// The query of a roster page: `unit_id`, `q`, `unbound`, `cursor`.
struct Query {
    unit_id: Option<i64>,
    q: String,
    unbound: bool,
    cursor: Option<String>,
}

impl Query {
    fn of(req: &HttpRequest) -> Self {
        let pairs: HashMap<String, String> =
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .into_owned()
                .collect();
        Query {
            unit_id: pairs.get("unit_id").and_then(|u| Id::parse(u)).map(|i| i.0),
            q: pairs
                .get("q")
                .map(|q| q.trim().to_string())
                .unwrap_or_default(),
            unbound: pairs.get("unbound").is_some_and(|v| v == "1"),
            cursor: pairs.get("cursor").filter(|c| !c.is_empty()).cloned(),
        }
    }

    fn filter(&self) -> MemberFilter {
        MemberFilter {
            unit_id: self.unit_id,
            q: Some(self.q.clone()).filter(|q| !q.is_empty()),
            unbound: self.unbound,
            ..Default::default()
        }
    }

    /// This query's link with another cursor.
    fn link(&self, prefix: &str, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(u) = self.unit_id {
            q.append_pair("unit_id", &u.to_string());
        }
        if !self.q.is_empty() {
            q.append_pair("q", &self.q);
        }
        if self.unbound {
            q.append_pair("unbound", "1");
        }
        q.append_pair("cursor", cursor);
        format!("{prefix}/console/roster?{}", q.finish())
    }
}

pub(super) struct UnitLine {
    pub(super) id: i64,
    pub(super) name: String,
    /// 0 to 6: how far it is indented.
    pub(super) depth: usize,
    here: bool,
}

/// The tree as indented lines, and every unit's name.
pub(super) fn flatten(
    roots: &[UnitNode],
    here: Option<i64>,
) -> (Vec<UnitLine>, HashMap<i64, String>) {
    let mut lines = Vec::new();
    let mut names = HashMap::new();
    let mut stack: Vec<(&UnitNode, usize)> = roots.iter().rev().map(|n| (n, 0)).collect();
    while let Some((n, depth)) = stack.pop() {
        names.insert(n.id, n.name.clone());
        lines.push(UnitLine {
            id: n.id,
            name: n.name.clone(),
            depth: depth.min(6),
            here: here == Some(n.id),
        });
        stack.extend(n.children.iter().rev().map(|c| (c, depth + 1)));
    }
    (lines, names)
}

struct MemberLine {
    id: i64,
    name: String,
    unit: String,
    role: &'static str,
    tags: String,
    phone: String,
    wecom: String,
    bound: bool,
    invite_code: Option<String>,
    active: bool,
}

pub(super) fn role_label(r: fingertip_core::auth::Role) -> &'static str {
    match r {
        fingertip_core::auth::Role::Admin => "管理员",
        fingertip_core::auth::Role::Secretary => "书记",
        fingertip_core::auth::Role::Member => "党员",
    }
}

#[derive(Template)]
#[template(path = "console/roster.html")]
struct RosterPage {
    frame: Frame,
    units: Vec<UnitLine>,
    unit_id: Option<i64>,
    q: String,
    unbound: bool,
    members: Vec<MemberLine>,
    next: Option<String>,
    invites: String,
    /// Whether units may be added at the top (an admin).
    top_level: bool,
    notice: Option<&'static str>,
}

#[get("/console/roster")]
async fn roster(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let query = Query::of(&req);
    let page = match PageRequest::parse(Some(PAGE), query.cursor.as_deref()) {
        Ok(p) => p,
        Err(e) => return failure(&e.into(), Some(format!("{}/console/roster", site.prefix))),
    };
    let tree = match units::tree(&core, &actor).await {
        Ok(t) => t,
        Err(e) => return failure(&e.into(), None),
    };
    let listed = match members::list(&core, &actor, &query.filter(), page).await {
        Ok(p) => p,
        Err(e) => return failure(&e.into(), Some(format!("{}/console/roster", site.prefix))),
    };
    let (units, names) = flatten(&tree, query.unit_id);
    let members = listed
        .items
        .into_iter()
        .map(|m| MemberLine {
            unit: m
                .unit_id
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or_default(),
            role: role_label(m.role),
            tags: m.tags.join("、"),
            phone: m.phone.unwrap_or_default(),
            wecom: m.wecom_userid.unwrap_or_default(),
            bound: m.wechat_bound,
            invite_code: m.invite_code,
            active: m.active,
            id: m.id,
            name: m.name,
        })
        .collect();
    let sheet = match query.unit_id {
        Some(u) => format!("{}/console/roster/invites?unit_id={u}", site.prefix),
        None => format!("{}/console/roster/invites", site.prefix),
    };
    let frame = match Frame::of(&core, &actor, &site, csrf, "roster", "花名册").await {
        Ok(f) => f,
        Err(e) => return failure(&e.into(), None),
    };
    html_with(
        StatusCode::OK,
        &RosterPage {
            next: listed.next_cursor.map(|c| query.link(&site.prefix, &c)),
            frame,
            units,
            unit_id: query.unit_id,
            q: query.q,
            unbound: query.unbound,
            members,
            invites: sheet,
            top_level: actor.role == fingertip_core::auth::Role::Admin,
            notice: req
                .query_string()
                .contains("unit_added=1")
                .then_some("单位已添加。"),
        },
        CSP,
    )
}

struct Invite {
    name: String,
    unit: String,
    code: String,
    svg: String,
}

#[derive(Template)]
#[template(path = "console/invites.html")]
struct InvitesPage {
    frame: Frame,
    invites: Vec<Invite>,
    more: bool,
}

/// The QR code of a binding page, as an inline SVG element.
pub(super) fn bind_qr(code: &str) -> String {
    crate::pages::qr_svg(&format!("{BIND_PAGE}?code={code}"), 120)
}

/// A sheet to print: every member in scope (or in one unit's subtree) who has not bound WeChat,
/// with their invite code and its QR code.
#[get("/console/roster/invites")]
async fn invites(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let query = Query::of(&req);
    let filter = MemberFilter {
        unit_id: query.unit_id,
        unbound: true,
        ..Default::default()
    };
    let tree = match units::tree(&core, &actor).await {
        Ok(t) => t,
        Err(e) => return failure(&e.into(), None),
    };
    let listed = match members::list(&core, &actor, &filter, PageRequest::first(SHEET)).await {
        Ok(p) => p,
        Err(e) => return failure(&e.into(), Some(format!("{}/console/roster", site.prefix))),
    };
    let (_, names) = flatten(&tree, None);
    let invites = listed
        .items
        .into_iter()
        .filter_map(|m| {
            let code = m.invite_code?;
            Some(Invite {
                svg: bind_qr(&code),
                unit: m
                    .unit_id
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_default(),
                name: m.name,
                code,
            })
        })
        .collect();
    let frame = match Frame::of(&core, &actor, &site, csrf, "roster", "邀请码").await {
        Ok(f) => f,
        Err(e) => return failure(&e.into(), None),
    };
    html_with(
        StatusCode::OK,
        &InvitesPage {
            frame,
            invites,
            more: listed.next_cursor.is_some(),
        },
        CSP,
    )
}

/// Adds a unit (`name`, `parent_id`; an admin may leave the parent empty for a top-level unit),
/// through `org::units::create` as the signed-in member; then back to the roster on the new unit.
#[actix_web::post("/console/units")]
async fn add_unit(core: web::Data<Core>, c: Console, body: web::Bytes) -> HttpResponse {
    let f = super::fields::Form::parse(&body);
    let back = format!("{}/console/roster", c.site.prefix);
    if !f.carries_csrf(&c.csrf) {
        return super::forged(back);
    }
    let parent = Id::parse(&f.one("parent_id")).map(|i| i.0);
    match units::create(&core, &c.actor, &f.one("name"), parent).await {
        Ok(u) => super::see_other(&format!("{back}?unit_id={}&unit_added=1", u.id)).finish(),
        Err(e) => failure(&e.into(), Some(back)),
    }
}
