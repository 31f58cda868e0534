//! Keeping close to members (DOMAIN.md: the eight visits and eight talks, 八必访 and 八必谈):
//! secretaries record a visit to or a talk with a member, its occasion, date, who went, and
//! notes only the unit's managers read; per unit and year, who has had their yearly talk, and a
//! reminder to the secretary before the year ends.
//!
//! - `categories`: the organisation's lists of occasions, an admin's to change;
//! - `records`: recording, listing and removing visits and talks;
//! - `talks`: the year's talks per member, and the workers' reminder.
//!
//! Members have no route here: a member never reads a record, not even about themselves.
//! Rules as implemented: docs/care.md.

use serde::{Deserialize, Serialize};

pub mod categories;
pub mod records;
pub mod talks;

crate::words! {
    /// A visit (访) or a talk (谈). Stored in `care_categories.kind` and `care_records.kind`.
    pub enum CareKind {
        Visit = "visit",
        Talk = "talk",
    }
}

/// Who went, as stored in `care_records.visitors` (member ids).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct Visitors(pub Vec<i64>);
