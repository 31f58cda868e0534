//! "Watch it land": one broadcast's page. Its counts and read rate (kept up to date by the
//! page's script, which asks `…/stats` every five seconds while the page is open), its pushes by
//! channel, its recipients by state with each push's outcome and failure reason, and the button
//! that reminds those who have not read it. Read and changed through `broadcasts::stats` and
//! `push::deliveries::remind` with the signed-in member as the actor.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fingertip_core::broadcasts::ladder::{Step, StepState, StepView};
use fingertip_core::broadcasts::service as broadcasts;
use fingertip_core::broadcasts::stats::{self, RecipientState};
use fingertip_core::broadcasts::{Channel, CurvePoint, Stats, Status};
use fingertip_core::paging::PageRequest;
use fingertip_core::push::DeliveryStatus;
use fingertip_core::push::deliveries::{self, DeliveryView};
use fingertip_core::{Core, CoreError};

use super::{Console, Frame, SCRIPT_CSP, failure, see_other, status_label, words};
use crate::dto::common::Id;
use crate::error::ApiError;
use crate::pages::html_with;

/// Recipients per page.
const PAGE: u64 = 100;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(stats_json)
        .service(remind)
        .service(cancel);
}

fn not_found() -> HttpResponse {
    failure(&ApiError::Core(CoreError::NotFound("broadcast")), None)
}

fn failed(s: &Stats) -> u64 {
    s.push.wechat.failed + s.push.wecom.failed
}

fn pct(s: &Stats) -> u64 {
    (s.read * 100).checked_div(s.delivered).unwrap_or(0)
}

struct Recipient {
    name: String,
    delivered: String,
    read: Option<String>,
    pushes: Vec<String>,
    failed: bool,
}

fn delivery_text(d: &DeliveryView) -> (String, bool) {
    let channel = match d.channel {
        Channel::Wechat => "微信",
        Channel::Wecom => "企业微信",
        Channel::Inbox => "收件箱",
    };
    let (word, bad) = match d.status {
        DeliveryStatus::Pending => ("待发送", false),
        DeliveryStatus::Sending => ("发送中", false),
        DeliveryStatus::Sent => ("已送达", false),
        DeliveryStatus::Skipped => ("未推送", false),
        DeliveryStatus::Dead => ("失败", true),
        DeliveryStatus::Unknown => ("结果不明", true),
    };
    let round = if d.round > 1 {
        format!("（第{}次提醒）", d.round - 1)
    } else {
        String::new()
    };
    let why = d
        .last_error
        .as_deref()
        .filter(|_| bad || d.status == DeliveryStatus::Skipped)
        .map(|e| format!("：{}", reason(e)))
        .unwrap_or_default();
    (format!("{channel}{round}{word}{why}"), bad)
}

/// A push's failure or skip reason in the console's words, by the code it starts with
/// (`not_bound: …`); an unknown one is shown as it is, shortened.
fn reason(e: &str) -> String {
    let code = e.split_once(':').map_or(e, |(c, _)| c);
    let zh = match code {
        "not_bound" => "未绑定微信",
        "no_wecom_userid" => "没有企业微信账号",
        "no_template" => "这类消息尚未配置订阅模板",
        "no_credit" | "no_consent" => "本人未允许这类订阅消息",
        "deferred" => "企业微信发送额度已满，稍后再发",
        "invaliduser" => "企业微信找不到此人，或应用的可见范围不含此人",
        "canceled" => "广播已取消，未发出",
        "outcome_unknown" => "已发出但未收到回应，为免重复不再发送",
        _ => return e.chars().take(80).collect(),
    };
    zh.into()
}

#[derive(Template)]
#[template(path = "console/broadcast.html")]
struct BroadcastPage {
    frame: Frame,
    id: i64,
    title: String,
    status: &'static str,
    sent: String,
    s: Stats,
    read_pct: u64,
    failed: u64,
    state: &'static str,
    recipients: Vec<Recipient>,
    next: Option<String>,
    notice: Option<String>,
    can_remind: bool,
    /// When it goes out, for one still to send: "12月1日 周二 09:00", or its rule in words.
    schedule: Option<String>,
    /// A rule's next occurrences, in words.
    upcoming: Vec<String>,
    /// Whether it is still scheduled (or repeating), so that it can be canceled.
    can_cancel: bool,
    /// The read curve as an inline SVG (empty before it has gone out).
    chart: String,
    /// The reading deadline, in words.
    deadline: Option<String>,
    /// The required-reading ladder's steps, in order.
    ladder: Vec<LadderLine>,
}

/// A step of the ladder as the page says it.
struct LadderLine {
    what: &'static str,
    when: String,
    outcome: String,
    ran: bool,
}

fn ladder_line(s: &StepView, tz: Tz, now: DateTime<Utc>) -> LadderLine {
    let what = match s.step {
        Step::Remind => "截止前提醒未读成员",
        Step::Urgent => "到期紧急提醒未读成员",
        Step::Summary => "未读名单发给书记",
    };
    let outcome = match s.state {
        StepState::Planned => "待执行".to_string(),
        StepState::Dropped => "广播已取消，不再执行".to_string(),
        StepState::Ran => {
            let unread = s.unread.unwrap_or(0);
            let pushes = s.pushes.unwrap_or(0);
            match s.step {
                _ if unread == 0 => "已执行：全部已读，无需提醒".to_string(),
                Step::Summary => {
                    let units: Vec<String> = s
                        .units
                        .iter()
                        .map(|u| format!("{} {} 人", u.unit, u.unread))
                        .collect();
                    format!("已执行：{pushes} 位书记收到名单（{}）", units.join("，"))
                }
                _ => format!("已执行：未读 {unread} 人，推送 {pushes} 条"),
            }
        }
    };
    LadderLine {
        what,
        when: words::day_time(s.ran_at.unwrap_or(s.due_at), tz, now),
        outcome,
        ran: s.state == StepState::Ran,
    }
}

/// The chart's drawing area, in SVG units.
const CHART_W: f64 = 600.0;
const CHART_TOP: f64 = 8.0;
const CHART_H: f64 = 100.0;

/// The `points` of the curve's polyline: time across, share of the recipients who have read up.
fn curve_points(points: &[CurvePoint], recipients: u64) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let span = (last.at - first.at).num_seconds().max(1) as f64;
    let total = recipients.max(1) as f64;
    points
        .iter()
        .map(|p| {
            let x = (p.at - first.at).num_seconds() as f64 / span * CHART_W;
            let y = CHART_TOP + CHART_H - p.read as f64 / total * CHART_H;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The read curve: reads so far against time since the first send, with its two ends named.
fn chart_svg(
    points: &[CurvePoint],
    recipients: u64,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> String {
    let Some(first) = points.first() else {
        return String::new();
    };
    let base = CHART_TOP + CHART_H;
    format!(
        r##"<svg id="chart" viewBox="0 0 {w} 116" role="img" aria-label="阅读人数随时间的变化" preserveAspectRatio="none"><line x1="0" y1="{top}" x2="{w}" y2="{top}" stroke="#eee"/><line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#ccc"/><polyline id="curve" fill="none" stroke="#2e7d32" stroke-width="2" vector-effect="non-scaling-stroke" points="{pts}"/></svg><figcaption><span>{from}</span><span>100% = 全部收件人</span><span>现在</span></figcaption>"##,
        w = CHART_W,
        top = CHART_TOP,
        base = base,
        pts = curve_points(points, recipients),
        from = super::words::day_time(first.at, tz, now),
    )
}

#[get("/console/broadcasts/{id}")]
async fn page(
    req: HttpRequest,
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return not_found();
    };
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    let (state, filter) = match q.get("state").map(String::as_str) {
        Some("read") => ("read", Some(RecipientState::Read)),
        Some("unread") => ("unread", Some(RecipientState::Unread)),
        Some("failed") => ("failed", Some(RecipientState::Failed)),
        _ => ("all", None),
    };
    let back = format!("{}/console/broadcasts/{id}", site.prefix);
    let result = async {
        let b = broadcasts::get(&core, &actor, id).await?;
        let s = stats::stats(&core, &actor, id).await?;
        let page = PageRequest::parse(Some(PAGE), q.get("cursor").map(String::as_str))?;
        let listed = stats::recipients(&core, &actor, id, filter, page).await?;
        let curve = stats::read_curve(&core, &actor, id).await?;
        let ids: Vec<i64> = listed.items.iter().map(|r| r.member_id).collect();
        let pushes = deliveries::of_members(&core, id, &ids).await?;
        let frame = Frame::of(&core, &actor, &site, csrf, "home", &b.title).await?;
        Ok::<_, CoreError>((b, s, listed, pushes, frame, curve))
    }
    .await;
    let (b, s, listed, mut pushes, frame, curve) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let tz = core.settings.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m月%d日 %H:%M").to_string();
    let recipients = listed
        .items
        .into_iter()
        .map(|r| {
            let texts: Vec<(String, bool)> = pushes
                .remove(&r.member_id)
                .unwrap_or_default()
                .iter()
                .map(delivery_text)
                .collect();
            Recipient {
                failed: texts.iter().any(|(_, bad)| *bad),
                pushes: texts.into_iter().map(|(t, _)| t).collect(),
                name: r.name,
                delivered: local(r.delivered_at),
                read: r.read_at.map(local),
            }
        })
        .collect();
    let now = core.now();
    let notice = q
        .get("reminded")
        .and_then(|n| n.parse::<u64>().ok())
        .map(|n| format!("已向 {n} 位未读成员再次推送提醒。"))
        .or_else(|| {
            q.contains_key("scheduled")
                .then(|| "已安排发送。".to_string())
        })
        .or_else(|| {
            q.contains_key("canceled")
                .then(|| "已取消，不会再发送。".to_string())
        });
    let pending = matches!(b.status, Status::Scheduled | Status::Sending);
    let schedule = match (&b.recurrence, b.next_run_at) {
        (Some(r), Some(next)) if pending || b.status == Status::Sent => {
            Some(words::rule(r, next.with_timezone(&tz)).unwrap_or_else(|| format!("按规则 {r}")))
        }
        (None, _) if b.status == Status::Scheduled => Some(words::day_time(b.send_at, tz, now)),
        _ => None,
    };
    let upcoming = b
        .upcoming
        .iter()
        .map(|t| words::day_time(*t, tz, now))
        .collect();
    html_with(
        StatusCode::OK,
        &BroadcastPage {
            next: listed
                .next_cursor
                .map(|c| format!("{back}?state={state}&cursor={c}")),
            read_pct: pct(&s),
            failed: failed(&s),
            can_remind: s.unread > 0 && b.channels.iter().any(|c| *c != Channel::Inbox),
            can_cancel: pending,
            chart: chart_svg(&curve, s.recipients, tz, now),
            deadline: b.read_by.map(|d| words::day_time(d, tz, now)),
            ladder: b.steps.iter().map(|st| ladder_line(st, tz, now)).collect(),
            schedule,
            upcoming,
            title: b.title,
            status: status_label(b.status),
            sent: local(b.sent_at.unwrap_or(b.send_at)),
            s,
            frame,
            id,
            state,
            recipients,
            notice,
        },
        SCRIPT_CSP,
    )
}

/// The counts, for the page's script.
#[get("/console/broadcasts/{id}/stats")]
async fn stats_json(
    req: HttpRequest,
    core: web::Data<Core>,
    id: web::Path<String>,
) -> HttpResponse {
    // A script asks for this: an ended session is a 401 it can stop on, not the login page.
    let actor = match super::signed_in(&core, &req).await {
        Ok(Some((actor, _))) => actor,
        Ok(None) => {
            return actix_web::ResponseError::error_response(&ApiError::Core(
                CoreError::Unauthorized("the console session has ended; log in again".into()),
            ));
        }
        Err(e) => return actix_web::ResponseError::error_response(&ApiError::from(e)),
    };
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return actix_web::ResponseError::error_response(&ApiError::Core(CoreError::NotFound(
            "broadcast",
        )));
    };
    let with_curve = req.query_string().split('&').any(|p| p == "curve=1");
    let result = async {
        let s = stats::stats(&core, &actor, id).await?;
        let curve = if with_curve {
            Some(stats::read_curve(&core, &actor, id).await?)
        } else {
            None
        };
        Ok::<_, CoreError>((s, curve))
    }
    .await;
    match result {
        Ok((s, curve)) => {
            let mut body = serde_json::json!({
                "recipients": s.recipients,
                "delivered": s.delivered,
                "read": s.read,
                "unread": s.unread,
                "read_pct": pct(&s),
                "failed": failed(&s),
            });
            if let Some(c) = curve {
                body["curve"] = serde_json::json!(curve_points(&c, s.recipients));
            }
            HttpResponse::Ok()
                .insert_header(("cache-control", "no-store"))
                .json(body)
        }
        Err(e) => actix_web::ResponseError::error_response(&ApiError::from(e)),
    }
}

/// Reminds the members who have not read it (a new push round), then back to the page.
#[post("/console/broadcasts/{id}/remind")]
async fn remind(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return not_found();
    };
    let back = format!("{}/console/broadcasts/{id}", site.prefix);
    if super::form(&body).get("csrf") != Some(&csrf) {
        return super::forged(back);
    }
    match deliveries::remind(&core, &actor, id).await {
        Ok((_, n)) => see_other(&format!("{back}?reminded={n}")).finish(),
        Err(e) => failure(&e.into(), Some(back)),
    }
}

/// Cancels a broadcast still to send (or a rule's further occurrences), then back to its page.
#[post("/console/broadcasts/{id}/cancel")]
async fn cancel(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return not_found();
    };
    let back = format!("{}/console/broadcasts/{id}", site.prefix);
    if super::form(&body).get("csrf") != Some(&csrf) {
        return super::forged(back);
    }
    match broadcasts::cancel(&core, &actor, id).await {
        Ok(_) => see_other(&format!("{back}?canceled=1")).finish(),
        Err(e) => failure(&e.into(), Some(back)),
    }
}
