//! Several fan-out workers at once against one database and one queue, as `fingertip work`
//! runs them: each recipient still gets exactly one inbox row.

use std::collections::BTreeSet;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use fingertip_core::broadcasts::fanout;
use fingertip_core::entities::{broadcasts, members};
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;
use crate::requests::*;

const MEMBERS: usize = 5_000;
const WORKERS: usize = 3;

/// Inserts `n` active members into `unit` straight through sea-orm, in chunks that stay under
/// SQLite's bind-variable limit. Returns nothing: the caller counts through the API.
async fn seed_members(app: &TestApp, unit: i64, n: usize) {
    let now = Utc::now();
    let rows: Vec<members::ActiveModel> = (0..n)
        .map(|i| members::ActiveModel {
            name: Set(format!("成员{i:05}")),
            unit_id: Set(Some(unit)),
            role: Set(fingertip_core::auth::Role::Member),
            phone: Set(None),
            wecom_userid: Set(None),
            wechat_openid: Set(None),
            invite_code: Set(None),
            username: Set(None),
            password_hash: Set(None),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        members::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.core.db)
            .await
            .expect("members are seeded");
    }
}

/// Whether every one of these broadcasts is `sent`.
async fn all_sent(app: &TestApp, ids: &[i64]) -> bool {
    for id in ids {
        let b = broadcasts::Entity::find_by_id(*id)
            .one(&app.core.db)
            .await
            .unwrap()
            .unwrap();
        if b.status.as_str() != "sent" {
            return false;
        }
    }
    true
}

/// `(rows, distinct members)` in the inbox for one broadcast.
async fn inbox_counts(app: &TestApp, broadcast: i64) -> (i64, i64) {
    let db = &app.core.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT member_id) AS d FROM inbox_items WHERE broadcast_id = {broadcast}"
            ),
        ))
        .await
        .expect("count query")
        .expect("one row");
    (
        row.try_get::<i64>("", "n").unwrap(),
        row.try_get::<i64>("", "d").unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_running_at_once_fan_a_broadcast_out_exactly_once() {
    let app = spawn_with(SpawnOptions {
        wechat: false,
        env: vec![
            ("FINGERTIP_FANOUT_BATCH", "50".into()),
            ("FINGERTIP_FANOUT_LEASE_SECS", "5".into()),
        ],
        ..Default::default()
    })
    .await;
    // The settings reach the workers that `fanout_worker` builds.
    let cfg = app.core.settings.fanout;
    assert_eq!((cfg.batch, cfg.lease), (50, Duration::seconds(5)));

    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "大支部", None).await;
    seed_members(&app, unit.parse().unwrap(), MEMBERS).await;
    let post = app.create_post(&admin, "并发党课").await;
    let bc = app
        .broadcast(&admin, Broadcast::to_unit(&post, &unit))
        .await;
    assert_eq!(bc["audience_size"], MEMBERS);
    let id: i64 = id(&bc).parse().unwrap();

    // A gate: the test holds the lease first, so that the workers, all started, meet at the
    // claim together once it expires (the lease lives on the injected clock).
    fanout::claim(&app.core, id, "gate", &cfg)
        .await
        .unwrap()
        .expect("the gate holds the broadcast");
    let stops: Vec<CancellationToken> = (0..WORKERS).map(|_| CancellationToken::new()).collect();
    let mut ids = Vec::new();
    let mut tasks = Vec::new();
    for (n, stop) in stops.iter().enumerate() {
        let mut w = app.fanout_worker(n + 1);
        w.poll = StdDuration::from_millis(5);
        ids.push(w.id().to_string());
        tasks.push(tokio::spawn(w.run(stop.clone())));
    }
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    app.clock.advance(cfg.lease + Duration::seconds(1));

    // Whoever wins the claim writes a few batches and is then stopped as SIGTERM stops
    // `fingertip work`: it finishes its batch and releases the lease, and one of the workers
    // still running takes over after the cursor. The last worker is left to finish.
    let mut holders = Vec::<String>::new();
    let mut stopped = 0;
    let mut cursor_at_handover = 0;
    let deadline = Instant::now() + StdDuration::from_secs(120);
    let status = loop {
        let b = broadcasts::Entity::find_by_id(id)
            .one(&app.core.db)
            .await
            .unwrap()
            .unwrap();
        if let Some(o) = b.lease_owner.as_deref().filter(|o| *o != "gate") {
            if holders.last().map(String::as_str) != Some(o) {
                holders.push(o.to_string());
            }
            if b.fanout_cursor > cursor_at_handover && stopped < WORKERS - 1 {
                let n = ids.iter().position(|i| i == o).expect("a known worker");
                if !stops[n].is_cancelled() {
                    stops[n].cancel();
                    stopped += 1;
                    cursor_at_handover = b.fanout_cursor;
                }
            }
        }
        if b.status.as_str() != "sending" || Instant::now() > deadline {
            break b.status;
        }
        tokio::time::sleep(StdDuration::from_millis(1)).await;
    };
    eprintln!("holders in turn: {holders:?}; last hand-over after member id {cursor_at_handover}");
    for s in &stops {
        s.cancel();
    }
    for t in tasks {
        t.await.expect("worker task ends cleanly");
    }

    assert_eq!(
        status.as_str(),
        "sent",
        "the fan-out finished within the deadline"
    );
    let distinct: BTreeSet<&String> = holders.iter().collect();
    assert_eq!(
        distinct.len(),
        WORKERS,
        "each worker held the broadcast in turn: {holders:?}"
    );
    let (rows, distinct) = inbox_counts(&app, id).await;
    assert_eq!(
        (rows, distinct),
        (MEMBERS as i64, MEMBERS as i64),
        "every member exactly once"
    );
    let admin = app.admin_token().await;
    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{id}"), &admin)
        .await;
    assert_eq!(r.body["status"], "sent");
    assert_eq!(r.body["stats"]["recipients"], MEMBERS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_running_at_once_share_many_broadcasts_and_send_each_once() {
    let app = spawn_with(SpawnOptions {
        wechat: false,
        env: vec![("FINGERTIP_FANOUT_BATCH", "50".into())],
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    seed_members(&app, unit.parse().unwrap(), 300).await;
    let post = app.create_post(&admin, "通知").await;
    let mut ids = Vec::new();
    for _ in 0..8 {
        let bc = app
            .broadcast(&admin, Broadcast::to_unit(&post, &unit))
            .await;
        ids.push(id(&bc).parse::<i64>().unwrap());
    }

    let stop = CancellationToken::new();
    let workers: Vec<_> = (1..=WORKERS)
        .map(|n| {
            let mut w = app.fanout_worker(n);
            w.poll = StdDuration::from_millis(20);
            w
        })
        .collect();
    let watch = async {
        let deadline = Instant::now() + StdDuration::from_secs(60);
        loop {
            let all_sent = all_sent(&app, &ids).await;
            if all_sent || Instant::now() > deadline {
                stop.cancel();
                return all_sent;
            }
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    };
    let mut workers = workers.into_iter();
    let (all_sent, (), (), ()) = tokio::join!(
        watch,
        workers.next().unwrap().run(stop.clone()),
        workers.next().unwrap().run(stop.clone()),
        workers.next().unwrap().run(stop.clone()),
    );
    assert!(all_sent, "every broadcast was sent within the deadline");
    for id in ids {
        assert_eq!(inbox_counts(&app, id).await, (300, 300), "broadcast {id}");
    }
}

/// The largest `FINGERTIP_FANOUT_BATCH` the settings accept works on the database in use (a
/// fan-out that bound values per row would pass SQLite's 32,766 values at 5,462 rows of 6).
#[tokio::test]
async fn the_largest_batch_the_settings_allow_works() {
    let batch = *fingertip_core::broadcasts::fanout::BATCH_RANGE.end();
    let app = spawn_with(SpawnOptions {
        wechat: false,
        env: vec![("FINGERTIP_FANOUT_BATCH", batch.to_string())],
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let n = batch as usize + 1;
    seed_members(&app, unit.parse().unwrap(), n).await;
    let post = app.create_post(&admin, "通知").await;
    let bc = app
        .broadcast(&admin, Broadcast::to_unit(&post, &unit))
        .await;
    let id: i64 = id(&bc).parse().unwrap();
    app.drain().await;
    assert_eq!(inbox_counts(&app, id).await, (n as i64, n as i64));
}

/// `(member, unread rows, counted)` for every member whose two figures differ: `counted` is
/// their counter row's `unread` plus, unless `stored_only`, their unread rows above its
/// `counted_upto` (`inbox::unread`; once folded, the counter alone).
async fn unread_mismatches(app: &TestApp, stored_only: bool) -> Vec<(i64, i64, i64)> {
    let db = &app.core.db;
    let above = if stored_only {
        "0"
    } else {
        "(SELECT COUNT(*) FROM inbox_items i WHERE i.member_id = m.id AND i.read_at IS NULL \
          AND i.id > COALESCE((SELECT u.counted_upto FROM inbox_unread u WHERE u.member_id = m.id), 0))"
    };
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT m.id AS member_id, \
                    (SELECT COUNT(*) FROM inbox_items i WHERE i.member_id = m.id AND i.read_at IS NULL) AS real, \
                    COALESCE((SELECT u.unread FROM inbox_unread u WHERE u.member_id = m.id), 0) + {above} AS counted \
                 FROM members m"
            ),
        ))
        .await
        .expect("compare query");
    rows.iter()
        .map(|r| {
            (
                r.try_get::<i64>("", "member_id").unwrap(),
                r.try_get::<i64>("", "real").unwrap(),
                r.try_get::<i64>("", "counted").unwrap(),
            )
        })
        .filter(|(_, real, counted)| real != counted)
        .collect()
}

/// The unread count is a stored number (one row per member), not a count of rows: it must
/// stay exact while fan-outs add items and the members read one item, or all, at the same
/// moment, from several connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_unread_count_stays_exact_under_fanout_reads_and_read_all_at_once() {
    use fingertip_core::entities::inbox_items;
    use fingertip_core::inbox;
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QuerySelect};

    const N: usize = 400;
    let app = spawn_with(SpawnOptions {
        wechat: false,
        env: vec![("FINGERTIP_FANOUT_BATCH", "50".into())],
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    seed_members(&app, unit.parse().unwrap(), N).await;
    let member_ids: Vec<i64> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .filter(members::Column::UnitId.eq(unit.parse::<i64>().unwrap()))
        .into_tuple()
        .all(&app.core.db)
        .await
        .unwrap();
    assert_eq!(member_ids.len(), N);
    let post = app.create_post(&admin, "本月党课").await;
    // A first broadcast already in every inbox, so the readers have something from the start.
    let first = app
        .broadcast(&admin, Broadcast::to_unit(&post, &unit))
        .await;
    app.drain().await;
    let mut ids = vec![id(&first).parse::<i64>().unwrap()];
    for _ in 0..15 {
        let bc = app
            .broadcast(&admin, Broadcast::to_unit(&post, &unit))
            .await;
        ids.push(id(&bc).parse::<i64>().unwrap());
    }

    let stop = CancellationToken::new();
    let workers: Vec<_> = (1..=2)
        .map(|n| {
            let mut w = app.fanout_worker(n);
            w.poll = StdDuration::from_millis(5);
            w.run(stop.clone())
        })
        .collect();
    let worker_tasks: Vec<_> = workers.into_iter().map(tokio::spawn).collect();

    // Readers: each walks its share of the members, reading an unread item of each (and every
    // fifth time, all of them), for as long as the fan-outs run, and a round after. What they
    // did while the fan-outs ran is counted.
    let done = CancellationToken::new();
    let mut readers = Vec::new();
    for r in 0..4usize {
        let (core, done) = (app.core.clone(), done.clone());
        let mine: Vec<i64> = member_ids.iter().copied().skip(r).step_by(4).collect();
        readers.push(tokio::spawn(async move {
            let (mut reads, mut read_alls) = (0u64, 0u64);
            let mut last_round = false;
            loop {
                for (k, m) in mine.iter().enumerate() {
                    if k % 5 == 0 {
                        inbox::read_all(&core, *m).await.expect("read all");
                        read_alls += u64::from(!last_round);
                        continue;
                    }
                    let item: Option<i64> = inbox_items::Entity::find()
                        .select_only()
                        .column(inbox_items::Column::Id)
                        .filter(inbox_items::Column::MemberId.eq(*m))
                        .filter(inbox_items::Column::ReadAt.is_null())
                        .into_tuple()
                        .one(&core.db)
                        .await
                        .expect("an unread item");
                    if let Some(i) = item {
                        inbox::mark_read(&core, *m, i).await.expect("read");
                        reads += u64::from(!last_round);
                    }
                }
                if last_round {
                    return (reads, read_alls);
                }
                last_round = done.is_cancelled();
            }
        }));
    }

    let deadline = Instant::now() + StdDuration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the fan-outs finish");
        if all_sent(&app, &ids).await {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    done.cancel();
    let (mut reads, mut read_alls) = (0, 0);
    for r in readers {
        let (a, b) = r.await.expect("reader ends");
        reads += a;
        read_alls += b;
    }
    stop.cancel();
    for t in worker_tasks {
        t.await.expect("worker ends");
    }
    eprintln!("{reads} reads and {read_alls} read-alls ran while the fan-outs did");
    assert!(
        reads > 0 && read_alls > 0,
        "reads and read-alls ran with the fan-outs"
    );
    for id in &ids {
        assert_eq!(inbox_counts(&app, *id).await, (N as i64, N as i64));
    }
    assert_eq!(
        unread_mismatches(&app, false).await,
        vec![],
        "every member's count equals their unread rows"
    );
    // The workers folded while the fan-outs, reads and read-alls ran; after a last fold the
    // counters alone are exact.
    inbox::unread::fold(&app.core).await.expect("fold");
    assert_eq!(
        unread_mismatches(&app, true).await,
        vec![],
        "every member's counter equals their unread rows once folded"
    );
    // And what a member sees is that count: a member read one item a round (not all), so
    // some of their items are still unread, and the page says exactly how many.
    let db = &app.core.db;
    let total_unread = inbox_items::Entity::find()
        .filter(inbox_items::Column::ReadAt.is_null())
        .count(db)
        .await
        .unwrap();
    let m = member_ids[4];
    let unread_of_m = inbox::unread_count(&app.core, m).await.unwrap();
    assert!(unread_of_m > 0, "member {m} has items left unread");
    let page = inbox::list(
        &app.core,
        m,
        false,
        fingertip_core::paging::PageRequest::parse(Some(1), None).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(page.unread_count, unread_of_m);
    eprintln!("{total_unread} items left unread; member {m} has {unread_of_m}");
}
