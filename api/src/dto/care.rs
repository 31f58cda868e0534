//! Visits and talks (八必访, 八必谈) on the wire: the occasions, the records, the year's talks.

use chrono::{DateTime, NaiveDate, Utc};
use fingertip_core::care::CareKind;
use fingertip_core::care::categories::{Category, Lists};
use fingertip_core::care::records::{Person, RecordView};
use fingertip_core::care::talks::TalkYear;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, IdIn};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareCategoryBody {
    /// a-z, 0-9 and _, 1 to 32.
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    #[schema(min_length = 1, max_length = 64)]
    pub label: String,
}

/// The occasions for a visit and for a talk.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareCategoriesBody {
    #[schema(min_items = 1, max_items = 30)]
    pub visits: Vec<CareCategoryBody>,
    #[schema(min_items = 1, max_items = 30)]
    pub talks: Vec<CareCategoryBody>,
}

impl From<Lists> for CareCategoriesBody {
    fn from(l: Lists) -> Self {
        let body = |v: Vec<Category>| {
            v.into_iter()
                .map(|c| CareCategoryBody {
                    code: c.code,
                    label: c.label,
                })
                .collect()
        };
        CareCategoriesBody {
            visits: body(l.visits),
            talks: body(l.talks),
        }
    }
}

impl From<CareCategoriesBody> for Lists {
    fn from(b: CareCategoriesBody) -> Self {
        let list = |v: Vec<CareCategoryBody>| {
            v.into_iter()
                .map(|c| Category {
                    code: c.code,
                    label: c.label,
                })
                .collect()
        };
        Lists {
            visits: list(b.visits),
            talks: list(b.talks),
        }
    }
}

/// A visit or a talk to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareRecordRequest {
    pub member_id: IdIn,
    #[schema(value_type = super::enums::CareKindSchema)]
    pub kind: String,
    /// An occasion's code of that kind.
    #[schema(max_length = 32)]
    pub category: String,
    /// Default today; not in the future.
    pub date: Option<NaiveDate>,
    /// The members who went.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub visitors: Vec<IdIn>,
    /// Read only by the unit's managers; never in the audit log.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonBody {
    #[schema(value_type = String)]
    pub id: Id,
    pub name: String,
}

impl From<Person> for PersonBody {
    fn from(p: Person) -> Self {
        PersonBody {
            id: Id(p.id),
            name: p.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CareRecordResponse {
    #[schema(value_type = String)]
    pub id: Id,
    pub member: PersonBody,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    #[schema(value_type = super::enums::CareKindSchema)]
    pub kind: CareKind,
    pub category: String,
    pub category_label: String,
    pub date: NaiveDate,
    pub visitors: Vec<PersonBody>,
    pub notes: Option<String>,
    #[schema(value_type = Option<String>)]
    pub created_by: Option<Id>,
    pub created_at: DateTime<Utc>,
}

impl From<RecordView> for CareRecordResponse {
    fn from(r: RecordView) -> Self {
        CareRecordResponse {
            id: Id(r.id),
            member: r.member.into(),
            unit_id: r.unit_id.map(Id),
            kind: r.kind,
            category: r.category,
            category_label: r.category_label,
            date: r.date,
            visitors: r.visitors.into_iter().map(Into::into).collect(),
            notes: r.notes,
            created_by: r.created_by.map(Id),
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CareRecordList {
    /// Newest first, at most 500.
    pub items: Vec<CareRecordResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CareRecordQuery {
    /// A unit of the caller's scope, with its subtree; the whole scope by default.
    pub unit_id: Option<String>,
    pub year: Option<i32>,
    pub member_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TalkYearQuery {
    /// A unit of the caller's scope (with its subtree).
    pub unit_id: Option<String>,
    /// Default: this year.
    pub year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TalkedBody {
    pub member: PersonBody,
    pub talks: u32,
    pub last_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TalkYearResponse {
    #[schema(value_type = String)]
    pub unit_id: Id,
    pub year: i32,
    /// Members with at least one talk this year.
    pub talked: Vec<TalkedBody>,
    /// Active members without one yet.
    pub not_yet: Vec<PersonBody>,
}

impl From<TalkYear> for TalkYearResponse {
    fn from(t: TalkYear) -> Self {
        TalkYearResponse {
            unit_id: Id(t.unit_id),
            year: t.year,
            talked: t
                .talked
                .into_iter()
                .map(|x| TalkedBody {
                    member: x.member.into(),
                    talks: x.talks,
                    last_on: x.last_on,
                })
                .collect(),
            not_yet: t.not_yet.into_iter().map(Into::into).collect(),
        }
    }
}
