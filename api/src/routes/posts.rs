//! Posts (admin).

use actix_web::{HttpResponse, get, patch, post, web};
use fingertip_core::Core;
use fingertip_core::paging::PageRequest;
use fingertip_core::posts::{self, PostInput, PostPatch};

use crate::dto::Paged;
use crate::dto::posts::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_post)
        .service(list_posts)
        .service(get_post)
        .service(patch_post);
}

#[utoipa::path(post, path = "/api/v1/admin/posts", tag = "content", security(("bearer" = [])),
    request_body = CreatePostRequest, responses((status = 201, body = PostResponse), (status = 400, body = ErrorBody)))]
#[post("/admin/posts")]
pub async fn create_post(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CreatePostRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = PostInput {
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        kind: b.kind,
        title: b.title,
        summary: b.summary,
        body_md: b.body_md,
        media: b.media.into_iter().map(Into::into).collect(),
        study_minutes: b.study_minutes,
    };
    Ok(HttpResponse::Created().json(PostResponse::from(posts::create(&core, &a.0, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/admin/posts", tag = "content", security(("bearer" = [])),
    params(PostQuery), responses((status = 200, body = Paged<PostResponse>)))]
#[get("/admin/posts")]
pub async fn list_posts(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<PostQuery>,
) -> ApiResult<web::Json<Paged<PostResponse>>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = posts::list(
        &core,
        &a.0,
        q.kind.as_deref().filter(|k| !k.is_empty()),
        page,
    )
    .await?;
    Ok(web::Json(Paged::from_page(p, PostResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/admin/posts/{id}", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PostResponse), (status = 404, body = ErrorBody)))]
#[get("/admin/posts/{id}")]
pub async fn get_post(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<PostResponse>> {
    Ok(web::Json(
        posts::get(&core, &a.0, path_id(&id, "post")?).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/api/v1/admin/posts/{id}", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PatchPostRequest,
    responses((status = 200, body = PostResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/admin/posts/{id}")]
pub async fn patch_post(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<PatchPostRequest>,
) -> ApiResult<web::Json<PostResponse>> {
    let b = body.into_inner();
    let p = PostPatch {
        kind: b.kind,
        title: b.title,
        summary: b.summary,
        body_md: b.body_md,
        media: b.media.map(|m| m.into_iter().map(Into::into).collect()),
        study_minutes: b.study_minutes,
    };
    Ok(web::Json(
        posts::patch(&core, &a.0, path_id(&id, "post")?, p)
            .await?
            .into(),
    ))
}
