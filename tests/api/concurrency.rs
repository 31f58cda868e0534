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
            let mut all_sent = true;
            for id in &ids {
                let b = broadcasts::Entity::find_by_id(*id)
                    .one(&app.core.db)
                    .await
                    .unwrap()
                    .unwrap();
                all_sent &= b.status.as_str() == "sent";
            }
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
