//! The whole of a general meeting in one flow, for what only the flow shows: each step works
//! on what the previous ones left, through a change of time. The details of each step are
//! the other modules' tests.

use super::*;

#[tokio::test]
async fn a_general_meeting_from_notice_to_record() {
    let org = branch().await;
    let app = &org.app;
    let id = thursdays_meeting(&org).await;
    assert_eq!(count(&org, "张三").await, 1, "the notice");
    answer_as_usual(&org, &id).await;

    // The time moves one hour later; everything after follows the new time.
    let starts = thursday_afternoon() + Duration::hours(1);
    let moved = json!({"starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(2))});
    let path = format!("/api/v1/admin/meetings/{id}");
    let r = app.patch(&path, &org.admin().await, moved).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    set(&org, starts - Duration::days(1) + Duration::minutes(1));
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 3, "notice, change, reminder");
    assert!(newest_title(&org, "张三").await.starts_with("会议提醒"));
    assert_eq!(count(&org, "李四").await, 2, "notice, change; on leave");

    // Check-in follows the new start: five minutes before is on time, fifteen after is late.
    set(&org, starts - Duration::minutes(5));
    let r = check_in_now(&org, &id, "张三").await;
    assert_eq!(r.body["attendance"], "present", "{:?}", r.body);
    set(&org, starts + Duration::minutes(15));
    let r = check_in_now(&org, &id, "孙八").await;
    assert_eq!(r.body["attendance"], "late", "{:?}", r.body);
    let r = attendance(&org, &id, &org.id("钱七"), "late").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(record(&org, &id).await["quorum"]["held"], true);

    // After the new end: minutes, and the lesson to 李四 (leave), 王五 and 周九 (absent).
    set(&org, starts + Duration::hours(2) + Duration::minutes(1));
    let r = put_minutes(&org, &id, "# 会议记录\n\n应到6人，实到3人。").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = make_up(&org, &id).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["recipients"], 3);
    let past = app
        .get("/api/v1/meetings?when=past", &org.token("张三").await)
        .await;
    assert_eq!(past.body["items"][0]["attendance"], "present");
}
