use serde_json::json;

use crate::helpers::*;
use crate::requests::*;

#[tokio::test]
async fn the_inbox_pages_newest_first_filters_unread_and_reads_idempotently() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "周八", "unit_id": unit}))
        .await;
    for i in 0..5 {
        let post = app.create_post(&admin, &format!("第{i}课")).await;
        app.broadcast(&admin, Broadcast::new(&post, Audience::members([id(&m)])))
            .await;
        app.drain().await;
    }
    let t = app.member_token(&m).await;
    let p1 = app.get("/api/v1/inbox?limit=2", &t).await;
    assert_eq!(p1.body["unread_count"], 5);
    let titles: Vec<&str> = p1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["第4课", "第3课"]);
    let c = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(&format!("/api/v1/inbox?limit=2&cursor={c}"), &t)
        .await;
    assert_eq!(p2.body["items"][0]["title"], "第2课");

    let id = p1.body["items"][0]["id"].as_str().unwrap();
    let first = app
        .post(&format!("/api/v1/inbox/{id}/read"), &t, json!({}))
        .await;
    let second = app
        .post(&format!("/api/v1/inbox/{id}/read"), &t, json!({}))
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(
        first.body["read_at"], second.body["read_at"],
        "reading again keeps the first read time"
    );
    assert_eq!(second.body["unread_count"], 4);

    let unread = app.get("/api/v1/inbox?unread_only=true", &t).await;
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 4);
    let r = app.post("/api/v1/inbox/read-all", &t, json!({})).await;
    assert_eq!(r.body["updated"], 4);
    assert_eq!(
        app.get("/api/v1/inbox/unread-count", &t).await.body["unread_count"],
        0
    );
}

#[tokio::test]
async fn a_member_never_sees_another_members_item() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let a = app
        .create_member(&admin, json!({"name": "甲", "unit_id": unit}))
        .await;
    let b = app
        .create_member(&admin, json!({"name": "乙", "unit_id": unit}))
        .await;
    let post = app.create_post(&admin, "私信").await;
    app.broadcast(&admin, Broadcast::new(&post, Audience::members([id(&a)])))
        .await;
    app.drain().await;
    let ta = app.member_token(&a).await;
    let tb = app.member_token(&b).await;
    let item = app.get("/api/v1/inbox", &ta).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.get(&format!("/api/v1/inbox/{item}"), &tb).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
    let r = app
        .post(&format!("/api/v1/inbox/{item}/read"), &tb, json!({}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        app.get("/api/v1/inbox", &tb).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get("/api/v1/inbox/unread-count", &ta).await.body["unread_count"],
        1,
        "b's attempt read nothing"
    );
}

/// A GET with `If-None-Match`, as a polling phone sends it.
async fn get_if_none_match(app: &TestApp, path: &str, token: &str, tag: &str) -> Resp {
    let resp = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("if-none-match", tag)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Resp {
        status,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        headers,
    }
}

fn etag(r: &Resp) -> String {
    r.headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_polling_phone_downloads_nothing_until_its_inbox_changes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "外勤组", None).await;
    let m = app
        .create_member(&admin, json!({"name": "钱九", "unit_id": unit}))
        .await;
    let t = app.member_token(&m).await;
    let post = app.create_post(&admin, "第一课").await;
    app.broadcast(&admin, Broadcast::new(&post, Audience::members([id(&m)])))
        .await;
    app.drain().await;

    for path in ["/api/v1/inbox?limit=20", "/api/v1/inbox/unread-count"] {
        let first = app.get(path, &t).await;
        assert_eq!(first.status, 200);
        let tag = etag(&first);
        assert!(tag.starts_with("W/\""), "{tag}");
        assert_eq!(
            first.headers.get("cache-control").unwrap(),
            "private, no-cache"
        );
        let again = get_if_none_match(&app, path, &t, &tag).await;
        assert_eq!(again.status, 304, "{path}: nothing changed");
        assert_eq!(again.body, serde_json::Value::String(String::new()));
        assert_eq!(etag(&again), tag);
        // Another tag (an older copy) gets the whole answer.
        let stale = get_if_none_match(&app, path, &t, "W/\"0123\"").await;
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body, first.body);
    }

    // A new item changes the page and the count: the old tag no longer matches.
    let page = app.get("/api/v1/inbox?limit=20", &t).await;
    let count = app.get("/api/v1/inbox/unread-count", &t).await;
    let post2 = app.create_post(&admin, "第二课").await;
    app.broadcast(&admin, Broadcast::new(&post2, Audience::members([id(&m)])))
        .await;
    app.drain().await;
    let r = get_if_none_match(&app, "/api/v1/inbox?limit=20", &t, &etag(&page)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let r = get_if_none_match(&app, "/api/v1/inbox/unread-count", &t, &etag(&count)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["unread_count"], 2);

    // So does a read, for the item too.
    let first = app.get("/api/v1/inbox?limit=20", &t).await;
    let item_id = first.body["items"][0]["id"].as_str().unwrap().to_string();
    let detail = app.get(&format!("/api/v1/inbox/{item_id}"), &t).await;
    app.read(&t, &item_id).await;
    let r = get_if_none_match(&app, "/api/v1/inbox?limit=20", &t, &etag(&first)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["unread_count"], 1);
    let r = get_if_none_match(
        &app,
        &format!("/api/v1/inbox/{item_id}"),
        &t,
        &etag(&detail),
    )
    .await;
    assert_eq!(r.status, 200, "the item now has its read time");
}

#[tokio::test]
async fn answers_are_gzip_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let plain = app
        .http
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    let gz = app
        .http
        .get(format!("{}/api/v1/admin/units", app.base))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status(), 200);
    assert_eq!(gz.headers().get("content-encoding").unwrap(), "gzip");
    let doc = app
        .http
        .get(format!("{}/api/openapi.json", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(doc.headers().get("content-encoding").unwrap(), "gzip");
    let gz_len = doc.bytes().await.unwrap().len();
    assert!(
        gz_len * 4 < plain_len,
        "the API document shrinks: {plain_len} bytes, {gz_len} gzipped"
    );
}

/// The inbox shows what a line needs of its post from a short-lived cache; an edit of the post
/// shows at once in the inbox served by the same process.
#[tokio::test]
async fn an_edited_title_shows_in_the_inbox_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "吴九", "unit_id": unit}))
        .await;
    let post = app.create_post(&admin, "第一课").await;
    app.broadcast(&admin, Broadcast::new(&post, Audience::members([id(&m)])))
        .await;
    app.drain().await;
    let t = app.member_token(&m).await;
    assert_eq!(app.inbox(&t).await[0]["title"], "第一课");
    let r = app
        .patch(
            &format!("/api/v1/admin/posts/{post}"),
            &admin,
            json!({"title": "第一课（修订）", "summary": "改过的摘要"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let items = app.inbox(&t).await;
    assert_eq!(items[0]["title"], "第一课（修订）");
    assert_eq!(items[0]["summary"], "改过的摘要");
}

/// Fans out every broadcast that is `sending`, as the worker does, but without the fold that
/// ends its pass: the new rows are above the members' counters (on PostgreSQL).
async fn fan_out_unfolded(app: &TestApp) {
    use fingertip_core::broadcasts::fanout::{self, FanoutConfig};
    let cfg = FanoutConfig::default();
    loop {
        let ids = fanout::claimable(&app.core, "test", 100).await.unwrap();
        if ids.is_empty() {
            return;
        }
        for id in ids {
            fanout::process(&app.core, id, "test", &cfg, &|| false)
                .await
                .unwrap();
        }
    }
}

/// The member's counter row, `(unread, counted_upto)`.
async fn counter(app: &TestApp, member: i64) -> (i64, i64) {
    use fingertip_core::entities::inbox_unread;
    use sea_orm::EntityTrait;
    let r = inbox_unread::Entity::find_by_id(member)
        .one(&app.core.db)
        .await
        .unwrap()
        .expect("a counter row");
    (r.unread, r.counted_upto)
}

/// The page, the badge and the page of unread items agree on the count, and say `n`.
async fn assert_unread(app: &TestApp, token: &str, n: u64) {
    for path in [
        "/api/v1/inbox?limit=20",
        "/api/v1/inbox?limit=100",
        "/api/v1/inbox?limit=5&unread_only=true",
        "/api/v1/inbox/unread-count",
    ] {
        let r = app.get(path, token).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert_eq!(r.body["unread_count"], n, "{path}");
    }
}

/// One member of a new unit, with their id and token, and a post to send them `n` times:
/// `(admin token, member id, member token, post id)`, the broadcasts created (not fanned out).
async fn one_member_with_broadcasts(app: &TestApp, n: usize) -> (String, i64, String, String) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "周八", "unit_id": unit}))
        .await;
    let token = app.member_token(&m).await;
    let post = app.create_post(&admin, "第一课").await;
    let mid: i64 = id(&m).parse().unwrap();
    for _ in 0..n {
        app.broadcast(&admin, Broadcast::new(&post, Audience::members([mid])))
            .await;
    }
    (admin, mid, token, post)
}

/// On PostgreSQL a fan-out writes inbox rows and nothing else; the worker adds their unread
/// counts to the members' counters afterwards (`inbox::unread::fold`). Before that, the page
/// finds the new rows among its own, and past a page of them the count is asked for: the
/// member sees the exact count at every moment, and reads count against the right side.
#[tokio::test]
async fn unread_counts_are_exact_before_and_after_the_counts_are_folded() {
    use fingertip_core::entities::inbox_items;
    use fingertip_core::inbox::unread;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let app = spawn_app().await;
    let pg = app.core.db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let (admin, mid, t, post) = one_member_with_broadcasts(&app, 3).await;
    let to_m = |post: &str| Broadcast::new(post, Audience::members([mid]));
    app.drain().await;
    assert_unread(&app, &t, 3).await;
    let newest_folded = inbox_items::Entity::find()
        .filter(inbox_items::Column::MemberId.eq(mid))
        .order_by_desc(inbox_items::Column::Id)
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    if pg {
        assert_eq!(
            counter(&app, mid).await,
            (3, newest_folded),
            "folded by the worker's pass"
        );
    }

    // More than a page of new rows, not folded yet.
    for _ in 0..25 {
        app.broadcast(&admin, to_m(&post)).await;
    }
    fan_out_unfolded(&app).await;
    assert_unread(&app, &t, 28).await;
    if pg {
        assert_eq!(
            counter(&app, mid).await,
            (3, newest_folded),
            "the fan-out left the counter alone"
        );
    }

    // A read of a new row and a read of a counted one.
    let rows = inbox_items::Entity::find()
        .filter(inbox_items::Column::MemberId.eq(mid))
        .order_by_desc(inbox_items::Column::Id)
        .all(&app.core.db)
        .await
        .unwrap();
    let (newest, oldest) = (rows[0].id, rows[rows.len() - 1].id);
    for (item, left) in [(newest, 27), (oldest, 26)] {
        let r = app
            .post(&format!("/api/v1/inbox/{item}/read"), &t, json!({}))
            .await;
        assert_eq!(r.body["unread_count"], left);
        assert_unread(&app, &t, left).await;
    }
    if pg {
        assert_eq!(
            counter(&app, mid).await,
            (2, newest_folded),
            "only the counted row's read counted"
        );
    }

    // The fold: the counter now counts everything, and the count has not moved.
    let folded = unread::fold(&app.core).await.unwrap();
    assert_unread(&app, &t, 26).await;
    if pg {
        assert_eq!((folded.rows, folded.members), (25, 1));
        assert_eq!(counter(&app, mid).await, (26, newest));
        assert_eq!(
            unread::fold(&app.core).await.unwrap(),
            unread::Folded::default(),
            "nothing left"
        );
    } else {
        assert_eq!(
            folded,
            unread::Folded::default(),
            "SQLite counts as it writes"
        );
    }

    let r = app.post("/api/v1/inbox/read-all", &t, json!({})).await;
    assert_eq!(r.body["updated"], 26);
    assert_unread(&app, &t, 0).await;
}

/// A read whose transaction is still open when a fold comes: the fold waits for the member's
/// counter, then counts without the row that read, and the read is counted once.
#[tokio::test]
async fn a_read_in_flight_during_a_fold_is_counted_once() {
    use fingertip_core::entities::inbox_items;
    use fingertip_core::inbox::unread;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

    let app = spawn_app().await;
    let (_, mid, t, _) = one_member_with_broadcasts(&app, 4).await;
    fan_out_unfolded(&app).await;
    let item = inbox_items::Entity::find()
        .filter(inbox_items::Column::MemberId.eq(mid))
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap();

    let txn = app.core.db.begin().await.unwrap();
    inbox_items::Entity::update_many()
        .col_expr(inbox_items::Column::ReadAt, Expr::value(chrono::Utc::now()))
        .filter(inbox_items::Column::Id.eq(item.id))
        .exec(&txn)
        .await
        .unwrap();
    let fold = {
        let core = app.core.clone();
        tokio::spawn(async move { unread::fold(&core).await })
    };
    // On PostgreSQL, until the fold waits for the counter the read holds (on SQLite it has
    // nothing to do).
    if app.core.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let db = &app.core.db;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let waiting = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT count(*) AS n FROM pg_locks WHERE NOT granted",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
            if waiting > 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the fold waits for the read"
            );
            tokio::task::yield_now().await;
        }
    }
    txn.commit().await.unwrap();
    fold.await.unwrap().unwrap();
    assert_unread(&app, &t, 3).await;
    unread::fold(&app.core).await.unwrap();
    assert_unread(&app, &t, 3).await;
}

/// Pages asked for at the same moment (on PostgreSQL read together, in one statement) are each
/// exactly the page asked for: the member's own rows, the filter, the cursor, the count, even
/// for the same member twice with different questions, or an empty inbox.
#[tokio::test]
async fn pages_asked_for_at_once_are_each_the_page_asked_for() {
    use fingertip_core::entities::inbox_items;
    use fingertip_core::inbox;
    use fingertip_core::paging::PageRequest;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let mut members = Vec::new();
    for name in ["周八", "吴九", "郑十"] {
        let m = app
            .create_member(&admin, json!({"name": name, "unit_id": unit}))
            .await;
        members.push(id(&m).parse::<i64>().unwrap());
    }
    let (a, b, empty) = (members[0], members[1], members[2]);
    let post = app.create_post(&admin, "第一课").await;
    for i in 0..25 {
        let to = if i % 5 == 0 { vec![a] } else { vec![a, b] };
        app.broadcast(&admin, Broadcast::new(&post, Audience::members(to)))
            .await;
    }
    app.drain().await;
    // Some of a's read: the unread page differs from the page.
    let first = inbox::list(&app.core, a, false, PageRequest::first(20))
        .await
        .unwrap();
    for item in first.page.items.iter().step_by(3) {
        inbox::mark_read(&app.core, a, item.id).await.unwrap();
    }
    let cursor = first.page.next_cursor.clone().unwrap();
    let after = PageRequest::parse(Some(10), Some(&cursor)).unwrap();
    let asks = [
        (a, false, PageRequest::first(20)),
        (a, true, PageRequest::first(5)),
        (a, false, after),
        (b, false, PageRequest::first(20)),
        (b, true, PageRequest::first(100)),
        (empty, false, PageRequest::first(20)),
        (a, true, after),
    ];

    // What each page must be, worked out from all of the member's rows.
    let mut expected = Vec::new();
    for (m, unread_only, page) in asks {
        let all = inbox_items::Entity::find()
            .filter(inbox_items::Column::MemberId.eq(m))
            .order_by_desc(inbox_items::Column::Id)
            .all(&app.core.db)
            .await
            .unwrap();
        let rows: Vec<_> = all
            .iter()
            .filter(|r| !unread_only || r.read_at.is_none())
            .filter(|r| page.after.is_none_or(|after| r.id < after))
            .collect();
        let limit = usize::try_from(page.limit).unwrap();
        let items: Vec<_> = rows
            .iter()
            .take(limit)
            .map(|r| (r.id, r.read_at.is_some()))
            .collect();
        let unread = all.iter().filter(|r| r.read_at.is_none()).count() as u64;
        expected.push((items, rows.len() > limit, unread));
    }
    assert_eq!(expected[0].2, 25 - 7, "a's count");
    assert_eq!(
        expected[2].0.len(),
        5,
        "the 5 rows after the first 20 of 25"
    );
    assert!(expected[5].0.is_empty());

    let shape = |p: &inbox::InboxPage| {
        let items: Vec<_> = p
            .page
            .items
            .iter()
            .map(|i| (i.id, i.read_at.is_some()))
            .collect();
        (items, p.page.next_cursor.is_some(), p.unread_count)
    };
    let before = app.core.pages.read_together();
    // Each alone, then all at once, three times over.
    for (i, &(m, unread_only, page)) in asks.iter().enumerate() {
        let got = inbox::list(&app.core, m, unread_only, page).await.unwrap();
        assert_eq!(shape(&got), expected[i], "ask {i} alone");
    }
    let at_once = futures_util::future::join_all(
        asks.iter()
            .cycle()
            .take(asks.len() * 3)
            .map(|&(m, unread_only, page)| inbox::list(&app.core, m, unread_only, page)),
    )
    .await;
    for (i, got) in at_once.into_iter().enumerate() {
        let got = got.unwrap();
        assert_eq!(shape(&got), expected[i % asks.len()], "ask {i} at once");
    }
    if sea_orm::ConnectionTrait::get_database_backend(&app.core.db) == sea_orm::DbBackend::Postgres
    {
        let after = app.core.pages.read_together();
        let (statements, pages) = (after.0 - before.0, after.1 - before.1);
        assert_eq!(pages, 7 + 21, "every page was read by the shared statement");
        assert!(
            statements < pages,
            "{pages} pages took {statements} statements"
        );
    }
}
