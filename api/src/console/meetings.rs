//! Meetings in the console: the list of a year's meetings of the member's scope, one meeting's
//! record (answers and leave reasons, attendance, quorum, minutes) with its attendance CSV, and
//! the full-screen check-in screen for the room's projector: the code that changes every 30 s,
//! a QR code of it for the mini-program, and how many have checked in. The screen reloads itself
//! (`Refresh`), every 5 s and when the code changes, so it needs no script. All read through
//! `meetings::record` and `meetings::checkin_code` with the member as the actor.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::{DateTime, Datelike, Utc};
use fingertip_core::meetings::record::{self, Counts, Quorum};
use fingertip_core::meetings::{self, Answer, Attendance, MeetingStatus, SeriesStatus, series};
use fingertip_core::paging::PageRequest;
use fingertip_core::{Core, CoreError};

use super::{CSP, Console, Frame, failure, words};
use crate::dto::common::Id;
use crate::error::ApiError;
use crate::pages::html_with;

/// The mini-program page a check-in QR code names (its `onLoad` gets `meeting` and `code`).
pub const CHECKIN_PAGE: &str = "pages/meeting/checkin";
/// How often the check-in screen reloads at most, in seconds.
const SCREEN_REFRESH_SECS: i64 = 5;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(one).service(screen).service(csv);
}

fn not_found() -> HttpResponse {
    failure(&ApiError::Core(CoreError::NotFound("meeting")), None)
}

/// 已取消, 已结束 (it has ended), or 已安排.
fn status_label(core: &Core, m: &fingertip_core::entities::meetings::Model) -> &'static str {
    match m.status {
        MeetingStatus::Canceled => "已取消",
        MeetingStatus::Scheduled if m.ends_at <= core.now() => "已结束",
        MeetingStatus::Scheduled => "已安排",
    }
}

struct MeetingRow {
    id: i64,
    kind: &'static str,
    title: String,
    when: String,
    place: String,
    status: &'static str,
}

struct SeriesRow {
    id: i64,
    kind: &'static str,
    title: String,
    /// Its rule in words.
    rule: String,
    upcoming: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/meetings.html")]
struct ListPage {
    frame: Frame,
    year: i32,
    rows: Vec<MeetingRow>,
    series: Vec<SeriesRow>,
    notice: Option<&'static str>,
}

#[get("/console/meetings")]
async fn list(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let tz = core.settings.timezone;
    let now = core.now();
    let year = now.with_timezone(&tz).year();
    let result = async {
        let page = record::list(&core, &actor, None, Some(year), PageRequest::first(200)).await?;
        let series = series::list(&core, &actor, PageRequest::first(100)).await?;
        let frame = Frame::of(&core, &actor, &site, csrf, "meetings", "会议").await?;
        Ok::<_, CoreError>((page, series, frame))
    }
    .await;
    let (page, series, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), None),
    };
    let rows = page
        .items
        .into_iter()
        .map(|m| {
            let r = m.row;
            MeetingRow {
                id: r.id,
                kind: meetings::kind_label(r.kind),
                when: r
                    .starts_at
                    .with_timezone(&tz)
                    .format("%m月%d日 %H:%M")
                    .to_string(),
                place: meetings::where_text(&r),
                status: status_label(&core, &r),
                title: r.title,
            }
        })
        .collect();
    let series = series
        .items
        .into_iter()
        .filter(|s| s.row.status == SeriesStatus::Active)
        .map(|s| SeriesRow {
            id: s.row.id,
            kind: meetings::kind_label(s.row.kind),
            rule: s
                .upcoming
                .first()
                .and_then(|first| words::rule(&s.row.recurrence, first.with_timezone(&tz)))
                .unwrap_or_else(|| s.row.recurrence.clone()),
            upcoming: s
                .upcoming
                .iter()
                .map(|t| words::day_time(*t, tz, now))
                .collect(),
            title: s.row.title,
        })
        .collect();
    let q = req.query_string();
    let notice = if q.starts_with("series=") {
        Some("定期会议已创建：每次会议按时生成并通知参会人员。")
    } else if q.contains("series_canceled=1") {
        Some("定期会议已停止，不再生成新的会议（已生成的不受影响）。")
    } else {
        None
    };
    html_with(
        StatusCode::OK,
        &ListPage {
            frame,
            year,
            rows,
            series,
            notice,
        },
        CSP,
    )
}

struct Invitee {
    member_id: i64,
    /// `present`, `late`, `absent` or "" (none yet), for the attendance form.
    recorded: &'static str,
    name: String,
    unit: String,
    answer: &'static str,
    reason: String,
    attendance: &'static str,
    checked_in: String,
}

#[derive(Template)]
#[template(path = "console/meeting.html")]
struct MeetingPage {
    frame: Frame,
    id: i64,
    kind: &'static str,
    title: String,
    when: String,
    place: String,
    status: &'static str,
    counts: Counts,
    quorum: Quorum,
    minutes: Option<String>,
    invitees: Vec<Invitee>,
    open: bool,
    notice: Option<String>,
    /// Not yet begun and not canceled: it can be edited and canceled.
    upcoming: bool,
    /// Attendance can be recorded by hand (from 30 minutes before the start).
    recording: bool,
    /// It has ended (and was not canceled): minutes and make-up study.
    ended: bool,
    has_lesson: bool,
}

fn local(core: &Core, t: DateTime<Utc>) -> String {
    t.with_timezone(&core.settings.timezone)
        .format("%m月%d日 %H:%M")
        .to_string()
}

/// What the page says after one of its forms.
fn notice_of(q: &str) -> Option<String> {
    let pairs: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
    let has = |k: &str| pairs.contains_key(k);
    if has("created") {
        Some("会议已创建，通知已发给参会人员。".into())
    } else if has("saved") {
        Some("已保存。时间或地点的变动已再次通知参会人员。".into())
    } else if has("canceled") {
        Some("会议已取消，已通知参会人员。".into())
    } else if has("recorded") {
        Some("已记录签到。".into())
    } else if has("minutes") {
        Some("会议记录已保存。".into())
    } else {
        pairs
            .get("made_up")
            .map(|n| format!("已向 {n} 位未到会的成员发送补学材料。"))
    }
}

#[get("/console/meetings/{id}")]
async fn one(
    req: HttpRequest,
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return not_found();
    };
    let result = async {
        let r = record::record(&core, &actor, id).await?;
        let frame = Frame::of(&core, &actor, &site, csrf, "meetings", &r.meeting.row.title).await?;
        Ok::<_, CoreError>((r, frame))
    }
    .await;
    let (r, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(format!("{}/console/meetings", site.prefix))),
    };
    let m = r.meeting.row;
    let invitees = r
        .invitees
        .into_iter()
        .map(|i| Invitee {
            member_id: i.member_id,
            recorded: i.attendance.map_or("", Attendance::as_str),
            name: i.name,
            unit: i.unit_name.unwrap_or_default(),
            answer: match i.answer {
                Answer::Attending => "参加",
                Answer::Leave => "请假",
                Answer::None => "未回复",
            },
            reason: i.reason.unwrap_or_default(),
            attendance: match i.attendance {
                Some(Attendance::Present) => "已签到",
                Some(Attendance::Late) => "迟到",
                _ if m.ends_at > core.now() => "",
                _ if i.answer == Answer::Leave => "请假",
                _ => "缺席",
            },
            checked_in: i.checked_in_at.map(|t| local(&core, t)).unwrap_or_default(),
        })
        .collect();
    html_with(
        StatusCode::OK,
        &MeetingPage {
            frame,
            id,
            kind: meetings::kind_label(m.kind),
            when: format!(
                "{} — {}",
                local(&core, m.starts_at),
                local(&core, m.ends_at)
            ),
            place: meetings::where_text(&m),
            status: status_label(&core, &m),
            open: m.status != MeetingStatus::Canceled && m.ends_at > core.now(),
            notice: notice_of(req.query_string()),
            upcoming: m.status == MeetingStatus::Scheduled && m.starts_at > core.now(),
            recording: m.status == MeetingStatus::Scheduled
                && core.now()
                    >= m.starts_at - chrono::Duration::minutes(meetings::CHECK_IN_OPENS_MINUTES),
            ended: m.status == MeetingStatus::Scheduled && m.ends_at <= core.now(),
            has_lesson: m.post_id.is_some(),
            counts: r.counts,
            quorum: r.quorum,
            minutes: m.minutes_md.clone().filter(|t| !t.trim().is_empty()),
            title: m.title,
            invitees,
        },
        CSP,
    )
}

#[derive(Template)]
#[template(path = "console/checkin.html")]
struct Screen {
    frame: Frame,
    title: String,
    code: String,
    svg: String,
    present: u64,
    late: u64,
    invited: u64,
    quorum: Quorum,
}

/// The check-in screen for the room's projector.
#[get("/console/meetings/{id}/checkin")]
async fn screen(core: web::Data<Core>, c: Console, id: web::Path<String>) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return not_found();
    };
    let back = format!("{}/console/meetings/{id}", site.prefix);
    let result = async {
        let (code, until) = meetings::checkin_code(&core, &actor, id).await?;
        let r = record::record(&core, &actor, id).await?;
        let frame = Frame::of(&core, &actor, &site, csrf, "meetings", "签到").await?;
        Ok::<_, CoreError>((code, until, r, frame))
    }
    .await;
    let (code, until, r, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let svg = crate::pages::qr_svg(&format!("{CHECKIN_PAGE}?meeting={id}&code={code}"), 320);
    let left = (until - core.now()).num_seconds().max(0) + 1;
    let mut resp = html_with(
        StatusCode::OK,
        &Screen {
            frame,
            title: r.meeting.row.title,
            code,
            svg,
            present: r.counts.present,
            late: r.counts.late,
            invited: r.counts.invited,
            quorum: r.quorum,
        },
        CSP,
    );
    if let Ok(v) = header::HeaderValue::from_str(&left.min(SCREEN_REFRESH_SECS).to_string()) {
        resp.headers_mut().insert(header::REFRESH, v);
    }
    resp
}

/// The attendance sheet (UTF-8 with a BOM, Chinese headers).
#[get("/console/meetings/{id}/attendance.csv")]
async fn csv(core: web::Data<Core>, c: Console, id: web::Path<String>) -> HttpResponse {
    let Console { site, actor, .. } = c;
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return not_found();
    };
    match record::attendance_csv(&core, &actor, id).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"meeting-{id}-attendance.csv\""),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(bytes),
        Err(e) => failure(
            &e.into(),
            Some(format!("{}/console/meetings/{id}", site.prefix)),
        ),
    }
}
