//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    audit, auth, broadcasts, health, inbox, meeting_series, meetings, members, posts, push, units,
    ws,
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

#[derive(OpenApi)]
#[openapi(
    info(title = "Fingertip", description = "The fingertip classroom: broadcasts to members' inboxes and phones."),
    paths(
        health::healthz, health::readyz, audit::list_audit, audit::verify_audit,
        auth::admin_login, auth::wechat_login, auth::wechat_bind, auth::refresh, auth::logout, auth::me,
        units::create_unit, units::list_units,
        members::create_member, members::list_members, members::get_member, members::patch_member, members::import_members,
        posts::create_post, posts::list_posts, posts::get_post, posts::patch_post,
        broadcasts::create_broadcast, broadcasts::list_broadcasts, broadcasts::get_broadcast, broadcasts::update_broadcast,
        broadcasts::list_recipients, broadcasts::cancel_broadcast, broadcasts::remind_broadcast,
        push::record_subscriptions, push::get_subscriptions, push::list_templates, push::put_template, push::delete_template,
        meetings::create_meeting, meetings::list_meetings, meetings::meetings_summary, meetings::get_meeting,
        meetings::update_meeting, meetings::cancel_meeting, meetings::checkin_code, meetings::record_attendance,
        meetings::put_minutes, meetings::make_up, meetings::attendance_csv,
        meetings::my_meetings, meetings::my_meeting, meetings::answer_meeting, meetings::check_in,
        meeting_series::create_series, meeting_series::list_series, meeting_series::get_series, meeting_series::cancel_series,
        inbox::list_inbox, inbox::get_unread_count, inbox::get_item, inbox::mark_read, inbox::read_all,
        ws::live_socket,
    ),
    components(schemas(crate::dto::auth::BindRequiredResponse)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Logins and tokens"),
        (name = "organisation", description = "Units and members (admin)"),
        (name = "content", description = "Posts (admin)"),
        (name = "broadcasts", description = "Broadcasts (admin)"),
        (name = "inbox", description = "The member's inbox"),
        (name = "meetings", description = "Meetings: notices, answers, check-in, attendance, minutes (member and admin)"),
        (name = "push", description = "WeChat subscribe consents (member) and push templates (admin)"),
        (name = "operations", description = "Health"),
    )
)]
pub struct ApiDoc;
