//! What is refused: bad input (a 400 naming the field), members managing meetings, ids that
//! name nothing, and a make-up study with no lesson to send.

use super::*;

#[tokio::test]
async fn make_up_without_a_linked_lesson_is_a_conflict_even_after_the_end() {
    let org = branch().await;
    let starts = thursday_afternoon();
    let lesson = an_hour_from(&org, "party_lesson", starts);
    let id = id(&org.app.meeting(&org.admin().await, lesson).await);
    set(&org, starts + Duration::hours(2));
    let r = make_up(&org, &id).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
}

#[tokio::test]
async fn bad_meeting_input_is_400_naming_the_field() {
    let org = branch().await;
    let admin = org.admin().await;
    let now = org.app.clock_now();
    let tomorrow = an_hour_from(&org, "general_meeting", now + Duration::days(1));
    for (patch, field) in [
        (json!({"kind": "party"}), "kind"),
        (json!({"title": " "}), "title"),
        (json!({"place": null}), "place"),
        (
            json!({"ends_at": rfc(now + Duration::hours(20))}),
            "ends_at",
        ),
        (
            json!({"starts_at": rfc(now - Duration::hours(1))}),
            "starts_at",
        ),
        (json!({"reminder_offsets": [0]}), "reminder_offsets"),
        (json!({"online_link": "ftp://x"}), "online_link"),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"audience": {"tags": ["没有这个标签"]}}), "audience"),
    ] {
        let body = merged(tomorrow.clone(), patch);
        let r = org.app.post("/api/v1/admin/meetings", &admin, body).await;
        assert_eq!(r.status, 400, "{field}: {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{field}: {:?}",
            r.body
        );
    }
}

#[tokio::test]
async fn members_cannot_manage_meetings_and_an_id_that_names_nothing_is_404() {
    let org = branch().await;
    let app = &org.app;
    let body = serde_json::to_value(an_hour_from(&org, "other", thursday_afternoon())).unwrap();
    let r = app
        .post("/api/v1/admin/meetings", &org.token("张三").await, body)
        .await;
    assert_eq!(r.status, 403);
    let admin = org.admin().await;
    let r = app.get("/api/v1/admin/meetings/abc", &admin).await;
    assert_eq!(r.status, 404);
    let r = app.get("/api/v1/admin/meetings/999999", &admin).await;
    assert_eq!(r.status, 404);
}
