//! A member's page in the console: who they are, their binding (the invite code and its QR code
//! until they bind WeChat), the form that changes them, and for admins the one-time link with
//! which a secretary sets a console password; a form to add one member; and the roster import
//! from a CSV file, with every bad line shown. Everything goes through `org::members`,
//! `org::import` and `auth::service::create_password_link` with the signed-in member as the
//! actor: a secretary sees and changes their own subtree only, and every change is audited by
//! the service that makes it.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use fingertip_core::auth::Role;
use fingertip_core::org::import::{self, ImportReport};
use fingertip_core::org::members::{self, MemberInput, MemberPatch, MemberView};
use fingertip_core::org::units;
use fingertip_core::{Core, CoreError};
use futures_util::StreamExt;

use super::fields::{Choice, tag_list};
use super::problem::Problem;
use super::roster::{flatten, role_label};
use super::{CSP, Console, Frame, failure, forged, see_other};
use crate::dto::common::Id;
use crate::error::ApiError;
use crate::pages::html_with;
use crate::routes::members::MAX_CSV_BYTES;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    // `/new` before `/{id}`.
    cfg.service(new_form)
        .service(create)
        .service(import_form)
        .service(import_file)
        .service(page)
        .service(save)
        .service(password_link);
}

fn label(field: &str) -> &'static str {
    match field {
        "name" => "姓名",
        "unit_id" => "单位",
        "role" => "身份",
        "tags" => "标签",
        "phone" => "手机",
        "wecom_userid" => "企业微信账号",
        "active" => "在册",
        "body" | "file" => "文件",
        _ => "表单",
    }
}

/// The member form as typed.
#[derive(Debug, Clone, Default)]
struct Fields {
    name: String,
    unit_id: Option<i64>,
    role: String,
    tags: String,
    phone: String,
    wecom_userid: String,
    active: bool,
}

impl Fields {
    fn of(m: &MemberView) -> Self {
        Fields {
            name: m.name.clone(),
            unit_id: m.unit_id,
            role: m.role.as_str().into(),
            tags: m.tags.join("，"),
            phone: m.phone.clone().unwrap_or_default(),
            wecom_userid: m.wecom_userid.clone().unwrap_or_default(),
            active: m.active,
        }
    }

    fn parse(body: &[u8]) -> (Self, String) {
        let f = super::form(body);
        let one = |k: &str| f.get(k).cloned().unwrap_or_default();
        (
            Fields {
                name: one("name"),
                unit_id: Id::parse(&one("unit_id")).map(|i| i.0),
                role: one("role"),
                tags: one("tags"),
                phone: one("phone"),
                wecom_userid: one("wecom_userid"),
                active: one("active") == "1",
            },
            one("csrf"),
        )
    }

    fn tags(&self) -> Vec<String> {
        tag_list(&self.tags)
    }

    fn role(&self) -> Option<Role> {
        self.role.parse().ok()
    }
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "console/member.html")]
struct MemberPage {
    frame: Frame,
    /// `None`: the form adds a member.
    id: Option<i64>,
    f: Fields,
    units: Vec<Choice>,
    roles: Vec<Choice>,
    problems: Vec<Problem>,
    notice: Option<String>,
    bound: bool,
    invite_code: Option<String>,
    invite_qr: String,
    /// Whether the signed-in admin may make this member a password link.
    can_link: bool,
    /// A link just made, shown once.
    link: Option<(String, String)>,
}

struct Shown {
    id: Option<i64>,
    f: Fields,
    member: Option<MemberView>,
    problems: Vec<Problem>,
    notice: Option<String>,
    link: Option<(String, String)>,
}

async fn render(core: &Core, c: &Console, s: Shown, status: StatusCode) -> HttpResponse {
    let tree = match units::tree(core, &c.actor).await {
        Ok(t) => t,
        Err(e) => return failure(&e.into(), None),
    };
    let title = if s.id.is_some() {
        s.f.name.clone()
    } else {
        "新增成员".into()
    };
    let frame = match Frame::of(core, &c.actor, &c.site, c.csrf.clone(), "roster", &title).await {
        Ok(f) => f,
        Err(e) => return failure(&e.into(), None),
    };
    let (lines, _) = flatten(&tree, None);
    let admin = c.actor.role == Role::Admin;
    let roles = [Role::Member, Role::Secretary, Role::Admin]
        .into_iter()
        .filter(|r| admin || *r != Role::Admin || s.f.role == "admin")
        .map(|r| Choice {
            value: r.as_str().into(),
            label: role_label(r).into(),
            checked: s.f.role == r.as_str(),
            depth: 0,
        })
        .collect();
    let m = s.member.as_ref();
    let invite_code = m.and_then(|m| m.invite_code.clone());
    let view = MemberPage {
        units: lines
            .into_iter()
            .map(|u| Choice {
                checked: s.f.unit_id == Some(u.id),
                value: u.id.to_string(),
                label: u.name,
                depth: u.depth,
            })
            .collect(),
        roles,
        bound: m.is_some_and(|m| m.wechat_bound),
        invite_qr: invite_code
            .as_deref()
            .map(super::roster::bind_qr)
            .unwrap_or_default(),
        invite_code,
        can_link: admin && m.is_some_and(|m| m.active && m.role != Role::Member),
        frame,
        id: s.id,
        f: s.f,
        problems: s.problems,
        notice: s.notice,
        link: s.link,
    };
    html_with(status, &view, CSP)
}

fn parse_id(id: &str) -> Option<i64> {
    Id::parse(id).map(|i| i.0)
}

#[get("/console/members/new")]
async fn new_form(core: web::Data<Core>, c: Console) -> HttpResponse {
    let f = Fields {
        role: "member".into(),
        active: true,
        ..Default::default()
    };
    let shown = Shown {
        id: None,
        f,
        member: None,
        problems: Vec::new(),
        notice: None,
        link: None,
    };
    render(&core, &c, shown, StatusCode::OK).await
}

#[post("/console/members/new")]
async fn create(core: web::Data<Core>, c: Console, body: web::Bytes) -> HttpResponse {
    let (f, csrf) = Fields::parse(&body);
    if csrf != c.csrf {
        return forged(format!("{}/console/members/new", c.site.prefix));
    }
    let input = MemberInput {
        name: f.name.clone(),
        unit_id: f.unit_id,
        role: f.role(),
        tags: f.tags(),
        phone: opt(&f.phone),
        wecom_userid: opt(&f.wecom_userid),
    };
    match members::create(&core, &c.actor, &input).await {
        Ok(m) => see_other(&format!(
            "{}/console/members/{}?created=1",
            c.site.prefix, m.id
        ))
        .finish(),
        Err(e) => match Problem::all(e, label) {
            Ok(problems) => {
                let shown = Shown {
                    id: None,
                    f,
                    member: None,
                    problems,
                    notice: None,
                    link: None,
                };
                render(&core, &c, shown, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => failure(&e.into(), Some(format!("{}/console/roster", c.site.prefix))),
        },
    }
}

#[get("/console/members/{id}")]
async fn page(
    req: actix_web::HttpRequest,
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
) -> HttpResponse {
    let back = format!("{}/console/roster", c.site.prefix);
    let Some(id) = parse_id(&id) else {
        return failure(&ApiError::Core(CoreError::NotFound("member")), Some(back));
    };
    let m = match members::get(&core, &c.actor, id).await {
        Ok(m) => m,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let q = req.query_string();
    let notice = if q.contains("created=1") {
        Some("已添加。把邀请码交给本人，在小程序里绑定。".to_string())
    } else if q.contains("saved=1") {
        Some("已保存。".to_string())
    } else {
        None
    };
    let shown = Shown {
        id: Some(id),
        f: Fields::of(&m),
        member: Some(m),
        problems: Vec::new(),
        notice,
        link: None,
    };
    render(&core, &c, shown, StatusCode::OK).await
}

#[post("/console/members/{id}")]
async fn save(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let back = format!("{}/console/roster", c.site.prefix);
    let Some(id) = parse_id(&id) else {
        return failure(&ApiError::Core(CoreError::NotFound("member")), Some(back));
    };
    let (f, csrf) = Fields::parse(&body);
    if csrf != c.csrf {
        return forged(back);
    }
    let before = match members::get(&core, &c.actor, id).await {
        Ok(m) => m,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    // Only what changed, so that a secretary saving a phone number does not "change" a role.
    let patch = MemberPatch {
        name: Some(f.name.clone()).filter(|n| *n != before.name),
        unit_id: f.unit_id.filter(|u| Some(*u) != before.unit_id),
        role: f.role().filter(|r| *r != before.role),
        tags: Some(f.tags()).filter(|t| *t != before.tags),
        phone: Some(opt(&f.phone)).filter(|p| *p != before.phone),
        wecom_userid: Some(opt(&f.wecom_userid)).filter(|w| *w != before.wecom_userid),
        active: Some(f.active).filter(|a| *a != before.active),
    };
    match members::patch(&core, &c.actor, id, patch, "console").await {
        Ok(_) => see_other(&format!("{}/console/members/{id}?saved=1", c.site.prefix)).finish(),
        Err(e) => match Problem::all(e, label) {
            Ok(problems) => {
                let shown = Shown {
                    id: Some(id),
                    f,
                    member: Some(before),
                    problems,
                    notice: None,
                    link: None,
                };
                render(&core, &c, shown, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => failure(
                &e.into(),
                Some(format!("{}/console/members/{id}", c.site.prefix)),
            ),
        },
    }
}

/// Makes the member a one-time link to set their console password (admins), shown once.
#[post("/console/members/{id}/password-link")]
async fn password_link(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let back = format!("{}/console/roster", c.site.prefix);
    let Some(id) = parse_id(&id) else {
        return failure(&ApiError::Core(CoreError::NotFound("member")), Some(back));
    };
    if super::form(&body).get("csrf") != Some(&c.csrf) {
        return forged(back);
    }
    let here = format!("{}/console/members/{id}", c.site.prefix);
    let link = match fingertip_core::auth::service::create_password_link(&core, &c.actor, id).await
    {
        Ok(l) => l,
        Err(e) => return failure(&e.into(), Some(here)),
    };
    let m = match members::get(&core, &c.actor, id).await {
        Ok(m) => m,
        Err(e) => return failure(&e.into(), Some(here)),
    };
    let base = core.settings.public_url.clone().unwrap_or_default();
    let url = format!("{base}/console/password?token={}", link.token);
    let until = super::words::day_time(link.expires_at, core.settings.timezone, core.now());
    let shown = Shown {
        id: Some(id),
        f: Fields::of(&m),
        member: Some(m),
        problems: Vec::new(),
        notice: None,
        link: Some((url, until)),
    };
    let mut resp = render(&core, &c, shown, StatusCode::OK).await;
    // The link is a secret: not to be kept by the browser's cache.
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    resp
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    frame: Frame,
    report: Option<ImportReport>,
    problems: Vec<Problem>,
    max_mib: usize,
}

async fn import_page(
    core: &Core,
    c: &Console,
    report: Option<ImportReport>,
    problems: Vec<Problem>,
    status: StatusCode,
) -> HttpResponse {
    let frame = match Frame::of(
        core,
        &c.actor,
        &c.site,
        c.csrf.clone(),
        "roster",
        "导入花名册",
    )
    .await
    {
        Ok(f) => f,
        Err(e) => return failure(&e.into(), None),
    };
    let view = ImportPage {
        frame,
        report,
        problems,
        max_mib: MAX_CSV_BYTES / (1024 * 1024),
    };
    html_with(status, &view, CSP)
}

#[get("/console/roster/import")]
async fn import_form(core: web::Data<Core>, c: Console) -> HttpResponse {
    import_page(&core, &c, None, Vec::new(), StatusCode::OK).await
}

/// What an upload form sent: its CSRF value and the file, or why the body was not read.
enum Upload {
    Read { csrf: String, file: Option<Vec<u8>> },
    TooLarge,
    Unreadable,
}

async fn read_upload(mut parts: Multipart) -> Upload {
    let mut csrf = String::new();
    let mut file = None;
    while let Some(part) = parts.next().await {
        let Ok(mut field) = part else {
            return Upload::Unreadable;
        };
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "file" { MAX_CSV_BYTES } else { 256 };
        let bytes = match field.bytes(limit).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => return Upload::Unreadable,
            Err(_) if name == "file" => return Upload::TooLarge,
            Err(_) => return Upload::Unreadable,
        };
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" if !bytes.is_empty() => file = Some(bytes.to_vec()),
            _ => {}
        }
    }
    Upload::Read { csrf, file }
}

/// The roster file: checked whole, every bad line reported, the good ones written at once.
#[post("/console/roster/import")]
async fn import_file(core: web::Data<Core>, c: Console, parts: Multipart) -> HttpResponse {
    let back = format!("{}/console/roster/import", c.site.prefix);
    let file = match read_upload(parts).await {
        Upload::Read { csrf, .. } if csrf != c.csrf => return forged(back),
        Upload::Read { file: Some(f), .. } => f,
        Upload::Read { file: None, .. } => {
            let p = vec![Problem::new("file", "请选择要导入的 CSV 文件", label)];
            return import_page(&core, &c, None, p, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Upload::TooLarge => {
            let p = vec![Problem::new(
                "file",
                &format!(
                    "文件太大了：一次最多 {} MiB，请分成几个文件",
                    MAX_CSV_BYTES / (1024 * 1024)
                ),
                label,
            )];
            return import_page(&core, &c, None, p, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Upload::Unreadable => return forged(back),
    };
    match import::import_csv(&core, &c.actor, &file).await {
        Ok(report) => import_page(&core, &c, Some(report), Vec::new(), StatusCode::OK).await,
        Err(e) => match Problem::all(e, label) {
            Ok(p) => import_page(&core, &c, None, p, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => failure(&e.into(), Some(back)),
        },
    }
}
