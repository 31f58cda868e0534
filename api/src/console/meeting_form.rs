//! Creating and editing meetings in the console: one meeting, or a series on a rule (the rule
//! builder of the composer, with the next five starts in words), its kind, time and length,
//! place or link, agenda, the lesson to read, the invitees (the audience picker) and the
//! reminders. Made by `meetings::create`, `meetings::series::create` and `meetings::update`
//! with the signed-in member as the actor, each audited by its service; a change of time or
//! place tells the invitees again, as through the JSON API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use fingertip_core::meetings::series::{self, SeriesInput};
use fingertip_core::meetings::{
    self, DEFAULT_REMINDER_OFFSETS, MeetingInput, MeetingKind, MeetingPatch, MeetingView,
};
use fingertip_core::org::units;
use fingertip_core::paging::PageRequest;
use fingertip_core::posts;
use fingertip_core::{Core, CoreError};

use super::fields::{AudiencePick, Choice, Form, RuleFields, local_input, local_time};
use super::problem::Problem;
use super::{CSP, Console, Frame, failure, forged, see_other, words};
use crate::dto::common::Id;
use crate::error::ApiError;
use crate::pages::html_with;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(new_form)
        .service(create)
        .service(edit_form)
        .service(save);
}

/// The reminders a form offers, in minutes before the start.
const REMINDERS: [(i32, &str); 4] = [
    (1440, "提前一天"),
    (120, "提前两小时"),
    (60, "提前一小时"),
    (30, "提前半小时"),
];
/// Lessons a meeting can link to, newest first.
const POSTS: u64 = 50;

fn label(field: &str) -> &'static str {
    match field {
        "kind" => "类型",
        "title" => "名称",
        "unit_id" => "所属单位",
        "starts_at" => "开始时间",
        "ends_at" | "duration_minutes" => "时长",
        "place" => "地点",
        "online_link" => "线上会议链接",
        "agenda" => "议程",
        "post_id" => "学习材料",
        "reminder_offsets" => "提醒",
        "recurrence" => "重复规则",
        "notice_lead_minutes" => "提前通知",
        "timezone" => "时区",
        f if f.starts_with("audience") => "参会人员",
        _ => "表单",
    }
}

/// The form as typed.
#[derive(Debug, Clone)]
struct Fields {
    kind: String,
    title: String,
    unit_id: Option<i64>,
    /// `once` or `rule` (a new meeting only).
    repeat: String,
    starts: String,
    duration: String,
    place: String,
    online_link: String,
    agenda: String,
    post_id: Option<i64>,
    aud: AudiencePick,
    reminders: Vec<i32>,
    rule: RuleFields,
    /// Days before each start that a series' notice goes out.
    lead_days: String,
}

impl Fields {
    fn new(c: &Console) -> Self {
        Fields {
            kind: "party_lesson".into(),
            title: String::new(),
            unit_id: c.actor.unit_id,
            repeat: "once".into(),
            starts: String::new(),
            duration: "90".into(),
            place: String::new(),
            online_link: String::new(),
            agenda: String::new(),
            post_id: None,
            aud: AudiencePick::everyone(),
            reminders: DEFAULT_REMINDER_OFFSETS.to_vec(),
            rule: RuleFields::monthly("14:30"),
            lead_days: "3".into(),
        }
    }

    fn of_meeting(v: &MeetingView, tz: Tz) -> Self {
        let m = &v.row;
        Fields {
            kind: m.kind.as_str().into(),
            title: m.title.clone(),
            unit_id: m.unit_id,
            repeat: "once".into(),
            starts: local_input(m.starts_at, tz),
            duration: (m.ends_at - m.starts_at).num_minutes().to_string(),
            place: m.place.clone().unwrap_or_default(),
            online_link: m.online_link.clone().unwrap_or_default(),
            agenda: m.agenda.clone(),
            post_id: m.post_id,
            aud: AudiencePick::from(&v.audience),
            reminders: v.reminder_offsets.clone(),
            rule: RuleFields::monthly("14:30"),
            lead_days: "3".into(),
        }
    }

    fn of(f: &Form) -> Self {
        Fields {
            kind: f.one("kind"),
            title: f.one("title"),
            unit_id: Id::parse(&f.one("unit_id")).map(|i| i.0),
            repeat: f.one("repeat"),
            starts: f.one("starts"),
            duration: f.one("duration"),
            place: f.one("place"),
            online_link: f.one("online_link"),
            agenda: f.one("agenda"),
            post_id: Id::parse(&f.one("post_id")).map(|i| i.0),
            aud: AudiencePick::of(f),
            reminders: f
                .all("reminder")
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
            rule: RuleFields::of(f),
            lead_days: f.one("lead_days"),
        }
    }

    /// The start and the end of one meeting, or what is wrong with them.
    fn times(&self, tz: Tz, problems: &mut Vec<Problem>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let starts = local_time(&self.starts, tz);
        if starts.is_none() {
            problems.push(Problem::new("starts_at", "请填写开始的日期和时间", label));
        }
        let minutes = self.minutes(problems)?;
        starts.map(|s| (s, s + Duration::minutes(minutes.into())))
    }

    fn minutes(&self, problems: &mut Vec<Problem>) -> Option<i32> {
        match self.duration.trim().parse::<i32>() {
            Ok(m) if m > 0 => Some(m),
            _ => {
                problems.push(Problem::new(
                    "duration_minutes",
                    "请填写时长（分钟）",
                    label,
                ));
                None
            }
        }
    }
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "console/meeting_form.html")]
struct FormPage {
    frame: Frame,
    /// `None`: a new meeting.
    id: Option<i64>,
    f: Fields,
    kinds: Vec<Choice>,
    units: Vec<Choice>,
    posts: Vec<Choice>,
    reminders: Vec<Choice>,
    aud: AudiencePick,
    aud_units: Vec<Choice>,
    aud_roles: Vec<Choice>,
    rule: RuleFields,
    rule_weekdays: Vec<Choice>,
    rule_nthdays: Vec<Choice>,
    rule_nths: Vec<Choice>,
    /// A series' rule in words and its next starts, once previewed.
    rule_words: Option<String>,
    occurrences: Vec<String>,
    problems: Vec<Problem>,
    tz: String,
}

async fn render(
    core: &Core,
    c: &Console,
    id: Option<i64>,
    f: Fields,
    problems: Vec<Problem>,
    status: StatusCode,
) -> HttpResponse {
    let result = async {
        let tree = units::tree(core, &c.actor).await?;
        let lessons = posts::list(core, &c.actor, None, PageRequest::first(POSTS)).await?;
        let title = if id.is_some() {
            "修改会议"
        } else {
            "新建会议"
        };
        let frame = Frame::of(core, &c.actor, &c.site, c.csrf.clone(), "meetings", title).await?;
        Ok::<_, CoreError>((tree, lessons, frame))
    }
    .await;
    let (tree, lessons, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), None),
    };
    let (lines, _) = super::roster::flatten(&tree, None);
    let units = lines
        .iter()
        .map(|u| Choice {
            value: u.id.to_string(),
            label: u.name.clone(),
            checked: f.unit_id == Some(u.id),
            depth: u.depth,
        })
        .collect();
    let tz = core.settings.timezone;
    let now = core.now();
    let (rule_words, occurrences) = match (f.repeat.as_str(), f.rule.rule()) {
        ("rule", Ok(r)) => {
            let start = f.rule.start(tz, now).ok().flatten().unwrap_or(now);
            match fingertip_core::broadcasts::schedule::Rule::new(&r, tz, start) {
                Ok(rule) => {
                    let next = rule.upcoming(start, 5);
                    let words = next
                        .first()
                        .and_then(|first| words::rule(&r, first.with_timezone(&tz)));
                    (
                        words,
                        next.iter().map(|t| words::day_time(*t, tz, now)).collect(),
                    )
                }
                Err(_) => (None, Vec::new()),
            }
        }
        _ => (None, Vec::new()),
    };
    let view = FormPage {
        kinds: MeetingKind::ALL
            .iter()
            .map(|k| Choice::of(k.as_str(), meetings::kind_label(*k), f.kind == k.as_str()))
            .collect(),
        units,
        posts: lessons
            .items
            .iter()
            .map(|p| Choice::of(&p.id.to_string(), &p.title, f.post_id == Some(p.id)))
            .collect(),
        reminders: REMINDERS
            .iter()
            .map(|(m, l)| Choice::of(&m.to_string(), l, f.reminders.contains(m)))
            .collect(),
        aud: f.aud.clone(),
        aud_units: f.aud.units(lines),
        aud_roles: f.aud.roles(),
        rule: f.rule.clone(),
        rule_weekdays: f.rule.weekdays(),
        rule_nthdays: f.rule.nthdays(),
        rule_nths: f.rule.nths(),
        rule_words,
        occurrences,
        tz: tz.name().to_string(),
        frame,
        id,
        f,
        problems,
    };
    html_with(status, &view, CSP)
}

#[get("/console/meetings/new")]
async fn new_form(core: web::Data<Core>, c: Console) -> HttpResponse {
    let f = Fields::new(&c);
    render(&core, &c, None, f, Vec::new(), StatusCode::OK).await
}

/// "预览" shows the form again (with a series' next starts); "保存" creates the meeting or
/// the series.
#[post("/console/meetings/new")]
async fn create(core: web::Data<Core>, c: Console, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    let back = format!("{}/console/meetings", c.site.prefix);
    if !form.carries_csrf(&c.csrf) {
        return forged(back);
    }
    let f = Fields::of(&form);
    if form.one("action") != "save" {
        return render(&core, &c, None, f, Vec::new(), StatusCode::OK).await;
    }
    let tz = core.settings.timezone;
    let mut problems = Vec::new();
    let made = if f.repeat == "rule" {
        let rule = f
            .rule
            .rule()
            .map_err(|m| problems.push(Problem::new("recurrence", m, label)));
        let start = f
            .rule
            .start(tz, core.now())
            .map_err(|m| problems.push(Problem::new("starts_at", m, label)));
        let minutes = f.minutes(&mut problems);
        let lead = f
            .lead_days
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|d| (1..=30).contains(d));
        if lead.is_none() {
            problems.push(Problem::new(
                "notice_lead_minutes",
                "请填写 1 到 30 天",
                label,
            ));
        }
        let (Ok(rule), Ok(start), Some(minutes), Some(lead), true) =
            (rule, start, minutes, lead, problems.is_empty())
        else {
            return render(
                &core,
                &c,
                None,
                f,
                problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        let input = SeriesInput {
            kind: f.kind.clone(),
            title: f.title.clone(),
            unit_id: f.unit_id,
            starts_at: start.unwrap_or_else(|| core.now()),
            duration_minutes: minutes,
            place: opt(&f.place),
            online_link: opt(&f.online_link),
            agenda: opt(&f.agenda),
            audience: f.aud.audience(),
            post_id: f.post_id,
            timezone: Some(tz.name().into()),
            reminder_offsets: Some(f.reminders.clone()),
            recurrence: rule,
            notice_lead_minutes: Some(lead * 24 * 60),
        };
        series::create(&core, &c.actor, input)
            .await
            .map(|s| format!("{back}?series={}", s.row.id))
    } else {
        let Some((starts_at, ends_at)) = f.times(tz, &mut problems) else {
            return render(
                &core,
                &c,
                None,
                f,
                problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        let input = MeetingInput {
            kind: f.kind.clone(),
            title: f.title.clone(),
            unit_id: f.unit_id,
            starts_at,
            ends_at,
            place: opt(&f.place),
            online_link: opt(&f.online_link),
            agenda: opt(&f.agenda),
            audience: f.aud.audience(),
            post_id: f.post_id,
            timezone: Some(tz.name().into()),
            reminder_offsets: Some(f.reminders.clone()),
        };
        meetings::create(&core, &c.actor, input)
            .await
            .map(|m| format!("{back}/{}?created=1", m.row.id))
    };
    match made {
        Ok(to) => see_other(&to).finish(),
        Err(e) => match Problem::all(e, label) {
            Ok(problems) => {
                render(
                    &core,
                    &c,
                    None,
                    f,
                    problems,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => failure(&e.into(), Some(back)),
        },
    }
}

#[get("/console/meetings/{id}/edit")]
async fn edit_form(core: web::Data<Core>, c: Console, id: web::Path<String>) -> HttpResponse {
    let back = format!("{}/console/meetings", c.site.prefix);
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return failure(&ApiError::Core(CoreError::NotFound("meeting")), Some(back));
    };
    match meetings::find_managed(&core, &c.actor, id).await {
        Ok(m) => {
            let f = Fields::of_meeting(&MeetingView::from_row(m), core.settings.timezone);
            render(&core, &c, Some(id), f, Vec::new(), StatusCode::OK).await
        }
        Err(e) => failure(&e.into(), Some(back)),
    }
}

/// Saves what changed (a change of time or place tells the invitees again).
#[post("/console/meetings/{id}/edit")]
async fn save(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let back = format!("{}/console/meetings", c.site.prefix);
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return failure(&ApiError::Core(CoreError::NotFound("meeting")), Some(back));
    };
    let form = Form::parse(&body);
    if !form.carries_csrf(&c.csrf) {
        return forged(back);
    }
    let f = Fields::of(&form);
    let old = match meetings::find_managed(&core, &c.actor, id).await {
        Ok(m) => MeetingView::from_row(m),
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let tz = core.settings.timezone;
    let mut problems = Vec::new();
    let Some((starts_at, ends_at)) = f.times(tz, &mut problems) else {
        return render(
            &core,
            &c,
            Some(id),
            f,
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let m = &old.row;
    let audience = f.aud.audience();
    // The picker does not show members named one by one: keep them.
    let audience = fingertip_core::audience::Audience {
        member_ids: old.audience.member_ids.clone(),
        ..audience
    };
    let patch = MeetingPatch {
        title: Some(f.title.clone()).filter(|t| *t != m.title),
        starts_at: Some(starts_at).filter(|t| *t != m.starts_at),
        ends_at: Some(ends_at).filter(|t| *t != m.ends_at),
        place: Some(opt(&f.place)).filter(|p| *p != m.place),
        online_link: Some(opt(&f.online_link)).filter(|l| *l != m.online_link),
        agenda: Some(f.agenda.trim().to_string()).filter(|a| *a != m.agenda),
        audience: Some(audience).filter(|a| {
            a.all != old.audience.all
                || a.unit_ids != old.audience.unit_ids
                || a.roles != old.audience.roles
                || a.tags != old.audience.tags
        }),
        post_id: Some(f.post_id).filter(|p| *p != m.post_id),
        reminder_offsets: Some(f.reminders.clone()).filter(|r| *r != old.reminder_offsets),
    };
    match meetings::update(&core, &c.actor, id, patch).await {
        Ok(_) => see_other(&format!("{back}/{id}?saved=1")).finish(),
        Err(e) => match Problem::all(e, label) {
            Ok(problems) => {
                render(
                    &core,
                    &c,
                    Some(id),
                    f,
                    problems,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => failure(&e.into(), Some(format!("{back}/{id}"))),
        },
    }
}
