//! Meetings: the admin side (create, edit, cancel, record, check-in code, attendance,
//! minutes, make-up study, lists, CSV) and the member side (my meetings, answer, check in).

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::Utc;
use fingertip_core::Core;
use fingertip_core::meetings::{self, MeetingInput, MeetingPatch, record};
use fingertip_core::paging::PageRequest;

use crate::dto::meetings::*;
use crate::dto::{Id, Paged, optional_query_id};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, optional_json, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `summary` before `{id}`, so that it is not read as an id.
    cfg.service(meetings_summary)
        .service(create_meeting)
        .service(list_meetings)
        .service(get_meeting)
        .service(update_meeting)
        .service(cancel_meeting)
        .service(checkin_code)
        .service(record_attendance)
        .service(put_minutes)
        .service(make_up)
        .service(attendance_csv)
        .service(my_meetings)
        .service(my_meeting)
        .service(answer_meeting)
        .service(check_in);
}

fn unit_param(raw: Option<&str>) -> ApiResult<Option<i64>> {
    Ok(optional_query_id("unit_id", raw)?)
}

/// Create a meeting: invitees are resolved from the audience, the notice goes out at once
/// (inbox item of kind `meeting`, pushes), and the reminders are scheduled.
#[utoipa::path(post, path = "/api/v1/admin/meetings", tag = "meetings", security(("bearer" = [])),
    request_body = CreateMeetingRequest,
    responses((status = 201, body = MeetingResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/admin/meetings")]
pub async fn create_meeting(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CreateMeetingRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = MeetingInput {
        kind: b.kind,
        title: b.title,
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        starts_at: b.starts_at.with_timezone(&Utc),
        ends_at: b.ends_at.with_timezone(&Utc),
        place: b.place,
        online_link: b.online_link,
        agenda: b.agenda,
        audience: b.audience.to_core()?,
        post_id: b.post_id.map(|p| p.parse("post_id")).transpose()?,
        timezone: b.timezone,
        reminder_offsets: b.reminder_offsets,
    };
    let v = meetings::create(&core, &a.0, input).await?;
    Ok(HttpResponse::Created().json(MeetingResponse::from(v)))
}

/// Meetings of a year (by start, latest first), of a unit and its subtree or of every unit the
/// caller manages.
#[utoipa::path(get, path = "/api/v1/admin/meetings", tag = "meetings", security(("bearer" = [])),
    params(MeetingsQuery), responses((status = 200, body = Paged<MeetingResponse>), (status = 400, body = ErrorBody)))]
#[get("/admin/meetings")]
pub async fn list_meetings(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<MeetingsQuery>,
) -> ApiResult<web::Json<Paged<MeetingResponse>>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let unit = unit_param(q.unit_id.as_deref())?;
    let p = record::list(&core, &a.0, unit, q.year, page).await?;
    Ok(web::Json(Paged::from_page(p, MeetingResponse::from)))
}

/// Meetings held (not canceled) per kind, per quarter and per month of a year.
#[utoipa::path(get, path = "/api/v1/admin/meetings/summary", tag = "meetings", security(("bearer" = [])),
    params(SummaryQuery), responses((status = 200, body = SummaryResponse), (status = 400, body = ErrorBody)))]
#[get("/admin/meetings/summary")]
pub async fn meetings_summary(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<SummaryQuery>,
) -> ApiResult<web::Json<SummaryResponse>> {
    let unit = unit_param(q.unit_id.as_deref())?;
    let (year, kinds) = record::summary(&core, &a.0, unit, q.year).await?;
    Ok(web::Json(SummaryResponse {
        year,
        unit_id: unit.map(Id),
        kinds: kinds.into_iter().map(Into::into).collect(),
    }))
}

/// The meeting's record: counts, quorum, every invitee's answer and attendance, and the
/// broadcasts sent for it.
#[utoipa::path(get, path = "/api/v1/admin/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = MeetingRecordResponse), (status = 404, body = ErrorBody)))]
#[get("/admin/meetings/{id}")]
pub async fn get_meeting(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<MeetingRecordResponse>> {
    let id = path_id(&id, "meeting")?;
    let r = record::record(&core, &a.0, id).await?;
    let b = meetings::broadcasts_of(&core, id).await?;
    Ok(web::Json(MeetingRecordResponse::new(r, b)))
}

/// Edit a meeting before it starts. A new time or place notifies the invitees again (urgent)
/// and moves the reminders; a new audience re-resolves the invitees.
#[utoipa::path(patch, path = "/api/v1/admin/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateMeetingRequest,
    responses((status = 200, body = MeetingResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/admin/meetings/{id}")]
pub async fn update_meeting(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<UpdateMeetingRequest>,
) -> ApiResult<web::Json<MeetingResponse>> {
    let id = path_id(&id, "meeting")?;
    let b = body.into_inner();
    let patch = MeetingPatch {
        title: b.title,
        starts_at: b.starts_at.map(|t| t.with_timezone(&Utc)),
        ends_at: b.ends_at.map(|t| t.with_timezone(&Utc)),
        place: b.place,
        online_link: b.online_link,
        agenda: b.agenda,
        audience: b.audience.map(|a| a.to_core()).transpose()?,
        post_id: b
            .post_id
            .map(|o| o.map(|p| p.parse("post_id")).transpose())
            .transpose()?,
        reminder_offsets: b.reminder_offsets,
    };
    Ok(web::Json(
        meetings::update(&core, &a.0, id, patch).await?.into(),
    ))
}

/// Cancel a meeting before it starts: reminders stop, invitees are told (urgent).
#[utoipa::path(post, path = "/api/v1/admin/meetings/{id}/cancel", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CancelMeetingRequest,
    responses((status = 200, body = MeetingResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/meetings/{id}/cancel")]
pub async fn cancel_meeting(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<web::Json<MeetingResponse>> {
    let id = path_id(&id, "meeting")?;
    let reason = optional_json::<CancelMeetingRequest>(&body)?.and_then(|b| b.reason);
    Ok(web::Json(
        meetings::cancel(&core, &a.0, id, reason).await?.into(),
    ))
}

/// The rotating check-in code for the organiser's phone (a new one every 30 s).
#[utoipa::path(get, path = "/api/v1/admin/meetings/{id}/checkin-code", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CheckinCodeResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[get("/admin/meetings/{id}/checkin-code")]
pub async fn checkin_code(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<CheckinCodeResponse>> {
    let id = path_id(&id, "meeting")?;
    let (code, expires_at) = meetings::checkin_code(&core, &a.0, id).await?;
    Ok(web::Json(CheckinCodeResponse { code, expires_at }))
}

/// Record an invitee's attendance by hand (marked `manual`).
#[utoipa::path(post, path = "/api/v1/admin/meetings/{id}/attendance", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AttendanceRequest,
    responses((status = 200, body = InviteeResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/meetings/{id}/attendance")]
pub async fn record_attendance(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<AttendanceRequest>,
) -> ApiResult<web::Json<InviteeResponse>> {
    let id = path_id(&id, "meeting")?;
    let member_id = body.member_id.parse("member_id")?;
    meetings::record_attendance(&core, &a.0, id, member_id, &body.status).await?;
    let row = record::invitees(&core, id)
        .await?
        .into_iter()
        .find(|r| r.member_id == member_id)
        .ok_or(fingertip_core::CoreError::NotFound("invitee"))?;
    Ok(web::Json(row.into()))
}

/// Attach the minutes (Markdown) once the meeting has ended.
#[utoipa::path(put, path = "/api/v1/admin/meetings/{id}/minutes", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MinutesRequest,
    responses((status = 200, body = MeetingResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[put("/admin/meetings/{id}/minutes")]
pub async fn put_minutes(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<MinutesRequest>,
) -> ApiResult<web::Json<MeetingResponse>> {
    let id = path_id(&id, "meeting")?;
    let b = body.into_inner();
    Ok(web::Json(
        meetings::set_minutes(&core, &a.0, id, b.minutes_md)
            .await?
            .into(),
    ))
}

/// After the meeting, send the linked lesson to every invitee without a presence record
/// (absent, or on leave), with a read-by date.
#[utoipa::path(post, path = "/api/v1/admin/meetings/{id}/make-up", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MakeUpRequest,
    responses((status = 201, body = MakeUpResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/meetings/{id}/make-up")]
pub async fn make_up(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "meeting")?;
    let read_by = optional_json::<MakeUpRequest>(&body)?
        .and_then(|b| b.read_by)
        .map(|t| t.with_timezone(&Utc));
    let (b, n, read_by) = meetings::make_up(&core, &a.0, id, read_by).await?;
    Ok(HttpResponse::Created().json(MakeUpResponse {
        broadcast_id: Id(b),
        recipients: n,
        read_by,
    }))
}

/// The attendance sheet as CSV (UTF-8 with a BOM; header 姓名,单位,回复,请假原因,签到,签到时间,方式).
#[utoipa::path(get, path = "/api/v1/admin/meetings/{id}/attendance.csv", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
#[get("/admin/meetings/{id}/attendance.csv")]
pub async fn attendance_csv(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "meeting")?;
    let body = record::attendance_csv(&core, &a.0, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"meeting-{id}-attendance.csv\""),
        ))
        .body(body))
}

/// The caller's meetings: upcoming (default) or past.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", security(("bearer" = [])),
    params(MyMeetingsQuery), responses((status = 200, body = Paged<MyMeetingResponse>), (status = 400, body = ErrorBody)))]
#[get("/meetings")]
pub async fn my_meetings(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<MyMeetingsQuery>,
) -> ApiResult<web::Json<Paged<MyMeetingResponse>>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = record::mine(&core, &a.0, q.when.as_deref(), page).await?;
    Ok(web::Json(Paged::from_page(p, MyMeetingResponse::from)))
}

/// One of the caller's meetings (404 when not invited).
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = MyMeetingResponse), (status = 404, body = ErrorBody)))]
#[get("/meetings/{id}")]
pub async fn my_meeting(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<MyMeetingResponse>> {
    let id = path_id(&id, "meeting")?;
    Ok(web::Json(meetings::get_mine(&core, &a.0, id).await?.into()))
}

/// Attend, or ask for leave with a reason; can change until the start (then 409).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/answer", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AnswerRequest,
    responses((status = 200, body = MyMeetingResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/meetings/{id}/answer")]
pub async fn answer_meeting(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<AnswerRequest>,
) -> ApiResult<web::Json<MyMeetingResponse>> {
    let id = path_id(&id, "meeting")?;
    let b = body.into_inner();
    Ok(web::Json(
        meetings::answer(&core, &a.0, id, &b.answer, b.reason)
            .await?
            .into(),
    ))
}

/// Check in with the code on the organiser's phone (current or previous), from 30 minutes
/// before the start to the end; more than 10 minutes after the start is `late`.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/check-in", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CheckInRequest,
    responses((status = 200, body = MyMeetingResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "10 wrong codes: ask the organiser to record the attendance")))]
#[post("/meetings/{id}/check-in")]
pub async fn check_in(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<CheckInRequest>,
) -> ApiResult<web::Json<MyMeetingResponse>> {
    let id = path_id(&id, "meeting")?;
    Ok(web::Json(
        meetings::check_in(&core, &a.0, id, &body.code)
            .await?
            .into(),
    ))
}
