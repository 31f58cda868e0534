//! Anonymous evaluation surveys (测评): managers write, publish, close and remind, and read
//! participation and (once closed) results; a member asked reads the survey and answers once.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};
use fingertip_core::Core;
use fingertip_core::surveys::{answer, manage, results};

use crate::dto::common::optional_query_id;
use crate::dto::surveys::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_surveys)
        .service(create_survey)
        .service(get_survey)
        .service(update_survey)
        .service(publish_survey)
        .service(close_survey)
        .service(remind_survey)
        .service(survey_participation)
        .service(survey_results)
        .service(survey_results_csv)
        .service(my_surveys)
        .service(my_survey)
        .service(answer_survey);
}

/// The surveys of the units the caller manages (of a unit's subtree), newest first.
#[utoipa::path(get, path = "/api/v1/admin/surveys", tag = "surveys", security(("bearer" = [])),
    params(SurveyListQuery),
    responses((status = 200, body = SurveyList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/surveys")]
pub async fn list_surveys(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<SurveyListQuery>,
) -> ApiResult<web::Json<SurveyList>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    let items = manage::list(&core, &a.0, unit).await?;
    Ok(web::Json(SurveyList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Write a survey as a draft (audited `survey.create`).
#[utoipa::path(post, path = "/api/v1/admin/surveys", tag = "surveys", security(("bearer" = [])),
    request_body = SurveyRequest,
    responses((status = 201, body = SurveyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/admin/surveys")]
pub async fn create_survey(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<SurveyRequest>,
) -> ApiResult<HttpResponse> {
    let input = body.to_core()?;
    let r: SurveyResponse = manage::create(&core, &a.0, input).await?.into();
    Ok(HttpResponse::Created().json(r))
}

/// One survey, with how many were asked and have answered.
#[utoipa::path(get, path = "/api/v1/admin/surveys/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SurveyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/surveys/{id}")]
pub async fn get_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<SurveyResponse>> {
    let id = path_id(&id, "survey")?;
    Ok(web::Json(manage::get(&core, &a.0, id).await?.into()))
}

/// Rewrite a draft (audited `survey.update`); a published survey answers 409.
#[utoipa::path(put, path = "/api/v1/admin/surveys/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SurveyRequest,
    responses((status = 200, body = SurveyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[put("/admin/surveys/{id}")]
pub async fn update_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<SurveyRequest>,
) -> ApiResult<web::Json<SurveyResponse>> {
    let id = path_id(&id, "survey")?;
    let input = body.to_core()?;
    Ok(web::Json(
        manage::update(&core, &a.0, id, input).await?.into(),
    ))
}

/// Publish a draft: who is asked is fixed now, and they are sent the notice (audited
/// `survey.publish`).
#[utoipa::path(post, path = "/api/v1/admin/surveys/{id}/publish", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SurveyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/surveys/{id}/publish")]
pub async fn publish_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<SurveyResponse>> {
    let id = path_id(&id, "survey")?;
    Ok(web::Json(manage::publish(&core, &a.0, id).await?.into()))
}

/// Close an open survey now (audited `survey.close`); its results can then be read.
#[utoipa::path(post, path = "/api/v1/admin/surveys/{id}/close", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SurveyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/surveys/{id}/close")]
pub async fn close_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<SurveyResponse>> {
    let id = path_id(&id, "survey")?;
    Ok(web::Json(manage::close(&core, &a.0, id).await?.into()))
}

/// Remind those asked who have not answered (at most once an hour; audited `survey.remind`).
#[utoipa::path(post, path = "/api/v1/admin/surveys/{id}/remind", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SurveyRemindResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/surveys/{id}/remind")]
pub async fn remind_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<SurveyRemindResponse>> {
    let id = path_id(&id, "survey")?;
    Ok(web::Json(SurveyRemindResponse {
        members: manage::remind(&core, &a.0, id).await?,
    }))
}

/// Who has taken part, per unit, and by name who in a unit has not; never who answered what.
#[utoipa::path(get, path = "/api/v1/admin/surveys/{id}/participation", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path), ParticipationQuery),
    responses((status = 200, body = ParticipationResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/surveys/{id}/participation")]
pub async fn survey_participation(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    q: web::Query<ParticipationQuery>,
) -> ApiResult<web::Json<ParticipationResponse>> {
    let id = path_id(&id, "survey")?;
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    Ok(web::Json(
        manage::participation(&core, &a.0, id, unit).await?.into(),
    ))
}

/// A closed survey's results per question (409 while it is open); a question with fewer than
/// `min_group` answers shows no counts.
#[utoipa::path(get, path = "/api/v1/admin/surveys/{id}/results", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SurveyResultsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[get("/admin/surveys/{id}/results")]
pub async fn survey_results(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<SurveyResultsResponse>> {
    let id = path_id(&id, "survey")?;
    Ok(web::Json(results::results(&core, &a.0, id).await?.into()))
}

/// The results as CSV (UTF-8 with a BOM; header 题号,题目,类型,选项或回答,人数,占比).
#[utoipa::path(get, path = "/api/v1/admin/surveys/{id}/results.csv", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[get("/admin/surveys/{id}/results.csv")]
pub async fn survey_results_csv(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "survey")?;
    let body = results::csv(&core, &a.0, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"survey-{id}-results.csv\""),
        ))
        .body(body))
}

/// The surveys the caller is asked, the open ones first.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = MySurveyList)))]
#[get("/surveys")]
pub async fn my_surveys(core: web::Data<Core>, a: Auth) -> ApiResult<web::Json<MySurveyList>> {
    let items = answer::mine(&core, &a.0).await?;
    Ok(web::Json(MySurveyList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// A survey the caller is asked (404 for anyone else).
#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MySurveyResponse), (status = 404, body = ErrorBody)))]
#[get("/surveys/{id}")]
pub async fn my_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<MySurveyResponse>> {
    let id = path_id(&id, "survey")?;
    Ok(web::Json(answer::get(&core, &a.0, id).await?.into()))
}

/// Answer a survey, once and anonymously (audited `survey.answer`, without the ballot). 409 when
/// already answered (a phone that lost the first reply may take that as done) or closed.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/ballot", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = BallotRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/surveys/{id}/ballot")]
pub async fn answer_survey(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<BallotRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "survey")?;
    answer::answer(&core, &a.0, id, &body.answers).await?;
    Ok(HttpResponse::NoContent().finish())
}
