//! Parts that several console forms share: a form's fields as sent, an option in a list, local
//! times as `datetime-local` inputs carry them, the audience picker and the rule builder (each
//! with its template part, `console/audience.html` and `console/rule.html`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use fingertip_core::audience::Audience;
use fingertip_core::auth::Role;

use super::roster::UnitLine;

/// A form's fields in order, names repeated for check boxes.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// An `application/x-www-form-urlencoded` body.
    pub(super) fn parse(body: &[u8]) -> Self {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `k`, or "".
    pub(super) fn one(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value of `k`.
    pub(super) fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a check box `k` (value `1`) is ticked.
    pub(super) fn on(&self, k: &str) -> bool {
        self.one(k) == "1"
    }

    /// Whether the form carries the session's CSRF value.
    pub(super) fn carries_csrf(&self, csrf: &str) -> bool {
        self.0.iter().any(|(k, v)| k == "csrf" && v == csrf)
    }
}

/// An option of a list or a check box.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) checked: bool,
    /// How far a unit is indented (0 to 6).
    pub(super) depth: usize,
}

impl Choice {
    pub(super) fn of(value: &str, label: &str, checked: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            checked,
            depth: 0,
        }
    }
}

/// A `datetime-local` value (`2026-12-01T09:00`) in the organisation's zone.
pub(super) fn local_time(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    tz.from_local_datetime(&n)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// An instant as a `datetime-local` value in the organisation's zone.
pub(super) fn local_input(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// Tags as typed: separated by commas (either width), 、 or spaces.
pub(super) fn tag_list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

const ROLES: [(Role, &str); 3] = [
    (Role::Member, "党员"),
    (Role::Secretary, "书记"),
    (Role::Admin, "管理员"),
];

/// The audience picker: everyone in the actor's scope, or units (with their subtrees), roles
/// and tags.
#[derive(Debug, Clone)]
pub(super) struct AudiencePick {
    pub(super) everyone: bool,
    units: Vec<i64>,
    roles: Vec<String>,
    pub(super) tags: String,
}

impl AudiencePick {
    pub(super) fn everyone() -> Self {
        Self {
            everyone: true,
            units: Vec::new(),
            roles: Vec::new(),
            tags: String::new(),
        }
    }

    pub(super) fn of(f: &Form) -> Self {
        Self {
            everyone: f.one("audience") != "pick",
            units: f
                .all("unit")
                .iter()
                .filter_map(|u| u.parse().ok())
                .collect(),
            roles: f.all("role"),
            tags: f.one("tags"),
        }
    }

    /// What a stored audience looks like in the picker (members named one by one are not
    /// shown; the console does not pick them).
    pub(super) fn from(a: &Audience) -> Self {
        Self {
            everyone: a.all,
            units: a.unit_ids.clone(),
            roles: a.roles.iter().map(|r| r.as_str().to_string()).collect(),
            tags: a.tags.join("，"),
        }
    }

    pub(super) fn audience(&self) -> Audience {
        if self.everyone {
            return Audience {
                all: true,
                ..Default::default()
            };
        }
        Audience {
            unit_ids: self.units.clone(),
            roles: ROLES
                .iter()
                .filter(|(r, _)| self.roles.iter().any(|w| w == r.as_str()))
                .map(|(r, _)| *r)
                .collect(),
            tags: tag_list(&self.tags),
            ..Default::default()
        }
    }

    /// The units to tick, from the actor's tree.
    pub(super) fn units(&self, lines: Vec<UnitLine>) -> Vec<Choice> {
        lines
            .into_iter()
            .map(|u| Choice {
                checked: self.units.contains(&u.id),
                value: u.id.to_string(),
                label: u.name,
                depth: u.depth,
            })
            .collect()
    }

    pub(super) fn roles(&self) -> Vec<Choice> {
        ROLES
            .iter()
            .map(|(r, l)| Choice::of(r.as_str(), l, self.roles.iter().any(|w| w == r.as_str())))
            .collect()
    }
}

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

/// The rule builder: every day, week (on some weekdays), month (on a day, or the n-th weekday)
/// at a time, from a day; or an RRULE typed as is.
#[derive(Debug, Clone)]
pub(super) struct RuleFields {
    /// `daily`, `weekly`, `monthly`, `nth` or `custom`.
    pub(super) freq: String,
    weekdays: Vec<String>,
    pub(super) monthday: String,
    nth: String,
    nthday: String,
    pub(super) time: String,
    /// The day the rule starts (empty: today).
    pub(super) from: String,
    pub(super) rrule: String,
}

impl RuleFields {
    /// Monthly on the 1st at `time`.
    pub(super) fn monthly(time: &str) -> Self {
        Self {
            freq: "monthly".into(),
            weekdays: Vec::new(),
            monthday: "1".into(),
            nth: "1".into(),
            nthday: "MO".into(),
            time: time.into(),
            from: String::new(),
            rrule: String::new(),
        }
    }

    pub(super) fn of(f: &Form) -> Self {
        Self {
            freq: f.one("freq"),
            weekdays: f.all("weekday"),
            monthday: f.one("monthday"),
            nth: f.one("nth"),
            nthday: f.one("nthday"),
            time: f.one("time"),
            from: f.one("from"),
            rrule: f.one("rrule"),
        }
    }

    /// The RRULE the fields build, or why they do not (in words).
    pub(super) fn rule(&self) -> Result<String, &'static str> {
        if self.freq == "custom" {
            let r = self.rrule.trim();
            return if r.is_empty() {
                Err("请填写规则（RRULE）")
            } else {
                Ok(r.to_string())
            };
        }
        let t = NaiveTime::parse_from_str(self.time.trim(), "%H:%M")
            .map_err(|_| "请填写时间，如 09:00")?;
        let at = format!("BYHOUR={};BYMINUTE={}", t.hour(), t.minute());
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
                    return Err("请至少选择一个星期几");
                }
                Ok(format!("FREQ=WEEKLY;BYDAY={};{at}", days.join(",")))
            }
            "monthly" => match self.monthday.trim().parse::<i32>() {
                Ok(d) if (1..=31).contains(&d) || d == -1 => {
                    Ok(format!("FREQ=MONTHLY;BYMONTHDAY={d};{at}"))
                }
                _ => Err("请选择每月的哪一天"),
            },
            "nth" if NTHS.iter().any(|(n, _)| *n == self.nth) && day(&self.nthday) => Ok(format!(
                "FREQ=MONTHLY;BYDAY={}{};{at}",
                self.nth, self.nthday
            )),
            _ => Err("请选择重复方式"),
        }
    }

    /// The rule's start: the first instant of the `from` day, `None` for today (from now).
    pub(super) fn start(
        &self,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, &'static str> {
        match self.from.trim() {
            "" => Ok(None),
            d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| tz.from_local_datetime(&d.into()).earliest())
                .map(|t| Some(t.with_timezone(&Utc)).filter(|t| *t > now))
                .ok_or("开始日期应为 年-月-日"),
        }
    }

    pub(super) fn weekdays(&self) -> Vec<Choice> {
        WEEKDAYS
            .iter()
            .map(|(v, l)| Choice::of(v, l, self.weekdays.iter().any(|w| w == v)))
            .collect()
    }

    pub(super) fn nths(&self) -> Vec<Choice> {
        NTHS.iter()
            .map(|(v, l)| Choice::of(v, l, self.nth == *v))
            .collect()
    }

    pub(super) fn nthdays(&self) -> Vec<Choice> {
        WEEKDAYS
            .iter()
            .map(|(v, l)| Choice::of(v, l, self.nthday == *v))
            .collect()
    }
}
