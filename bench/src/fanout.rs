//! The fan-out benchmark of DESIGN.md.
//!
//! Creates N members in a fresh database (a temporary SQLite file, or a fresh schema in the
//! PostgreSQL given by `--database-url`), broadcasts a post to all of them through the real
//! service and worker, and prints inbox rows per second until the broadcast is `sent`. In the
//! same run it measures the reference, the same number of rows written to the same table by
//! PostgreSQL `COPY` (on SQLite, multi-row inserts of as many rows as a statement takes, in one
//! transaction), and prints the ratio and the process's resident memory.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use fingertip_core::Core;
use fingertip_core::audience::Audience;
use fingertip_core::auth::{Actor, Role};
use fingertip_core::broadcasts::fanout::FanoutConfig;
use fingertip_core::broadcasts::{BroadcastInput, Status, service};
use fingertip_core::entities::{broadcasts, inbox_items, members, posts, units};
use fingertip_core::settings::redact_url;
use fingertip_workers::FanoutWorker;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use crate::memory::memory;
use crate::target::Target;

/// Rows per statement when seeding and in the SQLite reference: SQLite takes at most 32,766
/// bound values per statement, and an inbox row has five.
const SQLITE_ROWS_PER_STATEMENT: usize = 32_766 / 5;

pub async fn run(
    n: &u64,
    (batch, streams): (Option<u64>, Option<u64>),
    target: &Target,
) -> anyhow::Result<()> {
    let n = *n;
    let app = crate::setup::app(target, Some(8), &[]).await?;
    let core = app.core.clone();
    println!(
        "fan-out benchmark: {n} members on {}{}",
        redact_url(&target.url),
        target
            .schema
            .as_deref()
            .map(|s| format!(" (schema {s}, dropped afterwards)"))
            .unwrap_or_default()
    );

    let t = Instant::now();
    let (unit_id, post_id, admin_id) = seed(&core, n).await?;
    println!("seeded {n} members in {:.1} s", t.elapsed().as_secs_f64());

    // The reference first, so that it writes into the emptier table.
    let ids: Vec<i64> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .filter(members::Column::Active.eq(true))
        .order_by_asc(members::Column::Id)
        .into_tuple()
        .all(&core.db)
        .await?;
    let (ref_name, ref_secs) = reference(&core, target, &ids, post_id).await?;
    let ref_rate = ids.len() as f64 / ref_secs;
    println!(
        "reference ({ref_name}): {} rows in {:.2} s = {:.0} rows/s",
        ids.len(),
        ref_secs,
        ref_rate
    );
    // The stricter reference: the same rows into a bare copy of the table (its indexes, no
    // foreign keys).
    let bare_rate = if target.is_postgres() {
        let secs = bare_copy(&core, &ids, post_id).await?;
        let rate = ids.len() as f64 / secs;
        println!(
            "reference (PostgreSQL COPY into a copy of inbox_items with its indexes, without foreign keys): {} rows in {secs:.2} s = {rate:.0} rows/s",
            ids.len()
        );
        Some(rate)
    } else {
        None
    };

    let mut cfg = FanoutConfig::default();
    if let Some(b) = batch {
        cfg.batch = b;
    }
    if let Some(s) = streams {
        cfg.streams = s;
    }
    let actor = Actor {
        member_id: admin_id,
        role: Role::Admin,
        unit_id: Some(unit_id),
        session_id: "bench".into(),
    };
    // The reference's rows counted now, so that the fold timed below is the fan-out's alone.
    fingertip_core::inbox::unread::fold(&core).await?;
    let worker = FanoutWorker::new(core.clone(), "bench-worker").with_config(cfg);
    let t = Instant::now();
    let created_at = core.now();
    let b = service::create(
        &core,
        &actor,
        BroadcastInput {
            post_id,
            audience: Audience {
                all: true,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await?;
    let progress = tokio::spawn(progress(core.clone(), b.id, t));
    let sent_at = loop {
        worker.pass_once().await?;
        let row = broadcasts::Entity::find_by_id(b.id)
            .one(&core.db)
            .await?
            .context("the benchmark broadcast vanished")?;
        if row.status == Status::Sent {
            break row.sent_at.context("a sent broadcast without sent_at")?;
        }
    };
    // The fan-out ends when the broadcast is `sent` (`sent_at`, on the same clock as
    // `created_at`): every row written, every count exact. The worker's pass goes on with its
    // other sweeps (on a new worker's first pass, the calendar checks); then the worker folds
    // the counts into the counters (`inbox::unread`, PostgreSQL).
    let pass_secs = t.elapsed().as_secs_f64();
    let secs = (sent_at - created_at)
        .as_seconds_f64()
        .clamp(0.0, pass_secs);
    let folding = Instant::now();
    worker.fold().await?;
    let fold_secs = folding.elapsed().as_secs_f64();
    progress.abort();
    let rows = inbox_items::Entity::find()
        .filter(inbox_items::Column::BroadcastId.eq(b.id))
        .count(&core.db)
        .await?;
    anyhow::ensure!(
        rows == ids.len() as u64,
        "fan-out wrote {rows} rows for {} recipients",
        ids.len()
    );
    let rate = rows as f64 / secs;
    println!(
        "fan-out (windows of {} members, {} at once): {rows} rows in {secs:.2} s = {rate:.0} rows/s, broadcast sent",
        cfg.batch,
        cfg.streams_on(core.db.get_database_backend())
    );
    println!(
        "the worker's pass ended at {pass_secs:.2} s; the counts folded into the members' counters afterwards in {fold_secs:.2} s"
    );
    println!(
        "ratio fan-out / {ref_name}: {:.2} (goal: at least 0.5)",
        rate / ref_rate
    );
    if let Some(bare) = bare_rate {
        println!(
            "ratio fan-out / COPY without foreign keys: {:.2} (goal: at least 0.5)",
            rate / bare
        );
    }
    println!("{}", memory());
    Ok(())
}

/// One unit, `n` members (plus the bench admin), one post. Returns (unit, post, admin).
pub(crate) async fn seed(core: &Core, n: u64) -> anyhow::Result<(i64, i64, i64)> {
    let now = Utc::now();
    let unit = units::ActiveModel {
        name: Set("基准测试支部".into()),
        parent_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    let admin = members::ActiveModel {
        name: Set("bench admin".into()),
        unit_id: Set(Some(unit.id)),
        role: Set(Role::Admin),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    let per_statement = (SQLITE_ROWS_PER_STATEMENT / 2) as u64; // a member row binds more values
    let mut made = 0u64;
    while made < n {
        let txn = core.db.begin().await?;
        let end = (made + 50_000).min(n);
        while made < end {
            let upto = (made + per_statement).min(end);
            let rows = (made..upto).map(|i| members::ActiveModel {
                name: Set(format!("党员{i:06}")),
                unit_id: Set(Some(unit.id)),
                role: Set(Role::Member),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
            members::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
            made = upto;
        }
        txn.commit().await?;
    }
    let post = posts::ActiveModel {
        kind: Set(fingertip_core::posts::PostKind::Classroom),
        title: Set("指尖课堂 基准测试".into()),
        summary: Set(Some("fan-out benchmark".into())),
        body_md: Set("正文".into()),
        media: Set(Default::default()),
        study_minutes: Set(0),
        created_by: Set(Some(admin.id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    Ok((unit.id, post.id, admin.id))
}

/// A broadcast row the reference rows hang off (canceled, so no worker touches it).
async fn reference_broadcast(core: &Core, post_id: i64) -> anyhow::Result<i64> {
    let now = Utc::now();
    let b = broadcasts::ActiveModel {
        post_id: Set(post_id),
        audience: Set(Audience {
            all: true,
            ..Default::default()
        }),
        channels: Set(fingertip_core::broadcasts::Channels(vec![
            fingertip_core::broadcasts::Channel::Inbox,
        ])),
        status: Set(Status::Canceled),
        send_at: Set(now),
        timezone: Set("Asia/Shanghai".into()),
        read_by: Set(None),
        urgent: Set(false),
        audience_size: Set(0),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        fanout_cursor: Set(0),
        recurrence: Set(None),
        next_run_at: Set(None),
        occurrence: Set(0),
        occurrences_sent: Set(0),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    Ok(b.id)
}

/// Writes one inbox row per id with the database's bulk path; returns (name, seconds).
async fn reference(
    core: &Core,
    target: &Target,
    ids: &[i64],
    post_id: i64,
) -> anyhow::Result<(&'static str, f64)> {
    let bid = reference_broadcast(core, post_id).await?;
    let now = Utc::now();
    if target.is_postgres() {
        let ts = now.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
        let mut buf = String::with_capacity(ids.len() * 48);
        for id in ids {
            let _ = writeln!(buf, "{id}\t{bid}\t0\t{post_id}\t{ts}");
        }
        let pool = core.db.get_postgres_connection_pool();
        let mut conn = pool.acquire().await?;
        let t = Instant::now();
        let mut copy = conn
            .copy_in_raw(
                "COPY inbox_items (member_id, broadcast_id, occurrence, post_id, created_at) FROM STDIN",
            )
            .await?;
        copy.send(buf.as_bytes()).await?;
        let written = copy.finish().await?;
        let secs = t.elapsed().as_secs_f64();
        anyhow::ensure!(written == ids.len() as u64, "COPY wrote {written} rows");
        Ok(("PostgreSQL COPY", secs))
    } else {
        let t = Instant::now();
        let txn = core.db.begin().await?;
        for chunk in ids.chunks(SQLITE_ROWS_PER_STATEMENT) {
            let rows = chunk.iter().map(|m| inbox_items::ActiveModel {
                member_id: Set(*m),
                broadcast_id: Set(bid),
                occurrence: Set(0),
                post_id: Set(post_id),
                created_at: Set(now),
                ..Default::default()
            });
            inbox_items::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok((
            "SQLite multi-row insert in one transaction",
            t.elapsed().as_secs_f64(),
        ))
    }
}

/// PostgreSQL `COPY` of one row per id into a copy of `inbox_items` with its defaults, identity and
/// indexes but no foreign keys (dropped afterwards); returns the seconds.
async fn bare_copy(core: &Core, ids: &[i64], post_id: i64) -> anyhow::Result<f64> {
    use sea_orm::ConnectionTrait;
    core.db
        .execute_unprepared("CREATE TABLE inbox_items_bare (LIKE inbox_items INCLUDING ALL)")
        .await?;
    let ts = Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
    let mut buf = String::with_capacity(ids.len() * 48);
    for id in ids {
        let _ = writeln!(buf, "{id}\t-1\t0\t{post_id}\t{ts}");
    }
    let pool = core.db.get_postgres_connection_pool();
    let mut conn = pool.acquire().await?;
    let t = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY inbox_items_bare (member_id, broadcast_id, occurrence, post_id, created_at) FROM STDIN",
        )
        .await?;
    copy.send(buf.as_bytes()).await?;
    let written = copy.finish().await?;
    let secs = t.elapsed().as_secs_f64();
    drop(conn);
    core.db
        .execute_unprepared("DROP TABLE inbox_items_bare")
        .await?;
    anyhow::ensure!(written == ids.len() as u64, "COPY wrote {written} rows");
    Ok(secs)
}

/// Prints the row count once a second while the fan-out runs.
async fn progress(core: Arc<Core>, id: i64, start: Instant) {
    let mut last = 0u64;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Ok(rows) = inbox_items::Entity::find()
            .filter(inbox_items::Column::BroadcastId.eq(id))
            .count(&core.db)
            .await
        else {
            continue;
        };
        println!(
            "  {:>5.1} s  {rows:>8} rows  ({} rows/s in the last second)",
            start.elapsed().as_secs_f64(),
            rows - last.min(rows)
        );
        last = rows;
    }
}

/// Lessons titled `titles` (30 study minutes each), each broadcast to every member by `admin`,
/// fanned out to the end by the real worker: what the read and study parts start from.
pub(crate) async fn lessons_to_all(
    core: &std::sync::Arc<Core>,
    unit_id: i64,
    admin_id: i64,
    titles: impl IntoIterator<Item = String>,
) -> anyhow::Result<()> {
    use fingertip_core::audience::Audience;
    use fingertip_core::auth::{Actor, Role};
    use fingertip_core::broadcasts::{BroadcastInput, Status, service};
    use fingertip_core::entities::{broadcasts, posts};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let actor = Actor {
        member_id: admin_id,
        role: Role::Admin,
        unit_id: Some(unit_id),
        session_id: "bench".into(),
    };
    let now = Utc::now();
    for title in titles {
        let post = posts::ActiveModel {
            kind: Set(fingertip_core::posts::PostKind::Lesson),
            title: Set(title),
            summary: Set(Some("本月学习内容，请在读完后确认。".into())),
            body_md: Set("# 学习内容\n\n正文".into()),
            media: Set(Default::default()),
            study_minutes: Set(30),
            created_by: Set(Some(admin_id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&core.db)
        .await?;
        let input = BroadcastInput {
            post_id: post.id,
            audience: Audience {
                all: true,
                ..Default::default()
            },
            ..Default::default()
        };
        service::create(core, &actor, input).await?;
    }
    let worker = fingertip_workers::FanoutWorker::new(core.clone(), "bench-seed-worker");
    loop {
        worker.run_once().await?;
        let left = broadcasts::Entity::find()
            .filter(broadcasts::Column::Status.ne(Status::Sent))
            .count(&core.db)
            .await?;
        if left == 0 {
            return Ok(());
        }
    }
}
