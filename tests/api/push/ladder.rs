//! Required reading that escalates: a reminder before the deadline, an urgent push at it and
//! the non-readers listed to their secretaries; each step once, on the injected clock.

use fingertip_core::entities::broadcast_steps;
use fingertip_workers::FanoutWorker;

use super::*;

const GROUP: &str = "第一党小组";
const SECRETARY: &str = "赵书记";

/// The branch with its secretary, 党员0 and 党员1, and a group below it (no secretary of its
/// own) with 党员2; everyone bound to WeChat with three lesson consents.
async fn ladder_org() -> Org {
    let org = Org::builder(spawn_app().await)
        .unit(BRANCH, None)
        .unit(GROUP, Some(BRANCH))
        .secretary(SECRETARY, BRANCH)
        .member("党员0", BRANCH)
        .member("党员1", BRANCH)
        .member("党员2", GROUP)
        .post(NewPost::lesson("七月党课").body("正文").untimed())
        .everyone_signed_in()
        .build()
        .await;
    lesson_template(&org).await;
    for name in [SECRETARY, "党员0", "党员1", "党员2"] {
        subscribe(&org, name, 3).await;
    }
    org
}

fn openid(org: &Org, name: &str) -> String {
    format!("o-{}", org.id(name))
}

/// The broadcast's ladder as its page shows it.
async fn steps(org: &Org, bc: &str) -> Vec<Value> {
    org.app.broadcast_record(&org.admin().await, bc).await["ladder_steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn read(org: &Org, name: &str) {
    let t = org.token(name).await;
    let item = org
        .app
        .inbox(&t)
        .await
        .into_iter()
        .find(|i| i["title"] == "七月党课")
        .expect("the lesson is in the inbox");
    assert_eq!(org.app.read(&t, &id(&item)).await.status, 200);
}

/// Titles of the WeChat messages `name` received, in order.
fn titles(org: &Org, name: &str) -> Vec<String> {
    let to = openid(org, name);
    org.app
        .mock
        .sent()
        .into_iter()
        .filter(|m| m.touser == vec![to.clone()])
        .map(|m| m.value("thing1").unwrap_or_default().to_string())
        .collect()
}

async fn later(org: &Org, by: Duration) {
    org.app.clock.advance(by);
    org.app.drain().await;
}

#[tokio::test]
async fn the_ladder_reminds_escalates_and_tells_the_secretary_each_step_once() {
    let org = ladder_org().await;
    let admin = org.admin().await;
    let deadline = org.app.clock_now() + Duration::days(3);
    let bc = id(&org
        .app
        .broadcast(
            &admin,
            Broadcast::to_unit(org.post(), org.unit(BRANCH))
                .channels(&["wechat"])
                .read_by(deadline),
        )
        .await);
    org.app.drain().await;
    let planned = steps(&org, &bc).await;
    let plan: Vec<(&str, &str, chrono::DateTime<chrono::Utc>)> = planned
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap(),
                s["state"].as_str().unwrap(),
                time(&s["due_at"]),
            )
        })
        .collect();
    assert_eq!(
        plan,
        vec![
            ("remind", "planned", deadline - Duration::days(1)),
            ("urgent", "planned", deadline),
            ("summary", "planned", deadline),
        ],
        "the default ladder: {planned:?}"
    );
    read(&org, SECRETARY).await;
    read(&org, "党员0").await;

    // Two days on, an hour before the reminder: nothing yet.
    later(&org, Duration::days(2) - Duration::hours(1)).await;
    assert_eq!(titles(&org, "党员1").len(), 1, "only the send so far");
    later(&org, Duration::hours(1)).await;
    assert_eq!(titles(&org, "党员1"), vec!["七月党课", "提醒：七月党课"]);
    assert_eq!(titles(&org, "党员2"), vec!["七月党课", "提醒：七月党课"]);
    assert_eq!(
        titles(&org, "党员0"),
        vec!["七月党课"],
        "a reader is not reminded"
    );
    let s = steps(&org, &bc).await;
    assert_eq!(
        (
            s[0]["state"].as_str(),
            s[0]["unread"].as_i64(),
            s[0]["pushes"].as_i64()
        ),
        (Some("ran"), Some(2), Some(2))
    );
    assert_eq!(s[1]["state"], "planned");

    // Later passes, and a worker of a restarted process, do not run it again.
    later(&org, Duration::hours(1)).await;
    FanoutWorker::new(org.app.core.clone(), "restarted")
        .run_once()
        .await
        .unwrap();
    org.app.drain().await;
    assert_eq!(titles(&org, "党员2").len(), 2);

    // 党员1 reads; at the deadline only 党员2 is pushed, urgently, and the secretary told.
    read(&org, "党员1").await;
    later(&org, Duration::hours(23)).await;
    assert_eq!(titles(&org, "党员1").len(), 2, "read before the deadline");
    assert_eq!(titles(&org, "党员2").last().unwrap(), "紧急：七月党课");
    let summaries: Vec<Value> = org
        .inbox(SECRETARY)
        .await
        .into_iter()
        .filter(|i| i["title"] == "未读名单：七月党课")
        .collect();
    assert_eq!(summaries.len(), 1, "one summary: {summaries:?}");
    assert_eq!(summaries[0]["summary"], "1 人到期未读");
    let summary_pushes = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::MemberId.eq(org.id(SECRETARY).parse::<i64>().unwrap()))
        .filter(
            push_deliveries::Column::BroadcastId.eq(summaries[0]["broadcast_id"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()),
        )
        .all(&org.app.core.db)
        .await
        .unwrap();
    assert_eq!(
        summary_pushes
            .iter()
            .map(|d| d.channel.as_str())
            .collect::<Vec<_>>(),
        vec!["wechat"],
        "the summary goes on the broadcast's push channels too"
    );
    let s = steps(&org, &bc).await;
    assert_eq!(
        (s[1]["unread"].as_i64(), s[1]["pushes"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (s[2]["state"].as_str(), s[2]["pushes"].as_i64()),
        (Some("ran"), Some(1))
    );
    assert_eq!(
        s[2]["units"],
        json!([{
            "unit_id": org.unit(GROUP),
            "unit": GROUP,
            "unread": 1,
            "secretaries": [org.id(SECRETARY)],
        }]),
        "the group has no secretary: the branch's is told"
    );

    // A day later nothing has run twice.
    later(&org, Duration::days(1)).await;
    assert_eq!(titles(&org, "党员2").len(), 3);
    let rows = broadcast_steps::Entity::find()
        .filter(broadcast_steps::Column::BroadcastId.eq(bc.parse::<i64>().unwrap()))
        .all(&org.app.core.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let count = org
        .inbox(SECRETARY)
        .await
        .iter()
        .filter(|i| i["title"] == "未读名单：七月党课")
        .count();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_reminder_is_dropped_for_a_member_who_reads_before_it_goes_out() {
    let org = ladder_org().await;
    let deadline = org.app.clock_now() + Duration::hours(10);
    let bc = id(&org
        .app
        .broadcast(
            &org.admin().await,
            Broadcast::to_unit(org.post(), org.unit(BRANCH))
                .channels(&["wechat"])
                .read_by(deadline)
                .ladder(json!({"urgent": false, "summary": false})),
        )
        .await);
    org.app.drain().await;
    // Ten hours is less than the default day's lead: the reminder is halfway.
    assert_eq!(steps(&org, &bc).await.len(), 1);
    org.app.clock.advance(Duration::hours(5));
    // The fan-out worker runs the step; the push worker has not reached it yet when 党员1 reads.
    org.app.worker.run_once().await.unwrap();
    read(&org, "党员1").await;
    org.app.drain().await;
    assert_eq!(titles(&org, "党员1"), vec!["七月党课"]);
    assert_eq!(titles(&org, "党员2"), vec!["七月党课", "提醒：七月党课"]);
    let dropped: Vec<push_deliveries::Model> = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::MemberId.eq(org.id("党员1").parse::<i64>().unwrap()))
        .filter(push_deliveries::Column::Round.eq(1))
        .all(&org.app.core.db)
        .await
        .unwrap();
    assert_eq!(dropped.len(), 1);
    assert!(
        dropped[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .starts_with("read"),
        "{dropped:?}"
    );
    // Nothing else is planned: the deadline passes quietly.
    later(&org, Duration::hours(6)).await;
    assert_eq!(titles(&org, "党员2").len(), 2);
}

#[tokio::test]
async fn two_workers_at_once_run_a_step_once() {
    let org = ladder_org().await;
    let deadline = org.app.clock_now() + Duration::days(2);
    let bc = id(&org
        .app
        .broadcast(
            &org.admin().await,
            Broadcast::to_unit(org.post(), org.unit(BRANCH))
                .channels(&["wechat"])
                .read_by(deadline),
        )
        .await);
    org.app.drain().await;
    org.app.clock.advance(Duration::days(2));
    let core = &org.app.core;
    let (a, b) = tokio::join!(
        fingertip_core::broadcasts::ladder::run_due(core),
        fingertip_core::broadcasts::ladder::run_due(core)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 3, "three steps between them");
    org.app.drain().await;
    // Nobody read: one urgent push each (the reminder, queued at the same moment, is late and
    // dropped for it), one summary.
    for name in ["党员0", "党员1", "党员2"] {
        assert_eq!(
            titles(&org, name),
            vec!["七月党课", "紧急：七月党课"],
            "{name}"
        );
    }
    let summaries = org
        .inbox(SECRETARY)
        .await
        .iter()
        .filter(|i| i["title"] == "未读名单：七月党课")
        .count();
    assert_eq!(summaries, 1);
    let s = steps(&org, &bc).await;
    assert!(s.iter().all(|s| s["state"] == "ran"), "{s:?}");
}

#[tokio::test]
async fn a_canceled_broadcast_drops_its_ladder_and_bad_ladders_are_refused() {
    let org = ladder_org().await;
    let admin = org.admin().await;
    let now = org.app.clock_now();
    let bc = id(&org
        .app
        .broadcast(
            &admin,
            Broadcast::to_unit(org.post(), org.unit(BRANCH))
                .at(now + Duration::hours(1))
                .read_by(now + Duration::days(2))
                .ladder(json!({"remind_before_minutes": 120})),
        )
        .await);
    let s = steps(&org, &bc).await;
    assert_eq!(s.len(), 3);
    assert_eq!(
        time(&s[0]["due_at"]),
        now + Duration::days(2) - Duration::hours(2)
    );
    assert_eq!(
        org.app.broadcast_action(&admin, &bc, "cancel").await.status,
        200
    );
    later(&org, Duration::days(3)).await;
    let s = steps(&org, &bc).await;
    assert!(s.iter().all(|s| s["state"] == "dropped"), "{s:?}");
    assert!(titles(&org, "党员1").is_empty());

    let admin = org.admin().await;
    let now = org.app.clock_now();
    // `null` turns the reminder off; the fields left out keep their defaults.
    let quiet = id(&org
        .app
        .broadcast(
            &admin,
            Broadcast::to_all(org.post())
                .read_by(now + Duration::days(1))
                .ladder(json!({"remind_before_minutes": null})),
        )
        .await);
    let view = org.app.broadcast_record(&admin, &quiet).await;
    assert_eq!(
        view["ladder"],
        json!({"remind_before_minutes": null, "urgent": true, "summary": true})
    );
    let kinds: Vec<&str> = view["ladder_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["urgent", "summary"]);
    for (ladder, field) in [
        (
            json!({"remind_before_minutes": 5}),
            "ladder.remind_before_minutes",
        ),
        (
            json!({"remind_before_minutes": 43_201}),
            "ladder.remind_before_minutes",
        ),
    ] {
        let r = org
            .app
            .try_broadcast(
                &admin,
                Broadcast::to_all(org.post())
                    .read_by(now + Duration::days(1))
                    .ladder(ladder),
            )
            .await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{:?}",
            r.body
        );
    }
    let r = org
        .app
        .try_broadcast(&admin, Broadcast::to_all(org.post()).ladder(json!({})))
        .await;
    assert_eq!(r.status, 400, "a ladder without a deadline: {:?}", r.body);
    assert!(r.detail_fields().contains(&"ladder".to_string()));
    let r = org
        .app
        .try_broadcast(
            &admin,
            Broadcast::to_all(org.post())
                .read_by(now + Duration::days(1))
                .ladder(json!({"remind": 60})),
        )
        .await;
    assert_eq!(r.status, 400, "an unknown field: {:?}", r.body);
}
