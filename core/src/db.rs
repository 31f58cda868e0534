//! Connecting to the database and applying the schema.

use std::time::Duration;

use fingertip_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Options beyond the URL, mainly for tests.
#[derive(Debug, Clone, Default)]
pub struct DbOptions {
    /// PostgreSQL schema to use (created if missing); tests use a fresh one each.
    pub pg_schema: Option<String>,
    pub max_connections: Option<u32>,
}

/// Opens a pool. SQLite runs in WAL mode with a busy timeout so that the API and the workers
/// of the embedded shape can share one file.
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
        .acquire_timeout(Duration::from_secs(10));
    if let Some(schema) = &opts.pg_schema {
        o.set_schema_search_path(schema.clone());
    }
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        o.max_connections(opts.max_connections.unwrap_or(8))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
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

/// Whether the database answers (`SELECT 1`), for readiness.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
