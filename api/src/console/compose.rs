//! The composer: a post written in Markdown with its preview beside it, the audience picked
//! with its size shown as it is chosen, the channels, and when: now, at a time, or on a rule
//! with its next five occurrences in words ("每月1日 09:00"); a read-by deadline; urgent.
//!
//! The page works without its script: "预览" posts the form and the page comes back with the
//! preview, the size and the occurrences. With the script (`console-compose.js`) the same
//! preview follows the typing through `POST /console/compose/preview`. Both ask
//! `broadcasts::preview`, which checks the broadcast by the rules `broadcasts::create` applies,
//! with the signed-in member as the actor. "发送" writes the post (`posts::create`) and then
//! schedules it (`broadcasts::create`), each audited by its service; when scheduling is refused
//! after the post was written, the form comes back holding the post's id, so that sending
//! again edits that post instead of writing a second one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use fingertip_core::audience::Audience;
use fingertip_core::auth::{Actor, Role};
use fingertip_core::broadcasts::service::{self as broadcasts, BroadcastInput};
use fingertip_core::org::units;
use fingertip_core::posts::{self, PostInput, PostPatch};
use fingertip_core::{Core, CoreError};

use super::problem::Problem;
use super::{Console, Frame, SCRIPT_CSP, failure, see_other, words};
use crate::error::ApiError;
use crate::pages::{html_with, markdown};

const SCRIPT: &str = include_str!("../../static/console-compose.js");

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(submit)
        .service(preview_json)
        .service(script);
}

/// The kinds a composer writes (a meeting's notice is written by the meeting).
const KINDS: [(&str, &str); 5] = [
    ("notice", "通知"),
    ("lesson", "党课"),
    ("classroom", "指尖课堂"),
    ("announcement", "公告"),
    ("disclosure", "党务公开"),
];
const ROLES: [(Role, &str, &str); 3] = [
    (Role::Member, "member", "党员"),
    (Role::Secretary, "secretary", "书记"),
    (Role::Admin, "admin", "管理员"),
];
const WEEKDAYS: [(&str, &str); 7] = [
    ("MO", "周一"),
    ("TU", "周二"),
    ("WE", "周三"),
    ("TH", "周四"),
    ("FR", "周五"),
    ("SA", "周六"),
    ("SU", "周日"),
];
const NTHS: [(&str, &str); 5] = [
    ("1", "第一个"),
    ("2", "第二个"),
    ("3", "第三个"),
    ("4", "第四个"),
    ("-1", "最后一个"),
];

/// The form as the secretary filled it in, kept as typed so that a refused form comes back
/// as it was.
#[derive(Debug, Clone)]
struct Draft {
    /// The post written by an earlier attempt whose scheduling was refused.
    post_id: Option<i64>,
    kind: String,
    title: String,
    summary: String,
    body: String,
    study_minutes: String,
    everyone: bool,
    units: Vec<i64>,
    roles: Vec<String>,
    tags: String,
    wechat: bool,
    wecom: bool,
    /// `now`, `at` or `rule`.
    when: String,
    at: String,
    /// `daily`, `weekly`, `monthly`, `nth` (the n-th weekday of the month) or `custom`.
    freq: String,
    weekdays: Vec<String>,
    monthday: String,
    nth: String,
    nthday: String,
    time: String,
    /// The day a rule starts (empty: today).
    from: String,
    rrule: String,
    read_by: String,
    urgent: bool,
}

impl Draft {
    /// A new composer's form: a notice to everyone, now, on every configured channel.
    fn new(core: &Core) -> Self {
        Draft {
            post_id: None,
            kind: "notice".into(),
            title: String::new(),
            summary: String::new(),
            body: String::new(),
            study_minutes: String::new(),
            everyone: true,
            units: Vec::new(),
            roles: Vec::new(),
            tags: String::new(),
            wechat: core.settings.wechat.is_some(),
            wecom: core.settings.wecom.is_some(),
            when: "now".into(),
            at: String::new(),
            freq: "monthly".into(),
            weekdays: Vec::new(),
            monthday: "1".into(),
            nth: "1".into(),
            nthday: "MO".into(),
            time: "09:00".into(),
            from: String::new(),
            rrule: String::new(),
            read_by: String::new(),
            urgent: false,
        }
    }

    /// The form's fields (an `application/x-www-form-urlencoded` body, names repeated for
    /// the check boxes).
    fn of(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let all = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let on = |k: &str| one(k) == "1";
        Draft {
            post_id: one("post_id").parse().ok(),
            kind: one("kind"),
            title: one("title"),
            summary: one("summary"),
            body: one("body"),
            study_minutes: one("study_minutes"),
            everyone: one("audience") != "pick",
            units: all("unit").iter().filter_map(|u| u.parse().ok()).collect(),
            roles: all("role"),
            tags: one("tags"),
            wechat: on("wechat"),
            wecom: on("wecom"),
            when: one("when"),
            at: one("at"),
            freq: one("freq"),
            weekdays: all("weekday"),
            monthday: one("monthday"),
            nth: one("nth"),
            nthday: one("nthday"),
            time: one("time"),
            from: one("from"),
            rrule: one("rrule"),
            read_by: one("read_by"),
            urgent: on("urgent"),
        }
    }

    /// The rule the rule fields build, or why they do not.
    fn rule(&self) -> Result<String, Problem> {
        let bad = |field: &str, message: &str| Problem::new(field, message, label);
        if self.freq == "custom" {
            let r = self.rrule.trim();
            return if r.is_empty() {
                Err(bad("recurrence", "请填写规则（RRULE）"))
            } else {
                Ok(r.to_string())
            };
        }
        let t = NaiveTime::parse_from_str(self.time.trim(), "%H:%M")
            .map_err(|_| bad("recurrence", "请填写时间，如 09:00"))?;
        let at = format!(
            "BYHOUR={};BYMINUTE={}",
            chrono::Timelike::hour(&t),
            chrono::Timelike::minute(&t)
        );
        let day = |code: &str| WEEKDAYS.iter().any(|(c, _)| *c == code);
        match self.freq.as_str() {
            "daily" => Ok(format!("FREQ=DAILY;{at}")),
            "weekly" => {
                let days: Vec<&str> = WEEKDAYS
                    .iter()
                    .map(|(c, _)| *c)
                    .filter(|c| self.weekdays.iter().any(|w| w == c))
                    .collect();
                if days.is_empty() {
                    return Err(bad("recurrence", "请至少选择一个星期几"));
                }
                Ok(format!("FREQ=WEEKLY;BYDAY={};{at}", days.join(",")))
            }
            "monthly" => match self.monthday.trim().parse::<i32>() {
                Ok(d) if (1..=31).contains(&d) || d == -1 => {
                    Ok(format!("FREQ=MONTHLY;BYMONTHDAY={d};{at}"))
                }
                _ => Err(bad("recurrence", "请选择每月的哪一天")),
            },
            "nth" if NTHS.iter().any(|(n, _)| *n == self.nth) && day(&self.nthday) => Ok(format!(
                "FREQ=MONTHLY;BYDAY={}{};{at}",
                self.nth, self.nthday
            )),
            _ => Err(bad("recurrence", "请选择重复方式")),
        }
    }

    /// The post and the broadcast this form asks for, and what is wrong with the fields
    /// before the services look at them.
    fn inputs(&self, tz: Tz, now: DateTime<Utc>) -> (PostInput, BroadcastInput, Vec<Problem>) {
        let mut problems = Vec::new();
        let minutes = self.study_minutes.trim();
        let study_minutes = minutes.parse().ok();
        if !minutes.is_empty() && study_minutes.is_none() {
            problems.push(Problem::new("study_minutes", "请填写分钟数（整数）", label));
        }
        let post = PostInput {
            unit_id: None,
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: Some(self.summary.trim().to_string()).filter(|s| !s.is_empty()),
            body_md: self.body.clone(),
            media: Vec::new(),
            study_minutes,
        };
        let audience = if self.everyone {
            Audience {
                all: true,
                ..Default::default()
            }
        } else {
            Audience {
                unit_ids: self.units.clone(),
                roles: ROLES
                    .iter()
                    .filter(|(_, w, _)| self.roles.iter().any(|r| r == w))
                    .map(|(r, _, _)| *r)
                    .collect(),
                tags: self
                    .tags
                    .split([',', '，', '、', ' ', '\u{3000}'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
                ..Default::default()
            }
        };
        let mut channels = vec!["inbox".to_string()];
        if self.wechat {
            channels.push("wechat".into());
        }
        if self.wecom {
            channels.push("wecom".into());
        }
        let mut b = BroadcastInput {
            audience,
            channels: Some(channels),
            urgent: self.urgent,
            timezone: Some(tz.name().to_string()),
            ..Default::default()
        };
        match self.when.as_str() {
            "at" => match local_time(&self.at, tz) {
                Some(t) => b.send_at = Some(t),
                None => problems.push(Problem::new("send_at", "请填写发送的日期和时间", label)),
            },
            "rule" => {
                match self.rule() {
                    Ok(r) => b.recurrence = Some(r),
                    Err(p) => problems.push(p),
                }
                match self.from.trim() {
                    "" => {}
                    d => match NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| tz.from_local_datetime(&d.into()).earliest())
                    {
                        // From today: from now.
                        Some(t) => b.send_at = Some(t.with_timezone(&Utc)).filter(|t| *t > now),
                        None => {
                            problems.push(Problem::new("send_at", "开始日期应为 年-月-日", label));
                        }
                    },
                }
            }
            _ => {}
        }
        if !self.read_by.trim().is_empty() {
            match local_time(&self.read_by, tz) {
                Some(t) => b.read_by = Some(t),
                None => problems.push(Problem::new("read_by", "请填写阅读期限的日期和时间", label)),
            }
        }
        (post, b, problems)
    }
}

/// A `datetime-local` value (`2026-12-01T09:00`) in the organisation's zone.
fn local_time(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    tz.from_local_datetime(&n)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn label(field: &str) -> &'static str {
    match field {
        "kind" => "类型",
        "title" => "标题",
        "summary" => "摘要",
        "body_md" => "正文",
        "study_minutes" => "学习时长",
        "channels" => "推送渠道",
        "send_at" => "发送时间",
        "recurrence" => "重复规则",
        "timezone" => "时区",
        "read_by" => "阅读期限",
        f if f.starts_with("audience") => "发送对象",
        _ => "表单",
    }
}

/// What the composer shows beside the form.
#[derive(Debug, Default, serde::Serialize)]
struct Evaluation {
    /// The body as members will see it.
    html: String,
    audience_size: Option<u64>,
    /// When: "立即发送", "12月1日 周二 09:00 发送", "每月1日 09:00".
    schedule: Option<String>,
    /// The next occurrences of a rule, in words.
    occurrences: Vec<String>,
    problems: Vec<Problem>,
}

/// The preview of `d`, checked by the services as the signed-in `actor`.
async fn evaluate(
    core: &Core,
    actor: &Actor,
    d: &Draft,
) -> Result<(Evaluation, PostInput, BroadcastInput), CoreError> {
    let tz = core.settings.timezone;
    let now = core.now();
    let (post, b, mut problems) = d.inputs(tz, now);
    let p = broadcasts::preview(core, actor, &b).await?;
    let ours = |f: &str| problems.iter().any(|p: &Problem| p.field == f);
    let schedule_ok = !ours("send_at") && !ours("recurrence") && !ours("read_by");
    let mut e = Evaluation {
        html: markdown::to_html(&d.body),
        audience_size: p.audience_size,
        ..Default::default()
    };
    if let Some(t) = p.timing.filter(|_| schedule_ok) {
        e.schedule = Some(match (&t.recurrence, d.when.as_str()) {
            (Some(r), _) => {
                words::rule(r, t.first.with_timezone(&tz)).unwrap_or_else(|| format!("按规则 {r}"))
            }
            (None, "at") => format!("{} 发送", words::day_time(t.first, tz, now)),
            (None, _) => "立即发送".into(),
        });
        if t.recurrence.is_some() {
            e.occurrences = t
                .upcoming
                .iter()
                .map(|at| words::day_time(*at, tz, now))
                .collect();
        }
    }
    problems.extend(p.problems.into_iter().map(|d| Problem::of(d, label)));
    e.problems = problems;
    Ok((e, post, b))
}

struct Choice {
    value: String,
    label: String,
    checked: bool,
    /// How far a unit is indented (0 to 6).
    depth: usize,
}

impl Choice {
    fn of(value: &str, label: &str, checked: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            checked,
            depth: 0,
        }
    }
}

#[derive(Template)]
#[template(path = "console/compose.html")]
struct ComposePage {
    frame: Frame,
    d: Draft,
    e: Evaluation,
    kinds: Vec<Choice>,
    units: Vec<Choice>,
    roles: Vec<Choice>,
    weekdays: Vec<Choice>,
    nthdays: Vec<Choice>,
    nths: Vec<Choice>,
    wechat_on: bool,
    wecom_on: bool,
    tz: String,
    /// Said above the form: the post was kept after scheduling was refused, say.
    notice: Option<String>,
}

async fn render(
    core: &Core,
    c: Console,
    d: Draft,
    e: Evaluation,
    status: StatusCode,
    notice: Option<String>,
) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    let tree = match units::tree(core, &actor).await {
        Ok(t) => t,
        Err(e) => return failure(&e.into(), None),
    };
    let frame = match Frame::of(core, &actor, &site, csrf, "compose", "写通知").await {
        Ok(f) => f,
        Err(e) => return failure(&e.into(), None),
    };
    let (lines, _) = super::roster::flatten(&tree, None);
    let view = ComposePage {
        kinds: KINDS
            .iter()
            .map(|(v, l)| Choice::of(v, l, d.kind == *v))
            .collect(),
        units: lines
            .into_iter()
            .map(|u| Choice {
                checked: d.units.contains(&u.id),
                value: u.id.to_string(),
                label: u.name,
                depth: u.depth,
            })
            .collect(),
        roles: ROLES
            .iter()
            .map(|(_, v, l)| Choice::of(v, l, d.roles.iter().any(|r| r == v)))
            .collect(),
        weekdays: WEEKDAYS
            .iter()
            .map(|(v, l)| Choice::of(v, l, d.weekdays.iter().any(|w| w == v)))
            .collect(),
        nthdays: WEEKDAYS
            .iter()
            .map(|(v, l)| Choice::of(v, l, d.nthday == *v))
            .collect(),
        nths: NTHS
            .iter()
            .map(|(v, l)| Choice::of(v, l, d.nth == *v))
            .collect(),
        wechat_on: core.settings.wechat.is_some(),
        wecom_on: core.settings.wecom.is_some(),
        tz: core.settings.timezone.name().to_string(),
        frame,
        d,
        e,
        notice,
    };
    html_with(status, &view, SCRIPT_CSP)
}

#[get("/console/compose")]
async fn page(core: web::Data<Core>, c: Console) -> HttpResponse {
    let d = Draft::new(&core);
    let e = Evaluation::default();
    render(&core, c, d, e, StatusCode::OK, None).await
}

fn forged(back: String) -> HttpResponse {
    failure(
        &ApiError::Core(CoreError::Forbidden(
            "the form did not come from this console".into(),
        )),
        Some(back),
    )
}

/// "预览" shows the form again with its preview; "发送" writes the post and schedules it.
#[post("/console/compose")]
async fn submit(core: web::Data<Core>, c: Console, body: web::Bytes) -> HttpResponse {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let back = format!("{}/console/compose", c.site.prefix);
    if !pairs.iter().any(|(k, v)| k == "csrf" && *v == c.csrf) {
        return forged(back);
    }
    let mut d = Draft::of(&pairs);
    let (e, post, b) = match evaluate(&core, &c.actor, &d).await {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let sending = pairs.iter().any(|(k, v)| k == "action" && v == "send");
    if !sending {
        return render(&core, c, d, e, StatusCode::OK, None).await;
    }
    if !e.problems.is_empty() {
        return render(&core, c, d, e, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    let written = match d.post_id {
        Some(id) => {
            let patch = PostPatch {
                kind: Some(post.kind),
                title: Some(post.title),
                summary: Some(post.summary),
                body_md: Some(post.body_md),
                media: None,
                study_minutes: post.study_minutes,
            };
            posts::patch(&core, &c.actor, id, patch).await
        }
        None => posts::create(&core, &c.actor, post).await,
    };
    let post_id = match written {
        Ok(p) => p.id,
        Err(CoreError::Validation { details, .. }) => {
            let e = Evaluation {
                problems: details.into_iter().map(|d| Problem::of(d, label)).collect(),
                ..e
            };
            return render(&core, c, d, e, StatusCode::UNPROCESSABLE_ENTITY, None).await;
        }
        Err(err) => return failure(&err.into(), Some(back)),
    };
    let input = BroadcastInput { post_id, ..b };
    match broadcasts::create(&core, &c.actor, input).await {
        Ok(v) => see_other(&format!(
            "{}/console/broadcasts/{}?scheduled=1",
            c.site.prefix, v.id
        ))
        .finish(),
        Err(err) => {
            // The post is written: keep it, so that sending again edits it.
            d.post_id = Some(post_id);
            let notice = Some("文章已保存，但没能安排发送：请修改后再发送。".to_string());
            match err {
                CoreError::Validation { details, .. } => {
                    let e = Evaluation {
                        problems: details.into_iter().map(|d| Problem::of(d, label)).collect(),
                        ..e
                    };
                    render(&core, c, d, e, StatusCode::UNPROCESSABLE_ENTITY, notice).await
                }
                err => {
                    let api = ApiError::from(err);
                    let status = actix_web::ResponseError::status_code(&api);
                    let (_, why) = super::wording(api.code(), status);
                    let e = Evaluation {
                        problems: vec![Problem::new("form", why, label)],
                        ..e
                    };
                    render(&core, c, d, e, StatusCode::CONFLICT, notice).await
                }
            }
        }
    }
}

fn json_error(e: CoreError) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::from(e))
}

/// The preview as JSON, for the page's script: the rendered body, the audience's size, the
/// schedule in words and what is wrong. An ended session is a 401 the script stops on.
#[post("/console/compose/preview")]
async fn preview_json(req: HttpRequest, core: web::Data<Core>, body: web::Bytes) -> HttpResponse {
    let (actor, csrf) = match super::signed_in(&core, &req).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return json_error(CoreError::Unauthorized(
                "the console session has ended; log in again".into(),
            ));
        }
        Err(e) => return json_error(e),
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    if !pairs.iter().any(|(k, v)| k == "csrf" && *v == csrf) {
        return json_error(CoreError::Forbidden(
            "the form did not come from this console".into(),
        ));
    }
    match evaluate(&core, &actor, &Draft::of(&pairs)).await {
        Ok((e, _, _)) => HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .json(e),
        Err(e) => json_error(e),
    }
}

#[get("/console/static/console-compose.js")]
async fn script() -> HttpResponse {
    super::asset("text/javascript; charset=utf-8", SCRIPT)
}
