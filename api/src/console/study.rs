//! Study hours (学时) in the console: a unit's year member by member with who is behind (and
//! its CSV for Excel), one member's year with every credit, and the form to record their
//! offline study (a course, a reading-club session, a youth-forum talk) or remove a record made
//! in error. Read and written through `study::ledger` and `study::records` with the signed-in
//! member as the actor: a secretary sees and records their own subtree only; records are
//! audited by the service.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::NaiveDate;
use fingertip_core::org::units;
use fingertip_core::study::ledger::hours;
use fingertip_core::study::{StudyKind, ledger, records};
use fingertip_core::{Core, CoreError};

use super::fields::{Choice, Form};
use super::problem::Problem;
use super::roster::flatten;
use super::{CSP, Console, Frame, failure, forged, see_other, words};
use crate::dto::common::Id;
use crate::error::ApiError;
use crate::pages::html_with;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(unit_page)
        .service(unit_csv)
        .service(member_page)
        .service(record)
        .service(remove);
}

fn label(field: &str) -> &'static str {
    match field {
        "kind" => "类别",
        "title" => "名称",
        "minutes" => "时长",
        "date" => "日期",
        "note" => "备注",
        "year" => "年度",
        "unit_id" => "单位",
        _ => "表单",
    }
}

/// `unit_id` and `year` of a study page's query.
fn query(req: &HttpRequest) -> (Option<i64>, Option<i32>) {
    let q: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    (
        q.get("unit_id").and_then(|u| Id::parse(u)).map(|i| i.0),
        q.get("year").and_then(|y| y.trim().parse().ok()),
    )
}

struct Row {
    member_id: i64,
    name: String,
    unit: String,
    target: String,
    done: String,
    expected: String,
    pct: i64,
    behind: bool,
}

#[derive(Template)]
#[template(path = "console/study.html")]
struct UnitPage {
    frame: Frame,
    year: i32,
    units: Vec<Choice>,
    rows: Vec<Row>,
    behind: usize,
    csv: String,
}

#[get("/console/study")]
async fn unit_page(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let (unit_id, year) = query(&req);
    let result = async {
        let y = ledger::unit_year(&core, &c.actor, unit_id, year).await?;
        let tree = units::tree(&core, &c.actor).await?;
        let frame = Frame::of(&core, &c.actor, &c.site, c.csrf.clone(), "study", "学时").await?;
        Ok::<_, CoreError>((y, tree, frame))
    }
    .await;
    let (y, tree, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(format!("{}/console/study", c.site.prefix))),
    };
    let (lines, _) = flatten(&tree, unit_id);
    let behind = y.rows.iter().filter(|r| r.behind).count();
    let rows = y
        .rows
        .into_iter()
        .map(|r| {
            let target = i64::from(r.target_minutes) * 60;
            Row {
                member_id: r.member_id,
                pct: (r.total_seconds * 100)
                    .checked_div(target)
                    .unwrap_or(100)
                    .min(100),
                target: hours(target),
                done: hours(r.total_seconds),
                expected: hours(r.expected_seconds),
                behind: r.behind,
                name: r.name,
                unit: r.unit_name,
            }
        })
        .collect();
    let mut csv = format!("{}/console/study.csv?year={}", c.site.prefix, y.year);
    if let Some(u) = unit_id {
        csv.push_str(&format!("&unit_id={u}"));
    }
    let page = UnitPage {
        frame,
        year: y.year,
        units: lines
            .into_iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: u.name,
                checked: unit_id == Some(u.id),
                depth: u.depth,
            })
            .collect(),
        rows,
        behind,
        csv,
    };
    html_with(StatusCode::OK, &page, CSP)
}

#[get("/console/study.csv")]
async fn unit_csv(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let (unit_id, year) = query(&req);
    match ledger::unit_year(&core, &c.actor, unit_id, year).await {
        Ok(y) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"study-{}.csv\"", y.year),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(ledger::unit_csv(&y)),
        Err(e) => failure(&e.into(), Some(format!("{}/console/study", c.site.prefix))),
    }
}

struct LineRow {
    kind: &'static str,
    title: String,
    minutes: i64,
    when: String,
    note: String,
    record_id: Option<i64>,
}

/// The record form as typed, kept when it comes back refused.
#[derive(Default)]
struct RecordForm {
    kind: String,
    title: String,
    minutes: String,
    date: String,
    note: String,
}

#[derive(Template)]
#[template(path = "console/study_member.html")]
struct MemberPage {
    frame: Frame,
    member_id: i64,
    name: String,
    year: i32,
    target: String,
    done: String,
    remaining: String,
    lines: Vec<LineRow>,
    required: Vec<(String, String, bool)>,
    kinds: Vec<Choice>,
    f: RecordForm,
    problems: Vec<Problem>,
    notice: Option<&'static str>,
}

/// What a member's study page shows besides the year: the record form as typed, what is wrong
/// with it, and what was just done.
#[derive(Default)]
struct Shown {
    f: RecordForm,
    problems: Vec<Problem>,
    notice: Option<&'static str>,
}

async fn render_member(
    core: &Core,
    c: &Console,
    member_id: i64,
    year: Option<i32>,
    shown: Shown,
    status: StatusCode,
) -> HttpResponse {
    let Shown {
        f,
        problems,
        notice,
    } = shown;
    let result = async {
        let y = ledger::of_member(core, &c.actor, member_id, year).await?;
        let frame = Frame::of(core, &c.actor, &c.site, c.csrf.clone(), "study", &y.name).await?;
        Ok::<_, CoreError>((y, frame))
    }
    .await;
    let (y, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(format!("{}/console/study", c.site.prefix))),
    };
    let tz = core.settings.timezone;
    let now = core.now();
    let f = if f.date.is_empty() {
        RecordForm {
            date: now.with_timezone(&tz).date_naive().to_string(),
            kind: "course".into(),
            ..f
        }
    } else {
        f
    };
    let page = MemberPage {
        member_id,
        year: y.year,
        target: hours(i64::from(y.target_minutes) * 60),
        done: hours(y.total_seconds),
        remaining: hours(y.remaining_minutes() * 60),
        lines: y
            .lines
            .iter()
            .map(|l| LineRow {
                kind: l.kind.label(),
                title: l.title.clone(),
                minutes: l.seconds / 60,
                when: words::day_time(l.at, tz, now),
                note: l.note.clone().unwrap_or_default(),
                record_id: l.record_id,
            })
            .collect(),
        required: y
            .required
            .iter()
            .map(|r| {
                (
                    r.title.clone(),
                    words::day_time(r.read_by, tz, now),
                    r.overdue,
                )
            })
            .collect(),
        kinds: StudyKind::OFFLINE
            .iter()
            .map(|k| Choice::of(k.as_str(), k.label(), f.kind == k.as_str()))
            .collect(),
        name: y.name,
        frame,
        f,
        problems,
        notice,
    };
    html_with(status, &page, CSP)
}

#[get("/console/members/{id}/study")]
async fn member_page(
    req: HttpRequest,
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
) -> HttpResponse {
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return failure(&ApiError::Core(CoreError::NotFound("member")), None);
    };
    let (_, year) = query(&req);
    let q = req.query_string();
    let notice = if q.contains("recorded=1") {
        Some("已记录。")
    } else if q.contains("removed=1") {
        Some("已删除这条记录。")
    } else {
        None
    };
    render_member(
        &core,
        &c,
        id,
        year,
        Shown {
            notice,
            ..Shown::default()
        },
        StatusCode::OK,
    )
    .await
}

/// Records offline study for the member, then back to their year.
#[post("/console/members/{id}/study")]
async fn record(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return failure(&ApiError::Core(CoreError::NotFound("member")), None);
    };
    let back = format!("{}/console/members/{id}/study", c.site.prefix);
    let form = Form::parse(&body);
    if !form.carries_csrf(&c.csrf) {
        return forged(back);
    }
    let f = RecordForm {
        kind: form.one("kind"),
        title: form.one("title"),
        minutes: form.one("minutes"),
        date: form.one("date"),
        note: form.one("note"),
    };
    let mut problems = Vec::new();
    let minutes = f.minutes.trim().parse::<i64>().ok();
    if minutes.is_none() {
        problems.push(Problem::new("minutes", "请填写分钟数（整数）", label));
    }
    let date = NaiveDate::parse_from_str(f.date.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push(Problem::new("date", "请填写日期，如 2026-12-01", label));
    }
    let (Some(minutes), Some(date)) = (minutes, date) else {
        return render_member(
            &core,
            &c,
            id,
            None,
            Shown {
                f,
                problems,
                notice: None,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let r = records::StudyRecord {
        member_id: id,
        kind: f.kind.clone(),
        title: f.title.clone(),
        minutes,
        date,
        note: Some(f.note.clone()),
    };
    match records::record(&core, &c.actor, r).await {
        Ok(row) => see_other(&format!("{back}?year={}&recorded=1", row.year)).finish(),
        Err(e) => match Problem::all(e, label) {
            Ok(problems) => {
                render_member(
                    &core,
                    &c,
                    id,
                    None,
                    Shown {
                        f,
                        problems,
                        notice: None,
                    },
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => failure(&e.into(), Some(back)),
        },
    }
}

/// Removes an offline record made in error (`member_id` says whose page to go back to).
#[post("/console/study/records/{id}/delete")]
async fn remove(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = Form::parse(&body);
    let member = Id::parse(&form.one("member_id")).map(|i| i.0);
    let back = match member {
        Some(m) => format!("{}/console/members/{m}/study", c.site.prefix),
        None => format!("{}/console/study", c.site.prefix),
    };
    if !form.carries_csrf(&c.csrf) {
        return forged(back);
    }
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return failure(
            &ApiError::Core(CoreError::NotFound("study record")),
            Some(back),
        );
    };
    match records::remove(&core, &c.actor, id).await {
        Ok(()) => see_other(&format!("{back}?removed=1")).finish(),
        Err(e) => failure(&e.into(), Some(back)),
    }
}
