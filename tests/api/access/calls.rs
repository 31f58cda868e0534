//! One cell's request: a fresh object of its own where the call changes something, real ids
//! and a valid body, so that the status says who may do it.

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};

use super::matrix::*;
use super::world::*;
use crate::helpers::*;

pub(super) enum Body {
    None,
    Json(Value),
    Csv(String),
}

/// One request, ready to send.
pub(super) struct Call {
    pub(super) path: String,
    pub(super) token: Option<String>,
    pub(super) body: Body,
}

/// The kind whose template each caller's DELETE cell removes (set up for it beforehand).
pub(super) fn delete_kind(c: Caller) -> &'static str {
    match c {
        Caller::None => "notice",
        Caller::Member => "announcement",
        Caller::SecIn => "disclosure",
        Caller::SecOut => "classroom",
        Caller::Admin => "meeting",
    }
}

/// Builds the request of one cell, with fresh objects for anything it changes.
pub(super) async fn prepare(w: &World, r: &Row, c: Caller) -> Call {
    let tok = w.token(c);
    let call = |path: String, body: Body| Call {
        path,
        token: tok.clone(),
        body,
    };
    let with_id = |id: &str| r.path.replace("{id}", id);
    let p = r.path.to_string();
    // Whether the cell changes something: it needs a fresh object; others share one.
    let fresh = CALLERS
        .iter()
        .position(|x| *x == c)
        .is_some_and(|i| r.expect[i] < 300 && r.method != "GET");
    match (r.method, r.path) {
        (
            "GET",
            "/healthz"
            | "/readyz"
            | "/metrics"
            | "/api/v1/admin/audit"
            | "/api/v1/admin/audit/verify"
            | "/api/v1/me"
            | "/api/v1/admin/units"
            | "/api/v1/admin/meetings/summary"
            | "/api/v1/me/wechat/subscriptions"
            | "/api/v1/me/push-preferences"
            | "/api/v1/admin/push/templates"
            | "/api/v1/inbox/unread-count"
            | "/api/v1/ws",
        ) => call(p, Body::None),
        (
            "GET",
            "/api/v1/admin/members"
            | "/api/v1/admin/posts"
            | "/api/v1/admin/broadcasts"
            | "/api/v1/admin/meetings"
            | "/api/v1/admin/meeting-series"
            | "/api/v1/meetings"
            | "/api/v1/inbox",
        ) => call(format!("{p}?limit=100"), Body::None),

        ("POST", "/api/v1/auth/admin/login") => call(
            p,
            Body::Json(json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD})),
        ),
        ("POST", "/api/v1/auth/wechat/login") => {
            let code = w.app.mock.issue_code(&format!("o-{}", id(&w.member)));
            call(p, Body::Json(json!({"code": code})))
        }
        ("POST", "/api/v1/auth/wechat/bind") => {
            let m = w.new_member().await;
            let login = w.app.wechat_login(&format!("o-{}", id(&m))).await;
            let bind = login.body["bind_token"]
                .as_str()
                .unwrap_or_else(|| panic!("set-up: a bind token: {:?}", login.body))
                .to_string();
            call(
                p,
                Body::Json(json!({"bind_token": bind, "invite_code": m["invite_code"]})),
            )
        }
        ("POST", "/api/v1/auth/refresh") => {
            // The caller's own fresh session; with no token, the member's.
            let s = match w.session(c).await {
                Some(s) => s,
                None => w.wechat_session(&w.member).await,
            };
            call(p, Body::Json(json!({"refresh_token": s["refresh_token"]})))
        }
        ("POST", "/api/v1/auth/console/approve") => {
            // A fresh ticket of a console login page.
            let t = fingertip_core::auth::service::start_ticket(
                &w.app.core,
                &fingertip_core::auth::service::Client::new(format!("matrix-{c:?}")),
            )
            .await
            .unwrap();
            call(p, Body::Json(json!({"ticket": t.ticket})))
        }
        ("POST", "/api/v1/auth/logout") => {
            // A fresh session of the caller, ended by its bearer token.
            let token = w
                .session(c)
                .await
                .map(|s| s["access_token"].as_str().unwrap().to_string());
            Call {
                path: p,
                token,
                body: Body::None,
            }
        }

        ("POST", "/api/v1/admin/units") => call(
            p,
            Body::Json(json!({"name": w.uniq("党小组 "), "parent_id": w.a})),
        ),
        ("POST", "/api/v1/admin/members") => call(
            p,
            Body::Json(json!({"name": w.uniq("新党员"), "unit_id": w.a})),
        ),
        ("GET", "/api/v1/admin/members/{id}") => call(with_id(&id(&w.member)), Body::None),
        // For unit A's secretary, who may hold a console password.
        ("POST", "/api/v1/admin/members/{id}/password-link") => {
            call(with_id(&id(&w.sec_in)), Body::None)
        }
        ("PATCH", "/api/v1/admin/members/{id}") => {
            let m = w.new_member().await;
            call(
                with_id(&id(&m)),
                Body::Json(json!({"name": w.uniq("改名")})),
            )
        }
        ("POST", "/api/v1/admin/members/import") => call(
            p,
            Body::Csv(format!("name,unit\n{},{}\n", w.uniq("导入党员"), w.a)),
        ),

        ("POST", "/api/v1/admin/posts") => call(p, Body::Json(w.post_body())),
        ("GET", "/api/v1/admin/posts/{id}") => call(with_id(&w.post), Body::None),
        ("PATCH", "/api/v1/admin/posts/{id}") => {
            let post = w.new_post().await;
            call(
                with_id(&post),
                Body::Json(json!({"title": w.uniq("改过的标题 ")})),
            )
        }

        ("POST", "/api/v1/admin/broadcasts") => call(p, Body::Json(w.broadcast_body(true))),
        ("GET", "/api/v1/admin/broadcasts/{id}" | "/api/v1/admin/broadcasts/{id}/recipients") => {
            call(with_id(&w.sent), Body::None)
        }
        ("PATCH", "/api/v1/admin/broadcasts/{id}") => {
            let b = w.new_broadcast(true).await;
            call(with_id(&b), Body::Json(json!({"urgent": true})))
        }
        ("POST", "/api/v1/admin/broadcasts/{id}/cancel") => {
            let b = w.new_broadcast(true).await;
            call(with_id(&b), Body::None)
        }
        ("POST", "/api/v1/admin/broadcasts/{id}/remind") => {
            // Sent at once; delivered by the drain that runs before the cells.
            let b = w.new_broadcast(false).await;
            call(with_id(&b), Body::None)
        }

        ("PUT", "/api/v1/me/push-preferences") => call(
            p,
            Body::Json(json!({"off_site": true, "digest_at": "19:00"})),
        ),
        ("POST", "/api/v1/me/wechat/subscriptions") => call(
            p,
            Body::Json(json!({"results": {LESSON_TEMPLATE: "accept"}})),
        ),
        ("PUT", "/api/v1/admin/push/templates/{kind}") => call(
            r.path.replace("{kind}", "reminder"),
            Body::Json(template_body("tmpl-reminder-001")),
        ),
        ("DELETE", "/api/v1/admin/push/templates/{kind}") => {
            let kind = delete_kind(c);
            let tid = format!("tmpl-{kind}-001");
            w.app
                .mock
                .register_template(&tid, &["thing1", "time2", "phrase3", "thing4"]);
            let put = w
                .app
                .request(
                    Method::PUT,
                    &format!("/api/v1/admin/push/templates/{kind}"),
                    Some(&w.admin().await),
                    Some(template_body(&tid)),
                )
                .await;
            assert_eq!(put.status, 200, "set-up: template {kind}: {:?}", put.body);
            call(r.path.replace("{kind}", kind), Body::None)
        }

        ("POST", "/api/v1/admin/meetings") => {
            call(p, Body::Json(w.meeting_body(t0() + Duration::days(3), 90)))
        }
        (
            "GET",
            "/api/v1/admin/meetings/{id}"
            | "/api/v1/admin/meetings/{id}/checkin-code"
            | "/api/v1/admin/meetings/{id}/attendance.csv"
            | "/api/v1/meetings/{id}",
        ) => call(with_id(&w.meeting), Body::None),
        ("PATCH", "/api/v1/admin/meetings/{id}") => {
            let m = w.new_meeting(t0() + Duration::days(3), 90).await;
            call(
                with_id(&m),
                Body::Json(json!({"title": w.uniq("改期前的会 ")})),
            )
        }
        ("POST", "/api/v1/admin/meetings/{id}/cancel") => {
            let m = w.new_meeting(t0() + Duration::days(3), 90).await;
            call(with_id(&m), Body::Json(json!({"reason": "上级检查改期"})))
        }
        ("POST", "/api/v1/admin/meetings/{id}/attendance") => call(
            with_id(&w.late[&(r.path, c)]),
            Body::Json(json!({"member_id": id(&w.member), "status": "present"})),
        ),
        ("PUT", "/api/v1/admin/meetings/{id}/minutes") => call(
            with_id(&w.late[&(r.path, c)]),
            Body::Json(json!({"minutes_md": "# 会议记录\n\n应到、实到。"})),
        ),
        ("POST", "/api/v1/admin/meetings/{id}/make-up") => {
            call(with_id(&w.late[&(r.path, c)]), Body::Json(json!({})))
        }
        ("POST", "/api/v1/meetings/{id}/answer") => {
            let m = w.new_meeting(t0() + Duration::days(3), 90).await;
            call(with_id(&m), Body::Json(json!({"answer": "attending"})))
        }
        ("POST", "/api/v1/meetings/{id}/check-in") => {
            let m = &w.late[&(r.path, c)];
            let code = w
                .app
                .get(
                    &format!("/api/v1/admin/meetings/{m}/checkin-code"),
                    &w.admin().await,
                )
                .await;
            assert_eq!(code.status, 200, "set-up: check-in code: {:?}", code.body);
            call(with_id(m), Body::Json(json!({"code": code.body["code"]})))
        }

        ("POST", "/api/v1/admin/meeting-series") => call(p, Body::Json(w.series_body())),
        ("GET", "/api/v1/admin/meeting-series/{id}") => call(with_id(&w.series), Body::None),
        ("POST", "/api/v1/admin/meeting-series/{id}/cancel") => {
            let s = w.new_series().await;
            call(with_id(&s), Body::None)
        }

        ("GET", "/api/v1/inbox/{id}") => call(with_id(&w.item), Body::None),
        ("POST", "/api/v1/inbox/{id}/read") => call(with_id(&w.item), Body::Json(json!({}))),
        ("POST", "/api/v1/inbox/{id}/study") => call(
            with_id(&w.item),
            Body::Json(json!({"session": w.uniq("session-"), "visible_seconds": 10})),
        ),
        (
            "GET",
            "/api/v1/me/study"
            | "/api/v1/admin/study"
            | "/api/v1/admin/study.csv"
            | "/api/v1/admin/study/targets",
        ) => call(p, Body::None),
        ("GET", "/api/v1/admin/members/{id}/study") => call(with_id(&id(&w.member)), Body::None),
        ("POST", "/api/v1/admin/study/records") => call(p, Body::Json(study_record(w))),
        ("DELETE", "/api/v1/admin/study/records/{id}") => {
            let made = w
                .created("/api/v1/admin/study/records", study_record(w))
                .await;
            call(with_id(&id(&made)), Body::None)
        }
        ("GET", "/api/v1/admin/care/categories") => call(p, Body::None),
        ("PUT", "/api/v1/admin/care/categories") => call(
            p,
            Body::Json(json!({"visits": [{"code": "illness", "label": "生病住院"}],
                              "talks": [{"code": "yearly", "label": "年度谈心谈话"}]})),
        ),
        ("POST", "/api/v1/admin/care/records") => call(p, Body::Json(care_record(w))),
        ("GET", "/api/v1/admin/care/records" | "/api/v1/admin/care/talks") => {
            call(format!("{p}?unit_id={}", w.a), Body::None)
        }
        ("DELETE", "/api/v1/admin/care/records/{id}") => {
            let made = w
                .created("/api/v1/admin/care/records", care_record(w))
                .await;
            call(with_id(&id(&made)), Body::None)
        }
        ("GET", "/api/v1/admin/study/plans") => {
            w.plan().await;
            call(format!("{p}?unit_id={}&year=2026", w.a), Body::None)
        }
        ("PUT", "/api/v1/admin/study/plans") => {
            // The lesson kept by its id, so that the other rows' lesson stays.
            let plan = w.plan().await;
            let lesson = json!({"id": plan["items"][0]["id"], "month": 3, "title": "三月党课"});
            call(
                p,
                Body::Json(
                    json!({"unit_id": w.a, "year": 2026, "title": "年度学习计划",
                                  "themes": ["学习贯彻全会精神"], "items": [lesson]}),
                ),
            )
        }
        ("PATCH", "/api/v1/admin/study/plan-items/{id}") => {
            let plan = w.plan().await;
            call(
                with_id(plan["items"][0]["id"].as_str().unwrap()),
                Body::Json(json!({"post_id": w.post})),
            )
        }
        ("POST", "/api/v1/admin/study/plans/{id}/publish") => {
            let plan = w.plan().await;
            call(with_id(&id(&plan)), Body::None)
        }
        ("GET", "/api/v1/admin/compliance") => call(format!("{p}?unit_id={}", w.a), Body::None),
        ("GET", "/api/v1/admin/compliance/rules") => call(p, Body::None),
        ("PUT", "/api/v1/admin/compliance/rules") => call(
            p,
            Body::Json(
                json!({"rules": [{"kind": "themed_day", "period": "month", "min_count": 1}]}),
            ),
        ),
        ("PUT", "/api/v1/admin/study/targets") => call(
            p,
            Body::Json(json!({"default_minutes": 1920, "tags": {"领导干部": 3360}})),
        ),
        ("GET", "/api/v1/admin/surveys" | "/api/v1/surveys") => call(p, Body::None),
        ("POST", "/api/v1/admin/surveys") => call(p, Body::Json(w.survey_body())),
        (
            "GET",
            "/api/v1/admin/surveys/{id}"
            | "/api/v1/admin/surveys/{id}/participation"
            | "/api/v1/surveys/{id}",
        ) => {
            let s = w.shared("survey-open", w.new_survey(true, false)).await;
            call(with_id(&s), Body::None)
        }
        ("PUT", "/api/v1/admin/surveys/{id}") => {
            let s = if fresh {
                w.new_survey(false, false).await
            } else {
                w.shared("survey-draft", w.new_survey(false, false)).await
            };
            call(with_id(&s), Body::Json(w.survey_body()))
        }
        ("POST", "/api/v1/admin/surveys/{id}/publish") => {
            let s = if fresh {
                w.new_survey(false, false).await
            } else {
                w.shared("survey-draft", w.new_survey(false, false)).await
            };
            call(with_id(&s), Body::None)
        }
        (
            "POST",
            "/api/v1/admin/surveys/{id}/close"
            | "/api/v1/admin/surveys/{id}/remind"
            | "/api/v1/surveys/{id}/ballot",
        ) => {
            let s = if fresh {
                w.new_survey(true, false).await
            } else {
                w.shared("survey-open", w.new_survey(true, false)).await
            };
            let body = if r.path.ends_with("/ballot") {
                Body::Json(json!({"answers": [0]}))
            } else {
                Body::None
            };
            call(with_id(&s), body)
        }
        (
            "GET",
            "/api/v1/admin/surveys/{id}/results" | "/api/v1/admin/surveys/{id}/results.csv",
        ) => {
            let s = w.shared("survey-closed", w.new_survey(true, true)).await;
            call(with_id(&s), Body::None)
        }
        ("POST", "/api/v1/feedback") => call(
            p,
            Body::Json(json!({"topic": w.uniq("意见 "), "body": "希望学习日改到下午"})),
        ),
        ("GET", "/api/v1/feedback" | "/api/v1/admin/feedback") => call(p, Body::None),
        (
            "GET" | "POST",
            "/api/v1/feedback/{id}"
            | "/api/v1/feedback/{id}/messages"
            | "/api/v1/feedback/{id}/close"
            | "/api/v1/admin/feedback/{id}"
            | "/api/v1/admin/feedback/{id}/messages"
            | "/api/v1/admin/feedback/{id}/close",
        ) => {
            let body = if r.path.ends_with("/messages") {
                Body::Json(json!({"body": "已收到，下周调整"}))
            } else {
                Body::None
            };
            call(with_id(&w.member_feedback().await), body)
        }
        ("POST", "/api/v1/anonymous-feedback") => {
            w.five_in_a().await;
            call(
                p,
                Body::Json(json!({"topic": w.uniq("匿名意见 "), "body": "会议太多"})),
            )
        }
        (
            "POST",
            "/api/v1/anonymous-feedback/thread"
            | "/api/v1/anonymous-feedback/messages"
            | "/api/v1/anonymous-feedback/close",
        ) => {
            let key = w.anonymous_feedback().await;
            let body = if r.path.ends_with("/messages") {
                json!({"key": key, "body": "补充一点"})
            } else {
                json!({"key": key})
            };
            call(p, Body::Json(body))
        }
        ("POST", "/api/v1/admin/disclosures") => {
            let made = || async {
                let post = w
                    .created(
                        "/api/v1/admin/posts",
                        json!({"kind": "disclosure", "title": w.uniq("发展党员公示 "),
                               "body_md": "拟发展对象公示。", "unit_id": w.a}),
                    )
                    .await;
                id(&post)
            };
            let post = if fresh {
                made().await
            } else {
                w.shared("disclosure-post", made()).await
            };
            call(
                p,
                Body::Json(json!({"post_id": post, "category": "development", "scope": "unit"})),
            )
        }
        (
            "GET",
            "/api/v1/admin/disclosures" | "/api/v1/disclosures" | "/api/v1/public/disclosures",
        ) => call(p, Body::None),
        ("GET", "/api/v1/admin/disclosures/{id}") => {
            let d = w
                .shared("disclosure-draft", w.new_disclosure("draft", "unit"))
                .await;
            call(with_id(&d), Body::None)
        }
        (
            "PUT" | "POST",
            "/api/v1/admin/disclosures/{id}"
            | "/api/v1/admin/disclosures/{id}/submit"
            | "/api/v1/admin/disclosures/{id}/review"
            | "/api/v1/admin/disclosures/{id}/approve"
            | "/api/v1/admin/disclosures/{id}/return"
            | "/api/v1/admin/disclosures/{id}/publish",
        ) => {
            let (status, key, body) = match r.path.rsplit('/').next().unwrap_or_default() {
                "submit" => ("draft", "disclosure-draft", Body::None),
                "review" => (
                    "submitted",
                    "disclosure-submitted",
                    Body::Json(json!({"secrecy_checked": true})),
                ),
                "approve" => ("reviewed", "disclosure-reviewed", Body::None),
                "return" => (
                    "submitted",
                    "disclosure-submitted",
                    Body::Json(json!({"reason": "涉及个人信息，请删去身份证号"})),
                ),
                "publish" => ("approved", "disclosure-approved", Body::None),
                _ => (
                    "draft",
                    "disclosure-draft",
                    Body::Json(json!({"scope": "organisation"})),
                ),
            };
            let d = if fresh {
                w.new_disclosure(status, "unit").await
            } else {
                w.shared(key, w.new_disclosure(status, "unit")).await
            };
            call(with_id(&d), body)
        }
        ("GET", "/api/v1/disclosures/{id}") => {
            let d = w
                .shared("disclosure-unit", w.new_disclosure("published", "unit"))
                .await;
            call(with_id(&d), Body::None)
        }
        ("GET", "/api/v1/public/disclosures/{id}") => {
            let d = w
                .shared("disclosure-public", w.new_disclosure("published", "public"))
                .await;
            call(with_id(&d), Body::None)
        }
        ("POST", "/api/v1/inbox/read-all") => call(p, Body::None),

        (m, path) => panic!(
            "the access matrix has a row for {m} {path} but no request for it: add one to prepare()"
        ),
    }
}

pub(super) async fn send(w: &World, method: &str, call: &Call) -> Resp {
    let method: Method = method.parse().unwrap();
    match &call.body {
        Body::None => {
            w.app
                .request(method, &call.path, call.token.as_deref(), None)
                .await
        }
        Body::Json(v) => {
            w.app
                .request(method, &call.path, call.token.as_deref(), Some(v.clone()))
                .await
        }
        Body::Csv(text) => {
            let mut req = w
                .app
                .http
                .request(method, format!("{}{}", w.app.base, call.path))
                .header("content-type", "text/csv")
                .body(text.clone());
            if let Some(t) = &call.token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.expect("request is sent");
            let status = resp.status();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            Resp {
                status,
                body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                headers,
            }
        }
    }
}

/// An hour's course for the member of unit A.
fn care_record(w: &World) -> Value {
    json!({"member_id": id(&w.member), "kind": "talk", "category": "yearly", "notes": "谈话内容"})
}

fn study_record(w: &World) -> Value {
    json!({"member_id": id(&w.member), "kind": "course", "title": "培训", "minutes": 60,
           "date": w.app.clock_now().date_naive().to_string()})
}
