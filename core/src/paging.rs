//! Cursor paging: `?limit=` (default 20, clamped to 1..=100) and an opaque `?cursor=`.
//!
//! A list service builds its query (filters, joins, the columns it wants) and hands it to
//! [`PageRequest::by_key`] (lists in the order of a unique integer key: ids, the audit
//! sequence) or [`PageRequest::by_position`] (lists in an order no unique key follows:
//! meetings by their start). They add the cursor's condition, the order and `limit + 1`, run
//! the query and cut the extra row into `next_cursor`; no service does that by hand.

use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect};

use crate::error::{CoreError, CoreResult};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;
/// Longest cursor accepted (ours are about 12 characters).
pub const MAX_CURSOR_CHARS: usize = 64;

/// A validated page request: at most `limit` rows after the row with id `after`
/// (in the list's own order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<i64>,
}

impl PageRequest {
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> CoreResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) if c.len() > MAX_CURSOR_CHARS => {
                return Err(CoreError::invalid(
                    "cursor",
                    "is not a cursor returned by a previous page",
                ));
            }
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                CoreError::invalid("cursor", "is not a cursor returned by a previous page")
            })?),
        };
        Ok(Self { limit, after })
    }

    pub fn first(limit: u64) -> Self {
        Self { limit, after: None }
    }

    /// This page of a list that runs along `key`, a unique integer column, in `order`: the
    /// rows after the cursor's key, at most `limit` of them, and the next page's cursor when
    /// more follow. `run` runs the prepared query (`|q| q.all(db)`, or `into_model` first);
    /// `key_of` reads `key` back from a row.
    pub async fn by_key<Q, C, T, Fut>(
        self,
        query: Q,
        key: C,
        order: Order,
        run: impl FnOnce(Q) -> Fut,
        key_of: impl Fn(&T) -> i64,
    ) -> CoreResult<Page<T>>
    where
        Q: QueryFilter + QueryOrder + QuerySelect,
        C: ColumnTrait,
        Fut: Future<Output = Result<Vec<T>, DbErr>>,
    {
        let query = match (self.after, order) {
            (None, _) => query,
            (Some(after), Order::Ascending) => query.filter(key.gt(after)),
            (Some(after), Order::Descending) => query.filter(key.lt(after)),
        };
        let query = match order {
            Order::Ascending => query.order_by_asc(key),
            Order::Descending => query.order_by_desc(key),
        };
        let rows = run(query.limit(self.limit + 1)).await?;
        Ok(Page::from_rows(rows, self, key_of))
    }

    /// This page of a list in an order that no unique key follows (the query's own order,
    /// which must be total): the cursor is the number of rows before the page.
    pub async fn by_position<Q, T, Fut>(
        self,
        query: Q,
        run: impl FnOnce(Q) -> Fut,
    ) -> CoreResult<Page<T>>
    where
        Q: QuerySelect,
        Fut: Future<Output = Result<Vec<T>, DbErr>>,
    {
        let skip = u64::try_from(self.after.unwrap_or(0)).unwrap_or(0);
        let mut rows = run(query.offset(skip).limit(self.limit + 1)).await?;
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = i64::try_from(skip + rows.len() as u64).unwrap_or(i64::MAX);
        Ok(Page {
            items: rows,
            next_cursor: more.then(|| encode_cursor(next)),
        })
    }
}

/// Which way a list runs along its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first: the next page holds larger keys.
    Ascending,
    /// Newest first: the next page holds smaller keys.
    Descending,
}

/// A page of results and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says that more exist.
    pub(crate) fn from_rows(mut rows: Vec<T>, req: PageRequest, id_of: impl Fn(&T) -> i64) -> Self {
        let limit = usize::try_from(req.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{id}"))
}

fn decode_cursor(c: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(c).ok()?;
    let s = std::str::from_utf8(&bytes).ok()?;
    s.strip_prefix("c1:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped_and_defaults() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
        assert_eq!(PageRequest::parse(Some(0), None).unwrap().limit, 1);
        assert_eq!(PageRequest::parse(Some(5000), None).unwrap().limit, 100);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor(42);
        assert_eq!(PageRequest::parse(None, Some(&c)).unwrap().after, Some(42));
        assert!(PageRequest::parse(None, Some("not-a-cursor!")).is_err());
        assert!(PageRequest::parse(None, Some(&URL_SAFE_NO_PAD.encode("c1:x"))).is_err());
    }

    #[test]
    fn a_full_page_has_a_next_cursor_and_the_last_has_none() {
        let req = PageRequest::first(2);
        let p = Page::from_rows(vec![5, 4, 3], req, |v| *v);
        assert_eq!(p.items, vec![5, 4]);
        assert_eq!(p.next_cursor, Some(encode_cursor(4)));
        let p = Page::from_rows(vec![5, 4], req, |v| *v);
        assert_eq!(p.next_cursor, None);
    }
}
