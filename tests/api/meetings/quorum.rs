//! Quorum per kind of meeting: a general meeting needs a majority of the full members, a
//! committee meeting more than half of the committee, a party lesson none.

use super::*;

#[tokio::test]
async fn a_general_meeting_is_quorate_once_a_majority_of_full_members_is_present() {
    let org = branch().await;
    let starts = thursday_afternoon();
    let id = thursdays_meeting(&org).await;
    answer_as_usual(&org, &id).await;
    set(&org, starts - Duration::minutes(5));
    for name in ["张三", "王五"] {
        assert_eq!(check_in_now(&org, &id, name).await.status, 200, "{name}");
    }
    // 1 of 5 voting members: 王五 is probationary.
    assert_eq!(
        record(&org, &id).await["quorum"],
        json!({"rule": "general_meeting", "eligible": 5, "present": 1, "required": 3, "held": false})
    );
    set(&org, starts + Duration::minutes(15));
    assert_eq!(check_in_now(&org, &id, "孙八").await.status, 200);
    assert_eq!(
        attendance(&org, &id, &org.id("钱七"), "late").await.status,
        200
    );
    let rec = record(&org, &id).await;
    assert_eq!(
        rec["quorum"],
        json!({"rule": "general_meeting", "eligible": 5, "present": 3, "required": 3, "held": true})
    );
    assert_eq!(rec["counts"]["present"], 2);
    assert_eq!(rec["counts"]["late"], 2);
    assert_eq!(rec["counts"]["absent"], 1, "李四 is on leave, not absent");
}

#[tokio::test]
async fn a_committee_meeting_needs_more_than_half_of_the_committee() {
    let org = branch().await;
    let committee = org
        .app
        .meeting(
            &org.admin().await,
            an_hour_from(&org, "committee_meeting", thursday_afternoon()),
        )
        .await;
    let id = id(&committee);
    set(&org, thursday_afternoon());
    let code = code(&org, &id).await;
    assert_eq!(check_in(&org, &id, "张三", &code).await.status, 200);
    // Committee members are 张三 and 李四: one of two is not more than half.
    assert_eq!(
        record(&org, &id).await["quorum"],
        json!({"rule": "committee_meeting", "eligible": 2, "present": 1, "required": 2, "held": false})
    );
    assert_eq!(check_in(&org, &id, "李四", &code).await.status, 200);
    assert_eq!(record(&org, &id).await["quorum"]["held"], true);
}

#[tokio::test]
async fn a_party_lesson_has_no_quorum() {
    let org = branch().await;
    let lesson = org
        .app
        .meeting(
            &org.admin().await,
            an_hour_from(&org, "party_lesson", thursday_afternoon()),
        )
        .await;
    assert_eq!(
        record(&org, &id(&lesson)).await["quorum"],
        json!({"rule": "none"})
    );
}
