//! What a secretary does to a meeting from its page: cancel it (with a reason the invitees
//! are told), record attendance by hand, attach the minutes once it has ended, and assign
//! make-up study of its lesson to those who missed it; and stop a meeting series. Each goes
//! through its `meetings` service with the signed-in member as the actor, audited there, and
//! comes back to the page with a 303.

use actix_web::{HttpResponse, post, web};
use fingertip_core::meetings::{self, series};
use fingertip_core::{Core, CoreError};

use super::fields::{Form, local_time};
use super::{Console, failure, see_other};
use crate::dto::common::Id;
use crate::error::ApiError;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(cancel)
        .service(attendance)
        .service(minutes)
        .service(make_up)
        .service(cancel_series);
}

/// The meeting's id and the form, once the form is known to come from this console.
fn checked(c: &Console, id: &str, body: &[u8]) -> Result<(i64, Form), Box<HttpResponse>> {
    let back = format!("{}/console/meetings", c.site.prefix);
    let Some(id) = Id::parse(id).map(|i| i.0) else {
        return Err(Box::new(failure(
            &ApiError::Core(CoreError::NotFound("meeting")),
            Some(back),
        )));
    };
    let form = Form::parse(body);
    if !form.carries_csrf(&c.csrf) {
        return Err(Box::new(super::forged(format!("{back}/{id}"))));
    }
    Ok((id, form))
}

fn page(c: &Console, id: i64, done: &str) -> HttpResponse {
    see_other(&format!("{}/console/meetings/{id}?{done}", c.site.prefix)).finish()
}

fn refused(c: &Console, id: i64, e: CoreError) -> HttpResponse {
    failure(
        &e.into(),
        Some(format!("{}/console/meetings/{id}", c.site.prefix)),
    )
}

#[post("/console/meetings/{id}/cancel")]
async fn cancel(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (id, form) = match checked(&c, &id, &body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let reason = Some(form.one("reason").trim().to_string()).filter(|r| !r.is_empty());
    match meetings::cancel(&core, &c.actor, id, reason).await {
        Ok(_) => page(&c, id, "canceled=1"),
        Err(e) => refused(&c, id, e),
    }
}

/// One invitee's attendance by hand: `member_id` and `status` (`present`, `late`, `absent`).
#[post("/console/meetings/{id}/attendance")]
async fn attendance(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (id, form) = match checked(&c, &id, &body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let Some(member) = Id::parse(&form.one("member_id")).map(|i| i.0) else {
        return refused(
            &c,
            id,
            CoreError::invalid("member_id", "is not invited to this meeting"),
        );
    };
    match meetings::record_attendance(&core, &c.actor, id, member, &form.one("status")).await {
        Ok(_) => see_other(&format!(
            "{}/console/meetings/{id}?recorded=1#invitees",
            c.site.prefix
        ))
        .finish(),
        Err(e) => refused(&c, id, e),
    }
}

#[post("/console/meetings/{id}/minutes")]
async fn minutes(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (id, form) = match checked(&c, &id, &body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    match meetings::set_minutes(&core, &c.actor, id, form.one("minutes_md")).await {
        Ok(_) => page(&c, id, "minutes=1"),
        Err(e) => refused(&c, id, e),
    }
}

/// Make-up study: the linked lesson again to everyone with no presence recorded, to read by
/// `read_by` (a week from now when empty).
#[post("/console/meetings/{id}/make-up")]
async fn make_up(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (id, form) = match checked(&c, &id, &body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let typed = form.one("read_by");
    let read_by = local_time(&typed, core.settings.timezone);
    if read_by.is_none() && !typed.trim().is_empty() {
        return refused(
            &c,
            id,
            CoreError::invalid("read_by", "is not a date and time"),
        );
    }
    match meetings::make_up(&core, &c.actor, id, read_by).await {
        Ok((_, n, _)) => page(&c, id, &format!("made_up={n}")),
        Err(e) => refused(&c, id, e),
    }
}

/// Stops a series: no more meetings are made from it (those already made stay).
#[post("/console/meeting-series/{id}/cancel")]
async fn cancel_series(
    core: web::Data<Core>,
    c: Console,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let back = format!("{}/console/meetings", c.site.prefix);
    let Some(id) = Id::parse(&id).map(|i| i.0) else {
        return failure(
            &ApiError::Core(CoreError::NotFound("meeting series")),
            Some(back),
        );
    };
    if !Form::parse(&body).carries_csrf(&c.csrf) {
        return super::forged(back);
    }
    match series::cancel(&core, &c.actor, id).await {
        Ok(_) => see_other(&format!("{back}?series_canceled=1")).finish(),
        Err(e) => failure(&e.into(), Some(back)),
    }
}
