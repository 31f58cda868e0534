//! Recurring meetings (admin): a series is a meeting template and a recurrence rule; the
//! workers create each occurrence as an ordinary meeting, its notice lead before the start.

use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use fingertip_core::Core;
use fingertip_core::meetings::series::{self, SeriesInput};
use fingertip_core::paging::PageRequest;

use crate::dto::Paged;
use crate::dto::meetings::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_series)
        .service(list_series)
        .service(get_series)
        .service(cancel_series);
}

/// Create a meeting series. The occurrences already inside the notice lead are created at
/// once (each a meeting with its notice and reminders); later ones by the workers.
#[utoipa::path(post, path = "/api/v1/admin/meeting-series", tag = "meetings", security(("bearer" = [])),
    request_body = CreateMeetingSeriesRequest,
    responses((status = 201, body = MeetingSeriesDetailResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/admin/meeting-series")]
pub async fn create_series(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CreateMeetingSeriesRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = SeriesInput {
        kind: b.kind,
        title: b.title,
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        starts_at: b.starts_at.with_timezone(&Utc),
        duration_minutes: b.duration_minutes,
        place: b.place,
        online_link: b.online_link,
        agenda: b.agenda,
        audience: b.audience.to_core()?,
        post_id: b.post_id.map(|p| p.parse("post_id")).transpose()?,
        timezone: b.timezone,
        reminder_offsets: b.reminder_offsets,
        recurrence: b.recurrence,
        notice_lead_minutes: b.notice_lead_minutes,
    };
    let v = series::create(&core, &a.0, input).await?;
    let meetings = series::meetings_of(&core, v.row.id).await?;
    Ok(HttpResponse::Created().json(MeetingSeriesDetailResponse {
        series: v.into(),
        meetings: meetings.into_iter().map(Into::into).collect(),
    }))
}

/// The series of the units the caller manages, newest first.
#[utoipa::path(get, path = "/api/v1/admin/meeting-series", tag = "meetings", security(("bearer" = [])),
    params(SeriesQuery), responses((status = 200, body = Paged<MeetingSeriesResponse>), (status = 400, body = ErrorBody)))]
#[get("/admin/meeting-series")]
pub async fn list_series(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<SeriesQuery>,
) -> ApiResult<web::Json<Paged<MeetingSeriesResponse>>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = series::list(&core, &a.0, page).await?;
    Ok(web::Json(Paged::from_page(p, MeetingSeriesResponse::from)))
}

/// A series with the meetings created from it so far.
#[utoipa::path(get, path = "/api/v1/admin/meeting-series/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = MeetingSeriesDetailResponse), (status = 404, body = ErrorBody)))]
#[get("/admin/meeting-series/{id}")]
pub async fn get_series(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<MeetingSeriesDetailResponse>> {
    let id = path_id(&id, "meeting series")?;
    let (v, meetings) = series::get(&core, &a.0, id).await?;
    Ok(web::Json(MeetingSeriesDetailResponse {
        series: v.into(),
        meetings: meetings.into_iter().map(Into::into).collect(),
    }))
}

/// Stop a series: no further occurrences. Meetings already created stay (cancel them one by
/// one if needed).
#[utoipa::path(post, path = "/api/v1/admin/meeting-series/{id}/cancel", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MeetingSeriesResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/meeting-series/{id}/cancel")]
pub async fn cancel_series(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<MeetingSeriesResponse>> {
    let id = path_id(&id, "meeting series")?;
    Ok(web::Json(series::cancel(&core, &a.0, id).await?.into()))
}
