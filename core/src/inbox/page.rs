//! The rows of an inbox page and the member's counter row, read in one statement; on PostgreSQL
//! the pages asked for at the same moment are read together.
//!
//! At 09:00, when the monthly classroom arrives, hundreds of phones ask for their first page
//! within the same milliseconds. Each page alone is a tiny statement (an index range of 21 rows
//! and a counter by key), and most of what it costs is the statement's own overhead: a round
//! trip, the executor's start, the connection's release. So on PostgreSQL a page asked for
//! while others are being read waits for the statement in flight to return and goes in the next
//! one, with every other page that came meanwhile: one statement reads each of them by
//! `LATERAL` (the same index range and the same counter probe per member, in one snapshot). An
//! idle server reads a page at once; a busy one reads about eight per statement
//! (`fingertip bench`, the read part: 38,000 member pages per second in statements of eight,
//! against 9,600 one at a time).
//!
//! A read runs in a spawned task, so that a phone hanging up does not take the others' pages
//! with it; if it fails, or the task is gone, each waiting page is read alone, and its own
//! error is the one it answers with. On SQLite (one process, in memory) each page is read
//! alone.
//!
//! Hand-made rather than a batching crate: the queue and its bound are these few lines, and
//! what is batched is one statement.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};
use tokio::sync::oneshot;

/// Statements of pages in flight at once; a page asked for while all are busy waits for the
/// next one.
const READERS: usize = 4;
/// Most pages in one statement.
const MOST_PER_READ: usize = 64;

/// A row of the inbox page: the member's own row, and their counter row's two numbers, from
/// one statement.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PageRow {
    pub id: i64,
    pub broadcast_id: i64,
    pub post_id: i64,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// The member's counter row: its `unread` and `counted_upto`.
    pub unread: Option<i64>,
    pub counted_upto: Option<i64>,
}

/// What one page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ask {
    pub member_id: i64,
    /// Only unread rows.
    pub unread_only: bool,
    /// Rows with an id below this one (after a cursor), or all.
    pub below: Option<i64>,
    /// How many rows at most (a page and one more).
    pub fetch: i64,
}

/// The single page's statement: the member's rows newest first (`$1` the member, `$2` how
/// many), those below `$3` after a cursor, and their counter row's two numbers by key. Its text
/// is fixed rather than built per request: building it through the query builder cost about a
/// fifth of what the database took to answer it (`fingertip bench`, the read part). `$N`
/// parameters are PostgreSQL's and SQLite's alike.
macro_rules! page_sql {
    ($filter:literal) => {
        concat!(
            "SELECT id, broadcast_id, post_id, created_at, read_at, ",
            "(SELECT unread FROM inbox_unread WHERE member_id = $1) AS unread, ",
            "(SELECT counted_upto FROM inbox_unread WHERE member_id = $1) AS counted_upto ",
            "FROM inbox_items WHERE member_id = $1",
            $filter,
            " ORDER BY id DESC LIMIT $2"
        )
    };
}

fn page_sql(unread_only: bool, after_cursor: bool) -> &'static str {
    match (unread_only, after_cursor) {
        (false, false) => page_sql!(""),
        (true, false) => page_sql!(" AND read_at IS NULL"),
        (false, true) => page_sql!(" AND id < $3"),
        (true, true) => page_sql!(" AND read_at IS NULL AND id < $3"),
    }
}

/// Pages read together (PostgreSQL): the k-th page of the arrays is `k`, its rows (none: one
/// row of nulls) and its member's counter row. The index range and the counter probe per page
/// are the single statement's.
const PAGES_SQL: &str = "SELECT m.k, i.id, i.broadcast_id, i.post_id, i.created_at, i.read_at, \
     u.unread, u.counted_upto \
     FROM unnest($1::bigint[], $2::bool[], $3::bigint[], $4::bigint[]) WITH ORDINALITY \
     AS m(member_id, unread_only, below, n, k) \
     LEFT JOIN inbox_unread u ON u.member_id = m.member_id \
     LEFT JOIN LATERAL (SELECT id, broadcast_id, post_id, created_at, read_at FROM inbox_items \
     WHERE member_id = m.member_id AND id < m.below AND (NOT m.unread_only OR read_at IS NULL) \
     ORDER BY id DESC LIMIT m.n) i ON true";

/// `r`'s page row, its columns from `at` on (read by position: looking each up by name cost
/// more than decoding it). `None` for the row of nulls of an empty page.
fn row_at(r: &QueryResult, at: usize) -> Result<Option<PageRow>, DbErr> {
    let Some(id) = r.try_get_by_index::<Option<i64>>(at)? else {
        return Ok(None);
    };
    Ok(Some(PageRow {
        id,
        broadcast_id: r.try_get_by_index(at + 1)?,
        post_id: r.try_get_by_index(at + 2)?,
        created_at: r.try_get_by_index(at + 3)?,
        read_at: r.try_get_by_index(at + 4)?,
        unread: r.try_get_by_index(at + 5)?,
        counted_upto: r.try_get_by_index(at + 6)?,
    }))
}

/// One page read alone.
async fn read_one(db: &DatabaseConnection, ask: Ask) -> Result<Vec<PageRow>, DbErr> {
    let mut values: Vec<sea_orm::Value> = vec![ask.member_id.into(), ask.fetch.into()];
    if let Some(below) = ask.below {
        values.push(below.into());
    }
    let backend = db.get_database_backend();
    let mut sql = page_sql(ask.unread_only, ask.below.is_some()).to_owned();
    if backend == DbBackend::Sqlite {
        // SQLite makes a bound `LIMIT` part of the statement's plan, and so prepares the
        // statement again each time it runs (a sixth of the CPU of a page on SQLite, in
        // `perf`): there the limit is written into the text (`$2` is then bound to nothing).
        sql = sql.replace("LIMIT $2", &format!("LIMIT {}", ask.fetch));
    }
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    let mut rows = Vec::new();
    for r in db.query_all_raw(stmt).await? {
        rows.extend(row_at(&r, 0)?);
    }
    Ok(rows)
}

/// Pages read together: each page's rows, in the order of `asks`.
async fn read_many(db: &DatabaseConnection, asks: &[Ask]) -> Result<Vec<Vec<PageRow>>, DbErr> {
    let member_ids: Vec<i64> = asks.iter().map(|a| a.member_id).collect();
    let unread_only: Vec<bool> = asks.iter().map(|a| a.unread_only).collect();
    let below: Vec<i64> = asks.iter().map(|a| a.below.unwrap_or(i64::MAX)).collect();
    let fetch: Vec<i64> = asks.iter().map(|a| a.fetch).collect();
    let stmt = Statement::from_sql_and_values(
        DbBackend::Postgres,
        PAGES_SQL,
        [
            member_ids.into(),
            unread_only.into(),
            below.into(),
            fetch.into(),
        ],
    );
    let mut pages: Vec<Vec<PageRow>> = vec![Vec::new(); asks.len()];
    for r in db.query_all_raw(stmt).await? {
        let k: i64 = r.try_get_by_index(0)?;
        let page = usize::try_from(k - 1)
            .ok()
            .and_then(|k| pages.get_mut(k))
            .ok_or_else(|| DbErr::Custom(format!("a page read together came back as {k}")))?;
        page.extend(row_at(&r, 1)?);
    }
    for page in &mut pages {
        // Each page's rows come in its index order; sorted again rather than trusted.
        page.sort_by_key(|r| std::cmp::Reverse(r.id));
    }
    Ok(pages)
}

type Answer = oneshot::Sender<Option<Vec<PageRow>>>;

#[derive(Default)]
struct Queue {
    waiting: Vec<(Ask, Answer)>,
    readers: usize,
}

/// Pages asked for while others are being read, and the reads in flight.
#[derive(Default)]
pub struct PageReads {
    queue: Arc<Mutex<Queue>>,
    /// Statements that read pages together, and the pages they read.
    counts: Arc<(AtomicU64, AtomicU64)>,
}

impl PageReads {
    /// Statements that read pages together so far, and the pages they read.
    pub fn read_together(&self) -> (u64, u64) {
        (
            self.counts.0.load(Ordering::Relaxed),
            self.counts.1.load(Ordering::Relaxed),
        )
    }

    /// The rows of the page `ask`: read with the other pages asked for meanwhile on PostgreSQL,
    /// alone on SQLite (or when reading them together failed).
    pub(super) async fn rows(
        &self,
        db: &DatabaseConnection,
        ask: Ask,
    ) -> Result<Vec<PageRow>, DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            return read_one(db, ask).await;
        }
        let (tx, rx) = oneshot::channel();
        let start_reader = {
            let Ok(mut q) = self.queue.lock() else {
                return read_one(db, ask).await;
            };
            q.waiting.push((ask, tx));
            let start = q.readers < READERS;
            if start {
                q.readers += 1;
            }
            start
        };
        if start_reader {
            tokio::spawn(reader(self.queue.clone(), self.counts.clone(), db.clone()));
        }
        match rx.await {
            Ok(Some(rows)) => Ok(rows),
            // Reading together failed, or the reader is gone: this page alone.
            _ => read_one(db, ask).await,
        }
    }
}

/// A running reader's place in the queue's count. Dropped without having found the queue empty
/// (its task cancelled with the runtime, or a panic), it gives its place back, and the last one
/// lets the pages still waiting go (each is then read alone) rather than leave them waiting for
/// a reader that no one will start.
struct Reader {
    queue: Arc<Mutex<Queue>>,
    done: bool,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Ok(mut q) = self.queue.lock() {
            q.readers -= 1;
            if q.readers == 0 {
                q.waiting.clear();
            }
        }
    }
}

/// Reads what waits, as many pages at a time as allowed, until nothing does.
async fn reader(
    queue: Arc<Mutex<Queue>>,
    counts: Arc<(AtomicU64, AtomicU64)>,
    db: DatabaseConnection,
) {
    let mut me = Reader { queue, done: false };
    loop {
        let batch: Vec<(Ask, Answer)> = {
            let Ok(mut q) = me.queue.lock() else {
                return;
            };
            if q.waiting.is_empty() {
                q.readers -= 1;
                me.done = true;
                return;
            }
            let n = q.waiting.len().min(MOST_PER_READ);
            q.waiting.drain(..n).collect()
        };
        let asks: Vec<Ask> = batch.iter().map(|(a, _)| *a).collect();
        match read_many(&db, &asks).await {
            Ok(pages) => {
                counts.0.fetch_add(1, Ordering::Relaxed);
                counts.1.fetch_add(pages.len() as u64, Ordering::Relaxed);
                for ((_, answer), rows) in batch.into_iter().zip(pages) {
                    let _ = answer.send(Some(rows));
                }
            }
            Err(e) => {
                // An outage is answered by each page's own error; anything else is a fault of
                // this statement, which the pages read alone would hide.
                if !crate::db::is_outage(&e) {
                    tracing::warn!(error = %e, pages = asks.len(), "inbox pages read together failed; each is read alone");
                }
                for (_, answer) in batch {
                    let _ = answer.send(None);
                }
            }
        }
    }
}
