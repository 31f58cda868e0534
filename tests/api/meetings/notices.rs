//! The notice, a change of time, and a cancel: who hears, how urgently, and what becomes of
//! the reminders.

use super::*;

#[tokio::test]
async fn the_notice_reaches_every_invitee_and_nobody_else() {
    let org = branch().await;
    let app = &org.app;
    let m = app
        .meeting(
            &org.admin().await,
            general_meeting(&org, thursday_afternoon()),
        )
        .await;
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["reminder_offsets"], json!([1440, 60]));
    app.drain().await;
    for (name, _) in SEC1 {
        let items = meeting_items(&org, name).await;
        assert_eq!(items.len(), 1, "{name}: {items:?}");
        assert!(
            items[0]["title"]
                .as_str()
                .unwrap()
                .contains("第四季度党员大会")
        );
    }
    assert!(meeting_items(&org, "赵六").await.is_empty());
    let mine = app.get("/api/v1/meetings", &org.token("张三").await).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["answer"], "none");
    let theirs = app.get("/api/v1/meetings", &org.token("赵六").await).await;
    assert!(theirs.body["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_meeting_schedules_a_reminder_and_a_nudge_for_each_offset() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    let rec = record(&org, &id).await;
    assert_eq!(
        broadcast_ids(&rec, "reminder", "scheduled").len(),
        2,
        "{:?}",
        rec["broadcasts"]
    );
    assert_eq!(broadcast_ids(&rec, "nudge", "scheduled").len(), 2);
}

#[tokio::test]
async fn a_change_of_time_tells_invitees_urgently_and_moves_the_reminders() {
    let org = branch().await;
    let app = &org.app;
    let id = thursdays_meeting(&org).await;
    let first_reminders = broadcast_ids(&record(&org, &id).await, "reminder", "scheduled");
    // One hour later.
    let starts = thursday_afternoon() + Duration::hours(1);
    let r = app
        .patch(
            &format!("/api/v1/admin/meetings/{id}"),
            &org.admin().await,
            json!({"starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(2))}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.drain().await;
    for (name, _) in SEC1 {
        assert_eq!(count(&org, name).await, 2, "{name}");
    }
    assert!(meeting_items(&org, "赵六").await.is_empty());
    let rec = record(&org, &id).await;
    let change = broadcast_ids(&rec, "change", "sent");
    assert_eq!(change.len(), 1, "{:?}", rec["broadcasts"]);
    let bc = app.broadcast_record(&org.admin().await, &change[0]).await;
    assert_eq!(bc["urgent"], true);
    assert_eq!(bc["stats"]["recipients"], 6);
    assert_eq!(broadcast_ids(&rec, "reminder", "canceled"), first_reminders);
    let moved = broadcast_ids(&rec, "reminder", "scheduled");
    assert_eq!(moved.len(), 2);
    let bc = app.broadcast_record(&org.admin().await, &moved[0]).await;
    assert_eq!(
        bc["next_run_at"].as_str().unwrap(),
        (starts - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    // The old day-before passes quietly; the new one reminds.
    set(
        &org,
        thursday_afternoon() - Duration::days(1) + Duration::minutes(1),
    );
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 2);
    set(&org, starts - Duration::days(1) + Duration::minutes(1));
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 3);
}

#[tokio::test]
async fn canceling_stops_reminders_and_tells_invitees_urgently() {
    let org = branch().await;
    let app = &org.app;
    let id = thursdays_meeting(&org).await;
    let cancel = format!("/api/v1/admin/meetings/{id}/cancel");
    let r = app
        .post(
            &cancel,
            &org.admin().await,
            json!({"reason": "上级检查改期"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "canceled");
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 2);
    let rec = record(&org, &id).await;
    assert!(broadcast_ids(&rec, "reminder", "scheduled").is_empty());
    assert_eq!(broadcast_ids(&rec, "reminder", "canceled").len(), 2);
    let sent = broadcast_ids(&rec, "cancel", "sent");
    let bc = app.broadcast_record(&org.admin().await, &sent[0]).await;
    assert_eq!(bc["urgent"], true);
    // No reminder ever arrives; answers and a second cancel are conflicts.
    set(&org, thursday_afternoon() - Duration::minutes(30));
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 2);
    let r = answer(&org, &id, "张三", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 409);
    let r = app.post(&cancel, &org.admin().await, json!({})).await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn an_invitee_without_a_unit_gets_the_notice_too() {
    // The bootstrap admin is on no unit's roster: not a recipient of `{"all": true}`, but a
    // meeting's notice goes to exactly its invitees, and they were invited by id.
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let me = app.get("/api/v1/me", &admin).await.body["id"].clone();
    let body = merged(
        general_meeting(&org, thursday_afternoon()),
        json!({"audience": {"unit_ids": [org.unit(SECTION_1)], "member_ids": [me]}}),
    );
    let r = app.post("/api/v1/admin/meetings", &admin, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    app.drain().await;
    let inbox = app.get("/api/v1/inbox", &admin).await;
    let titles: Vec<&str> = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().any(|t| t.contains("第四季度党员大会")),
        "{titles:?}"
    );
}
