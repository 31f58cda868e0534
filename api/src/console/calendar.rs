//! The meeting calendar in the console (日历): a unit's year rule by rule, each period met,
//! due (with the days left and what is planned), missed or upcoming, read through
//! `compliance::report` with the signed-in member as the actor (a secretary: their subtree).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use fingertip_core::compliance::{self, State};
use fingertip_core::org::units;
use fingertip_core::{Core, CoreError};

use super::fields::Choice;
use super::roster::flatten;
use super::{CSP, Console, Frame, failure};
use crate::dto::common::Id;
use crate::pages::html_with;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

/// One period as a chip: its words, its state's class and what it says on hover.
struct Cell {
    label: String,
    class: &'static str,
    note: String,
}

struct RuleRow {
    label: &'static str,
    cadence: String,
    cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "console/calendar.html")]
struct CalendarPage {
    frame: Frame,
    unit: String,
    year: i32,
    units: Vec<Choice>,
    rules: Vec<RuleRow>,
    missed: usize,
    /// The running periods not yet met, in words ("主题党日：12月，还剩 5 天").
    due: Vec<String>,
}

fn cell(p: compliance::PeriodReport) -> Cell {
    let (class, note) = match p.state {
        State::Met => (
            "met",
            format!(
                "已召开：{}",
                p.held
                    .iter()
                    .map(|m| m.title.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        ),
        State::Due => (
            "due",
            match p.planned.first() {
                Some(m) => format!("还剩 {} 天，已安排：{}", p.days_left.unwrap_or(0), m.title),
                None => format!("还剩 {} 天，尚未安排", p.days_left.unwrap_or(0)),
            },
        ),
        State::Missed => ("missed", "未召开".to_string()),
        State::Upcoming => ("upcoming", "未开始".to_string()),
    };
    Cell {
        label: p.label,
        class,
        note,
    }
}

#[get("/console/calendar")]
async fn page(req: HttpRequest, core: web::Data<Core>, c: Console) -> HttpResponse {
    let q: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let asked = q.get("unit_id").and_then(|u| Id::parse(u)).map(|i| i.0);
    let year = q.get("year").and_then(|y| y.trim().parse().ok());
    let back = format!("{}/console/calendar", c.site.prefix);
    let result = async {
        let tree = units::tree(&core, &c.actor).await?;
        let (lines, _) = flatten(&tree, asked);
        // The asked unit, else the secretary's own, else the first the actor manages.
        let unit = asked
            .or(c.actor.unit_id.filter(|u| lines.iter().any(|l| l.id == *u)))
            .or_else(|| lines.first().map(|l| l.id))
            .ok_or(CoreError::NotFound("unit"))?;
        let report = compliance::report(&core, &c.actor, unit, year).await?;
        let frame = Frame::of(&core, &c.actor, &c.site, c.csrf.clone(), "calendar", "日历").await?;
        Ok::<_, CoreError>((report, lines, frame))
    }
    .await;
    let (report, lines, frame) = match result {
        Ok(r) => r,
        Err(e) => return failure(&e.into(), Some(back)),
    };
    let mut due = vec![];
    let rules = report
        .rules
        .into_iter()
        .map(|r| {
            let every = match r.rule.period {
                compliance::Period::Month => "每月",
                compliance::Period::Quarter => "每季度",
                compliance::Period::Year => "每年",
            };
            for p in r.periods.iter().filter(|p| p.state == State::Due) {
                due.push(format!(
                    "{}：{}，还剩 {} 天",
                    r.label,
                    p.label,
                    p.days_left.unwrap_or(0)
                ));
            }
            RuleRow {
                label: r.label,
                cadence: format!("{every}至少 {} 次", r.rule.min_count),
                cells: r.periods.into_iter().map(cell).collect(),
            }
        })
        .collect();
    let page = CalendarPage {
        frame,
        unit: report.unit,
        year: report.year,
        units: lines
            .into_iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: u.name,
                checked: u.id == report.unit_id,
                depth: u.depth,
            })
            .collect(),
        rules,
        missed: report.missed,
        due,
    };
    html_with(StatusCode::OK, &page, CSP)
}
