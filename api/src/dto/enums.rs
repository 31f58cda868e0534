//! The closed sets of values that requests and responses carry, as OpenAPI enums, so that a
//! client generated from the document knows them. They describe the wire only: the request
//! types keep such fields as strings and the core refuses an unknown value with a 400 naming
//! the field. The tests below keep each set equal to the one the core accepts.

#![allow(non_camel_case_types)]

use utoipa::ToSchema;

/// member, secretary or admin.
#[derive(ToSchema)]
#[schema(as = Role)]
pub enum RoleSchema {
    member,
    secretary,
    admin,
}

/// The kind of a post (`meeting`: a meeting notice, usually written by the server).
#[derive(ToSchema)]
#[schema(as = PostKind)]
pub enum PostKindSchema {
    lesson,
    notice,
    announcement,
    disclosure,
    classroom,
    meeting,
}

/// A survey question's kind: one choice, several, a rating on a scale, or text.
#[derive(ToSchema)]
#[schema(as = QuestionKind)]
pub enum QuestionKindSchema {
    single,
    multiple,
    rating,
    text,
}

/// Where a survey stands (an open survey past its close is `closed`).
#[derive(ToSchema)]
#[schema(as = SurveyStatus)]
pub enum SurveyStatusSchema {
    draft,
    open,
    closed,
}

/// Where a feedback thread stands.
#[derive(ToSchema)]
#[schema(as = FeedbackState)]
pub enum FeedbackStateSchema {
    open,
    answered,
    closed,
}

/// Where a disclosure stands on its way through review.
#[derive(ToSchema)]
#[schema(as = DisclosureStatus)]
pub enum DisclosureStatusSchema {
    draft,
    submitted,
    reviewed,
    approved,
    published,
}

/// Who reads a disclosure once published: the unit's subtree, the organisation, or anyone.
#[derive(ToSchema)]
#[schema(as = DisclosureScope)]
pub enum DisclosureScopeSchema {
    unit,
    organisation,
    public,
}

/// What a disclosure is about.
#[derive(ToSchema)]
#[schema(as = DisclosureCategory)]
pub enum DisclosureCategorySchema {
    plan,
    meeting,
    development,
    dues,
    evaluation,
    other,
}

#[derive(ToSchema)]
#[schema(as = MediaKind)]
pub enum MediaKindSchema {
    image,
    video,
    audio,
    link,
    file,
}

/// Where a broadcast stands.
#[derive(ToSchema)]
#[schema(as = BroadcastStatus)]
pub enum BroadcastStatusSchema {
    scheduled,
    sending,
    sent,
    canceled,
    failed,
}

/// `inbox` is always used; `wechat` and `wecom` only where the server is configured for them.
#[derive(ToSchema)]
#[schema(as = Channel)]
pub enum ChannelSchema {
    inbox,
    wechat,
    wecom,
}

/// A push channel.
#[derive(ToSchema)]
#[schema(as = PushChannel)]
pub enum PushChannelSchema {
    wechat,
    wecom,
}

/// Which recipients to list.
#[derive(ToSchema)]
#[schema(as = RecipientState)]
pub enum RecipientStateSchema {
    read,
    unread,
    failed,
}

/// The state of one push.
#[derive(ToSchema)]
#[schema(as = DeliveryStatus)]
pub enum DeliveryStatusSchema {
    pending,
    sending,
    sent,
    skipped,
    dead,
    unknown,
}

#[derive(ToSchema)]
#[schema(as = MeetingKind)]
pub enum MeetingKindSchema {
    general_meeting,
    committee_meeting,
    group_meeting,
    party_lesson,
    themed_day,
    study_day,
    org_life,
    member_evaluation,
    other,
}

#[derive(ToSchema)]
#[schema(as = MeetingStatus)]
pub enum MeetingStatusSchema {
    scheduled,
    canceled,
}

#[derive(ToSchema)]
#[schema(as = SeriesStatus)]
pub enum SeriesStatusSchema {
    active,
    canceled,
}

/// What a member answers to a meeting notice.
#[derive(ToSchema)]
#[schema(as = AnswerChoice)]
pub enum AnswerChoiceSchema {
    attending,
    leave,
}

/// A member's answer as it stands (`none`: not answered yet).
#[derive(ToSchema)]
#[schema(as = Answer)]
pub enum AnswerSchema {
    none,
    attending,
    leave,
}

/// Attendance at a meeting.
#[derive(ToSchema)]
#[schema(as = Attendance)]
pub enum AttendanceSchema {
    present,
    late,
    absent,
}

#[derive(ToSchema)]
#[schema(as = CheckInMethod)]
pub enum CheckInMethodSchema {
    code,
    manual,
}

/// Which of the caller's meetings to list.
#[derive(ToSchema)]
#[schema(as = MeetingWhen)]
pub enum WhenSchema {
    upcoming,
    past,
}

/// What a meeting's broadcast was for.
#[derive(ToSchema)]
#[schema(as = MeetingPurpose)]
pub enum PurposeSchema {
    notice,
    change,
    cancel,
    reminder,
    nudge,
    make_up,
}

/// The quorum rule of a meeting kind.
#[derive(ToSchema)]
#[schema(as = QuorumRule)]
pub enum QuorumRuleSchema {
    general_meeting,
    committee_meeting,
    none,
}

/// A kind that can have a subscribe template: a post kind, or `reminder`.
#[derive(ToSchema)]
#[schema(as = TemplateKind)]
pub enum TemplateKindSchema {
    lesson,
    notice,
    announcement,
    disclosure,
    classroom,
    meeting,
    reminder,
    digest,
}

/// What a template keyword shows.
#[derive(ToSchema)]
#[schema(as = TemplateSource)]
pub enum SourceSchema {
    title,
    summary,
    time,
    location,
    sender,
    kind,
    deadline,
}

/// A string schema with bounds, as a named component (derive cannot bound a newtype's field).
macro_rules! bounded_string {
    ($ty:ident, $name:literal, $doc:literal, $min:expr, $max:expr) => {
        #[doc = $doc]
        pub struct $ty;

        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($doc))
                    .min_length(Some($min))
                    .max_length(Some($max))
                    .into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
        }
    };
}

bounded_string!(
    TagSchema,
    "Tag",
    "A roster tag (青年, 支委, 预备党员, …).",
    1,
    32
);

/// Where a study credit comes from: reading, a meeting attended, or offline study recorded by
/// an admin (a course, a reading-club session, a youth-forum talk, other).
#[derive(ToSchema)]
#[schema(as = StudyKind)]
pub enum StudyKindSchema {
    reading,
    meeting,
    course,
    reading_club,
    youth_forum,
    other,
}

/// A visit (八必访) or a talk (八必谈).
#[derive(ToSchema)]
#[schema(as = CareKind)]
pub enum CareKindSchema {
    visit,
    talk,
}

/// Where a planned lesson of a study plan stands: done (its post went out), due (its month is
/// not over) or late.
#[derive(ToSchema)]
#[schema(as = PlanItemState)]
pub enum PlanItemStateSchema {
    done,
    due,
    late,
}

/// How often a calendar rule's meetings are due.
#[derive(ToSchema)]
#[schema(as = CompliancePeriod)]
pub enum CompliancePeriodSchema {
    month,
    quarter,
    year,
}

/// The units a calendar rule is for: branches (a unit with units below it, or none above),
/// groups (below another, none below), or any.
#[derive(ToSchema)]
#[schema(as = AppliesTo)]
pub enum AppliesToSchema {
    branch,
    group,
    any,
}

/// Where a calendar rule stands in one period.
#[derive(ToSchema)]
#[schema(as = ComplianceState)]
pub enum ComplianceStateSchema {
    met,
    due,
    missed,
    upcoming,
}

/// A step of a required-reading ladder: the reminder before the deadline, the urgent push at
/// it, the summary of non-readers to the secretaries.
#[derive(ToSchema)]
#[schema(as = LadderStep)]
pub enum LadderStepSchema {
    remind,
    urgent,
    summary,
}

/// planned (waiting for its time or for the broadcast to go out), ran, or dropped (the
/// broadcast was canceled).
#[derive(ToSchema)]
#[schema(as = LadderStepState)]
pub enum LadderStepStateSchema {
    planned,
    ran,
    dropped,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    /// The values an enum schema lists.
    fn values<T: PartialSchema>() -> Vec<String> {
        let json = serde_json::to_value(T::schema()).unwrap();
        json["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("not an enum: {json}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(std::string::ToString::to_string).collect()
    }

    /// The words of a `words!` enum (or `Role`), in order.
    macro_rules! words {
        ($ty:ty) => {
            <$ty>::ALL
                .iter()
                .map(|w| w.as_str().to_string())
                .collect::<Vec<String>>()
        };
    }

    #[test]
    fn the_schemas_list_exactly_what_the_core_accepts() {
        use fingertip_core::{auth::Role, broadcasts, meetings, posts, push};
        assert_eq!(values::<RoleSchema>(), words!(Role));
        assert_eq!(
            values::<StudyKindSchema>(),
            words!(fingertip_core::study::StudyKind)
        );
        assert_eq!(values::<PostKindSchema>(), words!(posts::PostKind));
        assert_eq!(
            values::<QuestionKindSchema>(),
            words!(fingertip_core::surveys::QuestionKind)
        );
        assert_eq!(
            values::<DisclosureStatusSchema>(),
            words!(fingertip_core::disclosures::Status)
        );
        assert_eq!(
            values::<DisclosureScopeSchema>(),
            words!(fingertip_core::disclosures::Scope)
        );
        assert_eq!(
            values::<DisclosureCategorySchema>(),
            words!(fingertip_core::disclosures::Category)
        );
        assert_eq!(
            values::<FeedbackStateSchema>(),
            words!(fingertip_core::feedback::State)
        );
        assert_eq!(
            values::<SurveyStatusSchema>(),
            words!(fingertip_core::surveys::SurveyStatus)
        );
        assert_eq!(
            values::<CareKindSchema>(),
            words!(fingertip_core::care::CareKind)
        );
        assert_eq!(
            values::<PlanItemStateSchema>(),
            words!(fingertip_core::study::plan::ItemState)
        );
        assert_eq!(
            values::<CompliancePeriodSchema>(),
            words!(fingertip_core::compliance::Period)
        );
        assert_eq!(
            values::<AppliesToSchema>(),
            words!(fingertip_core::compliance::AppliesTo)
        );
        assert_eq!(
            values::<ComplianceStateSchema>(),
            words!(fingertip_core::compliance::State)
        );
        assert_eq!(
            values::<LadderStepSchema>(),
            words!(broadcasts::ladder::Step)
        );
        assert_eq!(
            values::<LadderStepStateSchema>(),
            words!(broadcasts::ladder::StepState)
        );
        assert_eq!(values::<MediaKindSchema>(), strs(&posts::MEDIA_KINDS));
        assert_eq!(
            values::<BroadcastStatusSchema>(),
            words!(broadcasts::Status)
        );
        assert_eq!(values::<ChannelSchema>(), words!(broadcasts::Channel));
        assert_eq!(
            values::<DeliveryStatusSchema>(),
            words!(push::DeliveryStatus)
        );
        assert_eq!(
            values::<TemplateKindSchema>(),
            words!(push::templates::TemplateKind)
        );
        assert_eq!(values::<MeetingKindSchema>(), words!(meetings::MeetingKind));
        assert_eq!(
            values::<MeetingStatusSchema>(),
            words!(meetings::MeetingStatus)
        );
        assert_eq!(
            values::<SeriesStatusSchema>(),
            words!(meetings::SeriesStatus)
        );
        assert_eq!(values::<AttendanceSchema>(), words!(meetings::Attendance));
        assert_eq!(
            values::<CheckInMethodSchema>(),
            words!(meetings::CheckInMethod)
        );
        assert_eq!(values::<PurposeSchema>(), words!(meetings::Purpose));
        assert_eq!(values::<AnswerSchema>(), words!(meetings::Answer));
        // A delivery's channel is a push channel: every channel but the inbox.
        let push_channels: Vec<String> = words!(broadcasts::Channel)
            .into_iter()
            .filter(|c| c != broadcasts::Channel::Inbox.as_str())
            .collect();
        assert_eq!(values::<PushChannelSchema>(), push_channels);
        for s in values::<RecipientStateSchema>() {
            assert!(broadcasts::RecipientState::parse(&s).is_ok(), "{s}");
        }
        for s in values::<SourceSchema>() {
            let parsed: Result<push::templates::Source, _> =
                serde_json::from_value(serde_json::json!(s));
            assert!(parsed.is_ok(), "{s}");
        }
    }
}
