//! Connecting to the database and applying the schema; loading rows by a list of ids; which
//! errors mean the database is unavailable ([`unavailable`]) and the process's view of its
//! health ([`health`]).

pub mod bulk;
pub mod health;
pub mod unavailable;

pub use health::DbHealth;
pub use sea_orm::DbErr;
pub use unavailable::{Unavailable, classify, is_outage};

use std::collections::HashMap;
use std::time::Duration;

use fingertip_migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::ValueType;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IdenStatic, ModelTrait, QueryFilter, Select,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Longest wait for a pooled connection unless the settings say otherwise: past it the
/// request fails fast (503) instead of hanging while the database is down or the pool is
/// exhausted.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// A pooled connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Longest a SQLite statement waits for another writer's lock.
const SQLITE_BUSY: Duration = Duration::from_secs(10);

/// Options beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct DbOptions {
    /// PostgreSQL schema to use (created if missing); tests use a fresh one each.
    pub pg_schema: Option<String>,
    pub max_connections: Option<u32>,
    /// [`DEFAULT_ACQUIRE_TIMEOUT`] when `None`.
    pub acquire_timeout: Option<Duration>,
    /// PostgreSQL's `statement_timeout` on every connection the pool opens (on SQLite, the
    /// busy timeout when shorter than its 10 s); none when `None`.
    pub statement_timeout: Option<Duration>,
}

/// Opens a pool. SQLite runs in WAL mode with a busy timeout so that the API and the workers
/// of the embedded shape can share one file. On PostgreSQL every connection gets the
/// statement timeout, so a runaway query frees its connection; the pool tests a connection
/// that sat idle before handing it out and opens new ones as needed, so a server that restarted (or a new
/// primary behind the same name) is used again without restarting the process, each new
/// connection with its own prepared statements.
pub async fn connect(url: &str, opts: &DbOptions) -> Result<DatabaseConnection, DbErr> {
    if let Some(schema) = &opts.pg_schema {
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(DbErr::Custom(format!("bad schema name {schema:?}")));
        }
        let admin = Database::connect(url).await?;
        use sea_orm::ConnectionTrait;
        admin
            .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
        admin.close().await?;
    }
    let mut o = ConnectOptions::new(url.to_string());
    o.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(opts.acquire_timeout.unwrap_or(DEFAULT_ACQUIRE_TIMEOUT))
        // No round trip before each use of a busy connection; one idle for a while (as every
        // connection is after an outage) is pinged first, so a dead one is dropped, not used.
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    if let Some(schema) = &opts.pg_schema {
        o.set_schema_search_path(schema.clone());
    }
    if let Some(t) = opts.statement_timeout {
        o.statement_timeout(t);
    }
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        // SQLite has no statement timeout; what makes its statements wait is another writer,
        // and the busy timeout bounds that wait (10 s, or the statement timeout if shorter).
        let sqlite_busy = opts
            .statement_timeout
            .map_or(SQLITE_BUSY, |t| t.min(SQLITE_BUSY));
        o.max_connections(opts.max_connections.unwrap_or(8))
            .map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(sqlite_busy)
                    .foreign_keys(true)
            });
    } else {
        o.max_connections(opts.max_connections.unwrap_or(20));
    }
    Database::connect(o).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Names of the migrations not yet applied.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so it waits out another writer on the busy timeout instead of failing
/// with "database is locked" when a deferred transaction that has read tries to write after
/// another commit (the API and the workers share one file in the embedded shape). PostgreSQL
/// gets a plain `BEGIN`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}

/// `q` locking its rows for the rest of `txn` (`FOR UPDATE`) on PostgreSQL. On SQLite the
/// write transaction of [`begin_write`] already holds the database, and there are no row locks.
pub fn for_update<E: sea_orm::EntityTrait>(
    q: sea_orm::Select<E>,
    txn: &DatabaseTransaction,
) -> sea_orm::Select<E> {
    use sea_orm::{ConnectionTrait, QuerySelect};
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q.lock_exclusive()
    } else {
        q
    }
}

/// Whether the database answers (`SELECT 1`), for readiness.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Most ids in one `IN (…)` list.
pub const IN_CHUNK: usize = 500;

/// The rows of `E` whose `key` column (a unique one: the primary key, say) holds one of `ids`,
/// by that key. Ids without a row are simply missing from the map. The ids are sent
/// [`IN_CHUNK`] to a query.
pub async fn load_by_ids<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: E::Column,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, E::Model>, DbErr> {
    let mut out = HashMap::new();
    for m in load_in_chunks(db, E::find(), key, ids).await? {
        out.insert(key_of(&m, key)?, m);
    }
    Ok(out)
}

/// The rows of `query` whose `key` column holds one of `ids`, grouped by that key, each group
/// in the order of `query`: for a key that many rows share (a member's tags). The ids are sent
/// [`IN_CHUNK`] to a query.
pub async fn load_grouped_by_ids<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    key: E::Column,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Vec<E::Model>>, DbErr> {
    let mut out: HashMap<i64, Vec<E::Model>> = HashMap::new();
    for m in load_in_chunks(db, query, key, ids).await? {
        out.entry(key_of(&m, key)?).or_default().push(m);
    }
    Ok(out)
}

/// `query` once per chunk of the distinct `ids`, narrowed to `key IN (chunk)`.
async fn load_in_chunks<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    key: E::Column,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<E::Model>, DbErr> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let narrowed = query.clone().filter(key.is_in(chunk.iter().copied()));
        rows.extend(narrowed.all(db).await?);
    }
    Ok(rows)
}

fn key_of<M: ModelTrait>(m: &M, key: <M::Entity as EntityTrait>::Column) -> Result<i64, DbErr> {
    <i64 as ValueType>::try_from(m.get(key))
        .map_err(|_| DbErr::Type(format!("{} is not an integer key", key.as_str())))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::{EntityTrait, QueryOrder, Set};

    use super::*;
    use crate::auth::Role;
    use crate::entities::{member_tags, members};

    #[tokio::test]
    async fn rows_load_by_ids_across_chunks_once_each() {
        let opts = DbOptions {
            max_connections: Some(1),
            ..Default::default()
        };
        let db = connect("sqlite::memory:", &opts).await.unwrap();
        migrate(&db).await.unwrap();
        let now = Utc::now();
        let n = <i64 as TryFrom<usize>>::try_from(IN_CHUNK).unwrap() * 2 + 3;
        members::Entity::insert_many((1..=n).map(|i| members::ActiveModel {
            id: Set(i),
            name: Set(format!("m{i}")),
            role: Set(Role::Member),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();
        member_tags::Entity::insert_many([(1, "b"), (1, "a"), (n, "c")].map(|(m, t)| {
            member_tags::ActiveModel {
                member_id: Set(m),
                tag: Set(t.into()),
            }
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();

        // Every id, some twice, and one without a row.
        let ids = (1..=n).chain([1, n, n + 1]);
        let found = load_by_ids::<members::Entity>(&db, members::Column::Id, ids)
            .await
            .unwrap();
        assert_eq!(found.len(), usize::try_from(n).unwrap());
        assert!((1..=n).all(|i| found[&i].name == format!("m{i}")));

        let tags = load_grouped_by_ids(
            &db,
            member_tags::Entity::find().order_by_asc(member_tags::Column::Tag),
            member_tags::Column::MemberId,
            [n, 1, 2],
        )
        .await
        .unwrap();
        let words = |m: i64| tags[&m].iter().map(|t| t.tag.as_str()).collect::<Vec<_>>();
        assert_eq!(words(1), ["a", "b"]);
        assert_eq!(words(n), ["c"]);
        assert!(!tags.contains_key(&2));

        let none = load_by_ids::<members::Entity>(&db, members::Column::Id, [])
            .await
            .unwrap();
        assert!(none.is_empty());
    }
}
