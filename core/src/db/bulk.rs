//! Many rows in one statement on PostgreSQL: the rows travel as a single JSON array parameter
//! and `json_to_recordset` turns it back into a table inside the database.
//!
//! A multi-row `INSERT … VALUES` binds every value of every row (a 2,000-row chunk of members is
//! 18,000 parameters), which the driver encodes and the server decodes one by one; measured on
//! the roster import, that was about half of the time of its writes. One text parameter per
//! statement, parsed by the server's JSON reader, is not. SQLite keeps the multi-row inserts:
//! its bind is an in-process call.
//!
//! Table and column names come from the callers' constants, never from input; the values only
//! ever travel inside the JSON parameter.

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use serde::Serialize;

use crate::error::{CoreError, CoreResult};

/// A column of the rows: its name, and its SQL type in `json_to_recordset`'s column list.
pub type Column = (&'static str, &'static str);

fn names(cols: &[Column]) -> String {
    cols.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn record(cols: &[Column]) -> String {
    cols.iter()
        .map(|(n, t)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rows_json<T: Serialize>(rows: &[T]) -> CoreResult<String> {
    serde_json::to_string(rows).map_err(|e| CoreError::Internal(format!("bulk rows: {e}")))
}

/// `INSERT INTO table (cols) SELECT cols FROM json_to_recordset($1)`, with `returning` (a column
/// list) when given: the rows it returns.
pub async fn insert<T: Serialize>(
    db: &impl ConnectionTrait,
    table: &str,
    cols: &[Column],
    rows: &[T],
    returning: Option<&str>,
) -> CoreResult<Vec<QueryResult>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = format!(
        "INSERT INTO {table} ({n}) SELECT {n} FROM json_to_recordset($1::json) AS x({r})",
        n = names(cols),
        r = record(cols)
    );
    let stmt = |sql: String| {
        Ok::<_, CoreError>(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [rows_json(rows)?.into()],
        ))
    };
    if let Some(ret) = returning {
        sql.push_str(" RETURNING ");
        sql.push_str(ret);
        Ok(db.query_all_raw(stmt(sql)?).await?)
    } else {
        db.execute_raw(stmt(sql)?).await?;
        Ok(vec![])
    }
}

/// `UPDATE table SET col = x.col, … FROM json_to_recordset($1) WHERE table.key = x.key`: each
/// row updates the row with its key. `cols` includes the key.
pub async fn update<T: Serialize>(
    db: &impl ConnectionTrait,
    table: &str,
    key: &str,
    cols: &[Column],
    rows: &[T],
) -> CoreResult<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let set = cols
        .iter()
        .filter(|(n, _)| *n != key)
        .map(|(n, _)| format!("{n} = x.{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE {table} AS t SET {set} FROM json_to_recordset($1::json) AS x({r}) WHERE t.{key} = x.{key}",
        r = record(cols)
    );
    let r = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [rows_json(rows)?.into()],
        ))
        .await?;
    Ok(r.rows_affected())
}

/// `DELETE FROM table WHERE col IN (the ids)`, the ids as one JSON parameter.
pub async fn delete_in(
    db: &impl ConnectionTrait,
    table: &str,
    col: &str,
    ids: &[i64],
) -> CoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "DELETE FROM {table} WHERE {col} IN (SELECT value::bigint FROM json_array_elements_text($1::json))"
    );
    let r = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [rows_json(ids)?.into()],
        ))
        .await?;
    Ok(r.rows_affected())
}
