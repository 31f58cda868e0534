//! Each member's unread count as a row, kept by the database itself.
//!
//! The unread count was a `count(*)` over the member's unread inbox rows on every inbox page
//! and badge poll: a cost that grows with the inbox. `inbox_unread` holds it as one row per
//! member, and triggers on `inbox_items` keep it in the transaction of every statement that
//! inserts, updates or deletes inbox rows. Being in the writer's transaction, the count is
//! exact whatever runs at once (fan-outs, reads, read-all): each change adds its own delta to
//! the row under the row's lock (`ON CONFLICT … DO UPDATE SET unread = unread + delta`), and a
//! rolled-back statement takes its delta with it. No code path can forget it, because no code
//! path does it.
//!
//! - PostgreSQL: statement-level triggers with transition tables, so a fan-out batch of
//!   thousands of rows is one grouped upsert (in member order, so that two fan-outs over the
//!   same members lock their counters in the same order), not a trigger call per row.
//! - SQLite: row-level triggers (the only kind it has); each is an in-process upsert.
//!
//! The backfill counts the existing rows with `inbox_items` locked against writers (on SQLite
//! the migration's write transaction does that), so no change falls between the count and the
//! triggers.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_UP: &str = r#"
-- No inbox row changes between the backfill's count and the triggers (a process of the
-- previous version still running during the migration): writers wait for the commit.
LOCK TABLE inbox_items IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE inbox_unread (
    member_id BIGINT PRIMARY KEY,
    unread BIGINT NOT NULL DEFAULT 0
) WITH (fillfactor = 70);

INSERT INTO inbox_unread (member_id, unread)
    SELECT member_id, count(*) FROM inbox_items WHERE read_at IS NULL GROUP BY member_id;

CREATE FUNCTION inbox_unread_apply() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inbox_unread AS c (member_id, unread)
            SELECT member_id, count(*) FROM new_rows WHERE read_at IS NULL
            GROUP BY member_id ORDER BY member_id
        ON CONFLICT (member_id) DO UPDATE SET unread = c.unread + excluded.unread;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO inbox_unread AS c (member_id, unread)
            SELECT member_id, sum(d) FROM (
                SELECT member_id, -1 AS d FROM old_rows WHERE read_at IS NULL
                UNION ALL
                SELECT member_id, 1 AS d FROM new_rows WHERE read_at IS NULL
            ) changes
            GROUP BY member_id HAVING sum(d) <> 0 ORDER BY member_id
        ON CONFLICT (member_id) DO UPDATE SET unread = c.unread + excluded.unread;
    ELSE
        INSERT INTO inbox_unread AS c (member_id, unread)
            SELECT member_id, -count(*) FROM old_rows WHERE read_at IS NULL
            GROUP BY member_id ORDER BY member_id
        ON CONFLICT (member_id) DO UPDATE SET unread = c.unread + excluded.unread;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_unread_insert AFTER INSERT ON inbox_items
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_unread_apply();
CREATE TRIGGER inbox_unread_update AFTER UPDATE ON inbox_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_unread_apply();
CREATE TRIGGER inbox_unread_delete AFTER DELETE ON inbox_items
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_unread_apply();
"#;

const PG_DOWN: &str = r#"
DROP TRIGGER IF EXISTS inbox_unread_insert ON inbox_items;
DROP TRIGGER IF EXISTS inbox_unread_update ON inbox_items;
DROP TRIGGER IF EXISTS inbox_unread_delete ON inbox_items;
DROP FUNCTION IF EXISTS inbox_unread_apply();
DROP TABLE IF EXISTS inbox_unread;
"#;

/// SQLite runs one statement per call.
const SQLITE_UP: &[&str] = &[
    "CREATE TABLE inbox_unread (
        member_id INTEGER PRIMARY KEY NOT NULL,
        unread INTEGER NOT NULL DEFAULT 0
    )",
    "INSERT INTO inbox_unread (member_id, unread)
        SELECT member_id, count(*) FROM inbox_items WHERE read_at IS NULL GROUP BY member_id",
    "CREATE TRIGGER inbox_unread_insert AFTER INSERT ON inbox_items
        WHEN new.read_at IS NULL
    BEGIN
        INSERT INTO inbox_unread (member_id, unread) VALUES (new.member_id, 1)
            ON CONFLICT (member_id) DO UPDATE SET unread = unread + 1;
    END",
    "CREATE TRIGGER inbox_unread_update AFTER UPDATE OF read_at, member_id ON inbox_items
        WHEN old.member_id <> new.member_id
          OR (old.read_at IS NULL) <> (new.read_at IS NULL)
    BEGIN
        INSERT INTO inbox_unread (member_id, unread)
            VALUES (old.member_id, -(old.read_at IS NULL))
            ON CONFLICT (member_id) DO UPDATE SET unread = unread + excluded.unread;
        INSERT INTO inbox_unread (member_id, unread)
            VALUES (new.member_id, (new.read_at IS NULL))
            ON CONFLICT (member_id) DO UPDATE SET unread = unread + excluded.unread;
    END",
    "CREATE TRIGGER inbox_unread_delete AFTER DELETE ON inbox_items
        WHEN old.read_at IS NULL
    BEGIN
        UPDATE inbox_unread SET unread = unread - 1 WHERE member_id = old.member_id;
    END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS inbox_unread_insert",
    "DROP TRIGGER IF EXISTS inbox_unread_update",
    "DROP TRIGGER IF EXISTS inbox_unread_delete",
    "DROP TABLE IF EXISTS inbox_unread",
];

async fn run(manager: &SchemaManager<'_>, pg: &str, sqlite: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(pg).await?;
        }
        _ => {
            for s in sqlite {
                db.execute_unprepared(s).await?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In a transaction on SQLite too: its first write takes the database's write lock, so no
    /// other process writes an inbox row between the backfill and the triggers.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, PG_UP, SQLITE_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, PG_DOWN, SQLITE_DOWN).await
    }
}
