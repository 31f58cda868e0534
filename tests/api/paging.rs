//! Every paged list, walked two items at a time, gives the items of one big page, in the same
//! order, each once, and ends with a null `next_cursor`: lists by id (newest or oldest first),
//! the audit log by sequence, and the meeting lists by time (the cursor counts rows).

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

/// Monday 7 December 2026, 09:00 in Shanghai.
fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap()
}

/// The items of `path` (which has a query string) walked `limit` at a time.
async fn walk(app: &TestApp, token: &str, path: &str, limit: u64) -> Vec<Value> {
    let mut items = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            None => format!("{path}&limit={limit}"),
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
        };
        let r = app.get(&url, token).await;
        assert_eq!(r.status, 200, "{url}: {:?}", r.body);
        let page = r.body["items"].as_array().unwrap();
        assert!(page.len() as u64 <= limit, "{url}: {:?}", r.body);
        items.extend(page.iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
    panic!("{path}: no last page after 100 pages");
}

/// Walked two at a time, `path` gives what one page of 100 gives, and more than one page.
async fn pages_agree(app: &TestApp, token: &str, path: &str) {
    let all = walk(app, token, path, 100).await;
    assert!(all.len() > 2, "{path}: too few items to page: {all:?}");
    let walked = walk(app, token, path, 2).await;
    assert_eq!(walked, all, "{path}");
}

#[tokio::test]
async fn every_list_pages_through_all_its_items_once() {
    let mut org = Org::branch(spawn_app().await).at(monday_morning());
    for name in ["张三", "李四", "王五", "钱七", "孙八"] {
        org = org.member(name, SECTION_1);
    }
    let org = org.lesson("学习党章").everyone_signed_in().build().await;
    let app = &org.app;
    let admin = org.admin().await;
    for i in 0..4 {
        let title = format!("第{i}期");
        let post = app.create_post_with(&admin, NewPost::lesson(&title)).await;
        app.broadcast(&admin, Broadcast::to_unit(&post, org.unit(SECTION_1)))
            .await;
    }
    app.drain().await;
    let one = org.unit(SECTION_1);
    for day in 1..=4 {
        let starts = monday_morning() + Duration::days(day);
        let m = Meeting::new(
            "group_meeting",
            "党小组会",
            one,
            starts,
            starts + Duration::hours(1),
        )
        .place("会议室")
        .reminders(&[]);
        app.meeting(&admin, m).await;
    }
    for (title, at) in [("学习日", "2026-12-11"), ("主题党日", "2026-12-18")] {
        let s = Series::new(
            "study_day",
            title,
            one,
            &format!("{at}T08:30:00+08:00"),
            "FREQ=MONTHLY",
        )
        .place("会议室");
        let r = app
            .post(
                "/api/v1/admin/meeting-series",
                &admin,
                serde_json::to_value(s).unwrap(),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let s = Series::new(
        "other",
        "读书会",
        one,
        "2026-12-25T19:00:00+08:00",
        "FREQ=WEEKLY",
    )
    .place("会议室");
    let body = serde_json::to_value(s).unwrap();
    let r = app.post("/api/v1/admin/meeting-series", &admin, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    app.drain().await;

    for path in [
        "/api/v1/admin/posts?kind=lesson",
        "/api/v1/admin/broadcasts?status=sent",
        "/api/v1/admin/members?q=",
        "/api/v1/admin/audit?action=broadcast",
        "/api/v1/admin/meetings?year=2026",
        "/api/v1/admin/meeting-series?x=1",
    ] {
        pages_agree(app, &admin, path).await;
    }
    let broadcasts = walk(app, &admin, "/api/v1/admin/broadcasts?status=sent", 100).await;
    let recipients = format!(
        "/api/v1/admin/broadcasts/{}/recipients?state=unread",
        id(&broadcasts[0])
    );
    pages_agree(app, &admin, &recipients).await;
    let member = org.token("张三").await;
    pages_agree(app, &member, "/api/v1/inbox?unread_only=false").await;
    pages_agree(app, &member, "/api/v1/meetings?when=upcoming").await;
}
