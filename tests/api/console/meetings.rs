//! Meetings made and run from the console: a secretary creates one (and a monthly series),
//! edits it, records attendance by hand, attaches the minutes, assigns make-up study, cancels
//! another and stops the series; each through the meetings services, audited, as the JSON API.

use chrono::Duration;
use serde_json::json;

use super::{csrf_of, give_password, post_form, sign_in};
use crate::fixtures::Org;
use crate::helpers::*;
use crate::reading::Browser;

fn local(app: &TestApp, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&app.core.settings.timezone)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test]
async fn a_secretary_creates_edits_and_closes_a_meeting_in_the_console() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("党员二", "支部甲")
        .lesson("十二月党课讲稿")
        .signed_in(["党员一", "党员二"])
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    let unit = org.unit("支部甲").to_string();
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut b = Browser::new();
    sign_in(app, &mut b, "shuji", "a-long-password").await;
    let form = b.open(&format!("{}/console/meetings/new", app.base)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("十二月党课讲稿"), "the lessons to link");
    let csrf = csrf_of(&form.body);
    let url = format!("{}/console/meetings/new", app.base);
    let starts = local(app, app.clock_now() + Duration::days(2));

    // A start that is not a time comes back with the reason.
    let (status, _, body) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("kind", "party_lesson"),
            ("title", "党课"),
            ("repeat", "once"),
            ("starts", "明天"),
            ("duration", "90"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("开始时间：请填写开始的日期和时间"), "{body}");

    let (status, location, body) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("kind", "party_lesson"),
            ("unit_id", &unit),
            ("title", "十二月党课"),
            ("repeat", "once"),
            ("starts", &starts),
            ("duration", "90"),
            ("place", "三楼会议室"),
            ("agenda", "一、学习党章"),
            ("post_id", org.post()),
            ("audience", "all"),
            ("reminder", "1440"),
            ("reminder", "60"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    assert!(location.ends_with("?created=1"), "{location}");
    let meeting = location
        .trim_start_matches("/console/meetings/")
        .trim_end_matches("?created=1")
        .to_string();
    let m = app
        .get(&format!("/api/v1/admin/meetings/{meeting}"), &admin)
        .await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(m.body["kind"], json!("party_lesson"));
    assert_eq!(m.body["place"], json!("三楼会议室"));
    assert_eq!(m.body["unit_id"], json!(unit));
    assert_eq!(m.body["reminder_offsets"], json!([1440, 60]));
    let audit = app
        .get("/api/v1/admin/audit?action=meeting.create", &admin)
        .await;
    assert_eq!(audit.body["items"][0]["actor_id"], json!(org.id("书记甲")));

    // Edited: another room. The page says so.
    let edit_url = format!("{}/console/meetings/{meeting}/edit", app.base);
    let edit = b.open(&edit_url).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(edit.body.contains(&starts), "the start as it is");
    let (status, location, body) = post_form(
        &mut b,
        &edit_url,
        &[
            ("csrf", &csrf),
            ("title", "十二月党课"),
            ("starts", &starts),
            ("duration", "90"),
            ("place", "五楼报告厅"),
            ("agenda", "一、学习党章"),
            ("post_id", org.post()),
            ("audience", "all"),
            ("reminder", "1440"),
            ("reminder", "60"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(location.unwrap().ends_with("?saved=1"));
    let m = app
        .get(&format!("/api/v1/admin/meetings/{meeting}"), &admin)
        .await;
    assert_eq!(m.body["place"], json!("五楼报告厅"));
    assert_eq!(m.body["reminder_offsets"], json!([1440, 60]), "unchanged");

    // At the meeting: 党员一 is recorded present by hand; after it, the minutes, and make-up
    // study for 党员二 (and the secretary, who did not come either).
    app.clock.advance(Duration::days(2));
    // Two days on, the 8-hour console session has ended: signed in again.
    let page_url = format!("{}/console/meetings/{meeting}", app.base);
    assert_eq!(b.open(&page_url).await.status, 303);
    let mut b = Browser::new();
    sign_in(app, &mut b, "shuji", "a-long-password").await;
    let page = b.open(&page_url).await;
    let csrf = csrf_of(&page.body);
    assert!(
        page.body.contains("/attendance\""),
        "the attendance forms: {}",
        page.body
    );
    let (status, _, body) = post_form(
        &mut b,
        &format!("{page_url}/attendance"),
        &[
            ("csrf", &csrf),
            ("member_id", &org.id("党员一")),
            ("status", "present"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    app.clock.advance(Duration::hours(2));
    let (status, _, body) = post_form(
        &mut b,
        &format!("{page_url}/minutes"),
        &[("csrf", &csrf), ("minutes_md", "学习了党章第一章。")],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let (status, location, body) = post_form(
        &mut b,
        &format!("{page_url}/make-up"),
        &[("csrf", &csrf), ("read_by", "")],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(
        location.as_deref().unwrap().ends_with("?made_up=2"),
        "{location:?}"
    );
    let admin = app.admin_token().await;
    let record = app
        .get(&format!("/api/v1/admin/meetings/{meeting}"), &admin)
        .await;
    assert_eq!(
        record.body["minutes_md"],
        json!("学习了党章第一章。"),
        "{:?}",
        record.body
    );
    let page = b.open(&format!("{page_url}?made_up=2")).await;
    assert!(page.body.contains("已向 2 位未到会的成员发送补学材料"));
    assert!(page.body.contains("学习了党章第一章。"));
    app.drain().await;
    let inbox = app.inbox(&org.token("党员二").await).await;
    assert!(
        inbox.iter().any(|i| i["title"] == json!("十二月党课讲稿")),
        "{inbox:?}"
    );

    // Another meeting, canceled with a reason before it starts.
    let starts = local(app, app.clock_now() + Duration::days(5));
    let (_, location, _) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("kind", "group_meeting"),
            ("unit_id", &unit),
            ("title", "小组会"),
            ("repeat", "once"),
            ("starts", &starts),
            ("duration", "60"),
            ("place", "小会议室"),
            ("audience", "all"),
            ("action", "save"),
        ],
    )
    .await;
    let other = location
        .unwrap()
        .trim_start_matches("/console/meetings/")
        .trim_end_matches("?created=1")
        .to_string();
    let (status, location, _) = post_form(
        &mut b,
        &format!("{}/console/meetings/{other}/cancel", app.base),
        &[("csrf", &csrf), ("reason", "改期")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().ends_with("?canceled=1"));
    let m = app
        .get(&format!("/api/v1/admin/meetings/{other}"), &admin)
        .await;
    assert_eq!(m.body["status"], json!("canceled"));
}

#[tokio::test]
async fn a_monthly_committee_meeting_is_set_up_as_a_series_and_stopped() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("委员", "支部甲")
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    let unit = org.unit("支部甲").to_string();
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut b = Browser::new();
    sign_in(app, &mut b, "shuji", "a-long-password").await;
    let form = b.open(&format!("{}/console/meetings/new", app.base)).await;
    let csrf = csrf_of(&form.body);
    let url = format!("{}/console/meetings/new", app.base);
    let fields = |action: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("kind", "committee_meeting".into()),
            ("unit_id", unit.clone()),
            ("title", "支委会".into()),
            ("repeat", "rule".into()),
            ("freq", "nth".into()),
            ("nth", "1".into()),
            ("nthday", "MO".into()),
            ("time", "14:30".into()),
            ("duration", "60".into()),
            ("place", "支部活动室".into()),
            ("lead_days", "3".into()),
            ("audience", "all".into()),
            ("action", action.into()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };
    let preview = as_refs(&fields("preview"));
    let preview: Vec<(&str, &str)> = preview.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = post_form(&mut b, &url, &preview).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("每月第一个周一 14:30"), "{body}");
    assert_eq!(body.matches(" 周一 14:30</li>").count(), 5, "{body}");

    let save = fields("save");
    let save: Vec<(&str, &str)> = save.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, body) = post_form(&mut b, &url, &save).await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    let series = location
        .trim_start_matches("/console/meetings?series=")
        .to_string();
    let list = b.open(&format!("{}{location}", app.base)).await;
    assert!(
        list.body.contains("定期会议已创建") && list.body.contains("每月第一个周一 14:30"),
        "{}",
        list.body
    );
    let s = app
        .get(&format!("/api/v1/admin/meeting-series/{series}"), &admin)
        .await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    assert_eq!(
        s.body["recurrence"],
        json!("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=14;BYMINUTE=30")
    );

    let (status, location, _) = post_form(
        &mut b,
        &format!("{}/console/meeting-series/{series}/cancel", app.base),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().ends_with("?series_canceled=1"));
    let s = app
        .get(&format!("/api/v1/admin/meeting-series/{series}"), &admin)
        .await;
    assert_eq!(s.body["status"], json!("canceled"));
}
