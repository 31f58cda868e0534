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
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fingertip_core::auth::Actor;
use fingertip_core::broadcasts::ladder::Ladder;
use fingertip_core::broadcasts::service::{self as broadcasts, BroadcastInput};
use fingertip_core::org::units;
use fingertip_core::posts::{self, PostInput, PostPatch};
use fingertip_core::{Core, CoreError};

use super::fields::{AudiencePick, Choice, Form, RuleFields, local_time};
use super::problem::Problem;
use super::{Console, Frame, SCRIPT_CSP, failure, forged, see_other, words};
use crate::error::ApiError;
use crate::pages::{html_with, markdown};

const SCRIPT: &str = include_str!("../../static/console-compose.js");

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(submit)
        .service(preview_json)
        .service(script);
}

/// The kinds a composer writes and sends at once (a meeting's notice is written by the
/// meeting; a disclosure goes through its review, docs/disclosure.md).
const KINDS: [(&str, &str); 4] = [
    ("notice", "通知"),
    ("lesson", "党课"),
    ("classroom", "指尖课堂"),
    ("announcement", "公告"),
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
    aud: AudiencePick,
    wechat: bool,
    wecom: bool,
    /// `now`, `at` or `rule`.
    when: String,
    at: String,
    rule: RuleFields,
    read_by: String,
    /// Minutes before the deadline for the reminder; empty: none.
    remind_before: String,
    ladder_urgent: bool,
    ladder_summary: bool,
    urgent: bool,
}

/// The reminder leads the composer offers (minutes, words); the API takes any from 10 minutes
/// to 30 days.
const REMIND_CHOICES: &[(&str, &str)] = &[
    ("", "不提前提醒"),
    ("60", "截止前 1 小时"),
    ("180", "截止前 3 小时"),
    ("1440", "截止前 1 天"),
    ("4320", "截止前 3 天"),
];

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
            aud: AudiencePick::everyone(),
            wechat: core.settings.wechat.is_some(),
            wecom: core.settings.wecom.is_some(),
            when: "now".into(),
            at: String::new(),
            rule: RuleFields::monthly("09:00"),
            read_by: String::new(),
            remind_before: Ladder::default()
                .remind_before_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            ladder_urgent: true,
            ladder_summary: true,
            urgent: false,
        }
    }

    fn of(f: &Form) -> Self {
        Draft {
            post_id: f.one("post_id").parse().ok(),
            kind: f.one("kind"),
            title: f.one("title"),
            summary: f.one("summary"),
            body: f.one("body"),
            study_minutes: f.one("study_minutes"),
            aud: AudiencePick::of(f),
            wechat: f.on("wechat"),
            wecom: f.on("wecom"),
            when: f.one("when"),
            at: f.one("at"),
            rule: RuleFields::of(f),
            read_by: f.one("read_by"),
            remind_before: f.one("remind_before"),
            ladder_urgent: f.on("ladder_urgent"),
            ladder_summary: f.on("ladder_summary"),
            urgent: f.on("urgent"),
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
        let mut channels = vec!["inbox".to_string()];
        if self.wechat {
            channels.push("wechat".into());
        }
        if self.wecom {
            channels.push("wecom".into());
        }
        let mut b = BroadcastInput {
            audience: self.aud.audience(),
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
                match self.rule.rule() {
                    Ok(r) => b.recurrence = Some(r),
                    Err(m) => problems.push(Problem::new("recurrence", m, label)),
                }
                match self.rule.start(tz, now) {
                    Ok(start) => b.send_at = start,
                    Err(m) => problems.push(Problem::new("send_at", m, label)),
                }
            }
            _ => {}
        }
        if !self.read_by.trim().is_empty() {
            match local_time(&self.read_by, tz) {
                Some(t) => b.read_by = Some(t),
                None => problems.push(Problem::new("read_by", "请填写阅读期限的日期和时间", label)),
            }
            let lead = self.remind_before.trim();
            let remind_before_minutes = lead.parse().ok();
            if !lead.is_empty() && remind_before_minutes.is_none() {
                problems.push(Problem::new(
                    "ladder.remind_before_minutes",
                    "请选择提醒时间",
                    label,
                ));
            }
            b.ladder = Some(Ladder {
                remind_before_minutes,
                urgent: self.ladder_urgent,
                summary: self.ladder_summary,
            });
        }
        (post, b, problems)
    }
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
        f if f.starts_with("ladder") => "到期提醒",
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

#[derive(Template)]
#[template(path = "console/compose.html")]
struct ComposePage {
    frame: Frame,
    d: Draft,
    e: Evaluation,
    kinds: Vec<Choice>,
    remind_choices: Vec<Choice>,
    aud: AudiencePick,
    aud_units: Vec<Choice>,
    aud_roles: Vec<Choice>,
    rule: RuleFields,
    rule_weekdays: Vec<Choice>,
    rule_nthdays: Vec<Choice>,
    rule_nths: Vec<Choice>,
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
        remind_choices: REMIND_CHOICES
            .iter()
            .map(|(v, l)| Choice::of(v, l, d.remind_before.trim() == *v))
            .collect(),
        aud_units: d.aud.units(lines),
        aud_roles: d.aud.roles(),
        rule_weekdays: d.rule.weekdays(),
        rule_nthdays: d.rule.nthdays(),
        rule_nths: d.rule.nths(),
        aud: d.aud.clone(),
        rule: d.rule.clone(),
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

/// "预览" shows the form again with its preview; "发送" writes the post and schedules it.
#[post("/console/compose")]
async fn submit(core: web::Data<Core>, c: Console, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    let back = format!("{}/console/compose", c.site.prefix);
    if !form.carries_csrf(&c.csrf) {
        return forged(back);
    }
    let mut d = Draft::of(&form);
    let (e, post, b) = match evaluate(&core, &c.actor, &d).await {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let sending = form.one("action") == "send";
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
                    render(&core, c, d, e, status, notice).await
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
    let form = Form::parse(&body);
    if !form.carries_csrf(&csrf) {
        return json_error(CoreError::Forbidden(super::FORGED.into()));
    }
    match evaluate(&core, &actor, &Draft::of(&form)).await {
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
