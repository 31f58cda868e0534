//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    audit, auth, broadcasts, care, compliance, disclosures, feedback, health, inbox,
    meeting_series, meetings, members, posts, push, study, surveys, units, ws,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The statuses every operation of a kind can answer, added in one place so that no handler's
/// annotation can forget them. Each follows from how requests are handled:
/// - **401** on every operation with a bearer requirement: the `Auth` extractor refuses a
///   missing, expired, revoked or malformed token (not `/ws`, which upgrades and then closes
///   with 1008, because a browser cannot read a refused upgrade);
/// - **403** on every `/api/v1/admin/` operation: the core refuses a role that may never do it
///   (a member; a secretary on admin-only objects);
/// - **400** and **413** on every operation with a body (malformed JSON, a failing field; a
///   body over 512 KiB, or 16 MiB of CSV), **400** on every operation with query parameters;
/// - **404** on every operation with a path id (an id that names nothing, or an object outside
///   a secretary's scope);
/// - **503** `unavailable`, with `Retry-After`, on every operation that needs the database
///   (see `crate::db_gate`).
///
/// Statuses particular to one operation (409, 429, 502, 503, another 403) are in its own
/// annotation. Optional bodies are marked optional here too.
struct Truth;

/// Operations whose body may be left out.
const OPTIONAL_BODIES: [(&str, &str); 3] = [
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/admin/meetings/{id}/cancel"),
    ("post", "/api/v1/admin/meetings/{id}/make-up"),
];

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// 503 `unavailable`: the database cannot answer (down, or a statement past the timeout).
fn unavailable_response() -> RefOr<utoipa::openapi::Response> {
    let seconds = utoipa::openapi::HeaderBuilder::new()
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer),
        ))
        .description(Some("seconds to wait before trying again"))
        .build();
    ResponseBuilder::new()
        .description(
            "unavailable: the database cannot answer right now (down, or too slow for this \
             request); try again after Retry-After",
        )
        .header("Retry-After", seconds)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| error_response(description));
}

fn apply(method: &str, path: &str, op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|reqs| !reqs.is_empty());
    if secured && path != "/api/v1/ws" {
        add(
            op,
            "401",
            "unauthorized: no bearer token, or an expired, revoked or malformed one",
        );
    }
    if path.starts_with("/api/v1/admin/") {
        add(op, "403", "forbidden: the caller's role may not do this");
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Query,
        RefOr::Ref(_) => false,
    });
    if has_query && path != "/api/v1/ws" {
        add(
            op,
            "400",
            "validation_failed: a query parameter is not valid",
        );
    }
    if path.contains('{') {
        add(
            op,
            "404",
            "not_found: no such object (or outside the units the caller manages)",
        );
    }
    if crate::db_gate::needs_database(path) {
        op.responses
            .responses
            .entry("503".to_string())
            .or_insert_with(unavailable_response);
    }
    if let Some(RefOr::T(body)) = op.request_body.as_mut() {
        if OPTIONAL_BODIES.contains(&(method, path)) {
            body.required = Some(Required::False);
        }
        add(
            op,
            "400",
            "validation_failed: the body is malformed or a field is not valid",
        );
        add(op, "413", "payload_too_large: the body is over the limit");
    }
}

impl Modify for Truth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut api.paths.paths {
            for (method, op) in [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ] {
                if let Some(op) = op {
                    apply(method, path, op);
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Fingertip", description = "The fingertip classroom: broadcasts to members' inboxes and phones."),
    paths(
        health::healthz, health::readyz, crate::telemetry::metrics_text, audit::list_audit, audit::verify_audit,
        auth::admin_login, auth::wechat_login, auth::wechat_bind, auth::refresh, auth::logout, auth::approve_console_login, auth::me,
        units::create_unit, units::list_units,
        members::create_member, members::list_members, members::get_member, members::patch_member, members::import_members, members::password_link,
        posts::create_post, posts::list_posts, posts::get_post, posts::patch_post,
        broadcasts::create_broadcast, broadcasts::list_broadcasts, broadcasts::get_broadcast, broadcasts::update_broadcast,
        broadcasts::list_recipients, broadcasts::cancel_broadcast, broadcasts::remind_broadcast,
        push::record_subscriptions, push::get_subscriptions, push::get_push_preferences, push::put_push_preferences, push::list_templates, push::put_template, push::delete_template,
        meetings::create_meeting, meetings::list_meetings, meetings::meetings_summary, meetings::get_meeting,
        meetings::update_meeting, meetings::cancel_meeting, meetings::checkin_code, meetings::record_attendance,
        meetings::put_minutes, meetings::make_up, meetings::attendance_csv,
        meetings::my_meetings, meetings::my_meeting, meetings::answer_meeting, meetings::check_in,
        meeting_series::create_series, meeting_series::list_series, meeting_series::get_series, meeting_series::cancel_series,
        inbox::list_inbox, inbox::get_unread_count, inbox::get_item, inbox::mark_read, inbox::read_all,
        study::heartbeat, study::my_year, study::unit_year, study::unit_year_csv, study::member_year,
        study::create_record, study::delete_record, study::get_targets, study::put_targets,
        study::get_plan, study::save_plan, study::link_plan_item, study::publish_plan,
        compliance::unit_compliance, compliance::get_rules, compliance::put_rules,
        care::get_care_categories, care::put_care_categories, care::create_care_record,
        care::list_care_records, care::delete_care_record, care::care_talk_year,
        surveys::list_surveys, surveys::create_survey, surveys::get_survey, surveys::update_survey,
        surveys::publish_survey, surveys::close_survey, surveys::remind_survey,
        surveys::survey_participation, surveys::survey_results, surveys::survey_results_csv,
        surveys::my_surveys, surveys::my_survey, surveys::answer_survey,
        feedback::write_feedback, feedback::my_feedback, feedback::my_feedback_thread,
        feedback::follow_up_feedback, feedback::close_my_feedback, feedback::write_anonymous_feedback,
        feedback::anonymous_feedback_thread, feedback::follow_up_anonymous_feedback,
        feedback::close_anonymous_feedback, feedback::list_feedback, feedback::get_feedback,
        feedback::reply_feedback, feedback::close_feedback,
        disclosures::create_disclosure, disclosures::list_disclosures, disclosures::get_disclosure,
        disclosures::update_disclosure, disclosures::submit_disclosure, disclosures::review_disclosure,
        disclosures::approve_disclosure, disclosures::return_disclosure, disclosures::publish_disclosure,
        disclosures::disclosure_archive, disclosures::archived_disclosure,
        disclosures::public_archive, disclosures::public_disclosure,
        ws::live_socket,
    ),
    components(schemas(
        crate::dto::auth::BindRequiredResponse, crate::dto::auth::WechatLoginResponse, crate::dto::live::LiveMessage,
        crate::dto::enums::RoleSchema, crate::dto::enums::PostKindSchema, crate::dto::enums::MediaKindSchema,
        crate::dto::enums::BroadcastStatusSchema, crate::dto::enums::ChannelSchema, crate::dto::enums::PushChannelSchema,
        crate::dto::enums::RecipientStateSchema, crate::dto::enums::DeliveryStatusSchema, crate::dto::enums::MeetingKindSchema,
        crate::dto::enums::MeetingStatusSchema, crate::dto::enums::SeriesStatusSchema, crate::dto::enums::AnswerChoiceSchema,
        crate::dto::enums::AnswerSchema, crate::dto::enums::AttendanceSchema, crate::dto::enums::CheckInMethodSchema,
        crate::dto::enums::WhenSchema, crate::dto::enums::PurposeSchema, crate::dto::enums::QuorumRuleSchema,
        crate::dto::enums::TemplateKindSchema, crate::dto::enums::SourceSchema, crate::dto::enums::TagSchema,
        crate::dto::enums::StudyKindSchema,
        crate::dto::enums::LadderStepSchema,
        crate::dto::enums::LadderStepStateSchema,
        crate::dto::enums::CompliancePeriodSchema,
        crate::dto::enums::PlanItemStateSchema,
        crate::dto::enums::CareKindSchema,
        crate::dto::enums::AppliesToSchema,
        crate::dto::enums::ComplianceStateSchema,
        crate::dto::enums::QuestionKindSchema,
        crate::dto::enums::SurveyStatusSchema,
        crate::dto::enums::FeedbackStateSchema,
        crate::dto::enums::DisclosureStatusSchema,
        crate::dto::enums::DisclosureScopeSchema,
        crate::dto::enums::DisclosureCategorySchema,
    )),
    modifiers(&BearerAuth, &Truth),
    tags(
        (name = "auth", description = "Logins and tokens"),
        (name = "organisation", description = "Units and members (admin)"),
        (name = "content", description = "Posts (admin)"),
        (name = "broadcasts", description = "Broadcasts (admin)"),
        (name = "inbox", description = "The member's inbox"),
        (name = "meetings", description = "Meetings: notices, answers, check-in, attendance, minutes (member and admin)"),
        (name = "push", description = "WeChat subscribe consents (member) and push templates (admin)"),
        (name = "study", description = "The study-hour ledger: reading time, a member's year, a unit's year, offline records, targets"),
        (name = "care", description = "Visits and talks with members (八必访, 八必谈): occasions, records, the year's talks (managers)"),
        (name = "surveys", description = "Anonymous evaluation surveys (测评): writing, publishing, participation, results (managers); answering (members)"),
        (name = "feedback", description = "Feedback to the branch, named or anonymous: a member writes and follows the thread; the unit's managers answer"),
        (name = "disclosures", description = "Opening Party affairs (党务公开): a disclosure from draft through review and approval to publication (managers); the archive (members; the public part without signing in)"),
        (name = "operations", description = "Health"),
    )
)]
pub struct ApiDoc;

/// The document served at `/api/openapi.json`, as pretty-printed JSON (`fingertip openapi`).
pub fn document_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No two wire types share a name: utoipa keys schemas by the type's name, so a second
    /// `RemindResponse` would silently replace the first in the document (it did once).
    #[test]
    fn no_two_wire_types_share_a_schema_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/dto");
        let mut files = vec![dir];
        let mut seen: std::collections::HashMap<String, String> = Default::default();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for e in std::fs::read_dir(&path).unwrap() {
                    files.push(e.unwrap().path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for name in text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("pub struct "))
                .filter_map(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                })
            {
                let at = path.display().to_string();
                if let Some(first) = seen.insert(name.to_string(), at.clone()) {
                    panic!("{name} is defined in {first} and in {at}");
                }
            }
        }
    }

    /// Every `$ref` names a schema of the document (a parameter's enum is not collected on its
    /// own, so a forgotten one would leave clients with a dangling reference).
    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let names: std::collections::HashSet<String> = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let text = doc.to_string();
        let missing: Vec<&str> = text
            .split("#/components/schemas/")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap_or(""))
            .filter(|n| !names.contains(*n))
            .collect();
        assert!(missing.is_empty(), "unresolved: {missing:?}");
    }

    /// Every operation has its own id: generated clients name their functions by it (two
    /// handlers called `delete_record` once broke the mini-program's types).
    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut seen = std::collections::HashSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op["operationId"].as_str() {
                    assert!(seen.insert(id.to_string()), "operationId {id} twice");
                }
            }
        }
        assert!(seen.len() > 80, "{} operations", seen.len());
    }
}
