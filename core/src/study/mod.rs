//! The study-hour ledger (学时, issue 13): what each member has studied in a year against
//! their target, and who in a unit is behind.
//!
//! Credits come from three places:
//! - **reading** ([`reading`]): the time an item was open and visible on a phone or the reading
//!   page, as reported by heartbeats and bounded by what the server can vouch for (the wall
//!   time between one device's heartbeats, time another device already counted, and the
//!   post's `study_minutes`); stored in `study_entries`, one row per inbox item;
//! - **meetings** ([`ledger`]): the duration of each study meeting (a Party lesson, a study
//!   day, a themed Party day) the member attended, read from the meetings' own records, so a
//!   corrected attendance corrects the ledger;
//! - **offline study** ([`records`]) an admin or secretary records: a course, a reading-club
//!   (书香支部) session, a youth-forum (青年论坛) talk, with a note.
//!
//! Targets ([`targets`]) are minutes a year: a default and rules by role or tag (DOMAIN.md: 32
//! hours, 56 for leading cadres, tagged `领导干部`); a member's target is the highest that
//! applies. Years are calendar years in the organisation's zone.

use chrono::{DateTime, Datelike, TimeZone, Utc};

pub mod ledger;
pub mod plan;
pub mod reading;
pub mod records;
pub mod targets;

use crate::Core;
use crate::meetings::MeetingKind;

crate::words! {
    /// Where a credit comes from. `meeting` is never stored: attendance is read from the
    /// meetings themselves.
    pub enum StudyKind {
        Reading = "reading",
        Meeting = "meeting",
        Course = "course",
        ReadingClub = "reading_club",
        YouthForum = "youth_forum",
        Other = "other",
    }
}

impl StudyKind {
    /// The kinds an admin records by hand.
    pub const OFFLINE: [StudyKind; 4] = [
        StudyKind::Course,
        StudyKind::ReadingClub,
        StudyKind::YouthForum,
        StudyKind::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StudyKind::Reading => "阅读学习",
            StudyKind::Meeting => "会议学习",
            StudyKind::Course => "培训课程",
            StudyKind::ReadingClub => "书香支部",
            StudyKind::YouthForum => "青年论坛",
            StudyKind::Other => "其他",
        }
    }
}

/// The meetings whose attendance counts as study.
pub const STUDY_MEETINGS: [MeetingKind; 3] = [
    MeetingKind::PartyLesson,
    MeetingKind::StudyDay,
    MeetingKind::ThemedDay,
];

/// The year of `t` in the organisation's zone.
pub fn year_of(core: &Core, t: DateTime<Utc>) -> i32 {
    t.with_timezone(&core.settings.timezone).year()
}

/// The first instant of `year` and of the next, in the organisation's zone.
pub fn year_bounds(core: &Core, year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let tz = core.settings.timezone;
    let start = |y: i32| {
        tz.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .earliest()
            .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
    };
    (start(year), start(year + 1))
}

/// The years a ledger may be asked for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
