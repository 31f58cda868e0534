//! Reminders to those attending and nudges to those who have not answered, the day before and
//! an hour before; nothing to those on leave; once each, whatever the workers do.

use super::*;

/// The members of 一科 who have not answered.
const SILENT: [&str; 4] = ["王五", "钱七", "孙八", "周九"];

/// Thursday's meeting, answered as usual; the clock a minute into the day-before round, which
/// the workers have run twice. The meeting's id.
async fn the_day_before(org: &Org) -> String {
    let id = thursdays_meeting(org).await;
    answer_as_usual(org, &id).await;
    set(
        org,
        thursday_afternoon() - Duration::days(1) + Duration::minutes(1),
    );
    org.app.drain().await;
    org.app.drain().await;
    id
}

#[tokio::test]
async fn the_day_before_attendees_are_reminded_and_the_silent_nudged_once_each() {
    let org = branch().await;
    the_day_before(&org).await;
    // The notice, then the reminder.
    assert_eq!(count(&org, "张三").await, 2);
    assert!(newest_title(&org, "张三").await.starts_with("会议提醒"));
    assert_eq!(count(&org, "李四").await, 1, "nothing to those on leave");
    for name in SILENT {
        assert_eq!(count(&org, name).await, 2, "{name}");
        assert!(
            newest_title(&org, name).await.starts_with("请回复"),
            "{name}"
        );
    }
    assert_eq!(count(&org, "赵六").await, 0);
}

#[tokio::test]
async fn an_hour_before_a_freshly_started_worker_sends_the_second_round_once() {
    let org = branch().await;
    let app = &org.app;
    the_day_before(&org).await;
    // As after a restart: a worker that has never run.
    set(&org, thursday_afternoon() - Duration::minutes(59));
    let fresh = app.fanout_worker(1);
    while fresh.run_once().await.unwrap() > 0 {}
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 3);
    assert_eq!(count(&org, "李四").await, 1);
    assert_eq!(count(&org, "周九").await, 3);
    while fresh.run_once().await.unwrap() > 0 {}
    app.drain().await;
    assert_eq!(count(&org, "张三").await, 3, "once each");
}

#[tokio::test]
async fn a_meetings_reminders_cannot_be_edited_through_the_broadcasts_api() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    let rec = record(&org, &id).await;
    let reminder = &broadcast_ids(&rec, "reminder", "scheduled")[0];
    let r = org
        .app
        .patch(
            &format!("/api/v1/admin/broadcasts/{reminder}"),
            &org.admin().await,
            json!({"audience": {"all": true}}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
}
