//! Anonymous evaluation surveys (测评): written and published by a unit's managers, answered
//! once by those asked, reminded a day before the close (once), results only once closed and per
//! question only with at least five answers; and nobody with the database can tell who answered
//! what.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const GROUP: &str = "第一党小组";
const OTHER: &str = "第二党支部";
const TITLE: &str = "2026年度支部工作测评";

async fn branch() -> Org {
    Org::builder(spawn_app().await)
        .at(beijing(12, 1, 10, 0))
        .unit(BRANCH, None)
        .unit(GROUP, Some(BRANCH))
        .unit(OTHER, None)
        .secretary("赵书记", BRANCH)
        .member("党员0", BRANCH)
        .member("党员1", BRANCH)
        .member("党员2", BRANCH)
        .member("党员3", GROUP)
        .member("党员4", GROUP)
        .secretary("钱书记", OTHER)
        .member("孙党员", OTHER)
        .build()
        .await
}

fn survey(org: &Org) -> Value {
    json!({
        "unit_id": org.unit(BRANCH),
        "title": TITLE,
        "intro": "请对支部全年工作作出评价。",
        "questions": [
            {"kind": "rating", "text": "对支部全年工作的总体评价"},
            {"kind": "multiple", "text": "做得好的方面", "options": ["理论学习", "组织生活", "关心关爱"]},
            {"kind": "text", "text": "意见和建议"},
        ],
        "audience": {"unit_ids": [org.unit(BRANCH)]},
        "closes_at": beijing(12, 10, 18, 0),
    })
}

async fn ballot(org: &Org, who: &str, survey: &str, answers: Value) -> Resp {
    org.app
        .post(
            &format!("/api/v1/surveys/{survey}/ballot"),
            &org.token(who).await,
            json!({ "answers": answers }),
        )
        .await
}

/// Creates and publishes the survey as the branch's secretary; its id.
async fn published(org: &Org, body: Value) -> String {
    let sec = org.token("赵书记").await;
    let r = org.app.post("/api/v1/admin/surveys", &sec, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let s = id(&r.body);
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/surveys/{s}/publish"),
            &sec,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    org.app.drain().await;
    s
}

fn titles(items: &[Value], containing: &str) -> usize {
    items
        .iter()
        .filter(|i| i["title"].as_str().is_some_and(|t| t.contains(containing)))
        .count()
}

#[tokio::test]
async fn a_survey_is_answered_once_and_shows_results_only_closed_and_for_five() {
    let org = branch().await;
    let sec = org.token("赵书记").await;

    // Bad drafts are named field by field.
    for (patch, field) in [
        (json!({"min_group": 3}), "min_group"),
        (json!({"closes_at": beijing(12, 1, 10, 30)}), "closes_at"),
        (
            json!({"questions": [{"kind": "essay", "text": "?"}]}),
            "questions[0].kind",
        ),
        (
            json!({"questions": [{"kind": "multiple", "text": "?", "options": ["一"]}]}),
            "questions[0].options",
        ),
    ] {
        let mut body = survey(&org);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = org.app.post("/api/v1/admin/surveys", &sec, body).await;
        assert_eq!(r.status, 400, "{patch}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{patch}: {:?}",
            r.body
        );
    }
    let r = org
        .app
        .post(
            "/api/v1/admin/surveys",
            &org.token("党员0").await,
            survey(&org),
        )
        .await;
    assert_eq!(r.status, 403, "a member writes no survey");

    let s = published(&org, survey(&org)).await;
    let path = format!("/api/v1/admin/surveys/{s}");
    let r = org.app.get(&path, &sec).await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["asked"].as_u64()),
        (Some("open"), Some(6))
    );
    let r = org.app.get(&path, &org.token("钱书记").await).await;
    assert_eq!(r.status, 404, "another branch's secretary");
    let r = org
        .app
        .request(reqwest::Method::PUT, &path, Some(&sec), Some(survey(&org)))
        .await;
    assert_eq!(r.status, 409, "published: {:?}", r.body);
    let r = org
        .app
        .post(&format!("{path}/publish"), &sec, json!({}))
        .await;
    assert_eq!(r.status, 409, "published once");
    assert_eq!(
        titles(&org.inbox("党员3").await, &format!("测评：{TITLE}")),
        1
    );

    // Those asked see it; anyone else does not.
    let r = org
        .app
        .get(&format!("/api/v1/surveys/{s}"), &org.token("孙党员").await)
        .await;
    assert_eq!(r.status, 404);
    let r = ballot(&org, "孙党员", &s, json!([0, [0], null])).await;
    assert_eq!(r.status, 404, "not asked");
    let r = org
        .app
        .get("/api/v1/surveys", &org.token("党员0").await)
        .await;
    assert_eq!(r.body["items"][0]["answered"], false);
    assert_eq!(
        r.body["items"][0]["questions"][0]["options"],
        json!(["优秀", "良好", "一般", "差"])
    );

    // Answered once; a wrong answer is named by its question only.
    let r = ballot(&org, "党员0", &s, json!([5, [0], null])).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["answers[0]".to_string()]);
    assert_eq!(
        ballot(&org, "党员0", &s, json!([0, [0, 2], "多组织户外学习"]))
            .await
            .status,
        204
    );
    let again = ballot(&org, "党员0", &s, json!([3, [1], null])).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    let r = org
        .app
        .get(&format!("/api/v1/surveys/{s}"), &org.token("党员0").await)
        .await;
    assert_eq!(r.body["answered"], true);
    let r = org.app.get(&format!("{path}/results"), &sec).await;
    assert_eq!(r.status, 409, "no results while open: {:?}", r.body);
    assert_eq!(
        ballot(&org, "党员1", &s, json!([1, [1], null]))
            .await
            .status,
        204
    );
    assert_eq!(
        ballot(&org, "党员3", &s, json!([0, [0], "希望多一些线上学习"]))
            .await
            .status,
        204
    );

    // Participation per unit, and who in the group has not answered.
    let r = org
        .app
        .get(
            &format!("{path}/participation?unit_id={}", org.unit(GROUP)),
            &sec,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["asked"].as_u64(), r.body["answered"].as_u64()),
        (Some(6), Some(3))
    );
    let units: Vec<(String, u64, u64)> = r.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit_name"].as_str().unwrap().to_string(),
                u["asked"].as_u64().unwrap(),
                u["answered"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(units.contains(&(BRANCH.to_string(), 4, 2)), "{units:?}");
    assert!(units.contains(&(GROUP.to_string(), 2, 1)), "{units:?}");
    assert_eq!(r.body["pending"][0]["name"], "党员4");
    assert_eq!(r.body["pending"].as_array().unwrap().len(), 1);

    // A day before the close, those who have not answered are reminded, once.
    let reminder = format!("提醒：请参加测评“{TITLE}”");
    org.app.clock.set(beijing(12, 9, 17, 0));
    org.app.drain().await;
    assert_eq!(
        titles(&org.inbox("党员2").await, &reminder),
        0,
        "25 hours ahead: not yet"
    );
    org.app.clock.set(beijing(12, 9, 19, 0));
    org.app.drain().await;
    assert_eq!(titles(&org.inbox("党员2").await, &reminder), 1);
    assert_eq!(titles(&org.inbox("党员0").await, &reminder), 0, "answered");
    org.app.clock.set(beijing(12, 9, 21, 0));
    org.app.drain().await;
    assert_eq!(titles(&org.inbox("党员2").await, &reminder), 1, "once");
    // By hand, at most once an hour.
    let r = org
        .app
        .post(
            &format!("{path}/remind"),
            &org.token("赵书记").await,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["members"].as_u64()),
        (200, Some(3)),
        "{:?}",
        r.body
    );
    let r = org
        .app
        .post(
            &format!("{path}/remind"),
            &org.token("赵书记").await,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);

    assert_eq!(
        ballot(&org, "党员2", &s, json!([0, [0], null]))
            .await
            .status,
        204
    );
    assert_eq!(
        ballot(&org, "党员4", &s, json!([2, [1], null]))
            .await
            .status,
        204
    );

    // Closed by its time: no more answers, and the results.
    org.app.clock.set(beijing(12, 10, 18, 30));
    org.app.drain().await;
    let r = ballot(&org, "赵书记", &s, json!([0, [0], null])).await;
    assert_eq!(r.status, 409, "closed: {:?}", r.body);
    let r = org
        .app
        .get(&format!("{path}/results"), &org.token("赵书记").await)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["ballots"].as_u64(), r.body["asked"].as_u64()),
        (Some(5), Some(6))
    );
    let counts = |q: usize| -> Vec<Value> {
        r.body["questions"][q]["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["count"].clone())
            .collect()
    };
    assert_eq!(counts(0), vec![json!(3), json!(1), json!(1), json!(0)]);
    assert_eq!(counts(1), vec![json!(3), json!(2), json!(1)]);
    let text = &r.body["questions"][2];
    assert_eq!(
        (text["answers"].as_u64(), text["shown"].as_bool()),
        (Some(2), Some(false))
    );
    assert_eq!(
        text["texts"],
        json!([]),
        "two answers: fewer than five, not shown"
    );
    let csv = org
        .app
        .get(&format!("{path}/results.csv"), &org.token("赵书记").await)
        .await;
    assert_eq!(csv.status, 200);
    let csv = csv.body.as_str().unwrap().to_string();
    assert!(csv.contains("题号,题目,类型,选项或回答,人数,占比"), "{csv}");
    assert!(
        csv.contains("1,对支部全年工作的总体评价,评价,优秀,3,60.0%"),
        "{csv}"
    );
    assert!(csv.contains("作答不足 5 人，不公布"), "{csv}");
    assert!(!csv.contains("户外"), "{csv}");

    // Each answer is audited, naming the member and nothing of the ballot.
    let audit = org
        .app
        .get(
            "/api/v1/admin/audit?action=survey.answer",
            &org.admin().await,
        )
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 5);
    let audit = audit.body.to_string();
    assert!(
        !audit.contains("户外") && !audit.contains("线上"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_manager_closes_early_and_a_small_survey_shows_no_counts() {
    let org = branch().await;
    let sec = org.token("赵书记").await;
    let mut body = survey(&org);
    body["audience"] = json!({"unit_ids": [org.unit(GROUP)]});
    let s = published(&org, body).await;
    let path = format!("/api/v1/admin/surveys/{s}");
    assert_eq!(
        ballot(&org, "党员3", &s, json!([0, [0], null]))
            .await
            .status,
        204
    );
    let r = org
        .app
        .post(
            &format!("{path}/close"),
            &org.token("钱书记").await,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "not theirs");
    let r = org
        .app
        .post(&format!("{path}/close"), &sec, json!({}))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["status"].as_str()),
        (200, Some("closed")),
        "{:?}",
        r.body
    );
    let r = org
        .app
        .post(&format!("{path}/close"), &sec, json!({}))
        .await;
    assert_eq!(r.status, 409, "closed once");
    assert_eq!(
        ballot(&org, "党员4", &s, json!([0, [0], null]))
            .await
            .status,
        409
    );
    let r = org.app.get(&format!("{path}/results"), &sec).await;
    assert_eq!(r.body["ballots"], 1);
    for q in r.body["questions"].as_array().unwrap() {
        assert_eq!(q["shown"], false, "{q}");
        assert!(
            q["options"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["count"].is_null()),
            "{q}"
        );
    }
}

async fn rows(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
    .iter()
    .map(|r| r.try_get::<String>("", "v").unwrap_or_default())
    .collect()
}

/// Every table of the app's database, and its columns.
async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<(String, Vec<String>)> {
    let names = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            rows(
                db,
                "SELECT table_name::text AS v FROM information_schema.tables \
                      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .await
        }
        _ => {
            rows(
                db,
                "SELECT name AS v FROM sqlite_master WHERE type = 'table'",
            )
            .await
        }
    };
    let mut out = Vec::new();
    for t in names {
        let cols = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                rows(
                    db,
                    &format!(
                        "SELECT column_name::text AS v FROM information_schema.columns \
                                   WHERE table_schema = current_schema() AND table_name = '{t}'"
                    ),
                )
                .await
            }
            _ => {
                rows(
                    db,
                    &format!("SELECT name AS v FROM pragma_table_info('{t}')"),
                )
                .await
            }
        };
        out.push((t, cols));
    }
    out
}

/// Every row of `table` as one text.
async fn dump(db: &sea_orm::DatabaseConnection, table: &str, cols: &[String]) -> Vec<String> {
    let sql = if db.get_database_backend() == DatabaseBackend::Postgres {
        format!("SELECT t::text AS v FROM \"{table}\" t")
    } else {
        let all: Vec<String> = cols
            .iter()
            .map(|c| format!("COALESCE(quote(\"{c}\"), '')"))
            .collect();
        format!("SELECT {} AS v FROM \"{table}\"", all.join(" || '|' || "))
    };
    rows(db, &sql).await
}

#[tokio::test]
async fn nobody_with_the_database_can_link_a_ballot_to_its_member() {
    let org = branch().await;
    let s = published(&org, survey(&org)).await;
    let survey_id: i64 = s.parse().unwrap();
    let db = &org.app.core.db;
    let pg = db.get_database_backend() == DatabaseBackend::Postgres;
    let people = ["赵书记", "党员0", "党员1", "党员2", "党员3", "党员4"];
    // Each writes a text only their ballot holds.
    let secret = |who: &str| {
        let i = people.iter().position(|p| *p == who).unwrap_or(99);
        format!("独有的意见{}", 7919 * (i + 1))
    };
    for who in people {
        let r = ballot(&org, who, &s, json!([0, [0], secret(who)])).await;
        assert_eq!(r.status, 204, "{who}: {:?}", r.body);
    }

    // The attack the seal defeats: on PostgreSQL a row records the transaction that wrote it,
    // and an answer writes its ballot and marks its participant in one.
    let xmins = |table: &str, filter: &str| {
        format!("SELECT xmin::text AS v FROM {table} WHERE survey_id = {survey_id}{filter}")
    };
    if pg {
        let ballots: BTreeSet<String> = rows(db, &xmins("survey_ballots", ""))
            .await
            .into_iter()
            .collect();
        let marked: BTreeSet<String> = rows(db, &xmins("survey_participants", " AND answered"))
            .await
            .into_iter()
            .collect();
        assert_eq!(ballots, marked, "before the seal, xmin joins them");
    }

    // Six unsealed ballots (at least min_group): the next calendar check seals them.
    org.app.clock.advance(chrono::Duration::minutes(11));
    org.app.drain().await;
    if pg {
        let ballots: BTreeSet<String> = rows(db, &xmins("survey_ballots", ""))
            .await
            .into_iter()
            .collect();
        let marked: BTreeSet<String> = rows(db, &xmins("survey_participants", " AND answered"))
            .await
            .into_iter()
            .collect();
        assert_eq!(
            ballots.len(),
            1,
            "one transaction wrote them all: {ballots:?}"
        );
        assert!(ballots.is_disjoint(&marked), "{ballots:?} {marked:?}");
    } else {
        // Rows lie in key order: a table with a rowid would keep the order of the writes.
        for t in ["survey_ballots", "survey_participants"] {
            let r = db
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    format!("SELECT rowid FROM {t}"),
                ))
                .await;
            assert!(r.is_err(), "{t} has a rowid");
        }
    }
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/surveys/{s}/close"),
            &org.token("赵书记").await,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);

    // What each table holds: the ballots name nobody, and nothing else names a ballot.
    let all = tables(db).await;
    let cols = |name: &str| -> BTreeSet<String> {
        all.iter()
            .find(|(t, _)| t == name)
            .map(|(_, c)| c.iter().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(
        cols("survey_ballots"),
        ["answers", "id", "sealed", "survey_id"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        cols("survey_participants"),
        ["answered", "member_id", "survey_id", "unit_id"]
            .map(String::from)
            .into()
    );
    let keys = rows(
        db,
        &format!("SELECT id AS v FROM survey_ballots WHERE survey_id = {survey_id}"),
    )
    .await;
    assert_eq!(keys.len(), people.len());
    assert!(
        keys.iter()
            .all(|k| k.len() == 32 && k.chars().all(|c| c.is_ascii_hexdigit())),
        "{keys:?}"
    );
    let ballots = dump(
        db,
        "survey_ballots",
        &cols("survey_ballots").into_iter().collect::<Vec<_>>(),
    )
    .await
    .join("\n");
    for who in people {
        assert!(ballots.contains(&secret(who)), "the ballot is kept");
    }
    for (table, columns) in &all {
        if table == "survey_ballots" {
            continue;
        }
        let text = dump(db, table, columns).await.join("\n");
        for k in &keys {
            assert!(!text.contains(k.as_str()), "{table} names a ballot");
        }
        for who in people {
            assert!(
                !text.contains(&secret(who)),
                "{table} holds what {who} answered"
            );
        }
    }

    // Nor do the metrics.
    let metrics = org
        .app
        .request(reqwest::Method::GET, "/metrics", None, None)
        .await;
    let metrics = metrics.body.as_str().unwrap_or_default().to_string();
    for k in &keys {
        assert!(!metrics.contains(k.as_str()));
    }
    assert!(!metrics.contains("独有的意见"));
}
