//! Invitees answer: attending, or on leave with a reason; the record counts the answers.

use super::*;

#[tokio::test]
async fn an_invitee_answers_and_leave_needs_a_reason() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    let r = answer(&org, &id, "张三", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["answer"], "attending");
    let r = answer(&org, &id, "李四", json!({"answer": "leave"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.detail_fields(), vec!["reason"]);
    let blank = json!({"answer": "leave", "reason": "  "});
    let r = answer(&org, &id, "李四", blank).await;
    assert_eq!(r.detail_fields(), vec!["reason"]);
    let leave = json!({"answer": "leave", "reason": LEAVE_REASON});
    let r = answer(&org, &id, "李四", leave).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = answer(&org, &id, "张三", json!({"answer": "maybe"})).await;
    assert_eq!(r.detail_fields(), vec!["answer"]);
}

#[tokio::test]
async fn someone_not_invited_cannot_answer() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    let r = answer(&org, &id, "赵六", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 404, "a non-invitee: {:?}", r.body);
}

#[tokio::test]
async fn the_record_counts_the_answers_and_leave_is_excused_not_absent() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    answer_as_usual(&org, &id).await;
    let rec = record(&org, &id).await;
    assert_eq!(
        rec["counts"],
        json!({"invited": 6, "attending": 1, "leave": 1, "no_answer": 4, "present": 0, "late": 0, "absent": 5}),
        "leave is excused, not counted as absent"
    );
    let li = rec["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "李四")
        .unwrap();
    assert_eq!(li["answer"], "leave");
    assert_eq!(li["reason"], LEAVE_REASON);
}

#[tokio::test]
async fn answers_close_when_the_meeting_starts() {
    let org = branch().await;
    let id = thursdays_meeting(&org).await;
    set(&org, thursday_afternoon() + Duration::minutes(15));
    let r = answer(&org, &id, "周九", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 409, "answer after the start: {:?}", r.body);
}
