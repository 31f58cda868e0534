//! The unread counts of new inbox rows folded in after the fan-out (PostgreSQL), so that a
//! fan-out writes its rows and nothing else.
//!
//! Each counter row of `inbox_unread` now says how far it counts: `unread` is the number of the
//! member's unread rows with an id up to `counted_upto`, and the member's unread count is that
//! plus their unread rows above it. The page reads the counter's two numbers with its rows in
//! one statement, so it finds the rows above `counted_upto` among the rows it reads anyway
//! (`inbox::unread`): the read path touches no other table than before.
//!
//! - **Inserts do not touch the counters.** The statement trigger that upserted a count per
//!   recipient (m0009, a second row written per inbox row: half of what a fan-out cost) becomes
//!   a `BEFORE INSERT` statement trigger that takes an advisory lock (the horizon lock,
//!   `inbox::unread::HORIZON_LOCK`) in shared mode until the transaction ends. A new row's id is
//!   above every `counted_upto`: the fold only counts up to a horizon taken while it holds that
//!   lock exclusively, when no inserting transaction is in flight (ids come from the table's
//!   sequence, in order).
//! - **Updates and deletes** (a read, read-all) lock the counters of the members they touch, in
//!   member order (creating missing ones), and then, in a later statement that sees every
//!   committed fold, change `unread` only by their rows at or below `counted_upto`.
//! - **The fold** (`inbox::unread::fold`, run by the fan-out worker beside its passes) takes
//!   the horizon, then, a few thousand members per transaction, locks the counters of the
//!   members with rows above the last fold's mark (`inbox_unread_folded`) and adds their unread
//!   rows up to the horizon. A fold that fails or never runs costs exactness nothing, only the
//!   page's chance to find the rows above `counted_upto` among its own.
//!
//! SQLite keeps m0009's row triggers, which count every row as it is written: its counters
//! count everything (`counted_upto` is the largest integer), and there is nothing to fold.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `7402611500117465` is the advisory lock's key (`inbox::unread::HORIZON_LOCK`).
const PG_UP: &str = r#"
-- No inbox row is written between the horizon read here and the new triggers.
LOCK TABLE inbox_items IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE inbox_unread ADD COLUMN counted_upto BIGINT NOT NULL DEFAULT 0;
-- m0009's triggers counted every row as it was written.
UPDATE inbox_unread SET counted_upto = (SELECT coalesce(max(id), 0) FROM inbox_items);

-- How far the last fold counted: every member's rows up to here are in their counter (the
-- next fold looks for new rows above it).
CREATE TABLE inbox_unread_folded (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    upto BIGINT NOT NULL
);
INSERT INTO inbox_unread_folded (id, upto)
    SELECT 1, coalesce(max(id), 0) FROM inbox_items;

DROP TRIGGER inbox_unread_insert ON inbox_items;

CREATE FUNCTION inbox_unread_insert_begin() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    -- Held until the transaction ends: the fold's horizon waits for it.
    PERFORM pg_advisory_xact_lock_shared(7402611500117465);
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_unread_insert BEFORE INSERT ON inbox_items
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_unread_insert_begin();

CREATE OR REPLACE FUNCTION inbox_unread_apply() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- The counters of the members whose rows changed: created if missing, then locked, in
        -- member order (a fold locks them in the same order).
        INSERT INTO inbox_unread (member_id)
            SELECT member_id FROM old_rows UNION SELECT member_id FROM new_rows ORDER BY 1
        ON CONFLICT (member_id) DO NOTHING;
        PERFORM 1 FROM inbox_unread
            WHERE member_id IN (SELECT member_id FROM old_rows UNION SELECT member_id FROM new_rows)
            ORDER BY member_id FOR UPDATE;
        -- A later statement, so a later snapshot: it sees `counted_upto` as the locks left it,
        -- after any fold that committed meanwhile. Rows above it are counted by the readers.
        UPDATE inbox_unread c SET unread = c.unread + d.delta
        FROM (
            SELECT ch.member_id, sum(ch.d) AS delta FROM (
                SELECT member_id, id, -1 AS d FROM old_rows WHERE read_at IS NULL
                UNION ALL
                SELECT member_id, id, 1 AS d FROM new_rows WHERE read_at IS NULL
            ) ch
            JOIN inbox_unread u ON u.member_id = ch.member_id AND ch.id <= u.counted_upto
            GROUP BY ch.member_id HAVING sum(ch.d) <> 0
        ) d
        WHERE c.member_id = d.member_id;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM inbox_unread
            WHERE member_id IN (SELECT member_id FROM old_rows)
            ORDER BY member_id FOR UPDATE;
        UPDATE inbox_unread c SET unread = c.unread - d.n
        FROM (
            SELECT o.member_id, count(*) AS n FROM old_rows o
            JOIN inbox_unread u ON u.member_id = o.member_id AND o.id <= u.counted_upto
            WHERE o.read_at IS NULL
            GROUP BY o.member_id
        ) d
        WHERE c.member_id = d.member_id;
    END IF;
    RETURN NULL;
END
$$;
"#;

const PG_DOWN: &str = r#"
LOCK TABLE inbox_items IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER IF EXISTS inbox_unread_insert ON inbox_items;
DROP FUNCTION IF EXISTS inbox_unread_insert_begin();
DROP TABLE IF EXISTS inbox_unread_folded;
-- Back to counting every row: the rows above each counter are added in.
UPDATE inbox_unread c SET unread = c.unread + n.n
    FROM (SELECT i.member_id, count(*) AS n FROM inbox_items i
          JOIN inbox_unread u ON u.member_id = i.member_id AND i.id > u.counted_upto
          WHERE i.read_at IS NULL GROUP BY i.member_id) n
    WHERE c.member_id = n.member_id;
INSERT INTO inbox_unread (member_id, unread)
    SELECT member_id, count(*) FROM inbox_items WHERE read_at IS NULL
    GROUP BY member_id
    ON CONFLICT (member_id) DO NOTHING;
ALTER TABLE inbox_unread DROP COLUMN counted_upto;
-- m0009's function, as it was.
CREATE OR REPLACE FUNCTION inbox_unread_apply() RETURNS trigger LANGUAGE plpgsql
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
"#;

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
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            PG_UP,
            &[
                "ALTER TABLE inbox_unread ADD COLUMN counted_upto INTEGER NOT NULL \
               DEFAULT 9223372036854775807",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            PG_DOWN,
            &["ALTER TABLE inbox_unread DROP COLUMN counted_upto"],
        )
        .await
    }
}
