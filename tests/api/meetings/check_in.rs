//! Check-in with the rotating code the organiser shows: when it is open, which codes work,
//! late arrivals by code or by hand, and guessing.

use super::*;

#[tokio::test]
async fn forty_minutes_before_the_start_check_in_is_not_open_yet() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() - Duration::minutes(40));
    let r = check_in_now(&org, &id, "张三").await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.code(), "conflict");
}

#[tokio::test]
async fn the_code_of_another_meeting_at_the_same_time_does_not_work() {
    let org = branch().await;
    let starts = thursday_afternoon();
    let unit = org.unit(SECTION_2);
    let group = Meeting::new(
        "group_meeting",
        "二科党小组会",
        unit,
        starts,
        starts + Duration::hours(1),
    )
    .online("https://meeting.example/abc");
    let other = id(&org.app.meeting(&org.admin().await, group).await);
    let id = thursdays_meeting(&org).await;
    set(&org, starts - Duration::minutes(5));
    let mine = code(&org, &id).await;
    assert_eq!(mine.len(), 6);
    let foreign = code(&org, &other).await;
    assert_ne!(foreign, mine);
    let r = check_in(&org, &id, "张三", &foreign).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.detail_fields(), vec!["code"]);
    let r = check_in(&org, &id, "张三", &mine).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["attendance"], "present");
}

#[tokio::test]
async fn a_code_still_works_thirty_seconds_after_it_changed_and_not_a_minute_after() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() - Duration::minutes(5));
    let shown = code(&org, &id).await;
    assert_eq!(check_in(&org, &id, "张三", &shown).await.status, 200);
    org.app.clock.advance(Duration::seconds(30));
    let r = check_in(&org, &id, "王五", &shown).await;
    assert_eq!(r.status, 200, "previous code: {:?}", r.body);
    assert_eq!(r.body["attendance"], "present");
    org.app.clock.advance(Duration::seconds(30));
    let r = check_in(&org, &id, "周九", &shown).await;
    assert_eq!(r.status, 400, "expired code: {:?}", r.body);
    assert_eq!(r.code(), "validation_failed");
}

#[tokio::test]
async fn someone_not_invited_cannot_check_in() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() - Duration::minutes(5));
    let r = check_in_now(&org, &id, "赵六").await;
    assert_eq!(r.status, 404, "not invited");
}

#[tokio::test]
async fn a_quarter_of_an_hour_after_the_start_is_late_by_code_or_by_hand() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() + Duration::minutes(15));
    let r = check_in_now(&org, &id, "孙八").await;
    assert_eq!(r.body["attendance"], "late");
    let r = attendance(&org, &id, &org.id("钱七"), "late").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["check_in_method"], "manual");
}

#[tokio::test]
async fn attendance_by_hand_is_for_invitees_and_known_statuses() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() + Duration::minutes(15));
    let r = attendance(&org, &id, &org.id("赵六"), "present").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["member_id"]);
    let r = attendance(&org, &id, &org.id("周九"), "asleep").await;
    assert_eq!(r.detail_fields(), vec!["status"]);
}

#[tokio::test]
async fn after_the_end_check_in_is_closed() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(
        &org,
        thursday_afternoon() + Duration::hours(2) + Duration::minutes(1),
    );
    // The organiser can no longer get a code; any code is refused as too late.
    let path = format!("/api/v1/admin/meetings/{id}/checkin-code");
    let r = org.app.get(&path, &org.admin().await).await;
    let any = r.body["code"].as_str().unwrap_or("000000").to_string();
    let r = check_in(&org, &id, "周九", &any).await;
    assert_eq!(r.status, 409, "after the end: {:?}", r.body);
}

#[tokio::test]
async fn ten_wrong_codes_and_even_the_right_one_is_429() {
    let org = branch().await;
    let starts = thursday_afternoon();
    let unit = org.unit(SECTION_1);
    let meeting = Meeting::new(
        "general_meeting",
        "党员大会",
        unit,
        starts,
        starts + Duration::hours(1),
    )
    .place("三楼会议室");
    let id = id(&org.app.meeting(&org.admin().await, meeting).await);
    set(&org, starts);
    let right = code(&org, &id).await;
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..10 {
        assert_eq!(check_in(&org, &id, "张三", wrong).await.status, 400);
    }
    let r = check_in(&org, &id, "张三", &right).await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.code(), "rate_limited");
}
