//! Unread counts: one counter row per member (`inbox_unread`, migrations m0009 and m0023), read
//! in O(1), exact whatever runs at once.
//!
//! A counter row holds `unread`, the member's unread rows with an id up to `counted_upto`. The
//! member's count is that plus their unread rows above `counted_upto`: on PostgreSQL the
//! fan-out writes inbox rows and nothing else, and [`fold`] adds them to the counters later
//! (the fan-out worker runs it beside its passes); reads and read-alls change `unread` only by
//! rows at or below `counted_upto` (the triggers of m0023). On SQLite the triggers count every row as it is
//! written, `counted_upto` is the largest integer, and there is nothing above it.
//!
//! Readers add the rows above `counted_upto` in the statement that reads the counter, so a
//! fold in between changes nothing they see:
//! - the inbox page reads the counter with its rows and finds the rows above `counted_upto`
//!   among them ([`Counter::count_with`]): the newest rows of the inbox are the ones a fold has
//!   not reached yet;
//! - the badge ([`count`]) and the live updates ([`counts`]) count them with an index range of
//!   the member's rows above `counted_upto`, empty once folded (all the member's rows when
//!   no fold has reached them yet).

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::Core;
use crate::db::IN_CHUNK;
use crate::entities::{inbox_items, inbox_unread, members};
use crate::error::CoreResult;

/// The advisory lock that every statement inserting inbox rows holds shared until its
/// transaction ends (m0023's `BEFORE INSERT` trigger), and that [`fold`] takes exclusively to
/// read a horizon no inserting transaction is below.
pub const HORIZON_LOCK: i64 = 7_402_611_500_117_465;

/// A counter row: unread rows up to `upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub stored: i64,
    pub upto: i64,
}

impl Counter {
    /// No row: nothing counted yet.
    pub const NONE: Counter = Counter { stored: 0, upto: 0 };

    /// The counter as a statement read it; no row is [`Counter::NONE`].
    pub fn of(unread: Option<i64>, counted_upto: Option<i64>) -> Self {
        match (unread, counted_upto) {
            (Some(stored), Some(upto)) => Self { stored, upto },
            _ => Self::NONE,
        }
    }

    /// The member's count, given `newest`: the ids and read state of their newest rows,
    /// newest first, and whether those are all their rows. `None` when rows above `upto` may
    /// lie beyond them (then [`count`] asks the database).
    pub fn count_with(
        &self,
        newest: impl IntoIterator<Item = (i64, bool)>,
        all_rows: bool,
    ) -> Option<u64> {
        let mut above = 0i64;
        let mut reached = all_rows;
        for (id, unread) in newest {
            if id <= self.upto {
                reached = true;
                break;
            }
            above += i64::from(unread);
        }
        reached.then(|| count_of(self.stored + above))
    }
}

/// A count as stored: a negative one (which nothing writes) is none.
fn count_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `members AS m` with each member's count as `n`: their counter's `unread` plus their unread
/// rows above its `counted_upto`, or all their unread rows when they have no counter yet (a
/// member the first fold has not reached), in one statement whichever it is; for the members
/// `m` is filtered to.
fn counts_query() -> SelectStatement {
    use inbox_items::Column as I;
    use inbox_unread::Column as U;
    let (i, u, m) = (Alias::new("i"), Alias::new("u"), Alias::new("m"));
    let or_zero = |c: U| Func::coalesce([Expr::col((u.clone(), c)), Expr::val(0i64)]);
    let above = Query::select()
        .expr(Expr::col((i.clone(), I::Id)).count())
        .from_as(inbox_items::Entity, i.clone())
        .and_where(Expr::col((i.clone(), I::MemberId)).equals((m.clone(), members::Column::Id)))
        .and_where(Expr::col((i.clone(), I::Id)).gt(or_zero(U::CountedUpto)))
        .and_where(Expr::col((i.clone(), I::ReadAt)).is_null())
        .to_owned();
    Query::select()
        .expr_as(
            Expr::col((m.clone(), members::Column::Id)),
            Alias::new("member_id"),
        )
        .expr_as(
            Expr::expr(or_zero(U::Unread)).add(Expr::SubQuery(None, Box::new(above.into()))),
            Alias::new("n"),
        )
        .from_as(members::Entity, m.clone())
        .join_as(
            JoinType::LeftJoin,
            inbox_unread::Entity,
            u.clone(),
            Expr::col((u.clone(), U::MemberId)).equals((m, members::Column::Id)),
        )
        .to_owned()
}

/// The member's unread count: their counter row and the unread rows above it, in one
/// statement.
pub async fn count(core: &Core, member_id: i64) -> CoreResult<u64> {
    let mut q = counts_query();
    q.and_where(Expr::col((Alias::new("m"), members::Column::Id)).eq(member_id));
    let db = &core.db;
    match db
        .query_one_raw(db.get_database_backend().build(&q))
        .await?
    {
        Some(r) => Ok(count_of(r.try_get("", "n")?)),
        None => Ok(0),
    }
}

/// Unread counts of several members at once, a statement per [`IN_CHUNK`] of them; members
/// with none (or unknown) are 0.
pub async fn counts(core: &Core, member_ids: &[i64]) -> CoreResult<HashMap<i64, u64>> {
    let db = &core.db;
    let mut out: HashMap<i64, u64> = member_ids.iter().map(|m| (*m, 0)).collect();
    for chunk in member_ids.chunks(IN_CHUNK) {
        let mut q = counts_query();
        q.and_where(Expr::col((Alias::new("m"), members::Column::Id)).is_in(chunk.iter().copied()));
        for r in db
            .query_all_raw(db.get_database_backend().build(&q))
            .await?
        {
            out.insert(r.try_get("", "member_id")?, count_of(r.try_get("", "n")?));
        }
    }
    Ok(out)
}

/// What one [`fold`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Inbox rows in the range it folded (read or not).
    pub rows: u64,
    /// Counter rows changed.
    pub members: u64,
}

fn pg(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Adds the inbox rows written since the last fold to their members' counters (PostgreSQL;
/// nothing to do on SQLite). Safe to run anywhere, at any time, by several workers at once,
/// and to stop at any point: each counter is brought to the horizon in a transaction of its
/// own few thousand, from where it stands, and the counts are exact before, during and after.
///
/// 1. The horizon: with the advisory lock [`HORIZON_LOCK`] held exclusively (every inserting
///    transaction holds it shared; if one is in flight, this fold does nothing and the next
///    one folds), the largest inbox id. Every row at or below it is
///    committed or never will be; every row inserted later has a larger id.
/// 2. The members with rows between the last fold's mark (`inbox_unread_folded`) and the
///    horizon, a few thousand at a time ([`fold_members`]), get their rows up to the horizon
///    added to their counters; then the mark moves to the horizon.
pub async fn fold(core: &Core) -> CoreResult<Folded> {
    let db = &core.db;
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Folded::default());
    }
    // Nothing new since the last fold: one look at two keys, no lock.
    let look = db
        .query_one_raw(pg(
            "SELECT (SELECT upto FROM inbox_unread_folded WHERE id = 1) AS folded, \
             (SELECT max(id) FROM inbox_items) AS newest",
            vec![],
        ))
        .await?;
    let (folded, newest) = match look {
        Some(r) => (
            r.try_get::<Option<i64>>("", "folded")?.unwrap_or(0),
            r.try_get::<Option<i64>>("", "newest")?.unwrap_or(0),
        ),
        None => return Ok(Folded::default()),
    };
    if newest <= folded {
        return Ok(Folded::default());
    }

    // Not waiting for the lock: a fold queued behind an inserting window would queue the
    // windows after it too, and the fan-out orders its windows' commits itself (a window
    // waits for the one before it while holding the lock). Busy now means folded next time.
    let txn = db.begin().await?;
    let locked: bool = txn
        .query_one_raw(pg(
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            vec![HORIZON_LOCK.into()],
        ))
        .await?
        .map(|r| r.try_get("", "locked"))
        .transpose()?
        .unwrap_or(false);
    if !locked {
        txn.commit().await?;
        return Ok(Folded::default());
    }
    let horizon: i64 = txn
        .query_one_raw(pg(
            "SELECT coalesce(max(id), 0) AS h FROM inbox_items",
            vec![],
        ))
        .await?
        .map(|r| r.try_get("", "h"))
        .transpose()?
        .unwrap_or(0);
    txn.commit().await?;

    let from = folded;
    let rows = db
        .query_all_raw(pg(
            "SELECT member_id, count(*) AS n FROM inbox_items WHERE id > $1 AND id <= $2 \
             GROUP BY member_id ORDER BY member_id",
            vec![from.into(), horizon.into()],
        ))
        .await?;
    let mut members = Vec::with_capacity(rows.len());
    let mut in_range = 0i64;
    for r in &rows {
        members.push(r.try_get::<i64>("", "member_id")?);
        in_range += r.try_get::<i64>("", "n")?;
    }
    let mut done = Folded {
        rows: u64::try_from(in_range).unwrap_or(0),
        members: 0,
    };
    for chunk in members.chunks(FOLD_CHUNK) {
        done.members += fold_members(db, chunk, horizon).await?;
    }
    // Every member with rows up to the horizon is folded up to it. Another fold may have
    // gone further meanwhile: the mark only moves forward.
    db.execute_raw(pg(
        "UPDATE inbox_unread_folded SET upto = greatest(upto, $1) WHERE id = 1",
        vec![horizon.into()],
    ))
    .await?;
    metrics::counter!(crate::metrics::UNREAD_FOLDED_ROWS).increment(done.rows);
    Ok(done)
}

/// Members whose counters one transaction of a [`fold`] brings up to its horizon: a few
/// thousand, so that a read waiting for its counter waits for one such transaction at most.
const FOLD_CHUNK: usize = 5_000;

/// Brings these members' counters up to `horizon`, in one transaction: created if missing and
/// locked in member order (as a read's trigger locks them), then, in a later statement that
/// sees every read committed before the locks, each counter gets the member's unread rows
/// between its `counted_upto` and the horizon (a range of the member's index), and
/// `counted_upto` becomes the horizon. A counter already there (another fold) is left alone.
/// A read still in flight waits for its counter and then counts against the new
/// `counted_upto`.
async fn fold_members(
    db: &sea_orm::DatabaseConnection,
    members: &[i64],
    horizon: i64,
) -> CoreResult<u64> {
    // The members travel as one array, joined by `unnest` (an index probe each): a filter
    // `member_id = ANY($1)` was planned as a scan of every counter on a roster imported a
    // moment ago, without statistics, testing each against the whole array.
    let ids = || -> sea_orm::Value { members.to_vec().into() };
    // Read committed, whatever the server's default: the count after the locks relies on a
    // statement seeing what committed before it.
    let txn = db
        .begin_with_config(Some(sea_orm::IsolationLevel::ReadCommitted), None)
        .await?;
    let lock = |ids: sea_orm::Value| {
        pg(
            "SELECT u.member_id FROM unnest($1::bigint[]) AS m(id) \
             JOIN inbox_unread u ON u.member_id = m.id AND u.counted_upto < $2 \
             ORDER BY u.member_id FOR UPDATE OF u",
            vec![ids, horizon.into()],
        )
    };
    let locked: std::collections::HashSet<i64> = txn
        .query_all_raw(lock(ids()))
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "member_id"))
        .collect::<Result<_, _>>()?;
    // Members without a counter yet (their first fold): created, and locked as well, in case
    // a read created one meanwhile (the insert then leaves it, unlocked).
    let missing: Vec<i64> = members
        .iter()
        .copied()
        .filter(|m| !locked.contains(m))
        .collect();
    if !missing.is_empty() {
        txn.execute_raw(pg(
            "INSERT INTO inbox_unread (member_id) SELECT unnest($1::bigint[]) ORDER BY 1 \
             ON CONFLICT (member_id) DO NOTHING",
            vec![missing.clone().into()],
        ))
        .await?;
        txn.execute_raw(lock(missing.into())).await?;
    }
    let members = txn
        .execute_raw(pg(
            "UPDATE inbox_unread u SET unread = u.unread + ( \
                 SELECT count(*) FROM inbox_items i WHERE i.member_id = u.member_id \
                 AND i.id > u.counted_upto AND i.id <= $2 AND i.read_at IS NULL), \
             counted_upto = $2 \
             FROM unnest($1::bigint[]) AS m(id) \
             WHERE u.member_id = m.id AND u.counted_upto < $2",
            vec![ids(), horizon.into()],
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_counts_the_rows_above_it_when_they_are_in_view() {
        let c = Counter::of(Some(3), Some(100));
        assert_eq!(
            c,
            Counter {
                stored: 3,
                upto: 100
            }
        );
        assert_eq!(Counter::of(None, None), Counter::NONE);
        // Two unread rows above 100, then one at or below it: all above are in view.
        let newest = [(103, true), (102, false), (101, true), (99, true)];
        assert_eq!(c.count_with(newest, false), Some(5));
        // Only rows above 100 in view, and more rows beyond: unknown.
        assert_eq!(c.count_with([(103, true), (102, true)], false), None);
        // ... unless they are all the member's rows.
        assert_eq!(c.count_with([(103, true), (102, true)], true), Some(5));
        // SQLite's counters count everything.
        let all = Counter {
            stored: 4,
            upto: i64::MAX,
        };
        assert_eq!(all.count_with([(7, true)], false), Some(4));
    }
}
