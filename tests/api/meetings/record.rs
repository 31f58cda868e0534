//! After the meeting: minutes, make-up study, the attendance sheet, the members' lists and the
//! year's summary.

use super::*;

#[tokio::test]
async fn minutes_and_make_up_wait_for_the_end_of_the_meeting() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() + Duration::minutes(15));
    let r = put_minutes(&org, &id, "# 会议记录\n\n应到6人，实到4人。").await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    let r = make_up(&org, &id).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
}

#[tokio::test]
async fn minutes_are_kept_once_the_meeting_has_ended() {
    let org = branch().await;
    let id = held_meeting(&org).await;
    let r = put_minutes(&org, &id, "# 会议记录\n\n应到6人，实到4人。").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["minutes_md"].as_str().unwrap().contains("实到4人"));
}

#[tokio::test]
async fn make_up_study_sends_the_lesson_to_those_on_leave_and_the_absent_only() {
    let org = branch().await;
    let id = held_meeting(&org).await;
    let r = make_up(&org, &id).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["recipients"], 2);
    org.app.drain().await;
    for (name, _) in SEC1 {
        let lesson: Vec<Value> = org
            .inbox(name)
            .await
            .into_iter()
            .filter(|i| i["post_id"] == org.post())
            .collect();
        let expected = usize::from(name == "李四" || name == "周九");
        assert_eq!(lesson.len(), expected, "{name}");
        if expected == 1 {
            let read_by = time(&lesson[0]["read_by"]);
            assert_eq!(read_by, org.app.clock_now() + Duration::days(7));
        }
    }
}

/// The meeting's attendance sheet: the response's content type and its bytes.
async fn attendance_csv(org: &Org, id: &str) -> (String, Vec<u8>) {
    let resp = org
        .app
        .http
        .get(format!(
            "{}/api/v1/admin/meetings/{id}/attendance.csv",
            org.app.base
        ))
        .bearer_auth(org.admin().await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_attendance_sheet_is_a_csv_with_answers_reasons_and_how_each_checked_in() {
    let org = branch().await;
    let id = held_meeting(&org).await;
    let (content_type, bytes) = attendance_csv(&org, &id).await;
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert!(bytes.starts_with("\u{FEFF}".as_bytes()), "BOM");
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        vec![
            "姓名",
            "单位",
            "回复",
            "请假原因",
            "签到",
            "签到时间",
            "方式"
        ]
    );
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 6);
    let row = |n: &str| rows.iter().find(|r| r[0] == n).unwrap().clone();
    assert_eq!(row("张三")[1], "审计一科");
    assert_eq!(row("张三")[2], "参加");
    assert_eq!(row("张三")[4], "已签到");
    assert_eq!(row("张三")[6], "签到码");
    assert_eq!(row("李四")[2], "请假");
    assert_eq!(row("李四")[3], LEAVE_REASON);
    assert_eq!(row("李四")[4], "请假", "on leave, not absent");
    assert_eq!(row("钱七")[4], "迟到");
    assert_eq!(row("钱七")[6], "手工登记");
    assert_eq!(row("周九")[2], "未回复");
}

#[tokio::test]
async fn a_reason_a_spreadsheet_would_run_as_a_formula_is_neutralised_in_the_sheet() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    let formula = json!({"answer": "leave", "reason": "=HYPERLINK(\"http://x\",\"点此\")"});
    assert_eq!(answer(&org, &id, "李四", formula).await.status, 200);
    set(&org, thursday_afternoon() + Duration::hours(2));
    let (_, bytes) = attendance_csv(&org, &id).await;
    let csv = String::from_utf8(bytes).unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
}

#[tokio::test]
async fn a_garbled_optional_body_is_a_400_not_silently_the_default() {
    let org = branch().await;
    let id = held_meeting(&org).await;
    let r = org
        .app
        .post_raw(
            &format!("/api/v1/admin/meetings/{id}/make-up"),
            &org.admin().await,
            "application/json",
            b"{\"read_by\": \"next friday\"}".to_vec(),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
}

#[tokio::test]
async fn a_held_meeting_is_in_the_members_past_not_upcoming() {
    let org = branch().await;
    let app = &org.app;
    let id = held_meeting(&org).await;
    let t = org.token("张三").await;
    let up = app.get("/api/v1/meetings?when=upcoming", &t).await;
    assert!(
        up.body["items"].as_array().unwrap().is_empty(),
        "{:?}",
        up.body
    );
    let past = app.get("/api/v1/meetings?when=past", &t).await;
    assert_eq!(past.body["items"][0]["id"], id.as_str());
    assert_eq!(past.body["items"][0]["attendance"], "present");
    let r = app.get("/api/v1/meetings?when=soon", &t).await;
    assert_eq!(r.detail_fields(), vec!["when"]);
}

#[tokio::test]
async fn the_years_list_and_summary_count_meetings_by_kind_quarter_and_month() {
    let org = branch().await;
    let app = &org.app;
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
    app.meeting(&org.admin().await, group).await;
    held_meeting(&org).await;
    let admin = org.admin().await;
    let path = format!(
        "/api/v1/admin/meetings?unit_id={}&year=2026",
        org.unit(SECTION_1)
    );
    let list = app.get(&path, &admin).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let s = app
        .get("/api/v1/admin/meetings/summary?year=2026", &admin)
        .await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    let kind = |k: &str| {
        s.body["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == k)
            .unwrap()
            .clone()
    };
    let general = kind("general_meeting");
    assert_eq!(general["total"], 1);
    assert_eq!(general["held"], 1);
    assert_eq!(general["quarters"], json!([0, 0, 0, 1]));
    assert_eq!(general["months"][11], 1);
    assert_eq!(kind("group_meeting")["total"], 1);
}
